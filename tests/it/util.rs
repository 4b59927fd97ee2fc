//! Shared helpers for the end-to-end tests: find the workspace binaries and run them with a
//! scrubbed environment (in a temp dir, for most), start the Python that runs the oracles, and ask
//! Stellar's SDKs (tests/oracle, tests/js) what the right answer is.
//!
//! The SDK helpers fail the test with an install hint when Python's stellar-sdk or the JS SDK is
//! missing: a byte-exact test that silently skips proves nothing.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The repository root (the root package's manifest dir).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a workspace binary (`airgap-signer`, `airgap-relay`, `chaos-proxy`): the path in its
/// variable (`AIRGAP_SIGNER_BIN`, `AIRGAP_RELAY_BIN`, `AIRGAP_CHAOS_BIN`) if set, else the binary in
/// the target dir this test runs from.
///
/// `CARGO_BIN_EXE_*` only exists for a package's own binaries, so do what ripgrep's tests/util.rs
/// does: the test executable lives in `target/<profile>/deps`, the binaries one level up.
pub fn bin_path(name: &str) -> PathBuf {
    let var = match name {
        "airgap-signer" => "AIRGAP_SIGNER_BIN",
        "airgap-relay" => "AIRGAP_RELAY_BIN",
        "chaos-proxy" => "AIRGAP_CHAOS_BIN",
        other => panic!("{other} is not a binary of this workspace"),
    };
    if let Some(path) = std::env::var_os(var) {
        return PathBuf::from(path);
    }
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
        "{} does not exist: run `cargo build --workspace` (or `cargo test --workspace`) first, \
         or set {var}",
        path.display()
    );
    path
}

/// The workspace binary `bin` with an empty environment except `PATH` (nothing of the
/// developer's `HORIZON_URL`, `STELLAR_NETWORK` or keys leaks in) and stdin from /dev/null; add
/// what a test needs with `.env(…)`.
pub fn scrubbed(bin: &str) -> Command {
    let mut cmd = Command::new(bin_path(bin));
    cmd.env_clear().stdin(Stdio::null());
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd
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

    /// `scrubbed(bin)` working in this dir, with `HOME` pointing into it so nothing of the
    /// developer's own configuration is read.
    pub fn command(&self, bin: &str) -> Command {
        let mut cmd = scrubbed(bin);
        cmd.current_dir(self.path()).env("HOME", self.path());
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

/// The variable that names the Python running the oracles (default `python3`).
pub const PYTHON_VAR: &str = "AIRGAP_TEST_PYTHON";

/// What to do when that Python cannot run an oracle.
pub const PYTHON_HINT: &str = "the oracles need a Python 3 with the test requirements: \
     `python3 -m pip install -r tests/requirements.txt`, or set AIRGAP_TEST_PYTHON to a Python \
     that has them";

/// The Python that runs the oracles (Stellar's Python SDK, pytest, zxing-cpp, segno, Pillow):
/// `$AIRGAP_TEST_PYTHON`, else `python3`.
pub fn python_program() -> OsString {
    std::env::var_os(PYTHON_VAR).unwrap_or_else(|| "python3".into())
}

/// A command for that Python, working in the repository root. Run it with `run_python`, or pass
/// `python_missing` to `unwrap_or_else` where it must be spawned or inherit the terminal.
pub fn python() -> Command {
    let mut cmd = Command::new(python_program());
    cmd.current_dir(repo_root()).stdin(Stdio::null());
    cmd
}

/// Fails the test because the oracles' Python could not start, naming the variable and the
/// install command.
pub fn python_missing<T>(e: std::io::Error) -> T {
    panic!("cannot run {:?} ({e}); {PYTHON_HINT}", python_program())
}

/// Run a `python()` command, feeding `stdin` if given, and collect its output. A Python that
/// cannot start or lacks a module fails the test with `PYTHON_HINT`; any other exit is the
/// caller's to judge.
pub fn run_python(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    let out = feed(cmd, stdin).unwrap_or_else(python_missing);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ModuleNotFoundError") {
        panic!("{PYTHON_HINT}\n{stderr}");
    }
    out
}

/// Run a reference program on `input`: Ok(stdout) on success, Err(stderr) when it refused the input.
/// A reference that reports its SDK missing (exit code 3) fails the test with `hint`.
fn run_reference(out: Output, hint: &str) -> Result<String, String> {
    if out.status.code() == Some(3) {
        // The SDK itself is missing; stderr says which.
        panic!("{}{hint}", String::from_utf8_lossy(&out.stderr));
    }
    if !out.status.success() {
        return Err(show(&out));
    }
    Ok(String::from_utf8(out.stdout).expect("reference output is UTF-8"))
}

const JS_HINT: &str = "Install Node.js and the JS SDK: npm ci --prefix tests/js";

/// Run `tests/oracle/sdk_oracle.py SUBCOMMAND` (Python's stellar-sdk) on `input`: Ok(stdout without
/// the trailing newline), or Err(report) when the SDK refused the input.
pub fn oracle_try(subcommand: &str, input: &Value) -> Result<String, String> {
    let out = run_python(
        python()
            .arg(repo_root().join("tests/oracle/sdk_oracle.py"))
            .arg(subcommand),
        Some(input.to_string().as_bytes()),
    );
    let out = run_reference(out, PYTHON_HINT)?;
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
    node("verify.mjs", input)
}

/// Run the script `tests/js/NAME` with node on `input` (JSON on stdin) and read its JSON answer;
/// a missing `node_modules` fails the test with the install command.
pub fn node(script: &str, input: &Value) -> Value {
    let js = repo_root().join("tests/js");
    assert!(
        js.join("node_modules/@stellar/stellar-base").is_dir(),
        "tests/js/node_modules is missing. {JS_HINT}"
    );
    let out = feed(
        Command::new("node")
            .arg(js.join(script))
            .current_dir(repo_root()),
        Some(input.to_string().as_bytes()),
    )
    .unwrap_or_else(|e| panic!("cannot run node ({e}). {JS_HINT}"));
    let out =
        run_reference(out, JS_HINT).unwrap_or_else(|e| panic!("{script} refused its input:\n{e}"));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{script}: {e}: {out}"))
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
