//! Issue 11, "what you see is what you sign": hostile envelopes built by Stellar's Python SDK
//! (tests/oracle/hostile.py) through the real `airgap-signer`.
//!
//! For each envelope: every field the SDK decodes is in the JSON review at its place; the
//! findings are exactly the expected ones (no false alarm, nothing missed); the text review shows
//! no raw control character, escape sequence, direction override or NUL; the default policy of a
//! new keystore signs it or refuses it by the expected rule; and the review's SEP-51 XDR-JSON is
//! what `@stellar/stellar-xdr-json` decodes from the envelope and encodes back to it.
use std::collections::BTreeSet;
use std::process::Output;

use crate::util::{node, python, run, run_python, show, TestDir, ALICE, COSIGNER, DEST, ISSUER};
use serde_json::{json, Value};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The corpus, built by the SDK for the time `now`.
fn corpus(now: u64) -> Vec<Value> {
    let input = json!({
        "now": now,
        "secret": ISSUER.secret,
        "alice": ALICE.public,
        "alice_secret": ALICE.secret,
        "cosigner": COSIGNER.public,
        "dest": DEST,
    });
    let out = run_python(
        python().arg("tests/oracle/hostile.py"),
        Some(input.to_string().as_bytes()),
    );
    assert!(out.status.success(), "hostile.py: {}", show(&out));
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("hostile.py writes a JSON list")
}

