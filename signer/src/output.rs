//! Where a signed envelope goes: files, stdout, QR images. Every file output of a command is
//! checked before any work ([`check`]: no existing target without --force, a known --qr kind, a
//! valid density), then written to a temporary file beside its target and put in place together
//! with the others, or not at all (`airgap::files::commit`): a command that fails leaves nothing
//! behind.
use crate::cli::{Format, OutputArgs, QrContent};
use crate::failure::Failure;
use airgap::files::{self, Staged};
use airgap::frames;
use airgap::network::Network;
use airgap::qr::encode::{self, QrDensity};
use airgap::review::Review;
use std::io::Write;
use std::path::Path;
use stellar_xdr::TransactionEnvelope;

pub fn file_failure(e: files::FileError) -> Failure {
    match e {
        files::FileError::Exists(_) => Failure::new(format!("nothing was written: {e}"))
            .remedy("choose another name, or pass --force to replace it"),
        _ => Failure::new(format!("nothing was written: {e}")),
    }
}

/// The paths a command will write, refused before any work when one exists (without `force`)
/// or one is named twice.
pub fn check_paths(paths: &[&Path], force: bool) -> Result<(), Failure> {
    files::check_targets(paths, force).map_err(file_failure)
}

/// What `check` looks at before anything is built or asked: the targets, the --qr kind and the
/// density.
pub fn check(out: &OutputArgs) -> Result<(), Failure> {
    let paths: Vec<&Path> = [&out.out, &out.qr, &out.qr_frames]
        .into_iter()
        .flatten()
        .map(|p| p.as_path())
        .collect();
    check_paths(&paths, out.force)?;
    if let Some(path) = &out.qr {
        qr_kind(path)?;
    }
    density(&out.qr_density)?;
    Ok(())
}

/// Whether anything goes to a file or the terminal (else the envelope goes to stdout).
fn writes_elsewhere(out: &OutputArgs) -> bool {
    out.out.is_some() || out.qr.is_some() || out.qr_frames.is_some() || out.qr_terminal
}

/// Send the envelope everywhere the operator asked: the files together or none, then the terminal
/// code and stdout (which gets the envelope when nothing else was asked).
pub fn emit(
    env: &TransactionEnvelope,
    network: &Network,
    review: &Review,
    out: &OutputArgs,
) -> Result<(), Failure> {
    let b64 = airgap::envelope::encode(env);
    write_files(env, &b64, network, out)?;
    if out.qr_terminal {
        let code = single_code(&qr_text(&b64, network, out))?;
        eprint!("{}", encode::render_terminal(&code));
    }
    let format = match (out.format, writes_elsewhere(out)) {
        (Some(f), _) => Some(f),
        (None, false) => Some(Format::Xdr),
        (None, true) => None,
    };
    if let Some(f) = format {
        let text = render(f, env, &b64, network, review)?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}")
            .and_then(|_| stdout.flush())
            .map_err(|e| Failure::new(format!("cannot write to stdout: {e}")))?;
    }
    Ok(())
}

/// `--out`, `--qr`, `--qr-frames`: staged, then put in place together.
pub fn write_files(
    env: &TransactionEnvelope,
    b64: &str,
    network: &Network,
    out: &OutputArgs,
) -> Result<(), Failure> {
    let mut staged: Vec<Staged> = Vec::new();
    let mut said = Vec::new();
    if let Some(path) = &out.out {
        staged
            .push(files::stage_file(path, [format!("{b64}\n").as_bytes()]).map_err(file_failure)?);
        said.push(format!("Wrote the envelope to {}", path.display()));
    }
    if let Some(path) = &out.qr {
        let bytes = qr_bytes(path, env, b64, network, out)?;
        staged.push(files::stage_file(path, [bytes.as_slice()]).map_err(file_failure)?);
        said.push(format!(
            "Wrote a QR code of the envelope to {}",
            path.display()
        ));
    }
    if let Some(dir) = &out.qr_frames {
        let (stage, n) = stage_frames(dir, env, density(&out.qr_density)?)?;
        staged.push(stage);
        said.push(format!("Wrote {n} QR frames to {} (show them in any order; a reader needs about a quarter of them)", dir.display()));
    }
    files::commit(staged, out.force).map_err(file_failure)?;
    for s in said {
        eprintln!("{s}");
    }
    Ok(())
}

