//! The command line: clap structures only (what is accepted and what it means). `app` turns them
//! into work.
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  every input succeeded (or, for inspect: no check says submission would fail)
  1  bad input or refused before sending: unreadable blob, bad signatures, wrong network,
     unusable option; nothing was sent
  2  at least one transaction failed on the network (or inspect found a check that would fail)
  3  at least one outcome is still pending, or Horizon was unreachable: safe to run the same
     command again (the same bytes are resubmitted; nothing is rebuilt)
When several apply, the lowest non-zero code wins (1, then 2, then 3).";

#[derive(Debug, Parser)]
#[command(
    name = "airgap-relay",
    version,
    about = "Online half of stellar-airgap: read accounts, inspect and submit signed blobs",
    after_long_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show an account: sequence and next_sequence, thresholds, signers, flags, balances.
    Account(AccountArgs),
    /// Review signed blobs and check, offline and against Horizon, whether they would succeed.
    #[command(after_long_help = EXIT_CODES)]
    Inspect(InspectArgs),
    /// Submit signed blobs to Horizon and report, for certain, what became of each.
    #[command(long_about = SUBMIT_ABOUT, after_long_help = EXIT_CODES)]
    Submit(SubmitArgs),
    /// List a submission journal.
    Journal(JournalArgs),
    /// Read envelopes back from whatever crossed the gap (files, QR photos, GIFs, frames, SEP-7)
    /// and print each as one line of base64 (offline: nothing is sent).
    Decode(DecodeArgs),
    /// Rehearse a whole issuing ceremony against an in-process sandbox: no network needed.
    ///
    /// Starts the sandbox, funds a fresh issuer, then for each step (issuer flags and home domain,
    /// base account, trustline, authorization, funding) builds and signs the envelope with the
    /// signer's library, writes it to DIR as a blob file and a QR image, reads both back, and
    /// submits it; finally prints both accounts.
    Rehearse(RehearseArgs),
    /// Run a local Horizon-compatible rehearsal ledger on loopback (not a validator).
    #[command(long_about = crate::sandbox::LONG_ABOUT)]
    Sandbox(crate::sandbox::SandboxArgs),
    /// Combine the signatures of copies of one transaction signed in different places (nothing
    /// is sent). Copies must hold the same transaction; signatures that verify against no key of
    /// the transaction or of a --signers file are dropped and reported (docs/signers.md).
    Merge(MergeArgs),
}

const SUBMIT_ABOUT: &str = "\
Submit signed blobs to Horizon and report, for certain, what became of each.

INPUT is a file of base64 envelope text, - for stdin, or a directory (every blob in it, each
source account's blobs in sequence order). Nothing is sent unless every input parses and every
signature verifies for the network Horizon reports at GET / (and --network, if given, agrees).

Each blob is first looked up by hash: a transaction already in a ledger is reported with its
stored outcome and not sent again. On 504 the relay polls GET /transactions/{hash} and resubmits
the same bytes until --timeout; on 429 it waits Retry-After; on 503 and connection errors it
retries with capped exponential backoff and jitter. An envelope is never rebuilt or altered.

A directory run keeps a journal (DIR/.airgap-journal.sqlite) and moves each blob to DIR/done/
or DIR/failed/ once its outcome is durable; an interrupted run resumes from the journal.";

/// Options every online command takes.
#[derive(Debug, Args, Clone)]
pub struct Shared {
    /// Horizon server URL (default with --network testnet|pubnet: SDF's public Horizon).
    #[arg(long, env = "HORIZON_URL", value_name = "URL")]
    pub horizon: Option<String>,
    /// Network the blobs are meant for: testnet, pubnet, futurenet, standalone, or a passphrase.
    /// Checked against the passphrase Horizon reports.
    #[arg(long, env = "STELLAR_NETWORK", value_name = "NAME")]
    pub network: Option<String>,
    /// One JSON object per input on stdout, for scripts.
    #[arg(long)]
    pub json: bool,
    /// How long to keep trying (per input for submit), e.g. 30s, 2m.
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub timeout: String,
}

/// How photos and scans of QR codes are read (every command that reads blobs).
#[derive(Debug, Args, Clone)]
pub struct ImageArgs {
    /// How long to spend reading the QR codes of one picture (one GIF frame) before giving up,
    /// e.g. 2s, 10s. The likeliest ways of reading it are tried first.
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    pub decode_budget: String,
}

#[derive(Debug, Args)]
pub struct AccountArgs {
    /// The account (G…).
    pub account: String,
    /// Also write the account (its JSON, as --json prints it) as a QR code PNG, for the trip to
    /// the offline machine; falls back to PNG frames in a directory of that name when it does
    /// not fit one code.
    #[arg(long, value_name = "PATH.png")]
    pub qr: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Blob files, a directory of blobs, or - for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Only the checks that need no network (needs --network to know the passphrase).
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub shared: Shared,
    #[command(flatten)]
    pub images: ImageArgs,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Blob files, a directory of blobs, or - for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Pay the fee with a fee-bump transaction signed by this online fee account:
    /// env:VARIABLE or file:PATH (the file must not be readable by others).
    #[arg(long, value_name = "SOURCE", requires = "max_fee")]
    pub fee_bump_key: Option<String>,
    /// The most the fee bump may pay in total, in stroops.
    #[arg(long, value_name = "STROOPS", requires = "fee_bump_key")]
    pub max_fee: Option<i64>,
    /// Keep a journal here (default for a directory: DIR/.airgap-journal.sqlite).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Submit for up to N source accounts at once. Each account's blobs still go one at a time
    /// in sequence order, but blobs of different accounts may then land in any order: use it
    /// only when no blob depends on another account's blob of the same run (bulk payouts, not
    /// a ceremony where one account creates the next).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    #[command(flatten)]
    pub shared: Shared,
    #[command(flatten)]
    pub images: ImageArgs,
}

#[derive(Debug, Args)]
pub struct JournalArgs {
    /// The journal file, or a blob directory holding one.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
    /// One JSON object per blob.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RehearseArgs {
    /// Where the ceremony's blob files and QR images go (created; must be empty).
    #[arg(long, default_value = "rehearsal")]
    pub dir: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Two or more blob files (- for stdin, once).
    #[arg(required = true, num_args = 2.., value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// The network the copies are signed for: testnet, pubnet, futurenet, standalone, or a passphrase.
    #[arg(long, env = "STELLAR_NETWORK", value_name = "NAME")]
    pub network: String,
    /// An account file (`airgap-relay account G… --json`, docs/signers.md): its signers'
    /// signatures are kept and the weight present and missing is shown. Repeatable.
    #[arg(long = "signers", value_name = "FILE")]
    pub signers: Vec<PathBuf>,
    /// Write the merged envelope to this file instead of stdout (atomically).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace an existing --out file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub images: ImageArgs,
}

#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// Blob files, QR photos or scans (PNG/JPEG), animated GIFs, text files of `ur:` frames or a
    /// SEP-7 URI, directories of any of these, or - for stdin. Frames may come in any order,
    /// with gaps and repeats, across several files.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// The network, for the hash in --json (a SEP-7 URI names its own).
    #[arg(long, env = "STELLAR_NETWORK")]
    pub network: Option<String>,
    /// One JSON object per envelope: input, envelope, hash, network.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub images: ImageArgs,
}
