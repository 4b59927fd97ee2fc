//! Command-line arguments. These structs only describe and validate the shape of the command
//! line; `commands` turns them into plans, keys and outputs.
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const TX: &str = "Transaction";
const KEYS: &str = "Keys";
const OUT: &str = "Output";
const CUSTODY: &str = "Custody";
const BATCH_OUT: &str = "Output (JSON Lines, one blob file per transaction, frames)";

/// Build, review and sign Stellar issuing-account transactions on an offline machine.
///
/// Every transaction is shown in plain words before it is signed. The signed envelope goes to a
/// file (--out), a QR code (--qr), or stdout. This program never touches the network.
///
/// Exit codes (docs/exit-codes.md): 0 done; 1 bad input, usage error, refused or declined (nothing
/// signed, nothing written).
#[derive(Parser, Debug)]
#[command(name = "airgap-signer", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    #[command(flatten)]
    Operation(OperationCommand),
    /// Build a transaction from a plan file (docs/plan-format.md); options override the file.
    Plan {
        /// The plan: a JSON file, or - for stdin.
        file: String,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Build one transaction per line of a JSON Lines file; review every one, confirm once.
    ///
    /// Writes one JSON line per transaction (envelope, hash, sequence; docs/formats.md) to stdout
    /// or --out, one blob file per transaction with --out-dir, and frames with --qr-frames. With
    /// --sequence N (or --account), the first transaction gets N and the rest follow
    /// consecutively.
    Batch(BatchArgs),
    /// Add signatures to an existing envelope, keeping those already there.
    Sign {
        /// A file holding a base64 envelope, or - for stdin.
        input: String,
        #[command(flatten)]
        network: NetworkArg,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        custody: CustodyArgs,
    },
    /// Show the review of an envelope without any key.
    Inspect {
        /// A file holding a base64 envelope, or - for stdin.
        input: String,
        #[command(flatten)]
        network: NetworkArg,
        /// Print the review as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// An account's signers and thresholds (docs/signers.md), to show the weight present and
        /// missing. Repeatable, one file per account.
        #[arg(long = "signers", value_name = "FILE", help_heading = CUSTODY)]
        signers: Vec<PathBuf>,
    },
    /// Combine the signatures of copies of one transaction signed in different places.
    ///
    /// The copies must hold the same transaction (the first difference is named). Duplicate
    /// signatures are kept once; a signature that verifies against none of the transaction's
    /// source accounts or the --signers sets refuses the merge (nothing written): pass --signers
    /// for its account. Nothing is signed.
    Merge {
        /// Files holding a base64 envelope each (- for stdin, once).
        #[arg(required = true, num_args = 2.., value_name = "INPUT")]
        inputs: Vec<String>,
        #[command(flatten)]
        network: NetworkArg,
        /// An account's signers and thresholds (docs/signers.md): their signatures are kept, and
        /// the weight present and missing is shown. Repeatable, one file per account.
        #[arg(long = "signers", value_name = "FILE", help_heading = CUSTODY)]
        signers: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Write an existing envelope as QR output (--qr, --qr-frames, --qr-terminal) without signing.
    Qr {
        /// A file holding a base64 envelope, or - for stdin.
        input: String,
        #[command(flatten)]
        network: NetworkArg,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Make keys and show public keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Signing policies bound to keystores.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Bind the policy file next to a keystore (PATH.policy.json) to it: the keystore is sealed
    /// again, with the policy's SHA-256 in its authenticated data (asks for its passphrase).
    ///
    /// A keystore bound to a policy signs only while that exact file is next to it; after you
    /// change the policy on purpose, run this again.
    Bind {
        /// The keystore file.
        #[arg(long, value_name = "PATH")]
        keystore: PathBuf,
        /// Read the keystore passphrase from this environment variable instead of a prompt.
        #[arg(long, value_name = "VAR")]
        passphrase_env: Option<String>,
    },
}

/// `batch`: the plans, the transaction options, the keys, and what batch writes.
#[derive(Args, Debug)]
pub struct BatchArgs {
    /// The plans: a .jsonl file, or - for stdin.
    pub file: String,
    #[command(flatten)]
    pub tx: TxArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub output: BatchOutputArgs,
    #[command(flatten)]
    pub custody: CustodyArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BatchOutputArgs {
    /// Write the JSON Lines to this file instead of stdout (atomically; refuses to overwrite
    /// without --force).
    #[arg(long, value_name = "PATH", help_heading = BATCH_OUT)]
    pub out: Option<PathBuf>,
    /// Write one blob file per transaction into this new directory (NNNNNN-SEQUENCE.xdr, so the
    /// directory lists in sequence order), for `airgap-relay submit DIR`.
    #[arg(long, value_name = "DIR", help_heading = BATCH_OUT)]
    pub out_dir: Option<PathBuf>,
    /// Write each transaction as QR frames into DIR/<sequence>/.
    #[arg(long, value_name = "DIR", help_heading = BATCH_OUT)]
    pub qr_frames: Option<PathBuf>,
    /// Frame density: low, medium, high.
    #[arg(long, value_name = "DENSITY", default_value = "medium", help_heading = BATCH_OUT)]
    pub qr_density: String,
    /// Overwrite existing output files.
    #[arg(long, help_heading = BATCH_OUT)]
    pub force: bool,
    /// Do not ask "Sign? [y/N]" (for scripts). Without a terminal, signing needs --yes.
    #[arg(long, short = 'y', help_heading = BATCH_OUT)]
    pub yes: bool,
}

/// The commands that build a transaction from options: each is read as a plan file's operations
/// are (`airgap::plan::RawOp`).
#[derive(Subcommand, Debug)]
pub enum OperationCommand {
    /// Set account flags, home domain, signers, thresholds (set_options).
    SetOptions(SetOptionsArgs),
    /// Create an account and fund it (create_account).
    CreateAccount {
        #[arg(long, value_name = "G…")]
        destination: String,
        /// Starting balance in XLM, e.g. 10 or 2.5.
        #[arg(long, value_name = "AMOUNT")]
        starting_balance: String,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Send an asset (payment).
    Payment {
        #[arg(long, value_name = "G…")]
        destination: String,
        /// native, or CODE:ISSUER.
        #[arg(long)]
        asset: String,
        /// Amount in asset units, up to 7 decimal places.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Trust an asset, change the limit, or (limit 0) remove the trustline (change_trust).
    ChangeTrust {
        /// CODE:ISSUER.
        #[arg(long)]
        asset: String,
        /// Limit in asset units; absent means the maximum; 0 removes the trustline.
        #[arg(long)]
        limit: Option<String>,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Authorize or deauthorize a holder's trustline (allow_trust).
    AllowTrust {
        #[arg(long, value_name = "G…")]
        trustor: String,
        /// The asset code alone, e.g. USD.
        #[arg(long, value_name = "CODE")]
        asset: String,
        /// full, maintain-liabilities or none.
        #[arg(long, value_name = "LEVEL")]
        authorize: String,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Set or clear a holder's trustline flags (set_trust_line_flags).
    SetTrustlineFlags {
        #[arg(long, value_name = "G…")]
        trustor: String,
        /// CODE:ISSUER.
        #[arg(long)]
        asset: String,
        /// authorized, authorized-to-maintain-liabilities, clawback-enabled (comma list).
        #[arg(long, value_delimiter = ',')]
        set_flags: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        clear_flags: Vec<String>,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Claw an asset back from a holder (clawback).
    Clawback {
        #[arg(long, value_name = "G…")]
        from: String,
        #[arg(long)]
        asset: String,
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Set or (without --value) delete a data entry (manage_data).
    ManageData {
        #[arg(long)]
        name: String,
        #[arg(long)]
        value: Option<String>,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Move the account's sequence number forward (bump_sequence).
    BumpSequence {
        #[arg(long, value_name = "N")]
        to: String,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// Delete the source account and send its XLM to another (account_merge).
    AccountMerge {
        #[arg(long, value_name = "G…")]
        destination: String,
        #[command(flatten)]
        common: BuildArgs,
    },
    /// A payment between two holders of an authorization-required asset, wrapped in the
    /// five-operation authorization sandwich. Sign with the issuer's key and then FROM's key.
    AuthorizedPayment {
        #[arg(long, value_name = "G…")]
        from: String,
        #[arg(long, value_name = "G…")]
        to: String,
        /// CODE:ISSUER (the issuer is the transaction source).
        #[arg(long)]
        asset: String,
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        common: BuildArgs,
    },
}

/// The options of `set-options` (a struct, so they pass to the command as one value).
#[derive(Args, Debug)]
pub struct SetOptionsArgs {
    /// Flags to set: auth-required, auth-revocable, auth-immutable, auth-clawback-enabled (comma list).
    #[arg(long, value_delimiter = ',')]
    pub set_flags: Vec<String>,
    /// Flags to clear (comma list, same names as --set-flags).
    #[arg(long, value_delimiter = ',')]
    pub clear_flags: Vec<String>,
    /// Home domain (up to 32 bytes); "" removes it.
    #[arg(long)]
    pub home_domain: Option<String>,
    /// Weight of the account's master key (0 disables it).
    #[arg(long)]
    pub master_weight: Option<u8>,
    #[arg(long)]
    pub low_threshold: Option<u8>,
    #[arg(long)]
    pub med_threshold: Option<u8>,
    #[arg(long)]
    pub high_threshold: Option<u8>,
    /// Add, change or (weight 0) remove a signer: G…:WEIGHT. Repeatable; each signer after the
    /// first becomes its own set_options operation.
    #[arg(long = "signer", value_name = "G…:WEIGHT")]
    pub signers: Vec<String>,
    #[arg(long, value_name = "G…")]
    pub inflation_dest: Option<String>,
    #[command(flatten)]
    pub common: BuildArgs,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Make a new keypair from the operating system's random source; print its public key.
    Generate {
        /// Write the secret into a new encrypted keystore file (mode 0600).
        #[arg(long, value_name = "PATH")]
        keystore: Option<PathBuf>,
        /// Read the keystore passphrase from this environment variable instead of a prompt.
        #[arg(long, value_name = "VAR")]
        passphrase_env: Option<String>,
        /// Show the secret key on the terminal (never on stdout or in a file).
        #[arg(long)]
        show_secret: bool,
    },
    /// Print the public key of a key source; a keystore's is read without its passphrase.
    Public {
        #[command(flatten)]
        keys: KeyArgs,
    },
}

#[derive(Args, Debug, Clone)]
pub struct NetworkArg {
    /// testnet, pubnet, futurenet, standalone, or a full passphrase in quotes. No default.
    #[arg(long, env = "STELLAR_NETWORK", help_heading = TX)]
    pub network: Option<String>,
}

/// What a built transaction is made of, besides its operations.
#[derive(Args, Debug, Clone)]
pub struct TxArgs {
    #[command(flatten)]
    pub network: NetworkArg,
    /// The account's state as `airgap-relay account G… --json` or `--qr` wrote it (the JSON, a
    /// QR photo, a GIF or a frames directory): source, next sequence and signers fill in
    /// themselves, and the review weighs changes against them.
    #[arg(long, value_name = "PATH", help_heading = TX)]
    pub account: Option<PathBuf>,
    /// The transaction's source account (default: the --account's, else the public key of the
    /// first --key).
    #[arg(long, value_name = "G…", help_heading = TX)]
    pub source: Option<String>,
    /// The transaction's sequence number: the account's next_sequence, as `airgap-relay account G…` shows it.
    #[arg(long, value_name = "N", help_heading = TX)]
    pub sequence: Option<String>,
    /// Base fee per operation in stroops (default 100); the envelope's fee is this × operations.
    #[arg(long, value_name = "STROOPS", help_heading = TX)]
    pub fee: Option<u32>,
    /// Not valid before this time (unix seconds or RFC 3339).
    #[arg(long, value_name = "TIME", help_heading = TX)]
    pub min_time: Option<String>,
    /// Not valid after this time (unix seconds or RFC 3339); 0 means no upper bound (dangerous).
    #[arg(long, value_name = "TIME", help_heading = TX, conflicts_with = "valid_for")]
    pub max_time: Option<String>,
    /// Valid for this long from now (default 24h), e.g. 30m, 24h, 7d.
    #[arg(long, value_name = "DURATION", help_heading = TX)]
    pub valid_for: Option<String>,
    #[arg(long, value_name = "TEXT", help_heading = TX, group = "memo")]
    pub memo_text: Option<String>,
    #[arg(long, value_name = "N", help_heading = TX, group = "memo")]
    pub memo_id: Option<String>,
    #[arg(long, value_name = "HEX", help_heading = TX, group = "memo")]
    pub memo_hash: Option<String>,
    #[arg(long, value_name = "HEX", help_heading = TX, group = "memo")]
    pub memo_return: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct BuildArgs {
    #[command(flatten)]
    pub tx: TxArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub custody: CustodyArgs,
}

#[derive(Args, Debug, Clone)]
pub struct KeyArgs {
    /// A key to sign with, repeatable, in order: prompt, env:VAR, file:PATH, keystore:PATH
    /// (keystore:PATH?passphrase-env=VAR for a passphrase of its own), mnemonic.
    /// Default on a terminal: prompt. Secrets are never accepted on the command line.
    #[arg(long = "key", value_name = "SOURCE", help_heading = KEYS)]
    pub keys: Vec<String>,
    /// Build without signing.
    #[arg(long, help_heading = KEYS, conflicts_with = "keys")]
    pub unsigned: bool,
    /// Read keystore passphrases from this environment variable instead of prompting (a
    /// keystore:PATH?passphrase-env=VAR names its own).
    #[arg(long, value_name = "VAR", help_heading = KEYS)]
    pub passphrase_env: Option<String>,
    /// SEP-5 account index for mnemonic keys (m/44'/148'/N').
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = KEYS)]
    pub account_index: u32,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// The base64 envelope, one line.
    Xdr,
    /// Envelope, hash, network and the review, as JSON.
    Json,
    /// SEP-11 txrep.
    Txrep,
    /// A SEP-7 web+stellar:tx URI.
    Sep7,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum QrContent {
    /// The base64 envelope.
    Xdr,
    /// A SEP-7 web+stellar:tx URI, for wallets that speak SEP-7.
    Sep7,
}

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Write the base64 envelope and a newline to this file (atomically; refuses to overwrite without --force).
    #[arg(long, value_name = "PATH", help_heading = OUT)]
    pub out: Option<PathBuf>,
    /// Write the envelope as a QR code: .png or .svg holds one standard code (the base64 envelope,
    /// readable by any scanner); .gif is an animated loop of multi-part frames for a screen.
    #[arg(long, value_name = "PATH", help_heading = OUT)]
    pub qr: Option<PathBuf>,
    /// Write the envelope as numbered PNG frames (multi-part UR with fountain codes) into DIR, for
    /// envelopes too large for one code; frames may be read in any order, with gaps and repeats.
    #[arg(long, value_name = "DIR", help_heading = OUT)]
    pub qr_frames: Option<PathBuf>,
    /// Frame density: low (small codes, more frames: for poor cameras), medium, high.
    #[arg(long, value_name = "DENSITY", default_value = "medium", help_heading = OUT)]
    pub qr_density: String,
    /// What the single code of --qr/--qr-terminal holds: the base64 envelope (xdr) or a SEP-7 URI.
    #[arg(long, value_enum, default_value = "xdr", help_heading = OUT)]
    pub qr_content: QrContent,
    /// Draw the code on the terminal (stderr) with Unicode half-blocks.
    #[arg(long, help_heading = OUT)]
    pub qr_terminal: bool,
    /// Print to stdout in this format.
    #[arg(long, value_enum, help_heading = OUT)]
    pub format: Option<Format>,
    /// Overwrite existing output files.
    #[arg(long, help_heading = OUT)]
    pub force: bool,
    /// Do not ask "Sign? [y/N]" (for scripts). Without a terminal, signing needs --yes.
    #[arg(long, short = 'y', help_heading = OUT)]
    pub yes: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct CustodyArgs {
    /// A signing policy (docs/policy.md), in force besides each keystore key's own (the policy
    /// file bound to it, PATH.policy.json). With neither, no policy is in force.
    #[arg(long, value_name = "FILE", help_heading = CUSTODY)]
    pub policy: Option<PathBuf>,
    /// An account's signers and thresholds (docs/signers.md): the JSON of `airgap-relay account
    /// G… --json`, to show the weight present and missing. Repeatable, one file per account.
    #[arg(long = "signers", id = "signer_sets", value_name = "FILE", help_heading = CUSTODY)]
    pub signers: Vec<PathBuf>,
    /// Refuse to sign while any network interface other than loopback is up (or when that
    /// cannot be told).
    #[arg(long, help_heading = CUSTODY)]
    pub require_offline: bool,
}
