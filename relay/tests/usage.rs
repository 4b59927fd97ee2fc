//! How `airgap-relay` fails: a mistyped command line exits 1 (not clap's 2, which would read as
//! "failed on the network"), `--help` and `--version` exit 0, and every other failure prints
//! `airgap-relay: <what failed>.` and then the remedy, indented by two spaces.
use std::process::{Command, Output, Stdio};

fn relay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airgap-relay"))
        .args(args)
        .env_remove("HORIZON_URL")
        .env_remove("STELLAR_NETWORK")
        .stdin(Stdio::null())
        .output()
        .expect("run airgap-relay")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn usage_errors_exit_1_with_the_message_on_stderr() {
    for args in [
        &["submit", "--no-such-option", "x"][..],
        &["submti", "x"],
        &["submit"],
        &["merge", "only-one-input", "--network", "testnet"],
        &["sandbox", "--fault", "500:0.1"],
    ] {
        let o = relay(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o.stderr));
        assert!(o.stdout.is_empty(), "{args:?}: stdout {}", text(&o.stdout));
        let err = text(&o.stderr);
        assert!(err.contains("error:"), "{args:?}: {err}");
        assert!(err.contains("--help"), "{args:?}: names the remedy: {err}");
    }
    // No command at all: the usage, on stderr, and exit 1 too.
    let o = relay(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("Usage: airgap-relay"));
    let err = text(&relay(&["submit", "--jsno", "x"]).stderr);
    assert!(err.contains("--json"), "suggests the likely option: {err}");
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    for args in [&["--help"][..], &["submit", "--help"], &["--version"]] {
        let o = relay(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
        assert!(!o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn failures_print_what_failed_then_the_remedy_indented() {
    // Refused before anything is sent: no Horizon is named, and the account is no account.
    for (args, what) in [
        (&["account", "GBAD"][..], "is not a valid account ID"),
        (
            &["inspect", "--offline", "/nonexistent/blob"],
            "cannot read",
        ),
        (
            &["submit", "--jobs", "0", "/nonexistent"],
            "--jobs must be at least 1",
        ),
    ] {
        let o = relay(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = text(&o.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: two lines: {err}");
        assert!(
            lines[0].starts_with("airgap-relay: ") && lines[0].ends_with('.'),
            "{args:?}: {err}"
        );
        assert!(lines[0].contains(what), "{args:?}: {err}");
        assert!(!lines[0].ends_with(".."), "{args:?}: {err}");
        assert!(
            lines[1].starts_with("  ") && !lines[1].starts_with("   "),
            "{args:?}: the remedy, indented by two spaces: {err}"
        );
    }
}
