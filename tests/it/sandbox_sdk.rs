//! Runs Stellar's Python SDK (unmodified, tests/sandbox/test_sdk_sandbox.py) against the real
//! `airgap-relay sandbox` binary on a free loopback port. (Moved from relay/tests/ so it starts
//! its sandboxes with the one `Sandbox::start` and its Python with `util::python`.)

use crate::relay_support::{relay, Sandbox};
use crate::util::{python, python_missing, PYTHON_HINT};
use std::process::Command;

#[test]
fn python_sdk_against_sandbox() {
    let sandbox = Sandbox::start(&[]);
    let url = &sandbox.url;
    let status = python()
        .args([
            "-m",
            "pytest",
            "tests/sandbox",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .env("HORIZON_URL", url)
        .status()
        .unwrap_or_else(python_missing);
    assert!(
        status.success(),
        "pytest failed against {url} ({PYTHON_HINT})"
    );
}

fn pytest(file: &str, url: &str, phase: &str, workdir: &std::path::Path) -> Command {
    let mut cmd = python();
    cmd.args(["-m", "pytest", file, "-q", "-p", "no:cacheprovider"])
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

    let mut sandbox = Sandbox::start(&["--state", state_arg]);
    let url = sandbox.url.clone();
    let ok = pytest(file, &url, "write", dir.path())
        .status()
        .unwrap_or_else(python_missing);
    assert!(ok.success(), "write phase failed");

    // kill -9 while a client submits transactions as fast as it can
    let mut hammer = pytest(file, &url, "hammer", dir.path())
        .spawn()
        .unwrap_or_else(python_missing);
    let acked = dir.path().join("acked.log");
    for _ in 0..600 {
        let n = std::fs::read_to_string(&acked).map_or(0, |s| s.lines().count());
        if n >= 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    sandbox.stop(); // SIGKILL
    assert!(sandbox.exited().is_some(), "SIGKILL the sandbox");
    let hammered = hammer.wait().expect("hammer exits");
    assert!(hammered.success(), "hammer phase failed");

    let sandbox = Sandbox::start(&["--state", state_arg]);
    let ok = pytest(file, &sandbox.url, "check", dir.path())
        .status()
        .unwrap_or_else(python_missing);
    assert!(
        ok.success(),
        "check phase failed after restart on {state_arg}"
    );
}

#[test]
fn faults_look_like_horizon() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(&["--fault", "504:0.3,429:0.15,503:0.15"]);
    let url = &sandbox.url;
    let ok = pytest("tests/sandbox/test_faults.py", url, "faults", dir.path())
        .status()
        .unwrap_or_else(python_missing);
    assert!(ok.success(), "fault phase failed against {url}");
}

#[test]
fn rejects_bad_arguments() {
    let out = relay()
        .args(["sandbox", "--listen", "127.0.0.1:0", "--fault", "500:0.5"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let out = relay()
        .args(["sandbox", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let help = relay().args(["sandbox", "--help"]).output().expect("run");
    assert!(String::from_utf8_lossy(&help.stdout).contains("NOT A VALIDATOR"));
}
