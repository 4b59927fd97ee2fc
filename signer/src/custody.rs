//! What stands between a reviewed transaction and a signature besides the operator's "yes": the
//! signing policy, the signer sets that show how much weight is still missing, and the
//! offline guard.
//!
//! Every keystore key brings its policy: the one bound to it (version 2 keystores: its SHA-256 is
//! in the keystore's authenticated data, so a missing, edited or swapped policy is refused until
//! bound again), or for a version 1 keystore the file next to it, else the default policy — never
//! none. Keys from elsewhere (env:, file:, a prompt) bring no policy: without --policy, the signer
//! signs what the operator confirms, and says "no signing policy in force" with the review.
use crate::cli::CustodyArgs;
use crate::failure::Failure;
use crate::guard::{self, Interfaces};
use crate::keysource::Planned;
use airgap::account::AccountId;
use airgap::context::AccountContext;
use airgap::files::GuardedReadError;
use airgap::network::Network;
use airgap::policy::{self, Policy};
use airgap::weights::{self, SignerSet};
use std::path::{Path, PathBuf};
use stellar_xdr::TransactionEnvelope;

/// One policy in force: where it came from, in words, and the file to change.
struct InForce {
    origin: String,
    path: Option<PathBuf>,
    policy: Policy,
}

pub struct Custody {
    /// Every policy in force; every one must allow what is signed.
    policies: Vec<InForce>,
    signer_sets: Vec<SignerSet>,
    /// Account flags known from an account context.
    flags: Vec<(AccountId, u32)>,
    require_offline: bool,
    /// Said with the policies (a keystore that binds no policy, …).
    notes: Vec<String>,
}

fn guarded_failure(path: &Path, e: GuardedReadError) -> Failure {
    match e {
        GuardedReadError::Writable { mode } => Failure::new(format!(
            "the policy file {} can be changed by other users (mode {mode:04o}), so it cannot be trusted",
            path.display()
        ))
        .remedy(format!("check its contents, then run `chmod go-w {}`", path.display())),
        GuardedReadError::Owner { uid } => Failure::new(format!(
            "the policy file {} belongs to another user (uid {uid}), who could change it, so it cannot be trusted",
            path.display()
        ))
        .remedy(format!(
            "check its contents, then make it yours: `chown \"$(id -u)\" {}`",
            path.display()
        )),
        e => Failure::new(format!("cannot read the policy file {}: {e}", path.display())),
    }
}

/// The text of a policy file and the policy, or why it cannot be used (another user could have
/// written it; it does not parse).
pub fn load_policy(path: &Path) -> Result<(String, Policy), Failure> {
    let text = airgap::files::read_guarded(path).map_err(|e| guarded_failure(path, e))?;
    let p = policy::parse(&text).map_err(|e| {
        Failure::new(format!(
            "the policy file {} cannot be used: {e}",
            path.display()
        ))
        .remedy("fix it (docs/policy.md describes the format); nothing was signed")
    })?;
    Ok((text, p))
}

/// The policy bound to a version 2 keystore: the file next to it, whose SHA-256 must be the one
/// sealed into the keystore.
pub fn bound_policy(keystore: &Path, bound: &[u8; 32]) -> Result<(PathBuf, Policy), Failure> {
    let path = policy::default_path_for(keystore);
    let rebind = format!(
        "if the change is yours, check the policy, then bind it again: `airgap-signer policy bind --keystore {}` (it asks for the keystore's passphrase)",
        keystore.display()
    );
    if !path.exists() {
        return Err(Failure::new(format!(
            "nothing was signed: the keystore {} is bound to the signing policy {}, which is missing",
            keystore.display(),
            path.display()
        ))
        .remedy(format!(
            "put the policy back (a keystore bound to a policy signs nothing without it); {rebind}"
        )));
    }
    let (text, p) = load_policy(&path)?;
    let digest = policy::digest(text.as_bytes());
    if digest != *bound {
        return Err(Failure::new(format!(
            "nothing was signed: the signing policy {} is not the one bound to the keystore {} (its SHA-256 is {}, the keystore's is {})",
            path.display(),
            keystore.display(),
            hex_short(&digest),
            hex_short(bound)
        ))
        .remedy(format!("it was edited or swapped; {rebind}")));
    }
    Ok((path, p))
}

/// The first 8 bytes of a digest in hex, enough to tell two apart.
fn hex_short(d: &[u8; 32]) -> String {
    let h: String = d.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{h}…")
}

