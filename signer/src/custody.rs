//! What stands between a reviewed transaction and a signature besides the operator's "yes": the
//! signing policy, the signer sets that show how much weight is still missing, and the
//! offline guard.
//!
//! With no policy (no --policy, and no policy file next to a keystore key), the signer signs what
//! the operator confirms, and says "no signing policy in force" with the review.
use crate::cli::CustodyArgs;
use crate::failure::Failure;
use crate::guard::{self, Interfaces};
use crate::keysource::Key;
use airgap::account::AccountId;
use airgap::files::GuardedReadError;
use airgap::network::Network;
use airgap::policy::{self, Policy};
use airgap::weights::{self, SignerSet};
use std::path::{Path, PathBuf};
use stellar_xdr::TransactionEnvelope;

pub struct Custody {
    /// Each policy in force with the file it came from; every one must allow what is signed.
    policies: Vec<(PathBuf, Policy)>,
    signer_sets: Vec<SignerSet>,
    require_offline: bool,
}

fn load_policy(path: &Path) -> Result<Policy, Failure> {
    let text = airgap::files::read_guarded(path).map_err(|e| match e {
        GuardedReadError::Writable { mode } => Failure::new(format!(
            "the policy file {} can be changed by other users (mode {mode:04o}), so it cannot be trusted",
            path.display()
        ))
        .remedy(format!("check its contents, then run `chmod go-w {}`", path.display())),
        e => Failure::new(format!("cannot read the policy file {}: {e}", path.display())),
    })?;
    policy::parse(&text).map_err(|e| {
        Failure::new(format!(
            "the policy file {} cannot be used: {e}",
            path.display()
        ))
        .remedy("fix it (docs/policy.md describes the format); nothing was signed")
    })
}

impl Custody {
    /// The policies (`--policy`, else each keystore key's default policy file that exists), the
    /// signer sets, and whether the machine must be offline.
    pub fn load(args: &CustodyArgs, keys: &[Key]) -> Result<Custody, Failure> {
        let mut policies = Vec::new();
        match &args.policy {
            Some(p) => policies.push((p.clone(), load_policy(p)?)),
            None => {
                for ks in keys.iter().filter_map(|k| k.keystore.as_deref()) {
                    let p = policy::default_path_for(ks);
                    if p.exists() && !policies.iter().any(|(q, _)| *q == p) {
                        let pol = load_policy(&p)?;
                        policies.push((p, pol));
                    }
                }
            }
        }
        let require_offline =
            args.require_offline || policies.iter().any(|(_, p)| p.require_offline());
        Ok(Custody {
            policies,
            signer_sets: weights::load_signer_sets(&args.signers)?,
            require_offline,
        })
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
        if self.policies.is_empty() {
            return "Signing policy: none in force (no --policy, and no policy file next to a keystore key); only your confirmation stands before signing.\n".into();
        }
        self.policies
            .iter()
            .map(|(path, p)| format!("Policy file {}\n{}", path.display(), p.describe()))
            .collect()
    }

    fn refused(&self, v: policy::Violation, path: &Path) -> Failure {
        Failure::new(format!("nothing was signed: {v}")).remedy(format!(
            "if this is intended, change the policy file {} on this machine (docs/policy.md)",
            path.display()
        ))
    }

    /// Check one transaction against every policy in force.
    pub fn check(&self, env: &TransactionEnvelope, network: &Network) -> Result<(), Failure> {
        for (path, p) in &self.policies {
            p.check(env, network).map_err(|v| self.refused(v, path))?;
        }
        Ok(())
    }

    /// Check a batch as a whole against every policy in force.
    pub fn check_batch(&self, envs: &[(TransactionEnvelope, Network)]) -> Result<(), Failure> {
        for (path, p) in &self.policies {
            p.check_batch(envs).map_err(|v| self.refused(v, path))?;
        }
        Ok(())
    }

    /// Look at the network interfaces: warn when the machine is online; refuse when it must be
    /// offline and is not (or cannot be told to be).
    pub fn guard(&self) -> Result<(), Failure> {
        let why = if self.policies.iter().any(|(_, p)| p.require_offline()) {
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
