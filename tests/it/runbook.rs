//! docs/runbook.md, end to end (issue 12, "Done means"): the whole issuing ceremony as the runbook
//! tells an operator to run it, against the sandbox binary, with the real `airgap-signer` on an
//! "offline" directory holding the keystores and `airgap-relay` on an "online" one, files crossing
//! on a "usb" directory, and the account context crossing as a photo of the relay's QR code.
//!
//! Each command is the runbook's, with its flags, and only these changes: `--network standalone
//! --horizon URL` for `--network testnet` (the runbook's own rehearsal advice), paths in temp
//! dirs, `--yes` (there is no terminal to answer `Sign? [y/N]`), each keystore's passphrase from
//! its own variable (`keystore:PATH?passphrase-env=VAR`, docs/keystore.md) instead of a prompt,
//! and `--json` on the relay's `inspect` and `submit` so the test can read what they say. For
//! every blob, `inspect` (run first, as step 7 says) must have predicted the result codes that
//! `submit` then got.
//!
//! The steps: keys and policies; (1) the issuer funded and read, its QR code photographed;
//! (2) flags and home domain signed with that photo as `--account`; (3) the base account created;
//! (7) inspected, one blob submitted bound to its hash, then the directory; (4) the base account's
//! trustline, signed once the base account exists; (5) authorized; (6) funded; (7) again; (8) the
//! result checked; the plan-file form of steps 2 to 6 for a second base account; an authorization
//! sandwich, its warning, and the base account authorized again; a batch of dated top-ups via
//! `--out-dir` with a fresh photo, the later ones left pending; and a 2-of-3 payment from the base
//! account, passed around unsigned, signed on two machines and merged by both binaries.

mod day;

use std::path::Path;

use crate::relay_support::{self, code, codes_of, inspect_records, records};
use crate::util::show;
use day::{blob_at, check, key, next_sequence, passphrase_var, stderr, trustline, Day, KEYS, NET};
use serde_json::{json, Value};

