//! The command line: clap structures only (what is accepted and what it means). `app` turns them
//! into work.
use airgap_relay::expect::ExpectedHash;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  every input succeeded (or, for inspect: no check says submission would fail; a
     prediction that could not be made says `unknown` instead)
  1  bad input or refused before sending: unreadable blob, bad signatures, wrong network,
     unusable option, mistyped command line; nothing was sent
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
    /// Review signed blobs and predict, from the ledger entries Horizon reports, what the network
    /// would do with each.
    #[command(long_about = INSPECT_ABOUT, after_long_help = EXIT_CODES)]
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
    #[command(long_about = SANDBOX_ABOUT)]
    Sandbox(SandboxArgs),
    /// Combine the signatures of copies of one transaction signed in different places (nothing
    /// is sent). Copies must hold the same transaction; a signature that verifies against no key
    /// of the transaction, of a --signers file or of the signer sets --horizon reports is refused
    /// (docs/signers.md).
    Merge(MergeArgs),
    /// Record every payment to the watched accounts, exactly once, in a database (SQLite or
    /// PostgreSQL), until stopped.
    #[command(long_about = WATCH_ABOUT, after_long_help = WATCH_EXIT_CODES)]
    Watch(WatchArgs),
    /// Pay the pending rows of stellar_payments from the base account, each exactly once
    /// (`pay enqueue` queues rows).
    #[command(long_about = PAY_ABOUT, after_long_help = PAY_EXIT_CODES)]
    Pay(Box<PayArgs>),
    /// Write the plan file (for airgap-signer) of the payment from the issuing account that tops
    /// the base account up to --target plus what the queue still has to pay.
    #[command(long_about = FLOAT_ABOUT)]
    Float(FloatArgs),
}

const PAY_ABOUT: &str = "\
Pay the pending rows of stellar_payments from the base account, each exactly once.

Each row is checked (a malformed row, a destination that does not exist, has no trustline, is \
not authorized or has no room under its limit is `failed` with the reason; nothing is spent), \
then its payment is built (valid for --tx-timeout), signed, and stored with the row's move to \
`sending` in one database transaction before it is submitted. A `sending` row is resolved by its \
hash: in a ledger, it is `done` or `failed` with the ledger's result; not in a ledger and past \
its time bound, it gets a new envelope; otherwise the same envelope is sent again. A crash at \
any moment pays no row twice (docs/payouts.md).

With --channel keys each transaction's source is a channel account (its sequence number and \
fee) and the payment's source the base account: K channels land K payments per ledger.

On SQLite one `pay` runs at a time; on PostgreSQL several workers share the queue.

Without --once it runs until SIGINT or SIGTERM (the current payment is finished first).";

pub const PAY_EXIT_CODES: &str = "\
Exit codes (--once):
  0  every row this run decided was paid, and none is left
  1  refused: bad options, the wrong network, another pay running on this SQLite database
  2  at least one row failed (a check refused it, or the network failed it)
  3  rows are left pending (held back by --float-min) or sending, or the database could
     not be opened: safe to run the same command again
Without --once: 0 when stopped by SIGINT or SIGTERM.";

