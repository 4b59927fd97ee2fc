//! `batch`: one transaction per plan line, reviewed as a table, confirmed once, signed on every
//! core (`airgap::pool`).
use super::operations::overrides;
use super::signing::confirm;
use super::{now, read_input};
use crate::cli::{BuildArgs, OutputArgs};
use crate::custody::Custody;
use crate::failure::Failure;
use crate::keysource;
use crate::output;
use airgap::account::AccountId;
use airgap::build;
use airgap::envelope;
use airgap::network::Network;
use airgap::plan::{self, Overrides};
use airgap::review::{self, Review};
use std::io::Write;
use stellar_xdr::TransactionEnvelope;

/// `batch FILE`: every plan line built and reviewed, the whole batch checked against the policy
/// and confirmed once, signed, and written as JSON Lines (and frames with --qr-frames).
pub fn run(file: &str, common: &BuildArgs) -> Result<(), Failure> {
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
