//! Shared helpers for the root integration tests: find the workspace binaries, run them in a temp
//! dir with a scrubbed environment, and ask Stellar's SDKs (tests/oracle, tests/js) what the right
//! answer is.
//!
//! The SDK helpers fail the test with an install hint when Python's stellar-sdk or the JS SDK is
//! missing: a byte-exact test that silently skips proves nothing.

// Each test target uses a different subset of these helpers.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The repository root (the root package's manifest dir).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a workspace binary (`airgap-signer`, `airgap-relay`) in the target dir this test runs from.
///
/// `CARGO_BIN_EXE_*` only exists for a package's own binaries, so do what ripgrep's tests/util.rs
/// does: the test executable lives in `target/<profile>/deps`, the binaries one level up.
pub fn bin_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe
        .parent()
        .expect("test executable has a parent")
        .to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} does not exist: run `cargo build --workspace` (or `cargo test --workspace`) first",
        path.display()
    );
    path
}

/// A temp dir that is the working directory of the commands it makes.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir {
            dir: tempfile::Builder::new()
                .prefix("airgap-test-")
                .tempdir()
                .expect("create temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write `contents` to `name` inside the dir and return its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// `bin` (a workspace binary name) with an empty environment except `PATH`, and `HOME` pointing
    /// into this dir so nothing of the developer's own configuration is read; add what a test
    /// needs with `.env(…)`.
    pub fn command(&self, bin: &str) -> Command {
        let mut cmd = Command::new(bin_path(bin));
        cmd.env_clear()
            .current_dir(self.path())
            .env("HOME", self.path())
            .stdin(Stdio::null());
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd
    }
}

/// Run `cmd`, feeding `stdin` if given, and collect its output.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    feed(cmd, stdin).unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn feed(cmd: &mut Command, stdin: Option<&[u8]>) -> std::io::Result<Output> {
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    if let Some(input) = stdin {
        child.stdin.take().expect("piped stdin").write_all(input)?;
    }
    child.wait_with_output()
}

/// Describe a finished process for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run a reference program on `input`: Ok(stdout) on success, Err(stderr) when it refused the input.
/// A reference that cannot start, or reports its SDK missing (exit code 3), fails the test.
fn run_reference(
    program: &OsStr,
    args: &[&Path],
    input: &Value,
    hint: &str,
) -> Result<String, String> {
    let out = feed(
        Command::new(program).args(args).current_dir(repo_root()),
        Some(input.to_string().as_bytes()),
    )
    .unwrap_or_else(|e| panic!("cannot run {program:?} ({e}). {hint}"));
    if out.status.code() == Some(3) {
        // The SDK itself is missing; stderr says how to install it.
        panic!("{}", String::from_utf8_lossy(&out.stderr));
    }
    if !out.status.success() {
        return Err(show(&out));
    }
    Ok(String::from_utf8(out.stdout).expect("reference output is UTF-8"))
}

const PY_HINT: &str = "Install the test requirements: pip install -r tests/requirements.txt";
const JS_HINT: &str = "Install Node.js and the JS SDK: npm ci --prefix tests/js";

/// Run `tests/oracle/sdk_oracle.py SUBCOMMAND` (Python's stellar-sdk) on `input`: Ok(stdout without
/// the trailing newline), or Err(report) when the SDK refused the input. The interpreter is
/// `$AIRGAP_TEST_PYTHON`, else `python3`.
pub fn oracle_try(subcommand: &str, input: &Value) -> Result<String, String> {
    let python = std::env::var_os("AIRGAP_TEST_PYTHON").unwrap_or_else(|| "python3".into());
    let script = repo_root().join("tests/oracle/sdk_oracle.py");
    let out = run_reference(&python, &[&script, Path::new(subcommand)], input, PY_HINT)?;
    Ok(out.strip_suffix('\n').unwrap_or(&out).to_owned())
}

/// `oracle_try` that fails the test when the SDK refuses the input.
pub fn oracle(subcommand: &str, input: &Value) -> String {
    oracle_try(subcommand, input)
        .unwrap_or_else(|e| panic!("the SDK oracle refused `{subcommand}` {input}:\n{e}"))
}

/// `oracle` for the subcommands that answer JSON.
pub fn oracle_json(subcommand: &str, input: &Value) -> Value {
    let out = oracle(subcommand, input);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("oracle {subcommand}: {e}: {out}"))
}

/// Verify an envelope's signatures with the JavaScript SDK (tests/js/verify.mjs).
/// `input`: `{"envelope", "network", "public_keys"}`; answer: `{"hash", "signatures": [{"hint", "signer"}]}`.
pub fn js_verify(input: &Value) -> Value {
    let js = repo_root().join("tests/js");
    assert!(
        js.join("node_modules/@stellar/stellar-base").is_dir(),
        "tests/js/node_modules is missing. {JS_HINT}"
    );
    let out = run_reference(
        OsStr::new("node"),
        &[&js.join("verify.mjs")],
        input,
        JS_HINT,
    )
    .unwrap_or_else(|e| panic!("the JS SDK refused {input}:\n{e}"));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("verify.mjs: {e}: {out}"))
}

/// A fixed test key, generated once with `stellar_sdk.Keypair.random()`. Secrets reach the signer
/// through the environment variable `var` (`--key env:VAR`), never through argv; expected
/// envelopes still come from the SDK at test time.
pub struct Key {
    pub var: &'static str,
    pub secret: &'static str,
    pub public: &'static str,
}

pub const ISSUER: Key = Key {
    var: "ISSUER_SECRET",
    secret: "SASFR2YZUC577B45JE7KKA67DYD4WLCVTFUTUAVD3L2ILB25FDUHGAC5",
    public: "GDJBPTCG4YVAIVCENBJV77PA7ZVK6KLBYY56MG7BUR4IR77MPQBKOQ46",
};
pub const ALICE: Key = Key {
    var: "ALICE_SECRET",
    secret: "SCOLX4NHU6ZYZLN7ACCNJGQ5CQIWLXZ4DDXGBCMOO7LOSWK3S7PPSZTI",
    public: "GC6W3JOQFTUD5KBXYFBJOZ7LGYL3UZIKP4SF7CMQDIBYCC2QFCWDITD3",
};
pub const COSIGNER: Key = Key {
    var: "COSIGNER_SECRET",
    secret: "SALV7ENV4OKVUVLQ6GFXU7LMXQBSCB27RN7G4TZRIQDNWKWIHJZNDRQT",
    public: "GA7KNSBDPBKKUUP773OMF36DTILH3WS2LYMPGQGSUMSIUDUDX4BVEEMV",
};
pub const BOB: Key = Key {
    var: "BOB_SECRET",
    secret: "SAWHIELJ3W6QMIMARCTHQF22F455B73M3CSHVZ5XU6OK63MIO7YGUQWV",
    public: "GD44ZI4HQGQASJ4HDF4TVLWNDD3PWTOLZ4SSGXPGM4R6R4WASTHKZBSC",
};
pub const DEST: &str = "GCH66PNH4MJYMRH2CSFMAGNH5SGSVUEPZ7NTULWB5K57D76N2D5E5VM2";
