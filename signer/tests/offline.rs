//! The offline signer must link no network code, now and later (issue 2). This asks cargo for
//! the signer's normal dependency tree and fails if any networking crate appears in it.
use std::process::Command;

const NETWORK_CRATES: &[&str] = &[
    "ureq",
    "reqwest",
    "hyper",
    "h2",
    "h3",
    "tokio",
    "async-std",
    "mio",
    "socket2",
    "rustls",
    "native-tls",
    "openssl",
    "curl",
    "tiny_http",
    "axum",
    "actix-web",
    "warp",
    "isahc",
    "surf",
    "quinn",
    "tungstenite",
];

#[test]
fn signer_links_no_networking_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            "airgap-signer",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"airgap-signer"),
        "cargo tree did not list the signer:\n{tree}"
    );
    let found: Vec<&&str> = NETWORK_CRATES
        .iter()
        .filter(|c| names.contains(c))
        .collect();
    assert!(
        found.is_empty(),
        "airgap-signer links networking crates {found:?}; the offline signer must link none"
    );
}
