//! Runs Stellar's Python SDK (unmodified, tests/sandbox/test_sdk_sandbox.py) against the real
//! `airgap-relay sandbox` binary on a free loopback port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("relay/ has a parent")
        .to_path_buf()
}

fn start_sandbox(extra: &[&str]) -> (KillOnDrop, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airgap-relay"))
        .args(["sandbox", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start airgap-relay sandbox");
    let stdout = child.stdout.take().expect("piped stdout");
    let child = KillOnDrop(child);
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read the first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

#[test]
fn python_sdk_against_sandbox() {
    let (_sandbox, url) = start_sandbox(&[]);
    let status = Command::new("python3")
        .args(["-m", "pytest", "tests/sandbox", "-q"])
        .current_dir(workspace_root())
        .env("HORIZON_URL", &url)
        .status()
        .expect("run python3 -m pytest");
    assert!(status.success(), "pytest failed against {url}");
}
