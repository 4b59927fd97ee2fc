//! The CLI edge: every failure becomes one sentence of what went wrong and one of what to do,
//! printed as both binaries print them:
//!
//! ```text
//! airgap-signer: <what failed>.
//!   <what to do>
//! ```
use std::fmt;

/// Exit codes (docs/exit-codes.md, the same table for both binaries): 0 done; 1 bad input, usage
/// error, refused or declined — nothing was signed or written.
pub const EXIT_REFUSED: i32 = 1;

pub struct Failure {
    pub message: String,
    pub remedy: Option<String>,
    pub code: i32,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            remedy: None,
            code: EXIT_REFUSED,
        }
    }

    pub fn remedy(mut self, remedy: impl Into<String>) -> Failure {
        self.remedy = Some(remedy.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = self.message.clone();
        if !m.ends_with('.') {
            m.push('.');
        }
        write!(f, "airgap-signer: {m}")?;
        if let Some(r) = &self.remedy {
            write!(f, "\n  {r}")?;
        }
        Ok(())
    }
}

/// Library errors carry their own sentence; the CLI adds the remedy where one helps.
macro_rules! from_lib {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Failure {
                Failure::new(e.to_string())
            }
        }
    )*};
}
from_lib!(
    airgap::amount::AmountError,
    airgap::asset::AssetError,
    airgap::account::AccountIdError,
    airgap::keys::KeyError,
    airgap::envelope::EnvelopeError,
    airgap::review::ReviewError
);

impl From<airgap::network::NetworkError> for Failure {
    fn from(e: airgap::network::NetworkError) -> Failure {
        Failure::new(e.to_string()).remedy("pass --network, or set STELLAR_NETWORK")
    }
}

impl From<airgap::build::BuildError> for Failure {
    fn from(e: airgap::build::BuildError) -> Failure {
        use airgap::build::BuildError;
        let f = Failure::new(e.to_string());
        match e {
            BuildError::BadSequence | BuildError::BadSequenceText(_) => f.remedy(
                "on the online machine run `airgap-relay account G…` and pass its next_sequence as --sequence",
            ),
            _ => f,
        }
    }
}

impl From<airgap::plan::PlanError> for Failure {
    fn from(e: airgap::plan::PlanError) -> Failure {
        use airgap::plan::PlanError;
        let f = Failure::new(format!("the plan cannot be used: {e}"));
        match e {
            PlanError::Missing("sequence") => f.remedy(
                "on the online machine run `airgap-relay account G…` and pass its next_sequence as --sequence",
            ),
            PlanError::Json(_) => f.remedy("see docs/plan-format.md for the fields a plan may have"),
            _ => f,
        }
    }
}

impl From<airgap::weights::SignersFileError> for Failure {
    fn from(e: airgap::weights::SignersFileError) -> Failure {
        use airgap::weights::SignersFileError;
        let f = Failure::new(e.to_string());
        match e {
            SignersFileError::Parse { .. } => f.remedy(
                "save the output of `airgap-relay account G… --json` (docs/signers.md) and carry it over",
            ),
            SignersFileError::Writable { path, .. } => f.remedy(format!(
                "check its contents, then run `chmod go-w {}`",
                path.display()
            )),
            _ => f,
        }
    }
}

impl From<airgap::files::FileError> for Failure {
    fn from(e: airgap::files::FileError) -> Failure {
        crate::output::file_failure(e)
    }
}
