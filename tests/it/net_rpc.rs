//! `account`, `inspect` and `merge` over Stellar RPC (`--rpc URL`, the sandbox's `POST /rpc`) held
//! to the same commands over Horizon: the same report (RPC lists only the trustlines asked for),
//! the same predictions, the same signer sets; the network checked against `getNetwork`; an
//! unreachable RPC server is exit 3 like an unreachable Horizon.
use crate::relay_support::{
    assert_inspect_predicts_submit, blob_signed_by, code, next_hour, records, run, submit_all,
    write, Sandbox,
};
use crate::util::{python, run_python, show, TestDir};
use airgap::asset::Asset;
use airgap::build::{OpBody, OpSpec};
use airgap::keys::SecretSeed;
use airgap::network::Network;
use serde_json::Value;

/// The payout scenario's accounts (tests/pay/scenario.py, with the Python SDK): an issuer with
/// `AUTH_REQUIRED | AUTH_REVOCABLE`, a base account holding authorized USD and unauthorized EUR
/// trustlines, and others.
fn scenario(sandbox: &Sandbox, dir: &TestDir) -> Value {
    let state = dir.join("state.json");
    let o = run_python(
        python().args([
            "tests/pay/scenario.py",
            "setup",
            &sandbox.url,
            state.to_str().unwrap(),
            "--channels",
            "1",
            "--dests",
            "1",
            "--base-usd",
            "1000",
        ]),
        None,
    );
    assert!(o.status.success(), "scenario.py setup: {}", show(&o));
    serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap()
}

fn rpc_url(sandbox: &Sandbox) -> String {
    format!("{}/rpc", sandbox.url)
}

/// The report without the fields that differ by design: when it was read, and what RPC cannot
/// list.
fn comparable(mut r: Value) -> Value {
    let o = r.as_object_mut().unwrap();
    o.remove("read_at");
    o.remove("trustlines_listed");
    o.remove("no_trustline");
    r
}

