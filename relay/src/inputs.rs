//! Reading blobs: files of base64 envelope text, photos and scans of QR codes, animated GIFs,
//! `ur:` frames in any order (as images or text), SEP-7 URIs, the JSON Lines `airgap-signer batch`
//! writes (one `{"envelope": …, "hash": …}` per line); `-` for stdin; or a directory of any of
//! these. What the bytes hold is read by `airgap::carry`; JSON Lines are read here.
use airgap::account::AccountId;
use airgap::carry::{self, CarryError, Piece};
use airgap::envelope::{self, EnvelopeError, MAX_BASE64_LEN};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use stellar_xdr::TransactionEnvelope;

/// Sub-directories of a blob directory where finished blobs are moved.
pub const DONE_DIR: &str = "done";
pub const FAILED_DIR: &str = "failed";
/// The journal a directory run keeps by default.
pub const DIR_JOURNAL: &str = ".airgap-journal.sqlite";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is larger than any envelope ({MAX_BASE64_LEN} characters); it is not a blob")]
    TooLarge(String),
    #[error("a directory must be the only input; got {0} inputs including a directory")]
    DirectoryNotAlone(usize),
    #[error("the directory {0} holds no blob files")]
    EmptyDirectory(String),
    #[error("no input given; name blob files, a directory, or - for stdin")]
    NoInput,
}

/// One blob as read. `envelope` is `Err` when the text is not an envelope: the caller refuses it.
pub struct Blob {
    /// How the operator named it (path, or `-`).
    pub input: String,
    /// The file it came from (none for stdin).
    pub path: Option<PathBuf>,
    /// The base64 text, whitespace removed.
    pub text: String,
    pub envelope: Result<TransactionEnvelope, CarryError>,
    /// The passphrase named by a SEP-7 URI, when the blob was one (`Some(None)`: none named,
    /// which SEP-7 defines as the public network).
    pub sep7_passphrase: Option<Option<String>>,
    /// The hash the blob's file says it has (a `batch` line's `hash`): checked against the
    /// envelope's own for the network before anything else is done with it.
    pub claimed_hash: Option<String>,
}

impl Blob {
    pub fn source(&self) -> Option<AccountId> {
        self.envelope.as_ref().ok().map(envelope::source)
    }
}

/// What the operator asked for.
pub struct Inputs {
    pub blobs: Vec<Blob>,
}

/// Time allowed for reading the QR codes of one picture, in milliseconds: set once by the command
/// line (`--decode-budget`) before any input is read, so that every way inputs are read (each
/// command, a directory or a list of files) uses it without passing it down.
static DECODE_BUDGET_MS: AtomicU64 =
    AtomicU64::new(airgap::qr::decode::DEFAULT_BUDGET.as_millis() as u64);

pub fn set_decode_budget(budget: Duration) {
    DECODE_BUDGET_MS.store(budget.as_millis() as u64, Ordering::Relaxed);
}

fn read_options() -> carry::ReadOptions {
    carry::ReadOptions {
        decode_budget: Duration::from_millis(DECODE_BUDGET_MS.load(Ordering::Relaxed)),
    }
}

/// The most bytes read from one input: photos are large; envelopes are not.
const MAX_IMAGE_BYTES: u64 = 64 << 20;

fn read_bounded(mut r: impl Read, name: &str) -> Result<Vec<u8>, InputError> {
    let mut buf = Vec::new();
    r.by_ref()
        .take(MAX_IMAGE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|source| InputError::Read {
            path: name.to_string(),
            source,
        })?;
    // A wrapped text file has line breaks; allow for them before calling it too large.
    let text_cap = (MAX_BASE64_LEN as u64) * 2;
    // Images and JSON Lines (a batch of many envelopes) may be large; one envelope's text is not.
    let large_ok = carry::is_image(&buf) || is_json_lines(&buf);
    if buf.len() as u64 > MAX_IMAGE_BYTES || (!large_ok && buf.len() as u64 > text_cap) {
        return Err(InputError::TooLarge(name.to_string()));
    }
    Ok(buf)
}

/// Turn one input's bytes into blobs, handed to `out` one by one; `ur:` parts go to `frames` to
/// be assembled with others.
fn collect(
    input: String,
    path: Option<PathBuf>,
    bytes: &[u8],
    frames: &mut carry::Frames,
    out: &mut dyn FnMut(Blob),
) {
    let failed = |input: String, path, e| Blob {
        input,
        path,
        text: String::new(),
        envelope: Err(e),
        sep7_passphrase: None,
        claimed_hash: None,
    };
    if is_json_lines(bytes) {
        return json_lines(&input, bytes, out);
    }
    let carried = match carry::read(bytes, &read_options()) {
        Ok(c) => c,
        Err(e) => return out(failed(input, path, e)),
    };
    // Other codes in the same picture (a web address, a Wi-Fi login) are named, not fatal.
    for other in &carried.ignored {
        eprintln!("airgap-relay: {input}: also saw a QR code holding {other}, ignored.");
    }
    let envelopes = carried
        .pieces
        .iter()
        .filter(|p| matches!(p, Piece::Envelope { .. }))
        .count();
    let mut nth = 0;
    for piece in carried.pieces {
        match piece {
            Piece::Envelope {
                base64,
                sep7_passphrase,
            } => out(Blob {
                // Each envelope of a picture holding several is a blob of its own.
                input: if envelopes == 1 {
                    input.clone()
                } else {
                    nth += 1;
                    format!("{input} (envelope {nth} of {envelopes})")
                },
                // Only a file that is one blob is moved to done/ or failed/ after its run.
                path: if envelopes == 1 { path.clone() } else { None },
                envelope: envelope::decode(&base64).map_err(CarryError::from),
                text: base64,
                sep7_passphrase,
                claimed_hash: None,
            }),
            Piece::Part(part) => {
                if let Err(e) = frames.feed(&part, &input) {
                    return out(failed(input, None, e));
                }
            }
        }
    }
}

