//! Where a signed envelope goes: files (written atomically), stdout, QR images.
use crate::cli::{Format, OutputArgs, QrContent};
use crate::failure::Failure;
use airgap::frames;
use airgap::network::Network;
use airgap::qr::encode::{self, QrDensity};
use airgap::review::Review;
use std::io::Write;
use std::path::Path;
use stellar_xdr::TransactionEnvelope;

/// Write a file atomically (see `airgap::files`); an existing file is kept unless `force`.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), Failure> {
    airgap::files::write_atomic(path, bytes, force).map_err(file_failure)
}

/// [`write_atomic`] for a file made of several pieces.
pub fn write_atomic_parts<'a>(
    path: &Path,
    parts: impl IntoIterator<Item = &'a [u8]>,
    force: bool,
) -> Result<(), Failure> {
    airgap::files::write_atomic_parts(path, parts, force).map_err(file_failure)
}

pub fn file_failure(e: airgap::files::FileError) -> Failure {
    match e {
        airgap::files::FileError::Exists(_) => {
            Failure::new(e.to_string()).remedy("choose another name, or pass --force to replace it")
        }
        _ => Failure::new(e.to_string()),
    }
}

/// Send the envelope everywhere the operator asked; stdout gets it when nothing else was asked.
pub fn emit(
    env: &TransactionEnvelope,
    network: &Network,
    review: &Review,
    out: &OutputArgs,
) -> Result<(), Failure> {
    let b64 = airgap::envelope::encode(env);
    if let Some(path) = &out.out {
        write_atomic(path, format!("{b64}\n").as_bytes(), out.force)?;
        eprintln!("Wrote the envelope to {}", path.display());
    }
    write_qr_outputs(env, &b64, network, out)?;
    let format = match (
        out.format,
        out.out.is_some() || out.qr.is_some() || out.qr_frames.is_some() || out.qr_terminal,
    ) {
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

/// The JSON document of `--format json`.
pub fn json_document(b64: &str, network: &Network, review: &Review) -> serde_json::Value {
    serde_json::json!({
        "envelope": b64,
        "hash": review.hash,
        "network": network.name(),
        "network_passphrase": network.passphrase(),
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

fn density(out: &OutputArgs) -> Result<QrDensity, Failure> {
    out.qr_density
        .parse()
        .map_err(|e: encode::QrEncodeError| Failure::new(e.to_string()))
}

/// `--qr`, `--qr-frames`, `--qr-terminal`.
pub fn write_qr_outputs(
    env: &TransactionEnvelope,
    b64: &str,
    network: &Network,
    out: &OutputArgs,
) -> Result<(), Failure> {
    if let Some(path) = &out.qr {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let bytes = match ext.as_str() {
            "gif" => {
                let parts = frames::encode_frames(&airgap::envelope::to_bytes(env), density(out)?)
                    .map_err(|e| Failure::new(e.to_string()))?;
                frames::frames_gif(&parts, density(out)?)
                    .map_err(|e| Failure::new(e.to_string()))?
            }
            "png" | "svg" => {
                let code = single_code(&qr_text(b64, network, out))?;
                if ext == "png" {
                    encode::render_png(&code).map_err(|e| Failure::new(e.to_string()))?
                } else {
                    encode::render_svg(&code).into_bytes()
                }
            }
            _ => return Err(Failure::new(format!(
                "{} does not end in .png, .svg or .gif",
                path.display()
            ))
            .remedy(
                "name the QR file NAME.png or NAME.svg (one code) or NAME.gif (animated frames)",
            )),
        };
        write_atomic(path, &bytes, out.force)?;
        eprintln!("Wrote a QR code of the envelope to {}", path.display());
    }
    if let Some(dir) = &out.qr_frames {
        let n = write_frames(dir, env, density(out)?, out.force)?;
        eprintln!("Wrote {n} QR frames to {} (show them in any order; a reader needs about a quarter of them)", dir.display());
    }
    if out.qr_terminal {
        let code = single_code(&qr_text(b64, network, out))?;
        eprint!("{}", encode::render_terminal(&code));
    }
    Ok(())
}

fn single_code(text: &str) -> Result<qrcode::QrCode, Failure> {
    encode::single_qr(text).map_err(|e| {
        Failure::new(e.to_string()).remedy("use --qr-frames DIR or --qr NAME.gif for a multi-frame code, or carry the --out file by USB")
    })
}

/// Write the envelope as QR frames into a new directory (`airgap::frames::write_frames_dir`).
pub fn write_frames(
    dir: &Path,
    env: &TransactionEnvelope,
    density: QrDensity,
    force: bool,
) -> Result<usize, Failure> {
    frames::write_frames_dir(dir, &airgap::envelope::to_bytes(env), density, force).map_err(|e| {
        match e {
            frames::FramesDirError::File(e) => file_failure(e),
            e => Failure::new(e.to_string()),
        }
    })
}
