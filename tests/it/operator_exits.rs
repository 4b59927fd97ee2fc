//! Issue 12, the relay's side, continued from `operator.rs`: honest exits and outputs of `submit`
//! at the edges — a blob not valid yet, reruns of a decided directory, blobs moved back, an
//! unreachable Horizon, a symlinked `done/`, the progress line.

use crate::operator::{checks, files_in, pay, seed, signed, stderr, usd, NET};
use crate::relay_support::*;
use crate::util::{python, run_python, show};
use airgap::asset::Asset;
use airgap::build::{OpBody, OpSpec, TimeWindow};
use std::path::Path;

/// Issue 12: "A directory `submit` moves a future-dated top-up (`tx_too_early`: no fee charged,
/// valid later) into `failed/`." It is pending now: it stays, the line says when it becomes
/// valid, inspect says the same, and `--wait` waits for it and submits it.
#[test]
fn not_valid_yet_is_pending_in_place_and_wait_submits_it() {
    not_valid_yet(Backend::Horizon);
}

/// The same through Stellar RPC with ledgers every 300 ms (`sendTransaction` answers `ERROR`
/// with `tx_too_early`; inspect is Horizon's here).
#[test]
fn not_valid_yet_over_rpc_is_pending_in_place_and_wait_submits_it() {
    not_valid_yet(Backend::Rpc);
}

