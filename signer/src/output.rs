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

/// Write `bytes` to `path` so that the file is either absent or complete: write a temporary file
/// in the same directory, flush it to disk, then rename it into place. Refuses to replace an
/// existing file unless `force`.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), Failure> {
    let cannot =
        |e: &dyn std::fmt::Display| Failure::new(format!("cannot write {}: {e}", path.display()));
    if !force && path.exists() {
        return Err(Failure::new(format!("{} already exists", path.display()))
            .remedy("choose another file, or pass --force to replace it"));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".airgap-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| cannot(&e))?;
    tmp.write_all(bytes).map_err(|e| cannot(&e))?;
    tmp.as_file().sync_all().map_err(|e| cannot(&e))?;
    if force {
        tmp.persist(path).map_err(|e| cannot(&e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| cannot(&e.error))?;
    }
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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
        eprintln!("Wrote {n} QR frames to {} (show them in any order; a reader needs about a third of them)", dir.display());
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

/// Write numbered PNG frames (and the `ur:` parts as text, one per line) into a new directory,
/// built beside it and renamed into place, so the directory is either complete or absent.
pub fn write_frames(
    dir: &Path,
    env: &TransactionEnvelope,
    density: QrDensity,
    force: bool,
) -> Result<usize, Failure> {
    let cannot =
        |e: &dyn std::fmt::Display| Failure::new(format!("cannot write {}: {e}", dir.display()));
    if dir.exists() && !force {
        return Err(Failure::new(format!("{} already exists", dir.display()))
            .remedy("choose a new directory, or pass --force to replace it"));
    }
    let parts = frames::encode_frames(&airgap::envelope::to_bytes(env), density)
        .map_err(|e| Failure::new(e.to_string()))?;
    let pngs = frames::frames_png(&parts, density).map_err(|e| Failure::new(e.to_string()))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".airgap-frames-")
        .tempdir_in(parent)
        .map_err(|e| cannot(&e))?;
    for (i, png) in pngs.iter().enumerate() {
        std::fs::write(tmp.path().join(format!("frame-{:03}.png", i + 1)), png)
            .map_err(|e| cannot(&e))?;
    }
    std::fs::write(tmp.path().join("parts.txt"), parts.join("\n") + "\n")
        .map_err(|e| cannot(&e))?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| cannot(&e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        cannot(&e)
    })?;
    Ok(pngs.len())
}