/// Command-line arguments of `airgap-relay pay`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct PayArgs {
    #[command(subcommand)]
    pub sub: Option<PaySub>,
    /// The database: a file (SQLite) or a postgres:// URL (keep a password out of the command
    /// line: use DATABASE_URL).
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DB",
        hide_env_values = true,
        required = true
    )]
    pub db: Option<String>,
    /// Submit through this Horizon server.
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "rpc",
        conflicts_with = "rpc"
    )]
    pub horizon: Option<String>,
    /// Submit through this Stellar RPC server (JSON-RPC 2.0, e.g. http://HOST:8000/rpc).
    #[arg(long, value_name = "URL")]
    pub rpc: Option<String>,
    /// The base account's key: env:VARIABLE, file:PATH or keystore:PATH (never the key itself).
    #[arg(long, value_name = "KEYSOURCE", required = true)]
    pub source: Option<String>,
    /// A channel account's key (env:, file: or keystore:); repeatable. Each channel is the source
    /// (sequence number and fee) of one transaction at a time.
    #[arg(long = "channel", value_name = "KEYSOURCE")]
    pub channels: Vec<String>,
    /// The environment variable holding the passphrase of each keystore: key source that names
    /// no variable of its own (keystore:PATH?passphrase-env=VAR). The relay never prompts.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// Network: testnet, pubnet, futurenet, standalone, or a passphrase. Checked against the
    /// server's.
    #[arg(long, env = "STELLAR_NETWORK", value_name = "NAME")]
    pub network: Option<String>,
    /// The fee of each payment's transaction, in stroops.
    #[arg(long, value_name = "STROOPS", default_value_t = 1000)]
    pub max_fee: i64,
    /// How long an envelope stays valid (its upper time bound); a row whose envelope expired
    /// unused gets a new one.
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub tx_timeout: String,
    /// Pay every pending row, wait for the outcomes, exit (for cron).
    #[arg(long)]
    pub once: bool,
    /// One JSON object per decided row on stdout.
    #[arg(long)]
    pub json: bool,
    /// Leave a row pending while paying it would take the base account's balance of its asset
    /// below AMOUNT (one line on stderr); `airgap-relay float` writes the top-up.
    #[arg(long, value_name = "AMOUNT")]
    pub float_min: Option<String>,
    /// How often an idle run looks at the queue again. On PostgreSQL a queued row also wakes it
    /// at once (LISTEN/NOTIFY); the poll is then the fallback.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub poll: String,
}

#[derive(Debug, Subcommand)]
pub enum PaySub {
    /// Queue payouts: one from the flags, or CSV on stdin (--csv). Queuing the same id again
    /// with the same content changes nothing; with other content it is refused.
    Enqueue(EnqueueArgs),
}

/// Command-line arguments of `airgap-relay pay enqueue`.
#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The database: a file (SQLite) or a postgres:// URL (or DATABASE_URL).
    #[arg(long, env = "DATABASE_URL", value_name = "DB", hide_env_values = true)]
    pub db: String,
    /// Read payouts as CSV from stdin: a header row (id, destination, asset, amount; customer,
    /// memo_type, memo optional), then one payout per row.
    #[arg(long, conflicts_with_all = ["id", "destination", "asset", "amount", "customer", "memo_type", "memo"])]
    pub csv: bool,
    /// The anchor's ID of the payout.
    #[arg(long, required_unless_present = "csv")]
    pub id: Option<String>,
    /// The anchor's customer.
    #[arg(long)]
    pub customer: Option<String>,
    /// G... or M...
    #[arg(long, required_unless_present = "csv")]
    pub destination: Option<String>,
    /// CODE:ISSUER or native.
    #[arg(long, required_unless_present = "csv")]
    pub asset: Option<String>,
    /// A decimal amount (at most 7 places).
    #[arg(long, required_unless_present = "csv")]
    pub amount: Option<String>,
    /// none, id, text, hash or return.
    #[arg(long, default_value = "none")]
    pub memo_type: String,
    #[arg(long)]
    pub memo: Option<String>,
}

const FLOAT_ABOUT: &str = "\
Write the plan file (for airgap-signer) of the payment from the issuing account that tops the \
base account up to --target plus what the queue still has to pay.

The amount is target + (pending and sending rows of the asset in --db) - the base account's \
balance, the sequence number the issuer's next one (read from Horizon). Sign the plan offline \
(`airgap-signer plan`), carry the envelope back and `airgap-relay submit` it: rows that \
--float-min held back are then paid. Nothing is written when the base account already holds \
enough.";

/// Command-line arguments of `airgap-relay float`.
#[derive(Debug, Args)]
pub struct FloatArgs {
    /// The base account (G...).
    #[arg(long, value_name = "G...")]
    pub account: String,
    /// The asset, CODE:ISSUER (its issuer pays).
    #[arg(long, value_name = "CODE:ISSUER")]
    pub asset: String,
    /// What the base account should hold once the queue is paid.
    #[arg(long, value_name = "AMOUNT")]
    pub target: String,
    /// The queue (SQLite file or postgres:// URL); without it nothing queued is counted.
    #[arg(long, env = "DATABASE_URL", value_name = "DB", hide_env_values = true)]
    pub db: Option<String>,
    /// Read the accounts from this Horizon server.
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "rpc",
        conflicts_with = "rpc"
    )]
    pub horizon: Option<String>,
    /// Read them from this Stellar RPC server instead (e.g. http://HOST:8000/rpc).
    #[arg(long, value_name = "URL")]
    pub rpc: Option<String>,
    /// Network: testnet, pubnet, futurenet, standalone, or a passphrase. Checked against the
    /// server's.
    #[arg(long, env = "STELLAR_NETWORK", value_name = "NAME")]
    pub network: Option<String>,
    /// The plan file to write (atomically).
    #[arg(long, value_name = "PLAN")]
    pub out: std::path::PathBuf,
    /// Replace an existing --out file.
    #[arg(long)]
    pub force: bool,
}

