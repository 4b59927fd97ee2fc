//! What each command does: turn arguments into a transaction, show it, ask, sign, write.
use crate::cli::{BuildArgs, Cli, Command, KeyArgs, KeysCommand, NetworkArg, OutputArgs};
use crate::custody::Custody;
use crate::failure::Failure;
use crate::keysource::{self, Key};
use crate::output;
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{self, MemoSpec, OpSpec, TimeWindow, TxSpec};
use airgap::envelope;
use airgap::network::Network;
use airgap::plan::{self, NumOrText, Overrides, RawOp, RawSetOptions, RawSigner};
use airgap::review::{self, Review};
use std::io::{BufRead, Read, Write};
use stellar_xdr::TransactionEnvelope;

/// How long a transaction stays valid when neither --max-time nor --valid-for is given.
const DEFAULT_VALID_FOR: &str = "24h";

pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::SetOptions {
            set_flags,
            clear_flags,
            home_domain,
            master_weight,
            low_threshold,
            med_threshold,
            high_threshold,
            signers,
            inflation_dest,
            common,
        } => {
            let mut signers = signers
                .iter()
                .map(|s| s.parse::<RawSigner>())
                .collect::<Result<Vec<_>, _>>()?
                .into_iter();
            let first = RawSetOptions {
                set_flags,
                clear_flags,
                home_domain,
                master_weight,
                low_threshold,
                med_threshold,
                high_threshold,
                inflation_dest,
                signer: signers.next(),
                source: None,
            };
            // One set_options operation holds one signer: each further signer gets its own.
            let rest = signers.map(|s| RawSetOptions {
                signer: Some(s),
                ..Default::default()
            });
            let ops: Vec<RawOp> = std::iter::once(first)
                .chain(rest)
                .map(RawOp::SetOptions)
                .collect();
            sign_operations(&common, &ops)
        }
        Command::CreateAccount {
            destination,
            starting_balance,
            common,
        } => sign_operations(
            &common,
            &[RawOp::CreateAccount {
                source: None,
                destination,
                starting_balance,
            }],
        ),
        Command::Payment {
            destination,
            asset,
            amount,
            common,
        } => sign_operations(
            &common,
            &[RawOp::Payment {
                source: None,
                destination,
                asset,
                amount,
            }],
        ),
        Command::ChangeTrust {
            asset,
            limit,
            common,
        } => sign_operations(
            &common,
            &[RawOp::ChangeTrust {
                source: None,
                asset,
                limit,
            }],
        ),
        Command::AllowTrust {
            trustor,
            asset,
            authorize,
            common,
        } => sign_operations(
            &common,
            &[RawOp::AllowTrust {
                source: None,
                trustor,
                asset,
                authorize,
            }],
        ),
        Command::SetTrustlineFlags {
            trustor,
            asset,
            set_flags,
            clear_flags,
            common,
        } => sign_operations(
            &common,
            &[RawOp::SetTrustLineFlags {
                source: None,
                trustor,
                asset,
                set_flags,
                clear_flags,
            }],
        ),
        Command::Clawback {
            from,
            asset,
            amount,
            common,
        } => sign_operations(
            &common,
            &[RawOp::Clawback {
                source: None,
                from,
                asset,
                amount,
            }],
        ),
        Command::ManageData {
            name,
            value,
            common,
        } => sign_operations(
            &common,
            &[RawOp::ManageData {
                source: None,
                name,
                value,
            }],
        ),
        Command::BumpSequence { to, common } => sign_operations(
            &common,
            &[RawOp::BumpSequence {
                source: None,
                to: NumOrText::Text(to),
            }],
        ),
        Command::AccountMerge {
            destination,
            common,
        } => sign_operations(
            &common,
            &[RawOp::AccountMerge {
                source: None,
                destination,
            }],
        ),
        Command::AuthorizedPayment {
            from,
            to,
            asset,
            amount,
            common,
        } => {
            let asset = asset.parse::<Asset>()?.require_credit()?;
            let ops = build::authorization_sandwich(
                from.parse()?,
                to.parse()?,
                asset,
                amount.parse::<Amount>()?.positive()?,
            );
            build_and_sign(&common, ops)
        }
        Command::Plan { file, common } => {
            let text = read_input(&file)?;
            let raw = plan::parse(&text)?;
            let keys = keysource::resolve(&common.keys)?;
            let now = now();
            let spec = raw.resolve(&overrides(&common, &keys, now)?, now)?;
            let env = build::envelope(build::build(&spec)?);
            let custody = Custody::load(&common.custody, &keys)?;
            finish(env, &spec.network, keys, &common.output, now, &custody)
        }
        Command::Batch { file, common } => batch(&file, &common),
        Command::Sign {
            input,
            network,
            keys,
            output,
            custody,
        } => {
            let env = envelope::decode(&read_input(&input)?).map_err(|e| in_file(&input, e))?;
            let network = network_of(&network)?;
            let keys = keysource::resolve(&keys)?;
            if keys.is_empty() {
                return Err(Failure::new("`sign` needs at least one --key"));
            }
            let custody = Custody::load(&custody, &keys)?;
            finish(env, &network, keys, &output, now(), &custody)
        }
        Command::Inspect {
            input,
            network,
            json,
            signers,
        } => {
            let env = envelope::decode(&read_input(&input)?).map_err(|e| in_file(&input, e))?;
            let network = network_of(&network)?;
            let sets = airgap::weights::load_signer_sets(&signers)?;
            let known = airgap::weights::signer_keys(&sets);
            let r = review::review(&env, &network, now(), &known)?;
            let weights = (!sets.is_empty()).then(|| airgap::weights::weigh(&env, &network, &sets));
            let text = if json {
                let mut doc = output::json_document(&envelope::encode(&env), &network, &r);
                if let Some(w) = &weights {
                    doc["weights"] = serde_json::to_value(w)
                        .map_err(|e| Failure::new(format!("cannot write JSON: {e}")))?;
                }
                doc.to_string()
            } else {
                let mut t = r.to_text();
                if let Some(w) = &weights {
                    t.push_str(&w.to_text());
                }
                t
            };
            print_stdout(&text)
        }
        Command::Merge {
            inputs,
            network,
            signers,
            output,
        } => merge(&inputs, &network, &signers, &output),
        Command::Qr {
            input,
            network,
            output,
        } => {
            let env = envelope::decode(&read_input(&input)?).map_err(|e| in_file(&input, e))?;
            let network = network_of(&network)?;
            if output.qr.is_none() && output.qr_frames.is_none() && !output.qr_terminal {
                return Err(Failure::new("`qr` needs somewhere to put the code")
                    .remedy("pass --qr FILE.png|.svg|.gif, --qr-frames DIR or --qr-terminal"));
            }
            output::write_qr_outputs(&env, &envelope::encode(&env), &network, &output)
        }
        Command::Keys(k) => keys_command(k),
    }
}