fn not_valid_yet(backend: Backend) {
    let sb = match backend {
        Backend::Horizon => Sandbox::start(&[]),
        Backend::Rpc => Sandbox::start(&["--close-every", "300ms"]),
    };
    let [flag, url] = backend.args(&sb.url);
    let (issuer, holder) = (seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&holder.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let dir = tempfile::tempdir().unwrap();
    let from = now() + 15;
    let later = blob_signed_by(
        &issuer.public_key(),
        seq,
        vec![pay(holder.public_key(), &Asset::Native, "1")],
        &[&issuer],
        &NET,
        TimeWindow {
            min: from,
            max: from + 3600,
        },
    );
    write(dir.path(), "topup.xdr", &later);
    let d = dir.path().to_str().unwrap();
    if backend == Backend::Horizon {
        let o = run(&["inspect", "--horizon", &sb.url, "--json", d]);
        assert_eq!(code(&o), 0, "not a failure: {}", show(&o));
        let r = &records(&o)[0];
        assert_eq!(r["prediction"]["outcome"], "pending", "{r}");
        assert_eq!(r["prediction"]["valid_from"], from, "{r}");
        assert_eq!(
            r["prediction"]["result_codes"]["transaction"],
            "tx_too_early"
        );
        assert!(checks(r).iter().all(|c| c["would_fail"] == false), "{r}");
    }

    let o = run(&["submit", &flag, &url, "--json", d]);
    assert_eq!(code(&o), 3, "pending, safe to run again: {}", show(&o));
    let s = &records(&o)[0];
    assert_eq!(s["status"], "pending", "{s}");
    assert_eq!(s["result_codes"]["transaction"], "tx_too_early", "{s}");
    let message = s["message"].as_str().unwrap();
    assert!(
        message.contains("valid from") && message.contains(&airgap::review::time_words(from)),
        "{message}"
    );
    assert_eq!(files_in(dir.path()), ["topup.xdr"], "it stays in place");
    assert!(!dir.path().join("failed").exists());
    assert_eq!(
        sb.next_sequence(&issuer.public_key()),
        seq,
        "no fee, no sequence"
    );

    let o = run(&["submit", &flag, &url, "--json", "--wait", d]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(records(&o)[0]["status"], "success");
    assert!(stderr(&o).contains("waiting"), "{}", show(&o));
    assert!(now() >= from);
    assert_eq!(files_in(&dir.path().join("done")), ["topup.xdr"]);
}

/// Issue 12: "A rerun on a fully decided directory exits 1 ("no blob files") instead of the
/// journal's outcome", and a blob moved back "prints nothing and exits 2". A decided directory
/// exits with its journal's outcome; a blob decided in a ledger and moved back is filed away again
/// with a note; one rejected before any ledger and moved back is sent again.
#[test]
fn reruns_exit_with_the_journals_outcome_and_moved_back_blobs_are_handled() {
    let sb = Sandbox::start(&[]);
    let (issuer, holder) = (seed(), seed());
    sb.fund(&issuer.public_key());
    sb.fund(&holder.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    let mk = |s: i64, op: OpSpec| {
        blob_signed_by(
            &issuer.public_key(),
            s,
            vec![op],
            &[&issuer],
            &NET,
            next_hour(),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1-ok.xdr",
        &mk(seq, pay(holder.public_key(), &Asset::Native, "1")),
    );
    // Fails in a ledger (fee charged): the holder has no USD trustline.
    write(
        dir.path(),
        "2-no-trust.xdr",
        &mk(seq + 1, pay(holder.public_key(), &usd(&issuer), "1")),
    );
    let d = dir.path().to_str().unwrap();
    let o = run(&["submit", "--horizon", &sb.url, "--json", d]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert_eq!(files_in(&dir.path().join("failed")), ["2-no-trust.xdr"]);

    // Everything decided: the same command exits with the journal's outcome, printing nothing.
    let o = run(&["submit", "--horizon", &sb.url, "--json", d]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert!(records(&o).is_empty(), "{}", show(&o));
    assert!(stderr(&o).contains("1 succeeded, 1 failed"), "{}", show(&o));

    // Moved back: its outcome is in a ledger and cannot change; it is filed away again, said.
    std::fs::rename(
        dir.path().join("failed/2-no-trust.xdr"),
        dir.path().join("2-no-trust.xdr"),
    )
    .unwrap();
    let o = run(&["submit", "--horizon", &sb.url, "--json", d]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert!(records(&o).is_empty(), "{}", show(&o));
    assert!(
        stderr(&o).contains("2-no-trust.xdr was decided by an earlier run (failed in ledger"),
        "{}",
        show(&o)
    );
    assert_eq!(files_in(&dir.path().join("failed")), ["2-no-trust.xdr"]);
    assert_eq!(
        sb.next_sequence(&issuer.public_key()),
        seq + 2,
        "nothing resent"
    );

    // Rejected before any ledger (a sequence number ahead): nothing applied, so once moved back
    // after the gap is filled, it is sent again and succeeds.
    let seq = sb.next_sequence(&issuer.public_key());
    let other = tempfile::tempdir().unwrap();
    write(
        other.path(),
        "ahead.xdr",
        &mk(seq + 1, OpSpec::new(OpBody::BumpSequence { to: 0 })),
    );
    let od = other.path().to_str().unwrap();
    let o = run(&["submit", "--horizon", &sb.url, "--json", od]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert_eq!(records(&o)[0]["result_codes"]["transaction"], "tx_bad_seq");
    submit_all(&sb, &[mk(seq, OpSpec::new(OpBody::BumpSequence { to: 0 }))]);
    std::fs::rename(
        other.path().join("failed/ahead.xdr"),
        other.path().join("ahead.xdr"),
    )
    .unwrap();
    let o = run(&["submit", "--horizon", &sb.url, "--json", od]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(records(&o)[0]["status"], "success");
    assert!(
        stderr(&o).contains("was rejected by an earlier run"),
        "{}",
        show(&o)
    );
    assert_eq!(files_in(&other.path().join("done")), ["ahead.xdr"]);
}

/// Issue 12: "Horizon unreachable: two silent minutes, then exit 3." The relay says, while it
/// waits, what failed, the attempt, the next try and the deadline.
#[test]
fn an_unreachable_horizon_is_waited_for_out_loud() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let issuer = seed();
    let b = write(
        dir.path(),
        "b.xdr",
        &blob_signed_by(
            &issuer.public_key(),
            2,
            vec![pay(issuer.public_key(), &Asset::Native, "1")],
            &[&issuer],
            &NET,
            next_hour(),
        ),
    );
    for cmd in ["submit", "inspect"] {
        let o = run(&[
            cmd,
            "--horizon",
            &url,
            "--timeout",
            "10s",
            b.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 3, "{}", show(&o));
        let err = stderr(&o);
        let waiting: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("could not be reached") && l.contains("attempt"))
            .collect();
        // At once, then every few seconds until the deadline: an attempt 3 s after the first
        // note, or a wait of 3 s or more, is said, and one of them comes well before 10 s.
        assert!(waiting.len() >= 2, "{cmd}: said so more than once: {err}");
        assert!(
            waiting[0].contains("attempt 1 failed; next try in")
                && waiting[0].contains("giving up at"),
            "{err}"
        );
        assert!(o.stdout.is_empty() || cmd == "submit", "{}", show(&o));
    }
}

/// Issue 12 ("Hostile images", the relay's part): `done/` and `failed/` must be real
/// directories. A symlink there is refused, not followed: the blob stays, its outcome is
/// recorded, and nothing lands where the link points.
#[test]
fn a_symlinked_done_directory_is_not_followed() {
    let sb = Sandbox::start(&[]);
    let issuer = seed();
    sb.fund(&issuer.public_key());
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("blobs");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&blobs).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, blobs.join("done")).unwrap();
    write(
        &blobs,
        "1.xdr",
        &signed(
            &sb,
            &issuer,
            vec![OpSpec::new(OpBody::BumpSequence { to: 0 })],
            &[],
        ),
    );
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        "--json",
        blobs.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(records(&o)[0]["status"], "success");
    assert!(
        stderr(&o).contains("is a symlink or not a directory"),
        "{}",
        show(&o)
    );
    assert_eq!(files_in(&blobs), ["1.xdr"]);
    assert!(files_in(&elsewhere).is_empty());
    let o = run(&["journal", "--json", blobs.to_str().unwrap()]);
    assert_eq!(records(&o)[0]["state"], "success");
}

/// Issue 12: "long runs (`submit` of a directory …) show progress on a terminal and stay quiet in
/// `--json` mode and off a terminal."
#[test]
fn a_directory_run_shows_progress_only_on_a_terminal() {
    let sb = Sandbox::start(&[]);
    let issuer = seed();
    sb.fund(&issuer.public_key());
    let seq = sb.next_sequence(&issuer.public_key());
    // Two blobs for the account from sequence `from`, in a new directory.
    let make = |from: i64| {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..2 {
            let b = blob_signed_by(
                &issuer.public_key(),
                from + i,
                vec![OpSpec::new(OpBody::BumpSequence { to: 0 })],
                &[&issuer],
                &NET,
                next_hour(),
            );
            write(dir.path(), &format!("{i}.xdr"), &b);
        }
        dir
    };
    // Off a terminal: no progress line.
    let quiet = make(seq);
    let o = run(&[
        "submit",
        "--horizon",
        &sb.url,
        quiet.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(!stderr(&o).contains("[2/2]"), "{}", show(&o));
    // On a terminal (a pseudo-terminal from Python's pty module, stdout and stderr alike).
    let relay = crate::util::bin_path("airgap-relay");
    let script = "import pty, sys\nsys.exit(pty.spawn(sys.argv[1:]) >> 8)";
    let on_a_terminal = |dir: &Path, json: bool| {
        let mut cmd = python();
        cmd.args(["-c", script]).arg(&relay).args([
            "submit",
            "--horizon",
            &sb.url,
            "--timeout",
            "30s",
        ]);
        if json {
            cmd.arg("--json");
        }
        cmd.arg(dir);
        let o = run_python(&mut cmd, None);
        assert!(o.status.success(), "{}", show(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let loud = make(seq + 2);
    let screen = on_a_terminal(loud.path(), false);
    assert!(
        screen.contains("[1/2] success 1") && screen.contains("[2/2] success 2"),
        "{screen:?}"
    );
    // The line is cleared before each record and note: none is written over it.
    assert!(screen.contains("\r\x1b[2K"), "{screen:?}");
    // --json on a terminal: records only, no progress.
    let json = make(seq + 4);
    let screen = on_a_terminal(json.path(), true);
    assert!(!screen.contains("[2/2]"), "{screen:?}");
    assert_eq!(sb.next_sequence(&issuer.public_key()), seq + 6);
}