const WATCH_ABOUT: &str = "\
Record every payment to the watched accounts, exactly once, in a database (SQLite or PostgreSQL), \
until stopped.

Over Horizon (--horizon) it reads each account's payments stream from the cursor stored in the \
database (never from `now` once it has one); over Stellar RPC (--rpc) it reads CAP-67 events. \
Each credit becomes a row of stellar_deposits: `deposit` (an accepted asset with a customer: \
the muxed ID of an M... destination, else the memo), `unattributed` (no memo or muxed ID), \
`unaccepted` (an asset not given with --asset: refund it), `internal` (from a watched account or \
an accepted asset's issuer). Rows and the cursor move in one transaction, so a crash at any \
moment loses nothing and repeats nothing (docs/watch.md).

If the stored cursor is older than the history the server keeps, it stops with exit 1 before \
recording anything; --accept-gap records the gap as a row of its own and goes on.

SIGINT or SIGTERM finishes the current transaction and exits 0.";

pub const WATCH_EXIT_CODES: &str = "\
Exit codes:
  0  stopped by SIGINT or SIGTERM (the last transaction finished)
  1  refused: bad options, the wrong network, a gap in the server's history (without
     --accept-gap), a database of a newer airgap-relay, an answer the server should not give
  3  the database could not be opened: safe to run the same command again";

/// Command-line arguments of `airgap-relay watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Read a Horizon server's payments streams.
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "rpc",
        conflicts_with = "rpc"
    )]
    pub horizon: Option<String>,
    /// Read a Stellar RPC server's CAP-67 events.
    #[arg(long, value_name = "URL")]
    pub rpc: Option<String>,
    /// A watched account (G...): the base account, the issuing account, any other the anchor
    /// receives on. Repeatable.
    #[arg(long = "account", value_name = "G...", required = true)]
    pub accounts: Vec<String>,
    /// An accepted asset, CODE:ISSUER or native. Repeatable. Any other asset is recorded as
    /// `unaccepted`.
    #[arg(long = "asset", value_name = "ASSET")]
    pub assets: Vec<String>,
    /// The database: a file (SQLite) or a postgres:// URL (keep a password out of the command
    /// line: use DATABASE_URL).
    #[arg(long, env = "DATABASE_URL", value_name = "DB", hide_env_values = true)]
    pub db: String,
    /// One JSON object per recorded row on stdout.
    #[arg(long)]
    pub json: bool,
    /// Where a stream with no stored cursor starts: now (after the latest ledger) or oldest
    /// (the oldest ledger the server holds). Ignored for a stream that has a cursor.
    #[arg(long, value_name = "now|oldest", default_value = "now", value_parser = ["now", "oldest"])]
    pub from: String,
    /// When the server no longer has the ledgers after the stored cursor, record the gap as a
    /// row of its own and go on (without it: exit 1, nothing recorded).
    #[arg(long)]
    pub accept_gap: bool,
    /// Network: testnet, pubnet, futurenet, standalone, or a passphrase. Checked against the
    /// server's.
    #[arg(long, env = "STELLAR_NETWORK", value_name = "NAME")]
    pub network: Option<String>,
}

const INSPECT_ABOUT: &str = "\
Review signed blobs and predict, from the ledger entries Horizon (or Stellar RPC, with --rpc) \
reports, what the network would do with each.

Online, each blob is applied by the sandbox's ledger engine (stellar-core's rules) to the entries \
it touches (accounts, trustlines and data entries of every source, destination and issuer, read \
from Horizon), after the blobs before it in the order submit sends them: the predicted result \
codes, and what would change in words. Where the prediction cannot be made (an operation or an \
entry the engine does not model, Horizon not answering) it says `unknown` instead of guessing.