#[test]
fn the_runbook_ceremony_end_to_end() {
    let day = Day::new();

    // Before the day: keys (a keystore and its bound default policy each), public keys written
    // down. `keys public` needs no passphrase.
    let mut id = std::collections::HashMap::new();
    for name in KEYS {
        let ks = format!("{name}.key");
        let var = passphrase_var(name);
        let o = day.signer(&[
            "keys",
            "generate",
            "--keystore",
            &ks,
            "--passphrase-env",
            &var,
        ]);
        assert!(o.status.success(), "{}", show(&o));
        let printed = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let o = day.signer(&["keys", "public", "--key", &format!("keystore:{ks}")]);
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), printed);
        assert!(day.offline.join(format!("{ks}.policy.json")).is_file());
        id.insert(name, printed);
    }
    let (issuer, base, desk) = (&id["issuer"], &id["base"], &id["desk"]);
    let usd = format!("USD:{issuer}");
    let holder = day.holder.public_key().to_string();

    // 1. Fund the issuing account (online), read it, carry it across as a photo of its QR code.
    day.sb.fund(&issuer.parse().unwrap());
    let o = day.relay(&["account", issuer, "--qr", "issuer-account.png", "--json"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    std::fs::write(day.online.join("issuer-account.json"), &o.stdout).unwrap();
    let next = next_sequence(&records(&o)[0]);
    let photo = day.offline.join("issuer-account.png");
    day.photograph(&day.online.join("issuer-account.png"), &photo);

    // 2. Issuer flags and home domain (offline), the source and sequence from the photo.
    let flags = day.usb("01-flags.xdr");
    let (o, flags_hash) = day.sign(&[
        "set-options",
        "--network",
        "standalone",
        "--account",
        "issuer-account.png",
        "--set-flags",
        "auth-required,auth-revocable",
        "--home-domain",
        "example.com",
        "--key",
        &key("issuer"),
        "--out",
        &flags,
        "--yes",
    ]);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("Account context: {issuer} on standalone, read ")),
        "the photo was not read as the account context: {err}"
    );
    assert!(err.contains("no danger found"), "{err}");
    let env = blob_at(&flags);
    assert_eq!(
        airgap::envelope::sequence(&env),
        next,
        "the photo's sequence"
    );
    assert_eq!(airgap::envelope::source(&env).to_string(), *issuer);
    assert_eq!(hex::encode(airgap::envelope::hash(&env, &NET)), flags_hash);

    // 3. Create and fund the base account (offline): the next sequence by hand.
    let (_, base_hash) = day.sign(&[
        "create-account",
        "--network",
        "standalone",
        "--sequence",
        &(next + 1).to_string(),
        "--destination",
        base,
        "--starting-balance",
        "10",
        "--key",
        &key("issuer"),
        "--out",
        &day.usb("02-base.xdr"),
        "--yes",
    ]);

    // 7. Inspect, then submit: the flags bound to the hash read across (its first eight hex
    // digits, in capitals as the runbook's example) — a wrong hash sends nothing — then the
    // directory (01 is reported from its stored outcome, 02 sent).
    let o = day.relay(&["submit", &flags, "--expect-hash", &base_hash[..8]]);
    assert_eq!(code(&o), 1, "another hash must be refused: {}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("{flags_hash} {flags}")),
        "{}",
        show(&o)
    );
    assert!(stderr(&o).contains("nothing was sent"), "{}", show(&o));
    let prefix = flags_hash[..8].to_uppercase();
    let usb = day.usb.display().to_string() + "/";
    let pairs = day.inspect_then_submit(
        &[&usb],
        &[(&[&flags, "--expect-hash", &prefix], 0), (&[&usb], 0)],
    );
    assert_eq!(pairs.len(), 3, "01 alone, then 01 (stored) and 02");
    assert!(day.usb.join("done/02-base.xdr").is_file());

    // 4. The base account trusts the asset, signed by its own key. Its sequence number exists
    // only now that step 3 is in a ledger: read on the online machine, carried across.
    let base_next = next_sequence(&day.account(base));
    day.sign(&[
        "change-trust",
        "--network",
        "standalone",
        "--source",
        base,
        "--sequence",
        &base_next.to_string(),
        "--asset",
        &usd,
        "--key",
        &key("base"),
        "--out",
        &day.usb("03-trust.xdr"),
        "--yes",
    ]);
    // 5. Authorize it (issuer), 6. fund it (issuer).
    day.sign(&[
        "set-trustline-flags",
        "--network",
        "standalone",
        "--sequence",
        &(next + 2).to_string(),
        "--trustor",
        base,
        "--asset",
        &usd,
        "--set-flags",
        "authorized",
        "--key",
        &key("issuer"),
        "--out",
        &day.usb("04-authorize.xdr"),
        "--yes",
    ]);
    day.sign(&[
        "payment",
        "--network",
        "standalone",
        "--sequence",
        &(next + 3).to_string(),
        "--destination",
        base,
        "--asset",
        &usd,
        "--amount",
        "250000",
        "--key",
        &key("issuer"),
        "--out",
        &day.usb("05-fund.xdr"),
        "--yes",
    ]);
    // 7. Each later blob is predicted after the earlier ones (the trustline, then its
    // authorization, then the payment), as submit sends them: file-name order.
    let pairs = day.inspect_then_submit(&[&usb], &[(&[&usb], 0)]);
    let inputs: Vec<&str> = pairs
        .iter()
        .map(|(_, s)| s["input"].as_str().unwrap())
        .collect();
    assert_eq!(inputs.len(), 3);
    for (input, name) in inputs.iter().zip(["03-trust", "04-authorize", "05-fund"]) {
        assert!(input.ends_with(&format!("{name}.xdr")), "{inputs:?}");
    }

    // 8. Check the result.
    let a = day.account(issuer);
    assert_eq!(
        a["flags"],
        json!(["auth_required", "auth_revocable"]),
        "{a}"
    );
    assert_eq!(a["home_domain"], "example.com", "{a}");
    assert_eq!(
        trustline(&day.account(base), &usd),
        ("250000".into(), "authorized".into())
    );

    // Steps 2 to 6 as one transaction from one plan file, for a second base account (the
    // desk): the change_trust operation is the new account's own, so the plan is signed by
    // both keys, and needs no sequence number of the account it creates.
    let plan = json!({
        "network": "standalone",
        "source": issuer,
        "operations": [
            {"type": "set_options", "set_flags": ["auth_required", "auth_revocable"], "home_domain": "example.com"},
            {"type": "create_account", "destination": desk, "starting_balance": "10"},
            {"type": "change_trust", "source": desk, "asset": usd},
            {"type": "set_trust_line_flags", "trustor": desk, "asset": usd, "set_flags": ["authorized"]},
            {"type": "payment", "destination": desk, "asset": usd, "amount": "1000"}
        ]
    });
    std::fs::write(day.offline.join("ceremony.json"), plan.to_string()).unwrap();
    let desk_blob = day.usb("06-desk.xdr");
    day.sign(&[
        "plan",
        "ceremony.json",
        "--sequence",
        &(next + 4).to_string(),
        "--key",
        &key("issuer"),
        "--key",
        &key("desk"),
        "--out",
        &desk_blob,
        "--yes",
    ]);
    assert_eq!(airgap::envelope::signatures(&blob_at(&desk_blob)).len(), 2);
    day.inspect_then_submit(&[&desk_blob], &[(&[&desk_blob], 0)]);
    assert_eq!(
        trustline(&day.account(desk), &usd),
        ("1000".into(), "authorized".into())
    );

    // An authorization sandwich: the base account pays a holder. The holder trusts the asset
    // first (its own key, its own transaction).
    day.sb.fund(&day.holder.public_key());
    let holder_next = next_sequence(&day.account(&holder));
    let holder_trust = day.usb("holder-trust.xdr");
    day.sign(&[
        "change-trust",
        "--network",
        "standalone",
        "--sequence",
        &holder_next.to_string(),
        "--asset",
        &usd,
        "--key",
        "env:HOLDER_SECRET",
        "--out",
        &holder_trust,
        "--yes",
    ]);
    day.inspect_then_submit(&[&holder_trust], &[(&[&holder_trust], 0)]);
    let sandwich = day.usb("07-sandwich.xdr");
    let (o, _) = day.sign(&[
        "authorized-payment",
        "--network",
        "standalone",
        "--sequence",
        &(next + 5).to_string(),
        "--from",
        base,
        "--to",
        &holder,
        "--asset",
        &usd,
        "--amount",
        "100",
        "--key",
        &key("issuer"),
        "--key",
        &key("base"),
        "--out",
        &sandwich,
        "--yes",
    ]);
    assert!(
        stderr(&o).contains("authorized_to_maintain_liabilities"),
        "the review warns: {}",
        show(&o)
    );
    // inspect warns that the base account, fully authorized before, is left authorized to
    // maintain liabilities only; the sandwich itself succeeds, as predicted.
    let pairs = day.inspect_then_submit(&[&sandwich], &[(&[&sandwich], 0)]);
    let warned = check(&pairs[0].0, "trustline_authorization")
        .unwrap_or_else(|| panic!("no trustline_authorization warning: {}", pairs[0].0));
    assert_eq!(warned["outcome"], "warning", "{warned}");
    assert!(
        warned["message"].as_str().unwrap().contains(base.as_str()),
        "{warned}"
    );
    assert_eq!(
        trustline(&day.account(base), &usd),
        ("249900".into(), "maintain_liabilities".into())
    );
    assert_eq!(
        trustline(&day.account(&holder), &usd).0,
        "100",
        "the holder was paid"
    );

    // "Authorize it again afterwards": step 5's command alone is refused by the network
    // (authorized and authorized to maintain liabilities cannot both be set), and inspect says
    // so; the runbook's command clears the one flag while setting the other.
    let again = |flags: &[&str], out: &str| {
        let mut a = vec![
            "set-trustline-flags",
            "--network",
            "standalone",
            "--sequence",
        ];
        let seq = (next + 6).to_string();
        a.push(&seq);
        a.extend(["--trustor", base.as_str(), "--asset", usd.as_str()]);
        a.extend_from_slice(flags);
        let k = key("issuer");
        a.extend(["--key", &k, "--out", out, "--yes"]);
        day.sign(&a);
    };
    let wrong = day
        .offline
        .join("reauthorize-wrong.xdr")
        .display()
        .to_string();
    again(&["--set-flags", "authorized"], &wrong);
    let (o, predicted) = inspect_records(&day.sb, &[&wrong]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let p = &predicted.values().next().unwrap()["prediction"];
    assert_eq!(
        codes_of(&p["result_codes"]).as_deref(),
        Some("tx_failed / -: [op_invalid_state]"),
        "{p}"
    );
    let reauthorize = day.usb("08-reauthorize.xdr");
    again(
        &[
            "--set-flags",
            "authorized",
            "--clear-flags",
            "authorized-to-maintain-liabilities",
        ],
        &reauthorize,
    );
    day.inspect_then_submit(&[&reauthorize], &[(&[&reauthorize], 0)]);
    assert_eq!(
        trustline(&day.account(base), &usd),
        ("249900".into(), "authorized".into())
    );

    // A batch of top-ups: today's and the next two days', each line dated (min_time) and valid
    // for a day from its own start; the account read again (its sequence has moved on) and
    // photographed again.
    let o = day.relay(&["account", issuer, "--qr", "issuer-account.png", "--json"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    let next = next_sequence(&records(&o)[0]);
    std::fs::remove_file(&photo).unwrap();
    day.photograph(&day.online.join("issuer-account.png"), &photo);
    let today = relay_support::now();
    let topup = |days: u64| {
        let mut line = json!({"network": "standalone", "operations": [
            {"type": "payment", "destination": base, "asset": usd, "amount": "1000"}]});
        if days > 0 {
            line["min_time"] = json!(today + days * 86_400);
        }
        line.to_string()
    };
    std::fs::write(
        day.offline.join("topups.jsonl"),
        [topup(0), topup(1), topup(2)].join("\n") + "\n",
    )
    .unwrap();
    let topups = day.usb.join("topups");
    let topups_dir = topups.display().to_string();
    let o = day.signer(&[
        "batch",
        "topups.jsonl",
        "--network",
        "standalone",
        "--account",
        "issuer-account.png",
        "--key",
        &key("issuer"),
        "--out-dir",
        &topups_dir,
        "--yes",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        stderr(&o).contains(&format!("Account context: {issuer} on standalone")),
        "{}",
        show(&o)
    );
    let files = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_type().unwrap().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    };
    let names: Vec<String> = (0..3)
        .map(|i| format!("{:06}-{}.xdr", i + 1, next + i))
        .collect();
    assert_eq!(files(&topups), names);
    let windows: Vec<(u64, u64)> = names
        .iter()
        .map(|n| {
            let e = blob_at(&topups.join(n).display().to_string());
            let stellar_xdr::TransactionEnvelope::Tx(v1) = e else {
                panic!("a v1 envelope")
            };
            airgap::envelope::time_bounds(&v1.tx)
        })
        .collect();
    for (i, (min, max)) in windows.iter().enumerate().skip(1) {
        let start = today + i as u64 * 86_400;
        assert_eq!((*min, *max), (start, start + 86_400), "top-up {}", i + 1);
    }

    // Today's top-up succeeds; tomorrow's is pending where it is (tx_too_early, nothing applied,
    // valid from its min_time), exactly as inspect predicted; the one after it is not sent
    // while the earlier one is pending, and inspect said it could not predict it for that
    // reason. Exit 3: run the same command again later.
    let (inspected, predictions) = inspect_records(&day.sb, &[&topups_dir]);
    assert_eq!(code(&inspected), 0, "{}", show(&inspected));
    let o = day.relay(&["submit", &topups_dir, "--json", "--timeout", "30s"]);
    assert_eq!(code(&o), 3, "{}", show(&o));
    let submitted = records(&o);
    assert_eq!(submitted.len(), 3, "{}", show(&o));
    let (first, rest) = submitted.split_first().unwrap();
    assert_eq!(first["status"], "success", "{first}");
    let pending = &rest[0];
    assert_eq!(pending["status"], "pending", "{pending}");
    let held = &rest[1];
    assert_eq!(held["status"], "pending", "{held}");
    assert!(held["result_codes"].is_null(), "{held}");
    assert!(
        held["message"].as_str().unwrap().contains("not sent"),
        "{held}"
    );
    let predicted = |r: &Value| predictions[r["hash"].as_str().unwrap()]["prediction"].clone();
    // The two that submit decided something for: the same codes.
    for r in [first, pending] {
        assert_eq!(
            codes_of(&predicted(r)["result_codes"]),
            codes_of(&r["result_codes"]),
            "{r}\n{}",
            predicted(r)
        );
    }
    assert_eq!(predicted(pending)["outcome"], "pending");
    assert_eq!(predicted(pending)["valid_from"], json!(today + 86_400));
    assert_eq!(predicted(held)["outcome"], "unknown");
    assert!(
        predicted(held)["reason"]
            .as_str()
            .unwrap()
            .contains(names[1].as_str()),
        "{}",
        predicted(held)
    );
    assert_eq!(
        files(&topups),
        names[1..].to_vec(),
        "the pending stay in place"
    );
    assert_eq!(files(&topups.join("done")), names[..1].to_vec());
    assert_eq!(trustline(&day.account(base), &usd).0, "250900");

    // Multi-party signing: the base account becomes 2-of-3 (its key and two co-signers'). Its
    // policy first allows that (edited, then bound again), and the change is signed by its key.
    let alice = &id["alice"];
    let bob = &id["bob"];
    let policy_path = day.offline.join("base.key.policy.json");
    let mut policy: Value = serde_json::from_slice(&std::fs::read(&policy_path).unwrap()).unwrap();
    policy["allow_signer_changes"] = json!({"kinds": ["ed25519"], "keys": [alice, bob]});
    policy["allow_threshold_changes"] = json!(true);
    std::fs::write(&policy_path, serde_json::to_string_pretty(&policy).unwrap()).unwrap();
    let o = day.signer(&[
        "policy",
        "bind",
        "--keystore",
        "base.key",
        "--passphrase-env",
        &passphrase_var("base"),
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let read_base = |name: &str| {
        let o = day.relay(&["account", base, "--json"]);
        assert_eq!(code(&o), 0, "{}", show(&o));
        std::fs::write(day.offline.join(name), &o.stdout).unwrap();
    };
    read_base("base.json");
    let cosigners = day.usb("09-cosigners.xdr");
    let (o, _) = day.sign(&[
        "set-options",
        "--network",
        "standalone",
        "--account",
        "base.json",
        "--signer",
        &format!("{alice}:1"),
        "--signer",
        &format!("{bob}:1"),
        "--low-threshold",
        "2",
        "--med-threshold",
        "2",
        "--high-threshold",
        "2",
        "--key",
        &key("base"),
        "--out",
        &cosigners,
        "--yes",
    ]);
    assert!(
        stderr(&o).contains(&format!("!! DANGER: operation 1 adds signer key {alice}")),
        "{}",
        show(&o)
    );
    day.inspect_then_submit(&[&cosigners], &[(&[&cosigners], 0)]);

    // One unsigned envelope (the base account pays the desk), each signer compares the hash,
    // two of the three sign it on their own machines, and the copies are merged offline with
    // the account file and online with the signer sets Horizon reports: the same envelope.
    read_base("base.json");
    let multi = day.usb.join("multi");
    std::fs::create_dir(&multi).unwrap();
    let in_multi = |n: &str| multi.join(n).display().to_string();
    let (_, unsigned_hash) = day.sign(&[
        "payment",
        "--network",
        "standalone",
        "--account",
        "base.json",
        "--destination",
        desk,
        "--asset",
        &usd,
        "--amount",
        "500",
        "--unsigned",
        "--out",
        &in_multi("tx.xdr"),
    ]);
    for name in ["alice", "bob"] {
        let (_, hash) = day.sign(&[
            "sign",
            &in_multi("tx.xdr"),
            "--network",
            "standalone",
            "--key",
            &key(name),
            "--out",
            &in_multi(&format!("tx-{name}.xdr")),
            "--yes",
        ]);
        assert_eq!(hash, unsigned_hash, "{name} signs the same transaction");
    }
    // `tx-*.xdr`, as the shell expands it.
    let copies: Vec<String> = files(&multi)
        .into_iter()
        .filter(|n| n.starts_with("tx-"))
        .map(|n| in_multi(&n))
        .collect();
    assert_eq!(copies.len(), 2);
    // One copy alone lacks weight: inspect predicts tx_bad_auth (and says what is missing).
    let (o, predicted) = inspect_records(&day.sb, &[&copies[0]]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let one = predicted.values().next().unwrap();
    assert_eq!(
        codes_of(&one["prediction"]["result_codes"]).as_deref(),
        Some("tx_bad_auth / -: []"),
        "{one}"
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("more signers must sign"),
        "{}",
        show(&o)
    );
    // Without the account's signers, merging would drop the co-signers' signatures: refused,
    // nothing written.
    let mut merge = vec!["merge"];
    merge.extend(copies.iter().map(String::as_str));
    let refused = in_multi("refused.xdr");
    let mut a = merge.clone();
    a.extend(["--network", "standalone", "--out", &refused]);
    let o = day.signer(&a);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(!Path::new(&refused).exists());
    let merged = in_multi("tx-merged.xdr");
    let mut a = merge.clone();
    a.extend([
        "--signers",
        "base.json",
        "--network",
        "standalone",
        "--out",
        &merged,
    ]);
    let o = day.signer(&a);
    assert!(o.status.success(), "{}", show(&o));
    let online = in_multi("tx-merged-online.xdr");
    let mut a = merge.clone();
    a.extend(["--out", &online]);
    let o = day.relay(&a);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(
        std::fs::read(&merged).unwrap(),
        std::fs::read(&online).unwrap(),
        "both merges make the same envelope"
    );
    assert_eq!(airgap::envelope::signatures(&blob_at(&merged)).len(), 2);
    let expect = &unsigned_hash[..8];
    day.inspect_then_submit(&[&merged], &[(&[&merged, "--expect-hash", expect], 0)]);
    assert_eq!(trustline(&day.account(desk), &usd).0, "1500");
    assert_eq!(trustline(&day.account(base), &usd).0, "250400");
}
