//! The sandbox with a ledger that closes on a short realistic clock (`--close-every 200ms`),
//! driven by Stellar's own SDKs, unmodified: the Python SDK's `SorobanServer` and `Server`
//! (tests/cadence/*.py), the JavaScript SDK's `rpc.Server` (tests/js/rpc.mjs); the relay
//! submitting signer blobs through it; and the Stellar Asset Contract IDs of `airgap::sac`
//! against the Python SDK's.

use crate::relay_support::{blob, code, records, run, write, Backend, Sandbox};
use crate::util::{python, python_missing, repo_root, run_python, show, PYTHON_HINT};
use airgap::build::{OpBody, OpSpec};
use airgap::keys::SecretSeed;
use airgap::network::Network;
use std::process::Command;

/// The cadence the tests run at, and Horizon's timeouts shortened to match.
const CADENCE: &[&str] = &[
    "--close-every",
    "200ms",
    "--txsub-timeout",
    "3s",
    "--stream-timeout",
    "2s",
];

fn pytest(target: &str, sandbox: &Sandbox) -> Command {
    let mut cmd = python();
    cmd.args(["-m", "pytest", target, "-q", "-p", "no:cacheprovider"])
        .current_dir(repo_root())
        .env("HORIZON_URL", &sandbox.url)
        .env("RPC_URL", format!("{}/rpc", sandbox.url));
    cmd
}

#[test]
fn python_sdks_against_200ms_ledgers() {
    let sandbox = Sandbox::start(CADENCE);
    let status = pytest("tests/cadence", &sandbox)
        .status()
        .unwrap_or_else(python_missing);
    assert!(
        status.success(),
        "pytest tests/cadence failed against {} ({PYTHON_HINT})",
        sandbox.url
    );
}

#[test]
fn retained_history_moves_and_is_guarded_at_its_edge() {
    let sandbox = Sandbox::start(&["--close-every", "200ms", "--retain-ledgers", "5"]);
    let status = pytest("tests/cadence/test_retention.py", &sandbox)
        .env("RETAIN_LEDGERS", "5")
        .status()
        .unwrap_or_else(python_missing);
    assert!(
        status.success(),
        "retention tests failed against {}",
        sandbox.url
    );
}

#[test]
fn javascript_sdk_rpc_server_against_200ms_ledgers() {
    let sandbox = Sandbox::start(CADENCE);
    let rpc = format!("{}/rpc", sandbox.url);
    let o = Command::new("node")
        .arg("tests/js/rpc.mjs")
        .args([&rpc, &sandbox.url])
        .current_dir(repo_root())
        .output()
        .expect("node (tests/js: npm ci --prefix tests/js)");
    assert!(o.status.success(), "rpc.mjs: {}", show(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).expect("rpc.mjs printed JSON");
    assert_eq!(out["ok"], true);
}

#[test]
fn sac_contract_ids_match_the_python_sdk() {
    let issuers = [
        SecretSeed::generate().unwrap(),
        SecretSeed::generate().unwrap(),
    ];
    let mut assets = vec!["native".to_string()];
    for (i, issuer) in issuers.iter().enumerate() {
        assets.push(format!("USD:{}", issuer.public_key()));
        assets.push(format!("LONGCODE{i}:{}", issuer.public_key()));
    }
    let networks = [
        Network::Pubnet,
        Network::Testnet,
        Network::Standalone,
        Network::Custom("Some Private Network ; 2024".into()),
    ];
    let script = r#"
import json, sys
from stellar_sdk import Asset
req = json.load(sys.stdin)
out = []
for net in req["networks"]:
    for a in req["assets"]:
        asset = Asset.native() if a == "native" else Asset(*a.split(":"))
        out.append(asset.contract_id(net))
print(json.dumps(out))
"#;
    let input = serde_json::json!({
        "networks": networks.iter().map(|n| n.passphrase().to_string()).collect::<Vec<_>>(),
        "assets": assets,
    });
    let o = run_python(
        python().args(["-c", script]),
        Some(input.to_string().as_bytes()),
    );
    assert!(o.status.success(), "python: {}", show(&o));
    let expected: Vec<String> = serde_json::from_slice(&o.stdout).expect("JSON");
    let mut ours = Vec::new();
    for net in &networks {
        for a in &assets {
            let asset: airgap::asset::Asset = a.parse().unwrap();
            ours.push(asset.contract_address(net));
        }
    }
    assert_eq!(ours, expected);
}

/// The relay sends signer blobs from several accounts, two per account, through 200 ms
/// ledgers: each account's second blob goes once its first is in a ledger.
#[test]
fn relay_submits_through_200ms_ledgers() {
    relay_submits(Backend::Horizon);
}

/// The same through the sandbox's Stellar RPC (`submit --rpc`).
#[test]
fn relay_submits_through_200ms_ledgers_over_rpc() {
    relay_submits(Backend::Rpc);
}

fn relay_submits(backend: Backend) {
    let sandbox = Sandbox::start(CADENCE);
    let [flag, url] = backend.args(&sandbox.url);
    let net = Network::Standalone;
    let dir = tempfile::tempdir().unwrap();
    let mut hashes = Vec::new();
    for a in 0..3 {
        let s = SecretSeed::generate().unwrap();
        sandbox.fund(&s.public_key());
        let seq = sandbox.next_sequence(&s.public_key());
        for i in 0..2 {
            let text = blob(
                &s,
                seq + i,
                vec![OpSpec::new(OpBody::BumpSequence { to: 0 })],
                &net,
            );
            hashes.push(crate::relay_support::hash_of(&text, &net));
            write(dir.path(), &format!("{a}-{i}.xdr"), &text);
        }
    }
    let o = run(&[
        "submit",
        &flag,
        &url,
        "--json",
        "--timeout",
        "60s",
        "--jobs",
        "3",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let recs = records(&o);
    let mut printed: Vec<String> = recs
        .iter()
        .map(|r| r["hash"].as_str().unwrap().to_string())
        .collect();
    printed.sort();
    hashes.sort();
    assert_eq!(printed, hashes);
    assert!(recs.iter().all(|r| r["status"] == "success"), "{recs:?}");
}

#[test]
fn bad_cadence_arguments_are_refused() {
    for (flag, value) in [
        ("--close-every", "fast"),
        ("--close-every", "-1s"),
        ("--retain-ledgers", "0"),
        ("--txsub-timeout", "2h"),
    ] {
        let o = crate::relay_support::relay()
            .args(["sandbox", "--listen", "127.0.0.1:0"])
            .arg(format!("{flag}={value}"))
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(1), "{flag} {value}: {}", show(&o));
        assert!(show(&o).contains(flag), "{flag} {value}: {}", show(&o));
    }
    let help = crate::relay_support::relay()
        .args(["sandbox", "--help"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--close-every",
        "--retain-ledgers",
        "--txsub-timeout",
        "--stream-timeout",
        "/rpc",
    ] {
        assert!(text.contains(flag), "help names {flag}");
    }
}