With --offline only the review, the signatures and the time bounds are checked.";

const SUBMIT_ABOUT: &str = "\
Submit signed blobs to Horizon (or Stellar RPC with --rpc) and report, for certain, what became
of each.

INPUT is a file of base64 envelope text, - for stdin, or a directory (every blob in it, each
source account's blobs in sequence order). Nothing is sent unless every input parses and every
signature verifies for the network Horizon reports at GET / (and --network, if given, agrees).

Each blob is first looked up by hash: a transaction already in a ledger is reported with its
stored outcome and not sent again. On 504 the relay polls GET /transactions/{hash} and resubmits
the same bytes until --timeout; on 429 it waits Retry-After; on 503 and connection errors it
retries with capped exponential backoff and jitter. An envelope is never rebuilt or altered.

A blob that is not valid yet (tx_too_early: its time bounds have not started) is pending, not
failed: it stays where it is, and --wait waits until it is valid and submits it then. There is no
preflight: inspect predicts; submit sends and reports what the network decided.

A directory run keeps a journal (DIR/.airgap-journal.sqlite) and moves each blob to DIR/done/
or DIR/failed/ once its outcome is durable; an interrupted run resumes from the journal, and a
run on a directory whose every blob is decided exits with the journal's outcome.

With --rpc URL (or STELLAR_RPC_URL) the same run goes through Stellar RPC: the network is read
with getNetwork, signers with getLedgerEntries, each blob is looked up with getTransaction before
it is sent with sendTransaction; TRY_AGAIN_LATER is waited out and the same bytes sent again after
the next ledger, DUPLICATE is polled, never sent as new.";

/// Options every online command takes.
#[derive(Debug, Args, Clone)]
pub struct Shared {
    /// Horizon server URL (default with --network testnet|pubnet: SDF's public Horizon).
    #[arg(long, env = "HORIZON_URL", value_name = "URL")]
    pub horizon: Option<String>,
    /// Network the blobs are meant for: testnet, pubnet, futurenet, standalone, or a passphrase.
    /// Checked against the passphrase the server (Horizon, or Stellar RPC with --rpc) reports.
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
    /// Read the account from this Stellar RPC server instead of Horizon (e.g.
    /// http://HOST:8000/rpc). RPC cannot list trustlines: name the ones to show with --asset.
    #[arg(long, env = "STELLAR_RPC_URL", value_name = "URL")]
    pub rpc: Option<String>,
    /// Show the account's trustline to this asset (CODE:ISSUER), or say it has none.
    /// Repeatable. Over Horizon every trustline is shown anyway.
    #[arg(long = "asset", value_name = "CODE:ISSUER")]
    pub assets: Vec<String>,
    #[command(flatten)]
    pub shared: Shared,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Blob files (base64, QR photos, frames, SEP-7, batch JSON Lines), a directory of blobs, or
    /// - for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Only the checks that need no network (needs --network to know the passphrase).
    #[arg(long)]
    pub offline: bool,
    /// Read the ledger entries from this Stellar RPC server instead of Horizon (e.g.
    /// http://HOST:8000/rpc): getLedgerEntries of the accounts, trustlines and data entries each
    /// blob touches.
    #[arg(long, env = "STELLAR_RPC_URL", value_name = "URL")]
    pub rpc: Option<String>,
    #[command(flatten)]
    pub expect: Expect,
    #[command(flatten)]
    pub shared: Shared,
    #[command(flatten)]
    pub images: ImageArgs,
}

/// `--expect-hash`, for every command that reads blobs.
#[derive(Debug, Args, Clone)]
pub struct Expect {
    /// Refuse any blob whose transaction hash does not start with HEX: the hash the offline
    /// review showed (at least 8 hex digits, any case). Repeatable.
    #[arg(long = "expect-hash", value_name = "HEX")]
    pub expect_hash: Vec<ExpectedHash>,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Blob files (base64, QR photos, frames, SEP-7, batch JSON Lines), a directory of blobs, or
    /// - for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Pay the fee with a fee-bump transaction signed by this online fee account:
    /// env:VARIABLE, file:PATH (the file must not be readable by others) or
    /// keystore:PATH?passphrase-env=VARIABLE.
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
    /// When a blob is not valid yet (tx_too_early), wait until it is and submit it then,
    /// instead of leaving it pending.
    #[arg(long)]
    pub wait: bool,
    /// Submit through this Stellar RPC server instead of Horizon (sendTransaction,
    /// getTransaction); the same run, journal and guarantees.
    /// Not with --horizon; a flag given wins over the other server's environment variable.
    #[arg(long, env = "STELLAR_RPC_URL", value_name = "URL")]
    pub rpc: Option<String>,
    #[command(flatten)]
    pub expect: Expect,
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

const SANDBOX_ABOUT: &str = "\
Run a local Horizon-compatible ledger on loopback for rehearsals and tests.

THIS IS A REHEARSAL LEDGER, NOT A VALIDATOR. It is not stellar-core: there is no consensus, no \
peer network, no history archive, and nothing it accepts exists on any real Stellar network. It \
applies create_account, payment, change_trust, set_options, allow_trust, set_trust_line_flags, \
clawback, manage_data, bump_sequence and account_merge with stellar-core's validity rules and \
answers with Horizon's JSON, so that a signing ceremony can be rehearsed end to end before the \
real one.

Network passphrase: \"Standalone Network ; February 2017\". GET /friendbot?addr=G... funds a new \
account with 10,000 XLM from the root account. Stellar RPC (JSON-RPC 2.0) answers at POST /rpc on the \
same port.

Ledgers close every --close-every (default 5s, like the networks) with the transactions that \
stellar-core's queue admitted since: one per source account per ledger (TRY_AGAIN_LATER otherwise), \
DUPLICATE for one already queued, fee-bump replacement at ten times the fee. --close-every 0 closes \
one ledger per admitted transaction at once (fast, for tests).

--fault injects Horizon's real error answers at the given rates, e.g. --fault 504:0.2,429:0.1,503:0.1 \
(an injected 504 on submission may or may not have applied the transaction, as a real timeout). \
--rpc-fault does the same to Stellar RPC (POST /rpc), as a gateway in front of it: 429 and 503 before \
the call, 504 after it (a sendTransaction may or may not have been queued).";

/// Command-line arguments of `airgap-relay sandbox`.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Loopback address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: std::net::SocketAddr,
    /// SQLite file that keeps the ledger across restarts (default: in memory only).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Inject faults: comma-separated STATUS:RATE with STATUS in 429, 503, 504.
    #[arg(long, value_name = "SPEC")]
    pub fault: Option<airgap_sandbox::FaultSpec>,
    /// Inject faults into Stellar RPC (POST /rpc) as a gateway in front of it would: 429 and 503
    /// before the call, 504 after it was done or not (at random). Same SPEC as --fault.
    #[arg(long, value_name = "SPEC")]
    pub rpc_fault: Option<airgap_sandbox::FaultSpec>,
    /// Close a ledger this often (5s, 200ms, …); 0 closes one per admitted transaction at once.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub close_every: airgap_sandbox::Period,
    /// Keep only the last N ledgers of history (Horizon's history_elder_ledger and RPC's
    /// oldestLedger move up), to rehearse gaps. Default: keep everything.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub retain_ledgers: Option<u32>,
    /// How long POST /transactions waits for its ledger before Horizon's 504.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub txsub_timeout: airgap_sandbox::Period,
    /// How long a stream lasts before Horizon's goodbye (its connection timeout).
    #[arg(long, value_name = "DURATION", default_value = "55s")]
    pub stream_timeout: airgap_sandbox::Period,
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
    /// Read the signer sets of the transaction's source accounts from this Horizon server
    /// (nothing is sent); its network must be --network.
    #[arg(long, value_name = "URL")]
    pub horizon: Option<String>,
    /// Read them from this Stellar RPC server instead (getLedgerEntries of the accounts, e.g.
    /// http://HOST:8000/rpc).
    #[arg(long, env = "STELLAR_RPC_URL", value_name = "URL")]
    pub rpc: Option<String>,
    /// How long to keep trying the server (with --horizon or --rpc), e.g. 30s, 2m.
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub timeout: String,
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
    /// SEP-7 URI, `airgap-signer batch` JSON Lines, directories of any of these, or - for stdin. Frames may come in any order,
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
    #[command(flatten)]
    pub expect: Expect,
}