impl Custody {
    /// The policies in force: `--policy`, and each keystore key's own (the policy bound to it; for
    /// a version 1 keystore, the file next to it, else the default policy); the signer sets of
    /// `--signers` and the account context; whether the machine must be offline.
    pub fn load(
        args: &CustodyArgs,
        keys: &[Planned],
        context: Option<&AccountContext>,
    ) -> Result<Custody, Failure> {
        let mut policies: Vec<InForce> = Vec::new();
        let mut notes = Vec::new();
        if let Some(p) = &args.policy {
            let (_, pol) = load_policy(p)?;
            policies.push(InForce {
                origin: format!("Policy file {} (--policy)", p.display()),
                path: Some(p.clone()),
                policy: pol,
            });
        }
        for ks in keys.iter().filter_map(Planned::keystore) {
            let path = policy::default_path_for(&ks.path);
            if policies.iter().any(|f| f.path.as_deref() == Some(&path)) {
                continue;
            }
            match &ks.info.policy_sha256 {
                Some(bound) => {
                    let (path, pol) = bound_policy(&ks.path, bound)?;
                    policies.push(InForce {
                        origin: format!(
                            "Policy file {} (bound to the keystore {})",
                            path.display(),
                            ks.path.display()
                        ),
                        path: Some(path),
                        policy: pol,
                    });
                }
                None if path.exists() => {
                    let (_, pol) = load_policy(&path)?;
                    notes.push(format!(
                        "!  warning: the keystore {} (version 1) does not bind its policy: editing or deleting {} changes what it may sign. Bind it: `airgap-signer policy bind --keystore {}`.",
                        ks.path.display(),
                        path.display(),
                        ks.path.display()
                    ));
                    policies.push(InForce {
                        origin: format!("Policy file {}", path.display()),
                        path: Some(path),
                        policy: pol,
                    });
                }
                None => {
                    notes.push(format!(
                        "!  warning: the keystore {} has no policy file ({}): the default policy of a new keystore is in force (docs/policy.md).",
                        ks.path.display(),
                        path.display()
                    ));
                    policies.push(InForce {
                        origin: format!(
                            "The default policy (the keystore {} has no policy file)",
                            ks.path.display()
                        ),
                        path: Some(path),
                        policy: policy::default_for_new_keystore(),
                    });
                }
            }
        }
        let require_offline =
            args.require_offline || policies.iter().any(|f| f.policy.require_offline());
        let mut signer_sets = weights::load_signer_sets(&args.signers)?;
        let mut flags = Vec::new();
        if let Some(c) = context {
            if signer_sets.iter().any(|s| s.account == c.account) {
                return Err(Failure::new(format!(
                    "the account {} is described twice, by --account and by --signers",
                    c.account
                ))
                .remedy("pass it once: --account carries its signers"));
            }
            signer_sets.push(c.signers.clone());
            flags.push((c.account, c.flags));
        }
        Ok(Custody {
            policies,
            signer_sets,
            flags,
            require_offline,
            notes,
        })
    }

    /// What the review should know: the strictest fee and validity limits of the policies in
    /// force, and the signer sets and flags known.
    pub fn review_options(&self) -> airgap::review::Options<'_> {
        airgap::review::Options {
            max_fee: self.policies.iter().map(|f| f.policy.max_fee()).min(),
            max_validity: self.policies.iter().map(|f| f.policy.max_validity()).min(),
            signer_sets: &self.signer_sets,
            flags: &self.flags,
        }
    }

    /// The keys of the signer sets, to name who made each signature.
    pub fn known_keys(&self) -> Vec<AccountId> {
        weights::signer_keys(&self.signer_sets)
    }

    /// The weight table, when signer sets were given.
    pub fn weights_text(&self, env: &TransactionEnvelope, network: &Network) -> Option<String> {
        (!self.signer_sets.is_empty())
            .then(|| weights::weigh(env, network, &self.signer_sets).to_text())
    }

    /// The policies in force, in words, or that there is none.
    pub fn describe(&self) -> String {
        let mut s: String = self.notes.iter().map(|n| format!("{n}\n")).collect();
        if self.policies.is_empty() {
            s.push_str("Signing policy: none in force (no --policy, and no keystore key); only your confirmation stands before signing.\n");
            return s;
        }
        for f in &self.policies {
            s.push_str(&format!("{}\n{}", f.origin, f.policy.describe()));
        }
        s
    }

    fn refused(&self, v: policy::Violation, f: &InForce) -> Failure {
        let fix = match &f.path {
            Some(p) => format!(
                "if this is intended, change the policy file {} on this machine (docs/policy.md)",
                p.display()
            ),
            None => {
                "if this is intended, change the policy on this machine (docs/policy.md)".into()
            }
        };
        Failure::new(format!("nothing was signed: {v}")).remedy(fix)
    }

    /// Check one transaction, signed at `now`, against every policy in force.
    pub fn check(
        &self,
        env: &TransactionEnvelope,
        network: &Network,
        now: u64,
    ) -> Result<(), Failure> {
        for f in &self.policies {
            f.policy
                .check(env, network, now)
                .map_err(|v| self.refused(v, f))?;
        }
        Ok(())
    }

    /// Check a batch as a whole against every policy in force.
    pub fn check_batch(
        &self,
        envs: &[(TransactionEnvelope, Network)],
        now: u64,
    ) -> Result<(), Failure> {
        for f in &self.policies {
            f.policy
                .check_batch(envs, now)
                .map_err(|v| self.refused(v, f))?;
        }
        Ok(())
    }

    /// Look at the network interfaces: warn when the machine is online; refuse when it must be
    /// offline and is not (or cannot be told to be).
    pub fn guard(&self) -> Result<(), Failure> {
        let why = if self.policies.iter().any(|f| f.policy.require_offline()) {
            "the signing policy requires an offline machine (require_offline)"
        } else {
            "--require-offline was given"
        };
        match guard::interfaces() {
            Interfaces::Offline => Ok(()),
            Interfaces::Online(up) => {
                eprintln!(
                    "!! warning: this machine is ONLINE: network interface{} {} up. A signing machine should have no network.",
                    if up.len() == 1 { "" } else { "s" },
                    up.join(", ")
                );
                if self.require_offline {
                    return Err(Failure::new(format!(
                        "nothing was signed: {why}, and network interface{} {} up",
                        if up.len() == 1 { " is" } else { "s are" },
                        up.join(", ")
                    ))
                    .remedy("disconnect the machine (bring every interface but lo down, or remove the network hardware) and sign again"));
                }
                Ok(())
            }
            Interfaces::Unknown(e) => {
                eprintln!("!  warning: cannot tell whether this machine is offline ({e}).");
                if self.require_offline {
                    return Err(Failure::new(format!(
                        "nothing was signed: {why}, and whether this machine is offline cannot be told ({e})"
                    ))
                    .remedy("sign on a Linux machine with /sys mounted, or drop the requirement"));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        // Catches clashing argument names (--signer of set-options and --signers) at test time.
        use clap::CommandFactory;
        crate::cli::Cli::command().debug_assert();
    }
}
