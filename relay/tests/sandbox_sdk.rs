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

/// The Python with Stellar's SDK: `$AIRGAP_TEST_PYTHON`, else `python3` (as the workspace's
/// other SDK tests).
fn python() -> std::ffi::OsString {
    std::env::var_os("AIRGAP_TEST_PYTHON").unwrap_or_else(|| "python3".into())
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
    let status = Command::new(python())
        .args([
            "-m",
            "pytest",
            "tests/sandbox",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .current_dir(workspace_root())
        .env("HORIZON_URL", &url)
        .status()
        .expect("run python3 -m pytest");
    assert!(status.success(), "pytest failed against {url}");
}

fn pytest(file: &str, url: &str, phase: &str, workdir: &std::path::Path) -> Command {
    let mut cmd = Command::new(python());
    cmd.args(["-m", "pytest", file, "-q", "-p", "no:cacheprovider"])
        .current_dir(workspace_root())
        .env("HORIZON_URL", url)
        .env("SANDBOX_PHASE", phase)
        .env("SANDBOX_WORKDIR", workdir);
    cmd
}

#[test]
fn state_survives_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("ledger.sqlite");
    let state_arg = state.to_str().expect("utf-8 temp path");
    let file = "tests/sandbox/test_persistence.py";

    let (mut sandbox, url) = start_sandbox(&["--state", state_arg]);
    let ok = pytest(file, &url, "write", dir.path())
        .status()
        .expect("pytest");
    assert!(ok.success(), "write phase failed");

    // kill -9 while a client submits transactions as fast as it can
    let mut hammer = pytest(file, &url, "hammer", dir.path())
        .spawn()
        .expect("pytest hammer");
    let acked = dir.path().join("acked.log");
    for _ in 0..600 {
        let n = std::fs::read_to_string(&acked).map_or(0, |s| s.lines().count());
        if n >= 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    sandbox.0.kill().expect("SIGKILL the sandbox");
    let _ = sandbox.0.wait();
    let hammered = hammer.wait().expect("hammer exits");
    assert!(hammered.success(), "hammer phase failed");

    let (_sandbox, url) = start_sandbox(&["--state", state_arg]);
    let ok = pytest(file, &url, "check", dir.path())
        .status()
        .expect("pytest");
    assert!(
        ok.success(),
        "check phase failed after restart on {state_arg}"
    );
}

#[test]
fn faults_look_like_horizon() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_sandbox, url) = start_sandbox(&["--fault", "504:0.3,429:0.15,503:0.15"]);
    let ok = pytest("tests/sandbox/test_faults.py", &url, "faults", dir.path())
        .status()
        .expect("pytest");
    assert!(ok.success(), "fault phase failed against {url}");
}

#[test]
fn rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_airgap-relay"))
        .args(["sandbox", "--listen", "127.0.0.1:0", "--fault", "500:0.5"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_airgap-relay"))
        .args(["sandbox", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let help = Command::new(env!("CARGO_BIN_EXE_airgap-relay"))
        .args(["sandbox", "--help"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&help.stdout).contains("NOT A VALIDATOR"));
}