fn in_file(input: &str, e: envelope::EnvelopeError) -> Failure {
    let name = if input == "-" {
        "stdin".to_string()
    } else {
        input.to_string()
    };
    Failure::new(format!("{name}: {e}"))
        .remedy("pass a file holding one base64 transaction envelope, as written by --out")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn network_of(arg: &NetworkArg) -> Result<Network, Failure> {
    match &arg.network {
        Some(n) => Ok(n.parse()?),
        None => Err(airgap::network::NetworkError::Missing.into()),
    }
}

/// `-` is stdin; anything else is a path. Inputs are bounded: nothing we read is legitimately
/// larger than a few megabytes.
fn read_input(input: &str) -> Result<String, Failure> {
    const LIMIT: u64 = 64 << 20;
    let mut text = String::new();
    let result = if input == "-" {
        std::io::stdin()
            .lock()
            .take(LIMIT)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(input).and_then(|f| f.take(LIMIT).read_to_string(&mut text))
    };
    result.map_err(|e| Failure::new(format!("cannot read {input}: {e}")))?;
    Ok(text)
}

fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .map_err(|e| Failure::new(format!("cannot write to stdout: {e}")))
}

/// Command-line values that override (or, for build commands, make up) the transaction.
fn overrides(common: &BuildArgs, keys: &[Key], now: u64) -> Result<Overrides, Failure> {
    let memo = if let Some(t) = &common.memo_text {
        Some(MemoSpec::text(t)?)
    } else if let Some(i) = &common.memo_id {
        Some(MemoSpec::id(i)?)
    } else if let Some(h) = &common.memo_hash {
        Some(MemoSpec::hash(h)?)
    } else if let Some(r) = &common.memo_return {
        Some(MemoSpec::ret(r)?)
    } else {
        None
    };
    let max_time = match (&common.max_time, &common.valid_for) {
        (Some(t), _) => Some(build::parse_time(t)?),
        (None, Some(d)) => Some(now + build::parse_duration(d)?),
        (None, None) => None,
    };
    Ok(Overrides {
        network: common
            .network
            .network
            .as_deref()
            .map(str::parse)
            .transpose()?,
        source: match &common.source {
            Some(s) => Some(s.parse()?),
            None => None,
        }
        .or_else(|| keys.first().map(|k| k.seed.public_key())),
        sequence: common
            .sequence
            .as_deref()
            .map(build::parse_sequence)
            .transpose()?,
        base_fee: common.fee,
        min_time: common
            .min_time
            .as_deref()
            .map(build::parse_time)
            .transpose()?,
        max_time,
        memo,
    })
}

