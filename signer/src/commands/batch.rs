//! `batch`: one transaction per plan line, each reviewed in full, the whole batch checked against
//! the policy and confirmed once, signed on every core (`airgap::pool`), and written together.
use super::operations::{context_failure, Setup};
use super::read_input;
use super::signing::{confirm, plural, show_context, will_sign_with};
use crate::cli::{BatchArgs, BatchOutputArgs};
use crate::custody::Custody;
use crate::failure::Failure;
use crate::keysource::{self, Planned};
use crate::output;
use airgap::account::AccountId;
use airgap::build;
use airgap::envelope;
use airgap::files;
use airgap::network::Network;
use airgap::plan::{self, Overrides, RawPlan};
use airgap::review::{self, Review};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use stellar_xdr::TransactionEnvelope;

/// `batch FILE`: see the module documentation.
pub fn run(a: &BatchArgs) -> Result<(), Failure> {
    let o = &a.output;
    // Before anything is read or asked: the outputs.
    let targets: Vec<&Path> = [&o.out, &o.out_dir, &o.qr_frames]
        .into_iter()
        .flatten()
        .map(|p| p.as_path())
        .collect();
    output::check_paths(&targets, o.force)?;
    let density = output::density(&o.qr_density)?;
    let text = read_input(&a.file)?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        return Err(Failure::new(format!("{} holds no plans", a.file))
            .remedy("write one JSON plan per line"));
    }
    let raws = lines
        .iter()
        .map(|&(n, line)| {
            plan::parse(line)
                .map(|r| (n, r))
                .map_err(|e| at(n, e.into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut setup = Setup::new(&a.tx, &a.keys)?;
    let overrides = number(&raws, &mut setup, a)?;
    let custody = Custody::load(&a.custody, &setup.keys, setup.context.as_ref())?;
    let mut known: Vec<AccountId> = setup.keys.iter().filter_map(Planned::public_key).collect();
    known.extend(custody.known_keys());
    let prepared = prepare(&raws, &overrides, &setup, &custody, &known)?;
    let mut items = Vec::with_capacity(prepared.len());
    let mut shown = Vec::with_capacity(prepared.len());
    for (env, network, s) in prepared {
        items.push((env, network));
        shown.push(s);
    }
    {
        let mut stderr = std::io::BufWriter::with_capacity(1 << 16, std::io::stderr().lock());
        let _ = shown
            .iter()
            .try_for_each(|s| stderr.write_all(s.text.as_bytes()))
            .and_then(|()| stderr.flush());
    }
    if let Some(c) = &setup.context {
        show_context(c, setup.now);
    }
    let keys = std::mem::take(&mut setup.keys);
    if !keys.is_empty() {
        eprint!("{}", custody.describe());
        // The whole batch is checked before anything is asked: one refusal refuses all.
        custody.check_batch(&items, setup.now)?;
        custody.guard()?;
        will_sign_with(&keys);
        eprint!("{}", summary(&items, &shown));
        confirm(o.yes)?;
    }
    let keys = keysource::open_all(keys, &a.keys)?;
    let seeds: Vec<airgap::keys::SecretSeed> = keys.into_iter().map(|k| k.seed).collect();
    // Each worker encodes the envelopes it signed once their signatures have verified.
    let parts = envelope::sign_all_then(&mut items, &seeds, |first, part| {
        part.iter()
            .zip(&shown[first..])
            .map(|((env, _), s)| {
                let b64 = envelope::encode(env);
                let mut line = Vec::with_capacity(b64.len() + 150);
                output_line(&mut line, &b64, s);
                (b64, line)
            })
            .collect::<Vec<_>>()
    })?;
    let encoded: Vec<(String, Vec<u8>)> = parts.into_iter().flatten().collect();
    write_outputs(o, &items, &shown, &encoded, density)?;
    if o.out.is_none() {
        // Every line ends in a newline.
        let mut stdout = std::io::stdout().lock();
        encoded
            .iter()
            .try_for_each(|(_, line)| stdout.write_all(line))
            .and_then(|()| stdout.flush())
            .map_err(|e| Failure::new(format!("cannot write to stdout: {e}")))?;
    }
    let mut stderr = std::io::BufWriter::new(std::io::stderr().lock());
    let _ = writeln!(stderr, "Transaction hashes ({}):", shown.len());
    for (i, s) in shown.iter().enumerate() {
        let _ = writeln!(
            stderr,
            "  {:>4}  sequence {}  {}",
            i + 1,
            s.sequence,
            s.hash
        );
    }
    let _ = stderr.flush();
    Ok(())
}

/// A failure of one line, named by its line number.
fn at(n: usize, f: Failure) -> Failure {
    Failure {
        message: format!("line {}: {}", n + 1, f.message),
        ..f
    }
}

/// Each line's overrides, with its sequence number: `--sequence N` (or the account context's next
/// sequence) is the first transaction's, and each account's transactions follow consecutively. A
/// line that gives its own sequence must give that number: a repeat (or a gap) would make the
/// network refuse the rest.
fn number(
    raws: &[(usize, RawPlan)],
    setup: &mut Setup,
    a: &BatchArgs,
) -> Result<Vec<Overrides>, Failure> {
    let cli_sequence = setup.overrides.sequence;
    // Per account: the next sequence number and the line that took the last one.
    let mut next: BTreeMap<AccountId, (i64, Option<usize>)> = BTreeMap::new();
    if let Some(c) = &setup.context {
        next.insert(c.account, (c.next_sequence, None));
    }
    let mut out = Vec::with_capacity(raws.len());
    for (i, (n, raw)) in raws.iter().enumerate() {
        let mut o = setup.overrides.clone();
        o.sequence = None;
        // The source as resolve will see it (the line's, or the filled-in one).
        if o.source.is_none() && raw.source.is_none() {
            o.source = setup.overrides_for(raw, &a.keys)?.source;
        }
        let source = match (&o.source, &raw.source) {
            (Some(s), _) => *s,
            (None, Some(s)) => s.parse().map_err(|e: airgap::account::AccountIdError| {
                at(*n, Failure::new(format!("source: {e}")))
            })?,
            (None, None) => return Err(at(*n, plan::PlanError::Missing("source").into())),
        };
        if i == 0 {
            if let Some(first) = cli_sequence {
                next.insert(source, (first, None));
            }
        }
        let own = match &raw.sequence {
            Some(s) => Some(build::parse_sequence(&s.text()).map_err(|e| at(*n, e.into()))?),
            None => None,
        };
        let sequence = match (next.get(&source), own) {
            (Some(&(expected, _)), Some(q)) if q != expected => {
                let why = match next.get(&source).and_then(|(_, l)| *l) {
                    Some(prev) if q < expected => format!(
                        "sequence {q} of {source} collides with a transaction before it (line {} takes {})",
                        prev + 1,
                        expected - 1
                    ),
                    _ => format!(
                        "it gives sequence {q}, but {source}'s transactions of this batch follow consecutively and this one is {expected}"
                    ),
                };
                return Err(at(*n, Failure::new(why)).remedy(
                    "leave \"sequence\" out of the lines (--sequence N or --account numbers them), or give consecutive numbers",
                ));
            }
            (Some(&(expected, _)), _) => expected,
            (None, Some(q)) => q,
            (None, None) => return Err(at(*n, plan::PlanError::Missing("sequence").into())),
        };
        next.insert(source, (sequence.saturating_add(1), Some(*n)));
        o.sequence = Some(sequence);
        out.push(o);
    }
    Ok(out)
}

/// What `batch` keeps of a transaction's review: its text, its dangers, and what the summary
/// and the output need.
struct Shown {
    text: String,
    dangers: Vec<String>,
    hash: String,
    sequence: String,
    source: AccountId,
    fee: i64,
    max_time: u64,
}

/// One line of `batch` output: `{"envelope":…,"hash":…,"sequence":…}` and a newline.
fn output_line(text: &mut Vec<u8>, b64: &str, r: &Shown) {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        envelope: &'a str,
        hash: &'a str,
        sequence: &'a str,
    }
    let line = Line {
        envelope: b64,
        hash: &r.hash,
        sequence: &r.sequence,
    };
    // Writing strings into memory cannot fail.
    let _ = serde_json::to_writer(&mut *text, &line);
    text.push(b'\n');
}

/// Build and review every line, spread over the machine's cores (each line is independent); the
/// error of the first bad line, by line number, is reported.
fn prepare(
    raws: &[(usize, RawPlan)],
    overrides: &[Overrides],
    setup: &Setup,
    custody: &Custody,
    known: &[AccountId],
) -> Result<Vec<(TransactionEnvelope, Network, Shown)>, Failure> {
    let options = custody.review_options();
    let count = raws.len();
    let indexed: Vec<(usize, &(usize, RawPlan), &Overrides)> = raws
        .iter()
        .zip(overrides)
        .enumerate()
        .map(|(i, (r, o))| (i, r, o))
        .collect();
    let one = |&(i, (n, raw), o): &(usize, &(usize, RawPlan), &Overrides)| -> Result<_, Failure> {
        let spec = raw.resolve(o, setup.now).map_err(|e| at(*n, e.into()))?;
        if let Some(c) = &setup.context {
            c.check_network(&spec.network)
                .map_err(|e| at(*n, context_failure(e)))?;
        }
        let env = build::envelope(build::build(&spec).map_err(|e| at(*n, e.into()))?);
        let r = review::review_with(&env, &spec.network, setup.now, known, &options)
            .map_err(|e| at(*n, e.into()))?;
        let shown = shown(&r, i + 1, count, *n + 1);
        Ok((env, spec.network, shown))
    };
    // Small chunks, several per thread, so the work spreads evenly.
    let chunk = indexed
        .len()
        .div_ceil(airgap::pool::threads() * 4)
        .clamp(1, 512);
    let parts = airgap::pool::try_chunks(&indexed, chunk, |_, part| {
        part.iter().map(one).collect::<Result<Vec<_>, _>>()
    })
    .map_err(|e| match e {
        airgap::pool::PoolError::Failed(f) => f,
        _ => Failure::new("a batch worker failed unexpectedly"),
    })?;
    Ok(parts.into_iter().flatten().collect())
}

fn shown(r: &Review, number: usize, count: usize, line: usize) -> Shown {
    Shown {
        text: format!(
            "==== Transaction {number} of {count} (line {line}) ====\n{}",
            r.to_text()
        ),
        dangers: r.dangers().map(|f| f.short.clone()).collect(),
        hash: r.hash.clone(),
        sequence: r.sequence.clone(),
        source: r.source,
        fee: r.fee.stroops,
        max_time: r.max_time,
    }
}

/// The batch's summary, right above the question: networks, count, sources and sequences, fees,
/// validity, and every danger (once per message, with the transactions it concerns).
fn summary(items: &[(TransactionEnvelope, Network)], shown: &[Shown]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let networks: std::collections::BTreeSet<String> = items
        .iter()
        .map(|(_, n)| {
            format!(
                "{} \"{}\"",
                n.name().to_uppercase(),
                airgap::text::escape_bytes(n.passphrase().as_bytes())
            )
        })
        .collect();
    let _ = writeln!(s, "Summary of the batch (check these before you answer):");
    let networks = networks.into_iter().collect::<Vec<_>>().join(", ");
    for (i, line) in review::wrap(&networks, 67, 0).into_iter().enumerate() {
        let name = if i == 0 { "network" } else { "" };
        let _ = writeln!(s, "  {name:<10} {line}");
    }
    let _ = writeln!(
        s,
        "  count      {} transaction{}",
        shown.len(),
        plural(shown.len())
    );
    let mut by_source: BTreeMap<AccountId, Vec<&str>> = BTreeMap::new();
    for r in shown {
        by_source.entry(r.source).or_default().push(&r.sequence);
    }
    for (source, seqs) in &by_source {
        let range = match (seqs.first(), seqs.last()) {
            (Some(a), Some(b)) if a != b => format!("sequences {a} to {b}"),
            (Some(a), _) => format!("sequence {a}"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  source     {} ({}, {range})",
            source.short(),
            seqs.len()
        );
    }
    let total: i128 = shown.iter().map(|r| i128::from(r.fee)).sum();
    let _ = writeln!(
        s,
        "  fees       {total} stroops at most in all ({} XLM)",
        airgap::amount::sum_words(total)
    );
    let until = |t: u64| {
        if t == 0 {
            "NO UPPER BOUND".to_string()
        } else {
            review::time_words(t)
        }
    };
    let latest = shown
        .iter()
        .map(|r| {
            if r.max_time == 0 {
                u64::MAX
            } else {
                r.max_time
            }
        })
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        s,
        "  valid      the last until {}",
        until(if latest == u64::MAX { 0 } else { latest })
    );
    let mut dangers: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, r) in shown.iter().enumerate() {
        for d in &r.dangers {
            match dangers.iter_mut().find(|(m, _)| *m == d.as_str()) {
                Some((_, txs)) => txs.push(i + 1),
                None => dangers.push((d, vec![i + 1])),
            }
        }
    }
    if dangers.is_empty() {
        let _ = writeln!(s, "  no danger found");
    }
    for (message, txs) in dangers {
        let which = if txs.len() == shown.len() && shown.len() > 1 {
            "every transaction".to_string()
        } else if txs.len() <= 6 {
            format!(
                "transaction{} {}",
                plural(txs.len()),
                txs.iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("{} transactions", txs.len())
        };
        for line in review::wrap(&format!("!! DANGER ({which}): {message}"), 80, 4) {
            let _ = writeln!(s, "{line}");
        }
    }
    s
}

/// `--out` (JSON Lines), `--out-dir` (a blob file per transaction) and `--qr-frames` (frames
/// per transaction): staged, then put in place together or not at all.
fn write_outputs(
    o: &BatchOutputArgs,
    items: &[(TransactionEnvelope, Network)],
    shown: &[Shown],
    encoded: &[(String, Vec<u8>)],
    density: airgap::qr::encode::QrDensity,
) -> Result<(), Failure> {
    let mut staged = Vec::new();
    let mut said = Vec::new();
    if let Some(path) = &o.out {
        staged.push(
            files::stage_file(path, encoded.iter().map(|(_, l)| l.as_slice()))
                .map_err(output::file_failure)?,
        );
        said.push(format!(
            "Wrote {} signed envelopes to {}",
            items.len(),
            path.display()
        ));
    }
    if let Some(dir) = &o.out_dir {
        let width = items.len().to_string().len().max(6);
        staged.push(
            files::stage_dir(dir, |tmp| {
                for (i, ((b64, _), s)) in encoded.iter().zip(shown).enumerate() {
                    let name = format!("{:0width$}-{}.xdr", i + 1, s.sequence);
                    files::write_in(tmp, &name, format!("{b64}\n").as_bytes())?;
                }
                Ok::<(), files::FileError>(())
            })
            .map_err(output::file_failure)?,
        );
        said.push(format!(
            "Wrote {} blob files to {} (for `airgap-relay submit {}`)",
            items.len(),
            dir.display(),
            dir.display()
        ));
    }
    if let Some(dir) = &o.qr_frames {
        staged.push(
            files::stage_dir(dir, |tmp| {
                for (env, _) in items {
                    let sub = tmp.join(envelope::sequence(env).to_string());
                    std::fs::create_dir(&sub).map_err(|source| files::FileError::Io {
                        path: sub.clone(),
                        source,
                    })?;
                    let frames = airgap::frames::frames_files(&envelope::to_bytes(env), density)
                        .map_err(|e| files::FileError::Io {
                            path: sub.clone(),
                            source: std::io::Error::other(e.to_string()),
                        })?;
                    airgap::frames::write_files(&sub, &frames)?;
                }
                Ok::<(), files::FileError>(())
            })
            .map_err(output::file_failure)?,
        );
        said.push(format!(
            "Wrote QR frames for {} transactions under {}",
            items.len(),
            dir.display()
        ));
    }
    files::commit(staged, o.force).map_err(output::file_failure)?;
    for s in said {
        eprintln!("{s}");
    }
    Ok(())
}