/// The value at `path` (`a.b[2].c`) in `v`.
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        let (name, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        for idx in indices.split('[').filter(|s| !s.is_empty()) {
            cur = cur.get(idx.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(cur)
}

/// A JSON value as text, so that `"7"` and `7` compare as the same number.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn signer(dir: &TestDir, args: &[&str]) -> Output {
    let mut cmd = dir.command("airgap-signer");
    cmd.env(ISSUER.var, ISSUER.secret);
    run(cmd.args(args), None)
}

/// What the text review may contain besides printable ASCII: its own punctuation.
fn assert_printable(name: &str, text: &str) {
    for c in text.chars() {
        let ok = c == '\n' || (' '..='~').contains(&c) || matches!(c, '—' | '…' | '→');
        assert!(
            ok,
            "{name}: the text review shows the character U+{:04X} raw:\n{text}",
            u32::from(c)
        );
    }
}

#[test]
fn every_hostile_envelope_is_shown_whole_and_judged_truly() {
    let cases = corpus(now());
    assert!(cases.len() >= 40, "the corpus holds every kind of issue 11");
    let dir = TestDir::new();
    let policy = dir.write("default.policy.json", airgap::policy::default_text());
    let policy = policy.to_str().unwrap();
    let mut for_js = Vec::new();
    let mut failures = Vec::new();
    for c in &cases {
        let name = c["name"].as_str().unwrap();
        let network = c["network"].as_str().unwrap();
        let file = dir.write(&format!("{name}.xdr"), c["envelope"].as_str().unwrap());
        let file = file.to_str().unwrap();

        let out = signer(&dir, &["inspect", file, "--network", network, "--json"]);
        if let Some(why) = c["refused"].as_str() {
            // What the review cannot show whole is refused, by inspect and by sign alike.
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            if out.status.code() != Some(1) || !stderr.contains(why) || !out.stdout.is_empty() {
                failures.push(format!(
                    "{name}: expected the review to refuse it: {}",
                    show(&out)
                ));
            }
            let out = signer(
                &dir,
                &[
                    "sign",
                    file,
                    "--network",
                    network,
                    "--key",
                    "env:ISSUER_SECRET",
                    "--yes",
                ],
            );
            if out.status.code() != Some(1) || !out.stdout.is_empty() {
                failures.push(format!(
                    "{name}: signed what the review refuses: {}",
                    show(&out)
                ));
            }
            continue;
        }
        assert!(out.status.success(), "{name}: {}", show(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("inspect --json");
        let review = &doc["review"];

        // Every field the SDK decodes, at its place in the review.
        for pair in c["fields"].as_array().unwrap() {
            let (path, want) = (pair[0].as_str().unwrap(), &pair[1]);
            match at(review, path) {
                Some(got) if text(got) == text(want) => {}
                got => failures.push(format!(
                    "{name}: review {path} is {got:?}, the SDK decodes {want}"
                )),
            }
        }

        // Exactly the expected findings.
        let got: BTreeSet<(String, String)> = review["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (text(&f["severity"]), text(&f["code"])))
            .collect();
        let want: BTreeSet<(String, String)> = c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (text(&f[0]), text(&f[1])))
            .collect();
        if got != want {
            failures.push(format!(
                "{name}: findings {got:?}, expected {want:?}:\n{:#}",
                review["findings"]
            ));
        }

        // The text review: nothing raw that could rewrite or reorder the terminal.
        let out = signer(&dir, &["inspect", file, "--network", network]);
        assert!(out.status.success(), "{name}: {}", show(&out));
        assert_printable(name, &String::from_utf8(out.stdout).expect("UTF-8"));

        // The default policy of a new keystore.
        let signed = format!("{name}.signed.xdr");
        let out = signer(
            &dir,
            &[
                "sign",
                file,
                "--network",
                network,
                "--key",
                "env:ISSUER_SECRET",
                "--policy",
                policy,
                "--yes",
                "--out",
                &signed,
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_printable(name, &stderr);
        match c["policy"].as_str().unwrap() {
            "signed" => {
                if !out.status.success() {
                    failures.push(format!(
                        "{name}: the default policy refused it: {}",
                        show(&out)
                    ));
                }
            }
            rule => {
                let refused = out.status.code() == Some(1)
                    && stderr.contains(&format!("(rule {rule}"))
                    && !dir.join(&signed).exists();
                if !refused {
                    failures.push(format!(
                        "{name}: expected a refusal by rule {rule}: {}",
                        show(&out)
                    ));
                }
            }
        }
        for_js.push(json!({"name": name, "envelope": c["envelope"], "json": review["xdr_json"]}));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // SEP-51 XDR-JSON, against an independent implementation.
    let js = node("xdr_json.mjs", &json!({"cases": for_js}));
    for (i, c) in for_js.iter().enumerate() {
        let name = c["name"].as_str().unwrap();
        assert_eq!(
            js["decoded"][i], c["json"],
            "{name}: @stellar/stellar-xdr-json decodes the envelope differently"
        );
        assert_eq!(
            js["encoded"][i], c["envelope"],
            "{name}: the review's XDR-JSON does not encode back to the envelope"
        );
    }
}

/// A plan's network passphrase comes from a file the online machine may have written: one that
/// holds a terminal escape, a direction override or a NUL is refused, and never shown raw.
#[test]
fn a_plan_with_an_unprintable_network_passphrase_is_refused() {
    let dir = TestDir::new();
    for passphrase in [
        "Evil \u{1b}[2J\u{1b}]0;title\u{7} Net ; 2024",
        "Evil \u{202e}teN ; 2024",
        "Evil \0 Net ; 2024",
    ] {
        let plan = json!({
            "network": passphrase, "source": ISSUER.public, "sequence": "5",
            "operations": [{"type": "bump_sequence", "to": "9"}],
        });
        let file = dir.write("plan.json", plan.to_string());
        let out = signer(
            &dir,
            &[
                "plan",
                file.to_str().unwrap(),
                "--key",
                "env:ISSUER_SECRET",
                "--yes",
                "--out",
                "out.xdr",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        assert!(stderr.contains("must be printable"), "{}", show(&out));
        assert_printable("passphrase", &stderr);
        assert!(!dir.join("out.xdr").exists());
    }
}

/// Issue 11's first hole: a line of a "daily top-ups" batch carries a payment and a set_options
/// adding a weight-255 signer. The batch review shows every operation of every transaction, and
/// the default policy refuses the whole batch.
#[test]
fn batch_shows_every_operation_and_refuses_a_hidden_signer() {
    let dir = TestDir::new();
    let policy = dir.write("default.policy.json", airgap::policy::default_text());
    let line = |with_signer: bool| {
        let mut ops =
            vec![json!({"type": "payment", "destination": DEST, "asset": "native", "amount": "5"})];
        if with_signer {
            ops.push(
                json!({"type": "set_options", "signer": {"key": ALICE.public, "weight": 255}}),
            );
        }
        json!({"network": "testnet", "source": ISSUER.public, "operations": ops}).to_string()
    };
    let file = dir.write(
        "topups.jsonl",
        format!("{}\n{}\n{}\n", line(false), line(true), line(false)),
    );
    let args = |policy: &str| {
        vec![
            "batch".to_string(),
            file.to_str().unwrap().to_string(),
            "--sequence".into(),
            "100".into(),
            "--key".into(),
            "env:ISSUER_SECRET".into(),
            "--policy".into(),
            policy.to_string(),
            "--yes".into(),
            "--out".into(),
            "out.jsonl".into(),
        ]
    };
    let a = args(policy.to_str().unwrap());
    let out = signer(&dir, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(stderr.contains("(rule allow_signer_changes"), "{stderr}");
    assert!(stderr.contains("transaction 2"), "{stderr}");
    assert!(
        stderr.contains(&format!("add or change signer key {} on", ALICE.public)),
        "the hidden signer is in the review: {stderr}"
    );
    assert!(!dir.join("out.jsonl").exists());
    // A policy that allows signer changes: signed, and every operation was shown.
    let allowing = dir.write(
        "allowing.json",
        r#"{"version": 1, "networks": ["testnet"], "allow_signer_changes": {"kinds": ["ed25519"]}}"#,
    );
    let a = args(allowing.to_str().unwrap());
    let out = signer(&dir, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(stderr.matches("==== Transaction ").count(), 3, "{stderr}");
    assert_eq!(stderr.matches("\n  2. set_options").count(), 1, "{stderr}");
    assert!(
        stderr.contains("!! DANGER (transaction 2): op 2 adds/re-weights ed25519 signer"),
        "the summary names the danger and its transaction: {stderr}"
    );
    let lines = std::fs::read_to_string(dir.join("out.jsonl")).unwrap();
    let sequences: Vec<String> = lines
        .lines()
        .map(|l| text(&serde_json::from_str::<Value>(l).unwrap()["sequence"]))
        .collect();
    assert_eq!(sequences, ["100", "101", "102"]);
}