/// Operations given by a command's options: read as a plan's operations are (`RawOp::to_spec`),
/// so options and plan files take the same spellings; then built and signed.
fn sign_operations(common: &BuildArgs, ops: &[RawOp]) -> Result<(), Failure> {
    let ops = ops
        .iter()
        .map(RawOp::to_spec)
        .collect::<Result<Vec<_>, _>>()?;
    build_and_sign(common, ops)
}

fn build_and_sign(common: &BuildArgs, operations: Vec<OpSpec>) -> Result<(), Failure> {
    let keys = keysource::resolve(&common.keys)?;
    let now = now();
    let o = overrides(common, &keys, now)?;
    let network = o
        .network
        .clone()
        .ok_or_else(|| Failure::from(airgap::network::NetworkError::Missing))?;
    let source = o.source.ok_or_else(|| {
        Failure::new("no source account: pass --source G…, or a --key whose account is the source")
    })?;
    let sequence = o.sequence.ok_or_else(|| {
        Failure::new("no --sequence was given").remedy(
            "on the online machine run `airgap-relay account G…` and pass its next_sequence as --sequence",
        )
    })?;
    let max = match o.max_time {
        Some(t) => t,
        None => now + build::parse_duration(DEFAULT_VALID_FOR)?,
    };
    let spec = TxSpec {
        network,
        source,
        sequence,
        base_fee: o.base_fee.unwrap_or(build::DEFAULT_BASE_FEE),
        time: TimeWindow {
            min: o.min_time.unwrap_or(0),
            max,
        },
        memo: o.memo.unwrap_or_default(),
        operations,
    };
    let env = build::envelope(build::build(&spec)?);
    let custody = Custody::load(&common.custody, &keys)?;
    finish(env, &spec.network, keys, &common.output, now, &custody)
}

/// Show the review, ask, sign with each key in order (each signature is verified as it is
/// made), and write the result.
fn finish(
    mut env: TransactionEnvelope,
    network: &Network,
    keys: Vec<Key>,
    out: &OutputArgs,
    now: u64,
    custody: &Custody,
) -> Result<(), Failure> {
    let mut known: Vec<AccountId> = keys.iter().map(|k| k.seed.public_key()).collect();
    known.extend(custody.known_keys());
    let before = review::review(&env, network, now, &known)?;
    eprint!("{}", before.to_text());
    if let Some(w) = custody.weights_text(&env, network) {
        eprint!("{w}");
    }
    if !keys.is_empty() {
        eprint!("{}", custody.describe());
        // Refusals come before the question: nothing outside the policy is ever offered.
        custody.check(&env, network)?;
        custody.guard()?;
        let names: Vec<String> = keys
            .iter()
            .map(|k| format!("{} ({})", k.seed.public_key(), k.origin))
            .collect();
        eprintln!("Will sign with: {}", names.join(", "));
        confirm(out.yes)?;
        for k in &keys {
            envelope::sign(&mut env, network, &k.seed)?;
        }
        eprintln!(
            "Signed ({} signature{} on the envelope).",
            envelope::signatures(&env).len(),
            plural(envelope::signatures(&env).len())
        );
        if let Some(w) = custody.weights_text(&env, network) {
            eprint!("After signing: {w}");
        }
    }
    let after = review::review(&env, network, now, &known)?;
    output::emit(&env, network, &after, out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Ask "Sign? [y/N]" on the terminal. Without a terminal, refuse unless --yes was given.
fn confirm(yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| {
        Failure::new("nothing was signed: there is no terminal to ask for confirmation")
            .remedy("review the transaction (`airgap-signer inspect`), then pass --yes to sign without the question")
    })?;
    let mut w = &tty;
    let _ = write!(w, "Sign? [y/N] ");
    let _ = w.flush();
    let mut answer = String::new();
    std::io::BufReader::new(&tty)
        .read_line(&mut answer)
        .map_err(|e| Failure::new(format!("could not read the answer: {e}")))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Failure::new("nothing was signed: you answered no")),
    }
}