/// The envelope assembled from every `ur:` part read, as one more blob.
pub fn finish_frames(frames: carry::Frames, out: &mut dyn FnMut(Blob)) {
    if frames.is_empty() {
        return;
    }
    let inputs = frames.inputs();
    let name = match inputs {
        [one] => format!("{one} (frames)"),
        many => format!(
            "frames from {} inputs ({} … {})",
            many.len(),
            many[0],
            many[many.len() - 1]
        ),
    };
    let envelope = frames.finish();
    let text = envelope.as_ref().map(envelope::encode).unwrap_or_default();
    out(Blob {
        input: name,
        path: None,
        text,
        envelope,
        sep7_passphrase: None,
        claimed_hash: None,
    });
}

/// JSON Lines start with `{`; no other blob format does.
fn is_json_lines(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// One blob per non-empty line of `batch` output: `{"envelope": "…base64…", "hash": "…", …}`
/// (other fields are ignored). A line that is not such an object is one unreadable blob.
fn json_lines(input: &str, bytes: &[u8], out: &mut dyn FnMut(Blob)) {
    #[derive(serde::Deserialize)]
    struct Line {
        envelope: String,
        #[serde(default)]
        hash: Option<String>,
    }
    let text = String::from_utf8_lossy(bytes);
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let name = format!("{input}:{}", n + 1);
        let blob = match serde_json::from_str::<Line>(line) {
            Ok(l) => {
                let b64: String = l.envelope.split_whitespace().collect();
                Blob {
                    input: name,
                    path: None,
                    envelope: envelope::decode(&b64).map_err(CarryError::from),
                    text: b64,
                    sep7_passphrase: None,
                    claimed_hash: l.hash.map(|h| h.to_ascii_lowercase()),
                }
            }
            Err(e) => Blob {
                input: name,
                path: None,
                text: String::new(),
                envelope: Err(CarryError::Envelope(EnvelopeError::Malformed(format!(
                    "a JSON line without an \"envelope\" string ({e})"
                )))),
                sep7_passphrase: None,
                claimed_hash: None,
            },
        };
        out(blob);
    }
}

/// Why a blob whose file names its hash (a `batch` line) is refused: its envelope hashes to
/// something else for `network`.
pub fn claimed_hash_refusal(blob: &Blob, network: &airgap::network::Network) -> Option<String> {
    let (Some(claimed), Ok(env)) = (&blob.claimed_hash, &blob.envelope) else {
        return None;
    };
    let actual = hex::encode(envelope::hash(env, network));
    (*claimed != actual).then(|| {
        format!(
            "the line says its hash is {}, but its envelope hashes to {actual} for {}: the file was changed, or is for another network",
            airgap::review::escape_bytes(&claimed.as_bytes()[..claimed.len().min(64)]),
            network.name()
        )
    })
}

/// Read one file's blobs (one at a time into `out`).
pub fn read_file(
    path: &Path,
    frames: &mut carry::Frames,
    out: &mut dyn FnMut(Blob),
) -> Result<(), InputError> {
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|source| InputError::Read {
        path: name.clone(),
        source,
    })?;
    let bytes = read_bounded(f, &name)?;
    collect(name, Some(path.to_path_buf()), &bytes, frames, out);
    Ok(())
}

/// Read every input. Unreadable blobs are returned (with their error) so that every input gets
/// a record; I/O failures stop here.
pub fn read(args: &[String]) -> Result<Inputs, InputError> {
    if let Some(dir) = directory(args)? {
        let blobs = read_dir(&dir)?;
        return Ok(Inputs { blobs });
    }
    let mut blobs = Vec::new();
    let mut frames = carry::Frames::new();
    for a in args {
        read_arg(a, &mut frames, &mut |b| blobs.push(b))?;
    }
    finish_frames(frames, &mut |b| blobs.push(b));
    Ok(Inputs { blobs })
}

/// Read one argument that is not a directory: a file, or `-` for stdin.
pub fn read_arg(
    arg: &str,
    frames: &mut carry::Frames,
    out: &mut dyn FnMut(Blob),
) -> Result<(), InputError> {
    if arg == "-" {
        let bytes = read_bounded(std::io::stdin().lock(), "stdin")?;
        collect("-".into(), None, &bytes, frames, out);
        Ok(())
    } else {
        read_file(Path::new(arg), frames, out)
    }
}

