//! Issue 11, "the screen at the question": on an 80×24 terminal (a tmux pane), what is on screen
//! when `Sign? [y/N]` is asked is the summary — network, hash, source, sequence, fee, number of
//! operations, validity and every danger — not the policy block or the middle of the review; the
//! keystore's passphrase is asked only after the answer; and the hash is printed again, last.
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{bin_path, run, show, TestDir, ALICE, COSIGNER};

/// A tmux server of its own (its own socket), with one 80×24 session.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(dir: &Path, script: &Path) -> Tmux {
        let socket = format!("airgap-test-{}", std::process::id());
        let t = Tmux { socket };
        let out = t
            .cmd()
            .args(["new-session", "-d", "-x", "80", "-y", "24", "-s", "s"])
            .arg(format!("sh {}", script.display()))
            .current_dir(dir)
            .output()
            .expect("tmux runs (apt-get install tmux)");
        assert!(out.status.success(), "tmux: {}", show(&out));
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    /// The 24 lines on screen.
    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "s"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{what:?} never appeared:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&self, keys: &[&str]) {
        let out = self
            .cmd()
            .args(["send-keys", "-t", "s"])
            .args(keys)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", show(&out));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

#[test]
fn the_summary_is_on_screen_at_the_question_and_the_hash_is_last() {
    let dir = TestDir::new();
    let pass = "quartz lantern evening pumpkin ferry";
    // A policy that allows what the transaction does, bound to the keystore by `keys generate`:
    // the question is asked only of what the policy allows.
    dir.write(
        "k.ks.policy.json",
        r#"{"version": 1, "networks": ["testnet"], "allow_signer_changes": {"kinds": ["ed25519"]},
           "allow_threshold_changes": true, "allow_master_weight_change": true}"#,
    );
    let policy = dir.join("k.ks.policy.json");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(
        dir.command("airgap-signer")
            .args([
                "keys",
                "generate",
                "--keystore",
                "k.ks",
                "--passphrase-env",
                "PASS",
            ])
            .env("PASS", pass),
        None,
    );
    assert!(out.status.success(), "{}", show(&out));
    let issuer = String::from_utf8(out.stdout).unwrap().trim().to_string();
    // A 2-of-3 setup: several dangers, none of them a lockout.
    let signer = bin_path("airgap-signer");
    let script = dir.write(
        "run.sh",
        format!(
            "'{}' set-options --network testnet --sequence 100 --master-weight 1 \
             --low-threshold 2 --med-threshold 2 --high-threshold 2 \
             --signer {}:1 --signer {}:1 --key keystore:k.ks --out out.xdr; \
             echo \"exit $?\"; sleep 600\n",
            signer.display(),
            ALICE.public,
            COSIGNER.public
        ),
    );
    let tmux = Tmux::start(dir.path(), &script);
    let screen = tmux.wait_for("Sign? [y/N]");
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(lines.len(), 24, "an 80×24 screen:\n{screen}");
    let last = lines.iter().rposition(|l| !l.trim().is_empty()).unwrap();
    assert!(lines[last].starts_with("Sign? [y/N]"), "{screen}");
    // The whole summary is on screen, right above the question.
    let top = lines
        .iter()
        .position(|l| l.starts_with("Summary (check these before you answer):"))
        .unwrap_or_else(|| panic!("the summary's first line scrolled away:\n{screen}"));
    let summary = lines[top..last].join("\n");
    for field in [
        "  network    TESTNET \"Test SDF Network ; September 2015\"",
        "  hash       ",
        &format!("  source     {issuer}"),
        "  sequence   100",
        "  fee        200 stroops (0.00002 XLM) at most",
        "  operations 2",
        "  valid      until ",
    ] {
        assert!(
            summary.contains(field),
            "{field:?} not on screen:\n{screen}"
        );
    }
    for danger in [
        "!! DANGER: op 1 sets the master weight of",
        "!! DANGER: op 1 sets thresholds of",
        "!! DANGER: op 1 adds/re-weights ed25519 signer GC6W…ITD3",
        "!! DANGER: op 2 adds/re-weights ed25519 signer GA7K…EEMV",
    ] {
        assert!(
            summary.contains(danger),
            "{danger:?} not on screen:\n{screen}"
        );
    }
    assert!(
        !summary.contains("locked out"),
        "a 2-of-3 setup is not a lockout:\n{screen}"
    );
    assert!(
        !screen.contains("Passphrase for keystore"),
        "the passphrase comes after the answer:\n{screen}"
    );
    let hash = summary
        .lines()
        .find_map(|l| l.strip_prefix("  hash       "))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(hash.len(), 64, "{screen}");

    tmux.send(&["y", "Enter"]);
    tmux.wait_for("Passphrase for keystore");
    // rpassword turns echo off a moment after it shows the prompt; wait as a person would.
    std::thread::sleep(Duration::from_millis(500));
    tmux.send(&[pass, "Enter"]);
    let screen = tmux.wait_for("exit ");
    assert!(screen.contains("exit 0"), "{screen}");
    assert!(
        !screen.contains(pass),
        "the passphrase is not echoed:\n{screen}"
    );
    let lines: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
    let exit = lines.iter().position(|l| *l == "exit 0").unwrap();
    assert_eq!(
        lines[exit - 2..exit],
        [
            "Transaction hash, to compare on the online machine:".to_string(),
            format!("  {hash}")
        ],
        "the hash is printed again, last, within 80 columns:\n{screen}"
    );
    assert!(dir.join("out.xdr").exists());
}