fn batch(file: &str, common: &BuildArgs) -> Result<(), Failure> {
    let o = &common.output;
    if o.qr.is_some() || o.qr_terminal || o.format.is_some_and(|f| f != crate::cli::Format::Json) {
        return Err(Failure::new("batch writes JSON Lines (--out or stdout) and frames (--qr-frames DIR), one set per transaction")
            .remedy("drop --qr/--qr-terminal/--format, or sign the transactions one by one with `plan`"));
    }
    let text = read_input(file)?;
    let keys = keysource::resolve(&common.keys)?;
    let now = now();
    let o = overrides(common, &keys, now)?;
    let known: Vec<AccountId> = keys.iter().map(|k| k.seed.public_key()).collect();
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        return Err(
            Failure::new(format!("{file} holds no plans")).remedy("write one JSON plan per line")
        );
    }
    let prepared = prepare_batch(&lines, &o, now, &known)?;
    let mut items = Vec::with_capacity(prepared.len());
    let mut shown = Vec::with_capacity(prepared.len());
    for (env, network, s) in prepared {
        items.push((env, network));
        shown.push(s);
    }
    {
        let mut stderr = std::io::BufWriter::with_capacity(1 << 16, std::io::stderr().lock());
        let _ = batch_table(&mut stderr, &items, &shown).and_then(|()| stderr.flush());
    }
    if !keys.is_empty() {
        let custody = Custody::load(&common.custody, &keys)?;
        eprint!("{}", custody.describe());
        // The whole batch is checked before anything is signed: one refusal refuses all.
        custody.check_batch(&items)?;
        custody.guard()?;
        confirm(common.output.yes)?;
    }
    let seeds: Vec<airgap::keys::SecretSeed> = keys.into_iter().map(|k| k.seed).collect();
    // Each worker writes the output lines of the envelopes it signed, once their signatures
    // have verified.
    let parts = envelope::sign_all_then(&mut items, &seeds, |first, part| {
        let mut text = Vec::with_capacity(part.len() * 400);
        for ((env, _), s) in part.iter().zip(&shown[first..]) {
            output_line(&mut text, env, s);
        }
        text
    })?;
    if let Some(dir) = &common.output.qr_frames {
        write_batch_frames(dir, &items, &common.output)?;
    }
    match &common.output.out {
        Some(path) => {
            output::write_atomic_parts(path, parts.iter().map(Vec::as_slice), common.output.force)?;
            eprintln!(
                "Wrote {} signed envelopes to {}",
                items.len(),
                path.display()
            );
            Ok(())
        }
        None => {
            // Every line ends in a newline, as `print_stdout` would end the last one.
            let mut stdout = std::io::stdout().lock();
            parts
                .iter()
                .try_for_each(|p| stdout.write_all(p))
                .and_then(|()| stdout.flush())
                .map_err(|e| Failure::new(format!("cannot write to stdout: {e}")))
        }
    }
}

/// What `batch` keeps of a transaction's review: its line of the table, its findings, and the
/// hash and sequence number for the output.
struct Shown {
    row: String,
    findings: Vec<review::Finding>,
    hash: String,
    sequence: String,
}

/// One line of `batch` output: `{"envelope":…,"hash":…,"sequence":…}` and a newline.
fn output_line(text: &mut Vec<u8>, env: &TransactionEnvelope, r: &Shown) {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        envelope: &'a str,
        hash: &'a str,
        sequence: &'a str,
    }
    let line = Line {
        envelope: &envelope::encode(env),
        hash: &r.hash,
        sequence: &r.sequence,
    };
    // Writing strings into memory cannot fail.
    let _ = serde_json::to_writer(&mut *text, &line);
    text.push(b'\n');
}