/// The JSON document of `--format json`.
pub fn json_document(b64: &str, network: &Network, review: &Review) -> serde_json::Value {
    serde_json::json!({
        "envelope": b64,
        "hash": review.hash,
        "network": network.name(),
        "network_passphrase": review.network_passphrase,
        "review": review,
    })
}

fn render(
    f: Format,
    env: &TransactionEnvelope,
    b64: &str,
    network: &Network,
    review: &Review,
) -> Result<String, Failure> {
    Ok(match f {
        Format::Xdr => b64.to_string(),
        Format::Json => json_document(b64, network, review).to_string(),
        Format::Txrep => airgap::txrep::to_txrep(env).map_err(|e| Failure::new(e.to_string()))?,
        Format::Sep7 => airgap::sep7::tx_uri(b64, Some(network.passphrase())),
    })
}

/// The single-code text: the base64 envelope, or a SEP-7 URI.
fn qr_text(b64: &str, network: &Network, out: &OutputArgs) -> String {
    match out.qr_content {
        QrContent::Xdr => b64.to_string(),
        QrContent::Sep7 => airgap::sep7::tx_uri(b64, Some(network.passphrase())),
    }
}

pub fn density(text: &str) -> Result<QrDensity, Failure> {
    text.parse()
        .map_err(|e: encode::QrEncodeError| Failure::new(e.to_string()))
}

/// What a --qr file holds, by its extension.
#[derive(PartialEq, Eq)]
enum QrKind {
    Png,
    Svg,
    Gif,
}

fn qr_kind(path: &Path) -> Result<QrKind, Failure> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "png" => Ok(QrKind::Png),
        "svg" => Ok(QrKind::Svg),
        "gif" => Ok(QrKind::Gif),
        _ => Err(Failure::new(format!(
            "{} does not end in .png, .svg or .gif",
            path.display()
        ))
        .remedy("name the QR file NAME.png or NAME.svg (one code) or NAME.gif (animated frames)")),
    }
}

fn qr_bytes(
    path: &Path,
    env: &TransactionEnvelope,
    b64: &str,
    network: &Network,
    out: &OutputArgs,
) -> Result<Vec<u8>, Failure> {
    Ok(match qr_kind(path)? {
        QrKind::Gif => {
            let d = density(&out.qr_density)?;
            let parts = frames::encode_frames(&airgap::envelope::to_bytes(env), d)
                .map_err(|e| Failure::new(e.to_string()))?;
            frames::frames_gif(&parts, d).map_err(|e| Failure::new(e.to_string()))?
        }
        QrKind::Png => {
            let code = single_code(&qr_text(b64, network, out))?;
            encode::render_png(&code).map_err(|e| Failure::new(e.to_string()))?
        }
        QrKind::Svg => encode::render_svg(&single_code(&qr_text(b64, network, out))?).into_bytes(),
    })
}

fn single_code(text: &str) -> Result<qrcode::QrCode, Failure> {
    encode::single_qr(text).map_err(|e| {
        Failure::new(e.to_string()).remedy("use --qr-frames DIR or --qr NAME.gif for a multi-frame code, or carry the --out file by USB")
    })
}

/// The envelope as QR frames in a staged directory; returns it and the number of frames.
pub fn stage_frames(
    dir: &Path,
    env: &TransactionEnvelope,
    density: QrDensity,
) -> Result<(Staged, usize), Failure> {
    let files = frames::frames_files(&airgap::envelope::to_bytes(env), density)
        .map_err(|e| Failure::new(e.to_string()))?;
    let staged =
        files::stage_dir(dir, |tmp| frames::write_files(tmp, &files)).map_err(file_failure)?;
    Ok((staged, files.len() - 1))
}
