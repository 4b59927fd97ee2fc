//! The ceremony on the real testnet, for people who can reach it. Ignored by default (CI and this
//! project's machines have no internet); run it with
//!
//!     cargo test --test it testnet:: -- --ignored
//!
//! It funds a fresh issuer with testnet's friendbot, then signs each step with `airgap-signer`
//! into a blob file and submits it with `airgap-relay submit --network testnet`, exactly as an
//! operator would, and checks the final state with `airgap-relay account --json`.

use crate::util::{python, run, run_python, show, TestDir};
use airgap::keys::SecretSeed;

fn next_sequence(dir: &TestDir, account: &str) -> String {
    let out = run(
        dir.command("airgap-relay")
            .args(["account", account, "--network", "testnet", "--json"]),
        None,
    );
    assert!(out.status.success(), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["next_sequence"].as_str().unwrap().to_string()
}

/// Sign one step with `key` (given to the signer in the environment variable `key_var`, never in
/// argv) and submit it.
fn step(
    dir: &TestDir,
    name: &str,
    (key_var, key): (&str, &SecretSeed),
    source: &str,
    args: &[&str],
) {
    let seq = next_sequence(dir, source);
    let blob = format!("{name}.xdr");
    let mut cmd = dir.command("airgap-signer");
    cmd.args(args)
        .args([
            "--network",
            "testnet",
            "--source",
            source,
            "--sequence",
            &seq,
            "--valid-for",
            "1h",
        ])
        .args(["--key", &format!("env:{key_var}"), "--yes", "--out", &blob])
        .env(key_var, key.to_strkey().as_str());
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{name}: {}", show(&out));
    let out = run(
        dir.command("airgap-relay")
            .args(["submit", &blob, "--network", "testnet"]),
        None,
    );
    assert!(out.status.success(), "{name}: {}", show(&out));
}

#[test]
#[ignore = "needs the internet: SDF's testnet Horizon and friendbot"]
fn ceremony_on_testnet() {
    let dir = TestDir::new();
    let issuer = SecretSeed::generate().unwrap();
    let base = SecretSeed::generate().unwrap();
    let (i, b) = (
        issuer.public_key().to_string(),
        base.public_key().to_string(),
    );
    // The test's own process holds the secrets; children get them through the environment only
    // (each command's own: setting this process's environment would race the other tests' threads).
    let (issuer_key, base_key) = (("ISSUER_SECRET", &issuer), ("BASE_SECRET", &base));
    let fund = run_python(
        python()
            .args(["-c", "import sys, requests; r = requests.get('https://friendbot.stellar.org', params={'addr': sys.argv[1]}, timeout=60); r.raise_for_status()"])
            .arg(&i),
        None,
    );
    assert!(
        fund.status.success(),
        "friendbot: {}",
        String::from_utf8_lossy(&fund.stderr)
    );
    let usd = format!("USD:{i}");
    step(
        &dir,
        "01-flags",
        issuer_key,
        &i,
        &[
            "set-options",
            "--set-flags",
            "auth-required,auth-revocable",
            "--home-domain",
            "example.com",
        ],
    );
    step(
        &dir,
        "02-base",
        issuer_key,
        &i,
        &[
            "create-account",
            "--destination",
            &b,
            "--starting-balance",
            "5",
        ],
    );
    step(
        &dir,
        "03-trust",
        base_key,
        &b,
        &["change-trust", "--asset", &usd],
    );
    step(
        &dir,
        "04-authorize",
        issuer_key,
        &i,
        &[
            "set-trustline-flags",
            "--trustor",
            &b,
            "--asset",
            &usd,
            "--set-flags",
            "authorized",
        ],
    );
    step(
        &dir,
        "05-fund",
        issuer_key,
        &i,
        &[
            "payment",
            "--destination",
            &b,
            "--asset",
            &usd,
            "--amount",
            "1000",
        ],
    );
    let out = run(
        dir.command("airgap-relay")
            .args(["account", &b, "--network", "testnet", "--json"]),
        None,
    );
    assert!(out.status.success(), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let usd_line = v["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["asset"] == usd.as_str())
        .cloned();
    let usd_line = usd_line.expect("the base account holds USD");
    assert_eq!(usd_line["authorization"], "authorized");
    assert_eq!(
        usd_line["balance"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap(),
        1000.0
    );
}