/// `merge`: read every copy, combine (`airgap::merge`), show the review, the merge report and
/// the weights, write.
fn merge(
    inputs: &[String],
    network: &NetworkArg,
    signers: &[std::path::PathBuf],
    out: &OutputArgs,
) -> Result<(), Failure> {
    let network = network_of(network)?;
    if inputs.iter().filter(|i| *i == "-").count() > 1 {
        return Err(Failure::new("stdin (-) can be read only once"));
    }
    let copies: Vec<TransactionEnvelope> = inputs
        .iter()
        .map(|i| envelope::decode(&read_input(i)?).map_err(|e| in_file(i, e)))
        .collect::<Result<_, _>>()?;
    let sets = airgap::weights::load_signer_sets(signers)?;
    let merged = airgap::merge::merge_with_signers(&copies, &network, &sets).map_err(|e| {
        let f = Failure::new(format!("nothing was merged: {e}"));
        match e {
            airgap::merge::MergeError::Differs { .. } => f.remedy(
                "every co-signer must sign the same envelope: compare the transaction hashes, and sign the reviewed copy again",
            ),
            _ => f,
        }
    })?;
    let r = review::review(&merged.envelope, &network, now(), &merged.known)?;
    eprint!("{}", r.to_text());
    eprint!("{}", merged.to_text());
    output::emit(&merged.envelope, &network, &r, out)
}

/// Parse, build and review every plan line of a batch, and write its line of the batch table,
/// spread over the machine's cores (each line is independent); the error of the first bad line,
/// by line number, is reported.
fn prepare_batch(
    lines: &[(usize, &str)],
    o: &Overrides,
    now: u64,
    known: &[AccountId],
) -> Result<Vec<(TransactionEnvelope, Network, Shown)>, Failure> {
    let one = |&(n, line): &(usize, &str)| -> Result<_, Failure> {
        let at = |f: Failure| Failure {
            message: format!("line {}: {}", n + 1, f.message),
            ..f
        };
        let raw = plan::parse(line).map_err(|e| at(e.into()))?;
        let spec = raw.resolve(o, now).map_err(|e| at(e.into()))?;
        let env = build::envelope(build::build(&spec).map_err(|e| at(e.into()))?);
        let r = review::review(&env, &spec.network, now, known).map_err(|e| at(e.into()))?;
        let shown = Shown {
            row: table_row(&r),
            findings: r.findings,
            hash: r.hash,
            sequence: r.sequence,
        };
        Ok((env, spec.network, shown))
    };
    // Small chunks, several per thread, so the work spreads evenly.
    let chunk = lines
        .len()
        .div_ceil(airgap::pool::threads() * 4)
        .clamp(1, 512);
    let parts = airgap::pool::try_chunks(lines, chunk, |_, part| {
        part.iter().map(one).collect::<Result<Vec<_>, _>>()
    })
    .map_err(|e| match e {
        airgap::pool::PoolError::Failed(f) => f,
        _ => Failure::new("a batch worker failed unexpectedly"),
    })?;
    Ok(parts.into_iter().flatten().collect())
}

/// Frames for each transaction of a batch, in `DIR/<sequence>/`; the whole directory appears at once.
fn write_batch_frames(
    dir: &std::path::Path,
    items: &[(TransactionEnvelope, Network)],
    out: &OutputArgs,
) -> Result<(), Failure> {
    let density = out
        .qr_density
        .parse()
        .map_err(|e: airgap::qr::encode::QrEncodeError| Failure::new(e.to_string()))?;
    airgap::files::write_dir_atomic(dir, out.force, |tmp| {
        for (env, _) in items {
            let sub = tmp.join(envelope::sequence(env).to_string());
            output::write_frames(&sub, env, density, false)?;
        }
        Ok::<(), Failure>(())
    })?;
    eprintln!(
        "Wrote QR frames for {} transactions under {}",
        items.len(),
        dir.display()
    );
    Ok(())
}

