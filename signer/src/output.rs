//! Where a signed envelope goes: files (written atomically), stdout, QR images.
use crate::cli::{Format, OutputArgs};
use crate::failure::Failure;
use airgap::network::Network;
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
    if let Some(path) = &out.qr {
        write_qr(path, &b64, out.force)?;
        eprintln!("Wrote a QR code of the envelope to {}", path.display());
    }
    let format = match (out.format, out.out.is_some() || out.qr.is_some()) {
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

fn write_qr(path: &Path, b64: &str, force: bool) -> Result<(), Failure> {
    use airgap::qr::encode;
    let code = encode::single_qr(b64).map_err(|e| {
        Failure::new(e.to_string())
            .remedy("use --qr-frames DIR for a multi-frame code, or carry the --out file by USB")
    })?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bytes = match ext.as_str() {
        "png" => encode::render_png(&code).map_err(|e| Failure::new(e.to_string()))?,
        "svg" => encode::render_svg(&code).into_bytes(),
        _ => {
            return Err(
                Failure::new(format!("{} does not end in .png or .svg", path.display()))
                    .remedy("name the QR file NAME.png or NAME.svg"),
            )
        }
    };
    write_atomic(path, &bytes, force)
}
