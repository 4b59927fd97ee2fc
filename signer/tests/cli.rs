//! The signer's command line as a user meets it: operation options read as plan files are, and
//! the shape of its errors.
use std::path::Path;
use std::process::{Command, Output, Stdio};

const ISSUER: &str = "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7";
const HOLDER: &str = "GDJBPTCG4YVAIVCENBJV77PA7ZVK6KLBYY56MG7BUR4IR77MPQBKOQ46";
const COSIGNER: &str = "GC6W3JOQFTUD5KBXYFBJOZ7LGYL3UZIKP4SF7CMQDIBYCC2QFCWDITD3";

fn signer(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airgap-signer"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .stdin(Stdio::null())
        .output()
        .expect("run airgap-signer")
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The unsigned envelope an operation command prints.
fn envelope(dir: &Path, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend([
        "--network",
        "testnet",
        "--source",
        ISSUER,
        "--sequence",
        "5",
        "--max-time",
        "1900000000",
        "--unsigned",
    ]);
    let out = signer(dir, &all);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", show(&out));
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim()
        .to_string()
}

/// Each operation command, in the spellings a plan file also takes, builds the same bytes as the
/// plan file with those values.
#[test]
fn options_and_plans_build_the_same_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let usd = format!("USD:{ISSUER}");
    let signer_1 = format!("{COSIGNER}:1");
    let signer_0 = format!("{HOLDER}:0");
    let cases: Vec<(Vec<&str>, serde_json::Value)> = vec![
        (
            vec![
                "set-options",
                "--set-flags",
                "auth_required,auth-revocable",
                "--home-domain",
                "example.com",
                "--master-weight",
                "2",
                "--high-threshold",
                "2",
                "--signer",
                &signer_1,
                "--signer",
                &signer_0,
            ],
            serde_json::json!([
                {"type": "set_options", "set_flags": ["auth_required", "auth-revocable"],
                 "home_domain": "example.com", "master_weight": 2, "high_threshold": 2,
                 "signer": {"key": COSIGNER, "weight": 1}},
                {"type": "set_options", "signer": {"key": HOLDER, "weight": 0}},
            ]),
        ),
        (
            vec![
                "create-account",
                "--destination",
                HOLDER,
                "--starting-balance",
                "2.5",
            ],
            serde_json::json!([{"type": "create_account", "destination": HOLDER, "starting_balance": "2.5"}]),
        ),
        (
            vec![
                "payment",
                "--destination",
                HOLDER,
                "--asset",
                &usd,
                "--amount",
                "10",
            ],
            serde_json::json!([{"type": "payment", "destination": HOLDER, "asset": usd, "amount": "10"}]),
        ),
        (
            vec!["change-trust", "--asset", &usd, "--limit", "1000"],
            serde_json::json!([{"type": "change_trust", "asset": usd, "limit": "1000"}]),
        ),
        (
            vec![
                "allow-trust",
                "--trustor",
                HOLDER,
                "--asset",
                "USD",
                "--authorize",
                "maintain_liabilities",
            ],
            serde_json::json!([{"type": "allow_trust", "trustor": HOLDER, "asset": "USD", "authorize": "maintain-liabilities"}]),
        ),
        (
            vec![
                "set-trustline-flags",
                "--trustor",
                HOLDER,
                "--asset",
                &usd,
                "--set-flags",
                "authorized",
                "--clear-flags",
                "clawback_enabled",
            ],
            serde_json::json!([{"type": "set_trust_line_flags", "trustor": HOLDER, "asset": usd,
                                "set_flags": ["authorized"], "clear_flags": ["clawback-enabled"]}]),
        ),
        (
            vec![
                "clawback", "--from", HOLDER, "--asset", &usd, "--amount", "1",
            ],
            serde_json::json!([{"type": "clawback", "from": HOLDER, "asset": usd, "amount": "1"}]),
        ),
        (
            vec!["manage-data", "--name", "config", "--value", "v1"],
            serde_json::json!([{"type": "manage_data", "name": "config", "value": "v1"}]),
        ),
        (
            vec!["bump-sequence", "--to", "100"],
            serde_json::json!([{"type": "bump_sequence", "to": 100}]),
        ),
        (
            vec!["account-merge", "--destination", HOLDER],
            serde_json::json!([{"type": "account_merge", "destination": HOLDER}]),
        ),
    ];
    for (args, operations) in cases {
        let plan = serde_json::json!({"operations": operations});
        std::fs::write(dir.join("plan.json"), plan.to_string()).expect("write plan");
        assert_eq!(
            envelope(dir, &args),
            envelope(dir, &["plan", "plan.json"]),
            "{args:?} and {plan}"
        );
    }
}

/// A usage error exits 1 (nothing signed or written), never clap's 2, which the relay uses for
/// "failed on the network"; --help and --version exit 0.
#[test]
fn usage_errors_exit_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    for args in [
        vec![],
        vec!["paymnet"],
        vec!["payment", "--destinaton", HOLDER],
        vec!["payment", "--asset", "native"],
        vec!["merge", "one.xdr"],
        vec!["inspect", "--json", "--json"],
    ] {
        let out = signer(dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", show(&out));
        assert!(out.stdout.is_empty(), "{args:?}: {}", show(&out));
    }
    for args in [
        vec!["--help"],
        vec!["--version"],
        vec!["payment", "--help"],
        vec!["help"],
    ] {
        let out = signer(dir, &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", show(&out));
        assert!(!out.stdout.is_empty(), "{args:?}: {}", show(&out));
    }
}

/// Failures read as the relay's do: `airgap-signer: <what failed>.`, then the remedy indented by
/// two spaces.
#[test]
fn failures_name_the_program_and_the_remedy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = signer(
        dir.path(),
        &["keys", "public", "--key", "env:ISSUER_SECRET"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("!  warning"))
        .collect();
    assert_eq!(
        lines,
        [
            "airgap-signer: the environment variable ISSUER_SECRET is not set, or is not text.",
            "  export ISSUER_SECRET before running, or use another --key source",
        ],
        "{}",
        show(&out)
    );
}