/// The batch review: one line per transaction, then every distinct finding once.
fn batch_table(
    w: &mut impl Write,
    items: &[(TransactionEnvelope, Network)],
    shown: &[Shown],
) -> std::io::Result<()> {
    let passphrases: std::collections::BTreeSet<(&str, &str)> = items
        .iter()
        .map(|(_, n)| (n.name(), n.passphrase()))
        .collect();
    let networks: std::collections::BTreeSet<String> = passphrases
        .into_iter()
        .map(|(name, passphrase)| format!("{} — \"{passphrase}\"", name.to_uppercase()))
        .collect();
    writeln!(
        w,
        "Batch of {} transactions on {}",
        shown.len(),
        networks.into_iter().collect::<Vec<_>>().join(", ")
    )?;
    writeln!(
        w,
        "{:>4}  {:<20} {:<22} {:>3}  {:<23}  first operation",
        "#", "sequence", "source", "ops", "valid until"
    )?;
    for (i, r) in shown.iter().enumerate() {
        writeln!(w, "{:>4}  {}", i + 1, r.row)?;
    }
    let mut seen = std::collections::BTreeSet::new();
    for f in shown.iter().flat_map(|r| &r.findings) {
        if seen.insert(f.message.as_str()) {
            writeln!(w, "!! {:?}: {}", f.severity, f.message)?;
        }
    }
    Ok(())
}

/// A transaction's line of the batch table, after its number.
fn table_row(r: &Review) -> String {
    let until = if r.max_time == 0 {
        "NO UPPER BOUND".to_string()
    } else {
        review::time_words(r.max_time)
    };
    let first = r
        .operations
        .first()
        .and_then(|o| o.effects.first())
        .map_or("", String::as_str);
    format!(
        "{:<20} {:<22} {:>3}  {:<23}  {first}",
        r.sequence,
        r.source.short(),
        r.operations.len(),
        until
    )
}

fn keys_command(k: KeysCommand) -> Result<(), Failure> {
    match k {
        KeysCommand::Public { keys } => {
            let resolved = keysource::resolve(&KeyArgs {
                unsigned: false,
                ..keys
            })?;
            for key in resolved {
                print_stdout(&key.seed.public_key().to_string())?;
            }
            Ok(())
        }
        KeysCommand::Generate {
            keystore,
            passphrase_env,
            show_secret,
        } => {
            if keystore.is_none() && !show_secret {
                return Err(Failure::new("a new secret key must go somewhere")
                    .remedy("pass --keystore PATH to store it encrypted, or --show-secret to see it on the terminal"));
            }
            let seed = airgap::keys::SecretSeed::generate().map_err(|e| {
                Failure::new(format!("the operating system's random source failed: {e}"))
            })?;
            if let Some(path) = &keystore {
                let pass = keysource::passphrase(&passphrase_env, "New keystore passphrase: ")?;
                if passphrase_env.is_none() {
                    let again = keysource::passphrase(&None, "Repeat the passphrase: ")?;
                    if *again != *pass {
                        return Err(Failure::new(
                            "the two passphrases differ; nothing was written",
                        ));
                    }
                }
                let text =
                    airgap::keys::keystore::seal(seed.bytes(), pass.as_bytes(), Default::default())
                        .map_err(|e| Failure::new(e.to_string()))?;
                write_private_new(path, text.as_bytes())?;
                eprintln!("Wrote the encrypted key to {} (mode 0600).", path.display());
                let policy_path = airgap::policy::default_path_for(path);
                if policy_path.exists() {
                    eprintln!(
                        "Kept the existing signing policy {}: check that it suits this key.",
                        policy_path.display()
                    );
                } else {
                    write_private_new(&policy_path, airgap::policy::default_text().as_bytes())?;
                    eprintln!(
                        "Wrote the default signing policy to {} (mode 0600): test networks only; edit it to sign for pubnet (docs/policy.md).",
                        policy_path.display()
                    );
                }
            }
            if show_secret {
                let mut tty = std::fs::OpenOptions::new().write(true).open("/dev/tty").map_err(|_| {
                    Failure::new("--show-secret needs a terminal, and there is none; the secret is never written to stdout")
                })?;
                let secret = seed.to_strkey();
                writeln!(
                    tty,
                    "Secret key (write it down, keep it offline): {}",
                    secret.as_str()
                )
                .map_err(|e| Failure::new(format!("cannot write to the terminal: {e}")))?;
            }
            print_stdout(&seed.public_key().to_string())
        }
    }
}

/// Create a new file readable only by its owner; never replace one.
fn write_private_new(path: &std::path::Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        Failure::new(format!("cannot create {}: {e}", path.display()))
            .remedy("a keystore is never overwritten: choose a new path")
    })?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))
}
