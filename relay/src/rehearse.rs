//! `rehearse`: the whole issuing ceremony, end to end, against an in-process sandbox.
//!
//! Nothing here is special-cased: each step is built and signed by the library exactly as
//! `airgap-signer` does, written to a blob file and a QR image in the rehearsal directory, read
//! back from those files (the QR image decoded and compared with the file), and submitted by the
//! same code as `airgap-relay submit`, against the sandbox over loopback HTTP.
use crate::online::{self, Online};
use crate::{account, inputs, submit};
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{self, OpBody, OpSpec, SetOptionsSpec, TimeWindow, TxSpec};
use airgap::envelope;
use airgap::keys::SecretSeed;
use airgap::network::Network;
use airgap_sandbox::{self as sandbox, SandboxConfig};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long one rehearsal may take before it gives up.
const BUDGET: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RehearseError {
    #[error("the rehearsal directory {0} already holds files")]
    DirNotEmpty(PathBuf),
    #[error("cannot write the rehearsal files: {0}")]
    Files(#[from] airgap::files::FileError),
    #[error("cannot create {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the sandbox did not start: {0}")]
    Sandbox(#[from] sandbox::SandboxError),
    #[error("cannot reach the sandbox: {0}")]
    Connect(#[from] online::ConnectError),
    #[error("friendbot did not fund the issuer: {0}")]
    Friendbot(String),
    #[error("step {step} could not be built: {reason}")]
    Build { step: String, reason: String },
    #[error("step {step}: {reason}")]
    Carry { step: String, reason: String },
    #[error("step {step} did not succeed (submit exit code {code}); see its record above")]
    Submit { step: String, code: u8 },
    #[error(transparent)]
    Account(#[from] account::AccountError),
    #[error(transparent)]
    Input(#[from] inputs::InputError),
    #[error(transparent)]
    SubmitRun(#[from] submit::SubmitError),
}

struct Ceremony {
    url: String,
    dir: PathBuf,
    deadline: Instant,
    step: usize,
}

pub fn run(dir: &Path) -> Result<u8, RehearseError> {
    prepare_dir(dir)?;
    let sandbox = sandbox::start(SandboxConfig::ephemeral())?;
    let mut c = Ceremony {
        url: sandbox.url(),
        dir: dir.to_path_buf(),
        deadline: Instant::now() + BUDGET,
        step: 0,
    };
    eprintln!(
        "Rehearsal ledger (sandbox, not a validator) at {}; files go to {}",
        c.url,
        dir.display()
    );
    let issuer = SecretSeed::generate().map_err(|e| RehearseError::Friendbot(e.to_string()))?;
    let base = SecretSeed::generate().map_err(|e| RehearseError::Friendbot(e.to_string()))?;
    let (i, b) = (issuer.public_key(), base.public_key());
    let usd = Asset::Credit {
        code: "USD".parse().map_err(|e| build_err("asset", e))?,
        issuer: i,
    };
    eprintln!("Issuing account {i}\nBase account    {b}\n");
    c.friendbot(&i)?;

    let flags = SetOptionsSpec {
        set_flags: Some(
            build::account_flags(&["auth_required", "auth_revocable"])
                .map_err(|e| build_err("flags", e))?,
        ),
        home_domain: Some("example.com".into()),
        ..Default::default()
    };
    c.step(
        "issuer-flags",
        &i,
        &[&issuer],
        vec![OpBody::SetOptions(flags)],
    )?;
    let ten: Amount = "10".parse().map_err(|e| build_err("base-account", e))?;
    c.step(
        "base-account",
        &i,
        &[&issuer],
        vec![OpBody::CreateAccount {
            destination: b,
            starting_balance: ten,
        }],
    )?;
    c.step(
        "base-trustline",
        &b,
        &[&base],
        vec![OpBody::ChangeTrust {
            asset: usd.clone(),
            limit: None,
        }],
    )?;
    c.step(
        "authorize-base",
        &i,
        &[&issuer],
        vec![OpBody::SetTrustLineFlags {
            trustor: b,
            asset: usd.clone(),
            set: 1,
            clear: 0,
        }],
    )?;
    let float: Amount = "250000".parse().map_err(|e| build_err("fund-base", e))?;
    c.step(
        "fund-base",
        &i,
        &[&issuer],
        vec![OpBody::Payment {
            destination: b,
            asset: usd,
            amount: float,
        }],
    )?;

    println!("\nFinal state of the issuing account:");
    print!("{}", c.account(&i)?.to_text());
    println!("\nFinal state of the base account:");
    print!("{}", c.account(&b)?.to_text());
    println!(
        "\nThe ceremony's blobs and QR codes are in {}.",
        dir.display()
    );
    sandbox.shutdown();
    Ok(0)
}

fn build_err(step: &str, e: impl std::fmt::Display) -> RehearseError {
    RehearseError::Build {
        step: step.into(),
        reason: e.to_string(),
    }
}

fn prepare_dir(dir: &Path) -> Result<(), RehearseError> {
    let create = |source| RehearseError::CreateDir {
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() {
        if std::fs::read_dir(dir).map_err(create)?.next().is_some() {
            return Err(RehearseError::DirNotEmpty(dir.to_path_buf()));
        }
    } else {
        std::fs::create_dir_all(dir).map_err(create)?;
    }
    Ok(())
}

impl Ceremony {
    fn connect(&self) -> Result<Online, RehearseError> {
        Ok(online::connect(
            &self.url,
            Some(&Network::Standalone),
            self.deadline,
        )?)
    }

    /// The account report (over Horizon: every balance).
    fn account(&self, id: &AccountId) -> Result<account::AccountReport, RehearseError> {
        let backend = online::Backend::Horizon(self.url.clone());
        let online = online::connect_net(&backend, Some(&Network::Standalone), self.deadline)?;
        Ok(account::report(
            online.net.as_ref(),
            &online.network,
            account::Lines::All,
            id,
            &[],
            self.deadline,
        )?)
    }

    fn friendbot(&self, id: &AccountId) -> Result<(), RehearseError> {
        let online = self.connect()?;
        let reply = online
            .horizon
            .get(
                &format!("/friendbot?addr={id}"),
                online::budget(self.deadline, Duration::from_secs(30)),
            )
            .map_err(|e| RehearseError::Friendbot(e.to_string()))?;
        if reply.status != 200 {
            return Err(RehearseError::Friendbot(reply.summary()));
        }
        eprintln!("Friendbot funded the issuing account with 10,000 XLM.");
        Ok(())
    }

    /// One step: read the source's next sequence (online), build and sign (offline), write the
    /// blob and its QR code, read both back, submit.
    fn step(
        &mut self,
        name: &str,
        source: &AccountId,
        keys: &[&SecretSeed],
        ops: Vec<OpBody>,
    ) -> Result<(), RehearseError> {
        self.step += 1;
        let label = format!("{:02}-{name}", self.step);
        let state = self.account(source)?;
        let network = Network::Standalone;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let spec = TxSpec {
            network: network.clone(),
            source: *source,
            sequence: build::parse_sequence(&state.next_sequence)
                .map_err(|e| build_err(&label, e))?,
            base_fee: build::DEFAULT_BASE_FEE,
            time: TimeWindow {
                min: 0,
                max: now + 86_400,
            },
            memo: Default::default(),
            operations: ops.into_iter().map(OpSpec::new).collect(),
        };
        let mut env = build::envelope(build::build(&spec).map_err(|e| build_err(&label, e))?);
        for k in keys {
            envelope::sign(&mut env, &network, k).map_err(|e| build_err(&label, e))?;
        }
        let known: Vec<AccountId> = keys.iter().map(|k| k.public_key()).collect();
        let review = airgap::review::review(&env, &network, now, &known)
            .map_err(|e| build_err(&label, e))?;
        eprintln!("── step {label} ──────────────────────────────");
        eprint!("{}", review.to_text());

        // Across the gap: a blob file and a QR code of the same envelope.
        let b64 = envelope::encode(&env);
        let blob = self.dir.join(format!("{label}.xdr"));
        airgap::files::write_atomic(&blob, format!("{b64}\n").as_bytes(), false)?;
        let png = self.dir.join(format!("{label}.png"));
        let code = airgap::qr::encode::single_qr(&b64).map_err(|e| build_err(&label, e))?;
        airgap::files::write_atomic(
            &png,
            &airgap::qr::encode::render_png(&code).map_err(|e| build_err(&label, e))?,
            false,
        )?;
        let carry = |reason: String| RehearseError::Carry {
            step: label.clone(),
            reason,
        };
        let photo = std::fs::read(&png)
            .map_err(|e| carry(format!("cannot read {}: {e}", png.display())))?;
        let decoded = airgap::qr::decode::decode_image(&photo)
            .map_err(|e| carry(format!("{}: {e}", png.display())))?;
        if !decoded.iter().any(|p| p.as_slice() == b64.as_bytes()) {
            return Err(carry(format!(
                "the QR code in {} does not read back as the blob",
                png.display()
            )));
        }

        // Online again: the relay reads the file and submits it, bound to the reviewed hash.
        let blob_arg = blob.to_string_lossy().into_owned();
        let reviewed = hex::encode(envelope::hash(&env, &network))
            .parse::<crate::expect::ExpectedHash>()
            .map_err(|e| carry(e.to_string()))?;
        let code = submit::run(
            submit::Options {
                net: online::Backend::Horizon(self.url.clone()).net()?,
                server: submit::Server::Horizon(self.connect()?.horizon),
                network: Network::Standalone,
                timeout: Duration::from_secs(60),
                json: false,
                fee_bump: None,
                journal: None,
                jobs: 1,
                wait: false,
                expect: vec![reviewed],
            },
            &[blob_arg],
        )?;
        if code != 0 {
            return Err(RehearseError::Submit { step: label, code });
        }
        Ok(())
    }
}