/// The one directory among the arguments, if they name one (refused unless it is alone).
pub fn directory(args: &[String]) -> Result<Option<PathBuf>, InputError> {
    if args.is_empty() {
        return Err(InputError::NoInput);
    }
    let dirs = args
        .iter()
        .filter(|a| *a != "-" && Path::new(a).is_dir())
        .count();
    match dirs {
        0 => Ok(None),
        _ if args.len() > 1 => Err(InputError::DirectoryNotAlone(args.len())),
        _ => Ok(Some(PathBuf::from(&args[0]))),
    }
}

/// Every regular, non-hidden file directly in `dir` (not `done/`, `failed/`, or the journal), in
/// the order the OS lists them; returns how many.
pub fn list_dir(dir: &Path, out: &mut dyn FnMut(PathBuf)) -> Result<usize, InputError> {
    let name = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|source| InputError::Read {
        path: name.clone(),
        source,
    })?;
    let mut count = 0;
    for e in entries {
        let e = e.map_err(|source| InputError::Read {
            path: name.clone(),
            source,
        })?;
        let file_name = e.file_name();
        let hidden = file_name.to_string_lossy().starts_with('.');
        let ft = e.file_type().map_err(|source| InputError::Read {
            path: e.path().display().to_string(),
            source,
        })?;
        if ft.is_file() && !hidden {
            out(e.path());
            count += 1;
        }
    }
    if count == 0 {
        return Err(InputError::EmptyDirectory(name));
    }
    Ok(count)
}

/// Every blob of `dir` (see [`list_dir`]), ordered by file name, then re-ordered so that each
/// source account's blobs go in sequence order.
fn read_dir(dir: &Path) -> Result<Vec<Blob>, InputError> {
    let mut paths = Vec::new();
    list_dir(dir, &mut |p| paths.push(p))?;
    paths.sort();
    let mut blobs = Vec::new();
    let mut frames = carry::Frames::new();
    for p in &paths {
        read_file(p, &mut frames, &mut |b| blobs.push(b))?;
    }
    finish_frames(frames, &mut |b| blobs.push(b));
    Ok(sequence_order(blobs))
}

/// The order `submit` sends blobs in: the operator's order (by file name) between accounts, but
/// within one source account the blobs in sequence order (each account's slots refilled with its
/// blobs sorted by sequence). Unparseable blobs keep their place. Returns indices into `blobs`.
pub fn submit_order(blobs: &[Blob]) -> Vec<usize> {
    let mut by_source: BTreeMap<AccountId, Vec<usize>> = BTreeMap::new();
    for (i, b) in blobs.iter().enumerate() {
        if let Some(s) = b.source() {
            by_source.entry(s).or_default().push(i);
        }
    }
    let mut order: Vec<usize> = (0..blobs.len()).collect();
    for idxs in by_source.values() {
        let mut sorted = idxs.clone();
        sorted.sort_by_key(|&i| {
            blobs[i]
                .envelope
                .as_ref()
                .ok()
                .map_or(0, envelope::sequence)
        });
        for (slot, src) in idxs.iter().zip(sorted) {
            order[*slot] = src;
        }
    }
    order
}

/// The blobs in [`submit_order`].
pub fn sequence_order(blobs: Vec<Blob>) -> Vec<Blob> {
    let order = submit_order(&blobs);
    let mut slots: Vec<Option<Blob>> = blobs.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use airgap::build::{self, MemoSpec, OpBody, OpSpec, TimeWindow, TxSpec};
    use airgap::keys::SecretSeed;
    use airgap::network::Network;

    fn blob_for(seed: &SecretSeed, seq: i64, name: &str) -> Blob {
        let spec = TxSpec {
            network: Network::Standalone,
            source: seed.public_key(),
            sequence: seq,
            base_fee: 100,
            time: TimeWindow::default(),
            memo: MemoSpec::None,
            operations: vec![OpSpec::new(OpBody::BumpSequence { to: 0 })],
        };
        let text = envelope::encode(&build::envelope(build::build(&spec).unwrap()));
        text_blob(name, &text)
    }

    fn text_blob(name: &str, text: &str) -> Blob {
        let mut out = Vec::new();
        collect(
            name.into(),
            None,
            text.as_bytes(),
            &mut carry::Frames::new(),
            &mut |b| out.push(b),
        );
        out.remove(0)
    }

    #[test]
    fn each_source_in_sequence_order_between_accounts_by_name() {
        let (a, b) = (
            SecretSeed::generate().unwrap(),
            SecretSeed::generate().unwrap(),
        );
        let blobs = vec![
            blob_for(&a, 12, "1"),
            blob_for(&b, 7, "2"),
            text_blob("3", "junk"),
            blob_for(&a, 10, "4"),
            blob_for(&a, 11, "5"),
            blob_for(&b, 6, "6"),
        ];
        let order: Vec<String> = sequence_order(blobs).into_iter().map(|b| b.input).collect();
        assert_eq!(order, ["4", "6", "3", "5", "1", "2"]);
    }
}