#[test]
fn account_over_rpc_reports_what_horizon_does_for_the_assets_asked() {
    let sandbox = Sandbox::start(&["--close-every", "200ms"]);
    let dir = TestDir::new();
    let state = scenario(&sandbox, &dir);
    let base = state["base"].as_str().unwrap();
    let issuer = state["issuer"].as_str().unwrap();
    let usd = format!("USD:{issuer}");
    let eur = format!("EUR:{}", state["other"].as_str().unwrap());
    let never = format!("GBP:{issuer}");

    let horizon = run(&["account", "--horizon", &sandbox.url, "--json", base]);
    assert_eq!(code(&horizon), 0, "{}", show(&horizon));
    let horizon = records(&horizon).remove(0);
    let qr = dir.join("acct.png");
    let rpc = run(&[
        "account",
        "--rpc",
        &rpc_url(&sandbox),
        "--network",
        "standalone",
        "--asset",
        &usd,
        "--asset",
        &eur,
        "--asset",
        &never,
        "--qr",
        qr.to_str().unwrap(),
        "--json",
        base,
    ]);
    assert_eq!(code(&rpc), 0, "{}", show(&rpc));
    let json = String::from_utf8(rpc.stdout.clone()).unwrap();
    let rpc = records(&rpc).remove(0);
    assert_eq!(rpc["trustlines_listed"], "asked");
    assert_eq!(rpc["no_trustline"], serde_json::json!([never]));
    assert!(horizon.get("trustlines_listed").is_none());
    // XLM, USD and EUR: every balance Horizon lists, the same in every field
    assert_eq!(horizon["balances"].as_array().unwrap().len(), 3);
    let sorted = |v: &Value| {
        let mut b = v["balances"].as_array().unwrap().clone();
        b.sort_by_key(|x| x["asset"].as_str().unwrap().to_string());
        b
    };
    assert_eq!(sorted(&rpc), sorted(&horizon));
    let (mut r, mut h) = (comparable(rpc.clone()), comparable(horizon.clone()));
    r.as_object_mut().unwrap().remove("balances");
    h.as_object_mut().unwrap().remove("balances");
    assert_eq!(r, h);

    // The offline signer reads it as account context, as it reads Horizon's.
    let context = airgap::context::parse(&json).unwrap();
    assert_eq!(context.account.to_string(), base);
    // The QR code carries the same JSON --json prints.
    let png = std::fs::read(&qr).unwrap();
    let decoded = airgap::qr::decode::decode_image(&png).unwrap();
    assert_eq!(decoded[0], json.trim_end().as_bytes());

    // Without --asset: the native balance only, and the text says why.
    let o = run(&["account", "--rpc", &rpc_url(&sandbox), base]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Balances (1):"), "{text}");
    assert!(
        text.contains("Stellar RPC cannot list trustlines"),
        "{text}"
    );

    // An account that does not exist: exit 1, as over Horizon.
    let missing = airgap::keys::SecretSeed::generate()
        .unwrap()
        .public_key()
        .to_string();
    let o = run(&["account", "--rpc", &rpc_url(&sandbox), &missing]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not exist"),
        "{}",
        show(&o)
    );
}

#[test]
fn rpc_connection_network_mismatch_and_unreachable_server() {
    let sandbox = Sandbox::start(&[]);
    let id = airgap::keys::SecretSeed::generate()
        .unwrap()
        .public_key()
        .to_string();
    let o = run(&[
        "account",
        "--rpc",
        &rpc_url(&sandbox),
        "--network",
        "testnet",
        &id,
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--network says testnet")
            && err.contains("but Stellar RPC at")
            && err.contains("serves standalone"),
        "{err}"
    );
    assert!(err.contains("--rpc"), "the remedy names --rpc: {err}");
    assert_eq!(err.lines().count(), 2, "one sentence and a remedy: {err}");

    // A port nobody listens on: exit 3 (try again later), as for Horizon.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/rpc");
    let o = run(&["account", "--rpc", &url, "--timeout", "2s", &id]);
    assert_eq!(code(&o), 3, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("could not be reached"),
        "{}",
        show(&o)
    );
    // A URL that is not Stellar RPC (the sandbox's Horizon root): exit 1, not "try again".
    let o = run(&["account", "--rpc", &sandbox.url, "--timeout", "5s", &id]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    // HORIZON_URL in the environment gives way to --rpc on the command line.
    let o = crate::relay_support::relay()
        .env("HORIZON_URL", format!("http://127.0.0.1:{port}"))
        .args(["account", "--rpc", &rpc_url(&sandbox), &id])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not exist"),
        "read over RPC: {}",
        show(&o)
    );
    // --horizon and --rpc together on the command line: refused.
    let o = run(&[
        "account",
        "--rpc",
        &rpc_url(&sandbox),
        "--horizon",
        &sandbox.url,
        &id,
    ]);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("both --horizon and --rpc"),
        "{}",
        show(&o)
    );
}

/// A chain of blobs in one `inspect --rpc` run: the first touches the holder's account only, the
/// next pays it an asset its trustline (on the ledger, never read yet) holds, the last writes a
/// data entry. RPC reads entries by key, so the trustline and the data entry are read when a
/// blob first touches them; the predictions are Horizon's (`inspect_records` compares them) and
/// what submit then gets.
#[test]
fn inspect_over_rpc_reads_entries_by_key_as_a_chain_needs_them() {
    let sb = Sandbox::start(&[]);
    let (issuer, holder) = (
        SecretSeed::generate().unwrap(),
        SecretSeed::generate().unwrap(),
    );
    let (i, h) = (issuer.public_key(), holder.public_key());
    sb.fund(&i);
    sb.fund(&h);
    let usd = Asset::Credit {
        code: "USD".parse().unwrap(),
        issuer: i,
    };
    let net = Network::Standalone;
    submit_all(
        &sb,
        &[blob_signed_by(
            &h,
            sb.next_sequence(&h),
            vec![OpSpec::new(OpBody::ChangeTrust {
                asset: usd.clone(),
                limit: None,
            })],
            &[&holder],
            &net,
            next_hour(),
        )],
    );
    let seq = sb.next_sequence(&i);
    let dir = TestDir::new();
    let touch = OpSpec {
        source: Some(h),
        body: OpBody::BumpSequence { to: 0 },
    };
    let pay = OpSpec::new(OpBody::Payment {
        destination: h,
        asset: usd,
        amount: "5".parse().unwrap(),
    });
    let data = OpSpec {
        source: Some(h),
        body: OpBody::ManageData {
            name: "note".into(),
            value: Some(b"hi".to_vec()),
        },
    };
    let blobs = [
        blob_signed_by(&i, seq, vec![touch], &[&issuer, &holder], &net, next_hour()),
        blob_signed_by(&i, seq + 1, vec![pay], &[&issuer], &net, next_hour()),
        blob_signed_by(
            &i,
            seq + 2,
            vec![data],
            &[&issuer, &holder],
            &net,
            next_hour(),
        ),
    ];
    let paths: Vec<String> = blobs
        .iter()
        .enumerate()
        .map(|(n, b)| {
            write(dir.path(), &format!("{n}.xdr"), b)
                .display()
                .to_string()
        })
        .collect();
    let inputs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (pairs, exit) = assert_inspect_predicts_submit(&sb, &inputs);
    assert_eq!(exit, 0);
    assert_eq!(pairs.len(), 3);
    for (inspected, submitted) in &pairs {
        assert_eq!(inspected["prediction"]["outcome"], "success", "{inspected}");
        assert_eq!(submitted["status"], "success", "{submitted}");
    }
}
