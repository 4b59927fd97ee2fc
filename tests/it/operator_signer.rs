//! Issue 12 on the signer's side, as an operator meets it: the account context carried across the
//! gap (`--account`: the relay's JSON, a QR photo, a GIF, a frames directory), honest outputs
//! (all of a command's files or none), checks before prompts, batch end to end through the
//! sandbox, per-keystore passphrase variables, `keys public` without a passphrase; and issue 11's
//! keystore side: bound policies, `policy bind`, strength and KDF checks.
use std::path::Path;
use std::process::Output;

use crate::relay_support::{self, code, Sandbox};
use crate::util::{run, scrubbed, show, TestDir, ALICE, DEST, ISSUER};
use airgap::keys::SecretSeed;
use serde_json::{json, Value};

const STRONG: &str = "quartz lantern evening pumpkin ferry";

fn signer(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = scrubbed("airgap-signer");
    c.current_dir(dir).env("HOME", dir);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c.args(args), None)
}

/// `keys generate --keystore KS` with the passphrase in the variable `var`.
fn generate(dir: &Path, ks: &str, var: &str, pass: &str) -> Output {
    signer(
        dir,
        &[
            "keys",
            "generate",
            "--keystore",
            ks,
            "--passphrase-env",
            var,
        ],
        &[(var, pass)],
    )
}

fn relay_in(dir: &Path, args: &[&str]) -> Output {
    run(relay_support::relay().current_dir(dir).args(args), None)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn decode(path: &Path) -> stellar_xdr::TransactionEnvelope {
    airgap::envelope::decode(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn payment(extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "payment",
        "--destination",
        DEST,
        "--asset",
        "native",
        "--amount",
        "1",
        "--yes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// A testnet payment at sequence 5 signed by the issuer's env key, with `extra`.
fn issuer_payment(extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "--network",
        "testnet",
        "--sequence",
        "5",
        "--key",
        "env:ISSUER_SECRET",
    ];
    a.extend_from_slice(extra);
    payment(&a)
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The offline signer reads the account QR code `airgap-relay account --qr` wrote (it used to fail
/// with "stream did not contain valid UTF-8"): source, next sequence and signer set fill in, the
/// review shows thresholds, weights and the context's age, and what it signs the sandbox applies.
#[test]
fn account_context_by_qr_photo_json_gif_and_frames() {
    let sb = Sandbox::start(&[]);
    let issuer = SecretSeed::generate().unwrap();
    let id = issuer.public_key().to_string();
    sb.fund(&issuer.public_key());
    sb.fund(&DEST.parse().unwrap());
    let dir = TestDir::new();
    let d = dir.path();
    let o = relay_in(
        d,
        &[
            "account",
            "--horizon",
            &sb.url,
            "--qr",
            "acct.png",
            "--json",
            &id,
        ],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
    std::fs::write(d.join("acct.json"), &o.stdout).unwrap();
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        report["read_at"].is_string(),
        "the relay stamps when it read the account"
    );
    assert_eq!(
        report["network_passphrase"], "Standalone Network ; February 2017",
        "the report names the network by its passphrase, which a custom network needs"
    );
    let next: i64 = report["next_sequence"].as_str().unwrap().parse().unwrap();
    let secret = issuer.to_strkey();
    let env = [("K", secret.as_str())];

    // A GIF of frames and a frames directory, as the relay writes for a report too large for
    // one code (made here from the same JSON with the library's frames writer).
    let json_bytes = std::fs::read(d.join("acct.json")).unwrap();
    let parts =
        airgap::frames::encode_frames(&json_bytes, airgap::qr::encode::QrDensity::Low).unwrap();
    assert!(parts.len() > 1, "several frames");
    std::fs::write(
        d.join("acct.gif"),
        airgap::frames::frames_gif(&parts, airgap::qr::encode::QrDensity::Low).unwrap(),
    )
    .unwrap();
    airgap::frames::write_frames_dir(
        &d.join("frames"),
        &json_bytes,
        airgap::qr::encode::QrDensity::Low,
        false,
    )
    .unwrap();
    std::fs::remove_file(d.join("frames/parts.txt")).unwrap();

    for (i, context) in ["acct.png", "acct.json", "acct.gif", "frames"]
        .iter()
        .enumerate()
    {
        let out = format!("p{i}.xdr");
        let a = payment(&[
            "--network",
            "standalone",
            "--account",
            context,
            "--key",
            "env:K",
            "--out",
            &out,
        ]);
        let o = signer(d, &args(&a), &env);
        assert!(o.status.success(), "{context}: {}", show(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("Account context: {id} on standalone, read ")),
            "{err}"
        );
        assert!(err.contains("thresholds low 0, medium 0, high 0"), "{err}");
        assert!(
            err.contains(&format!("signer {id} weight 1 (master key)")),
            "{err}"
        );
        assert!(
            err.contains("Signature weight (stellar-core's thresholds):"),
            "{err}"
        );
        assert!(!err.contains("is stale"), "a fresh context: {err}");
        let e = decode(&d.join(&out));
        assert_eq!(airgap::envelope::sequence(&e), next, "{context}");
        assert_eq!(
            airgap::envelope::source(&e),
            issuer.public_key(),
            "{context}"
        );
    }
    // What it signed is what the network takes.
    let o = relay_in(d, &["submit", "--horizon", &sb.url, "p0.xdr"]);
    assert_eq!(code(&o), 0, "{}", show(&o));

    // A context read on another network is refused; nothing is written.
    let a = payment(&[
        "--network",
        "testnet",
        "--account",
        "acct.png",
        "--key",
        "env:K",
        "--out",
        "x.xdr",
    ]);
    let o = signer(d, &args(&a), &env);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        stderr(&o).contains("was read on standalone, and this transaction is for testnet"),
        "{}",
        show(&o)
    );
    assert!(!d.join("x.xdr").exists());

    // A stale context (over an hour old) and one that does not say when it was read: warned.
    let mut old = report.clone();
    old["read_at"] = json!(relay_support::now() - 2 * 3600);
    std::fs::write(d.join("old.json"), old.to_string()).unwrap();
    let mut undated = report;
    undated.as_object_mut().unwrap().remove("read_at");
    std::fs::write(d.join("undated.json"), undated.to_string()).unwrap();
    for (file, words) in [
        ("old.json", "is 2h 0m old"),
        ("undated.json", "does not say when it was read"),
    ] {
        let a = payment(&[
            "--network",
            "standalone",
            "--account",
            file,
            "--unsigned",
            "--out",
            &format!("{file}.xdr"),
        ]);
        let o = signer(d, &args(&a), &[]);
        assert!(o.status.success(), "{}", show(&o));
        assert!(
            stderr(&o).contains(words) && stderr(&o).contains("stale"),
            "{}",
            show(&o)
        );
    }
}

/// A command that exits non-zero leaves no output behind: with a new --out and an existing --qr,
/// the .xdr was written and the command exited 1.
#[test]
fn a_failed_command_writes_nothing() {
    let dir = TestDir::new();
    let d = dir.path();
    let env = [(ISSUER.var, ISSUER.secret)];
    dir.write("taken.png", "not mine");
    let a = issuer_payment(&["--out", "new.xdr", "--qr", "taken.png"]);
    let o = signer(d, &args(&a), &env);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        stderr(&o).contains("taken.png already exists"),
        "{}",
        show(&o)
    );
    assert!(!d.join("new.xdr").exists(), "no partial output");
    assert_eq!(std::fs::read(d.join("taken.png")).unwrap(), b"not mine");
    // With --force, all of them are written together.
    let mut forced = a.clone();
    forced.push("--force".into());
    forced.extend(["--qr-frames".into(), "frames".into()]);
    let o = signer(d, &args(&forced), &env);
    assert!(o.status.success(), "{}", show(&o));
    assert!(d.join("new.xdr").exists() && d.join("frames/parts.txt").exists());
    assert_ne!(std::fs::read(d.join("taken.png")).unwrap(), b"not mine");
    // A --qr name of unknown kind is refused before anything is written.
    let a = issuer_payment(&["--out", "other.xdr", "--qr", "code.jpg"]);
    let o = signer(d, &args(&a), &env);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(!d.join("other.xdr").exists());
    let leftovers: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".airgap"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Every check that needs no secret runs before a passphrase is asked: a missing --sequence, an
/// existing --out, a policy refusal. (Without a terminal, a prompt would fail with "needs a
/// terminal": these fail for their own reason instead.)
#[test]
fn checks_that_need_no_secret_come_before_any_prompt() {
    let dir = TestDir::new();
    let d = dir.path();
    let o = generate(d, "k.ks", "P", STRONG);
    assert!(o.status.success(), "{}", show(&o));
    dir.write("exists.xdr", "x");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--network", "testnet", "--out", "a.xdr"],
            "no --sequence was given",
        ),
        (
            &[
                "--network",
                "testnet",
                "--sequence",
                "5",
                "--out",
                "exists.xdr",
            ],
            "exists.xdr already exists",
        ),
        (
            &["--network", "pubnet", "--sequence", "5", "--out", "a.xdr"],
            "(rule networks)",
        ),
        (
            &["--sequence", "5", "--out", "a.xdr"],
            "no network was given",
        ),
    ];
    for (extra, why) in cases {
        let mut a = payment(&["--key", "keystore:k.ks"]);
        a.extend(extra.iter().map(|s| s.to_string()));
        let o = signer(d, &args(&a), &[]);
        assert_eq!(o.status.code(), Some(1), "{}", show(&o));
        let err = stderr(&o);
        assert!(err.contains(why), "{why}: {err}");
        assert!(
            !err.contains("terminal") && !err.contains("Passphrase"),
            "asked first: {err}"
        );
        assert!(!d.join("a.xdr").exists());
    }
}

/// `keystore:PATH?passphrase-env=VAR`: each keystore its own passphrase, so an authorization
/// sandwich signed by two keystores can be scripted; `keys public` reads a keystore's public key
/// without its passphrase.
#[test]
fn two_keystores_with_their_own_passphrases() {
    let dir = TestDir::new();
    let d = dir.path();
    for (ks, var) in [("issuer.ks", "P1"), ("holder.ks", "P2")] {
        let o = generate(d, ks, var, STRONG);
        assert!(o.status.success(), "{}", show(&o));
    }
    // No passphrase anywhere, no terminal: the public keys still read.
    let public = |ks: &str| {
        let o = signer(
            d,
            &["keys", "public", "--key", &format!("keystore:{ks}")],
            &[],
        );
        assert!(o.status.success(), "{}", show(&o));
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    let (issuer, holder) = (public("issuer.ks"), public("holder.ks"));
    assert!(issuer.starts_with('G') && holder.starts_with('G') && issuer != holder);
    // The two passphrases differ; each keystore names its own variable.
    let second = format!("{STRONG} two");
    let o = generate(d, "third.ks", "P3", &second);
    assert!(o.status.success(), "{}", show(&o));
    let third = public("third.ks");
    let o = signer(
        d,
        &[
            "authorized-payment",
            "--from",
            &third,
            "--to",
            ALICE.public,
            "--asset",
            &format!("USD:{issuer}"),
            "--amount",
            "5",
            "--network",
            "testnet",
            "--sequence",
            "7",
            "--key",
            "keystore:issuer.ks?passphrase-env=P1",
            "--key",
            "keystore:third.ks?passphrase-env=P3",
            "--yes",
            "--out",
            "sandwich.xdr",
        ],
        &[("P1", STRONG), ("P3", &second)],
    );
    assert!(o.status.success(), "{}", show(&o));
    let e = decode(&d.join("sandwich.xdr"));
    assert_eq!(airgap::envelope::signatures(&e).len(), 2);
    let err = stderr(&o);
    assert!(
        err.contains("maintain_liabilities") || err.contains("authorized_to_maintain_liabilities"),
        "{err}"
    );
}

/// A keystore from `keys generate` binds its policy: an edited, swapped or missing policy is
/// refused until bound again with the passphrase; a weak passphrase makes no keystore; a keystore
/// with weak KDF parameters warns and is sealed again by `policy bind`.
#[test]
fn bound_policies_strength_and_kdf() {
    let dir = TestDir::new();
    let d = dir.path();
    let o = generate(d, "weak.ks", "P", "password1");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stderr(&o).contains("too easy to guess"), "{}", show(&o));
    assert!(!d.join("weak.ks").exists() && !d.join("weak.ks.policy.json").exists());

    let o = generate(d, "k.ks", "P", STRONG);
    assert!(o.status.success(), "{}", show(&o));
    let ks: Value = serde_json::from_slice(&std::fs::read(d.join("k.ks")).unwrap()).unwrap();
    assert_eq!(ks["version"], 2);
    let policy = d.join("k.ks.policy.json");
    let text = std::fs::read_to_string(&policy).unwrap();
    assert_eq!(
        ks["policy_sha256"].as_str().unwrap(),
        hex::encode(airgap::policy::digest(text.as_bytes()))
    );
    let sign = |out: &str| {
        let a = payment(&[
            "--network",
            "testnet",
            "--sequence",
            "5",
            "--key",
            "keystore:k.ks",
            "--passphrase-env",
            "P",
            "--out",
            out,
        ]);
        signer(d, &args(&a), &[("P", STRONG)])
    };
    assert!(sign("ok.xdr").status.success());

    // Loosened (pubnet added), swapped, deleted: refused before the passphrase is used.
    let loosened = text.replace("\"testnet\",", "\"testnet\", \"pubnet\",");
    std::fs::write(&policy, &loosened).unwrap();
    let o = sign("a.xdr");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        stderr(&o).contains("is not the one bound to the keystore"),
        "{}",
        show(&o)
    );
    assert!(
        stderr(&o).contains("airgap-signer policy bind --keystore k.ks"),
        "{}",
        show(&o)
    );
    std::fs::remove_file(&policy).unwrap();
    let o = sign("a.xdr");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stderr(&o).contains("which is missing"), "{}", show(&o));
    assert!(!d.join("a.xdr").exists());
    // Changing the keystore's claim in the clear does not help: the claim is authenticated.
    std::fs::write(&policy, &loosened).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut forged = ks.clone();
    forged["policy_sha256"] = json!(hex::encode(airgap::policy::digest(loosened.as_bytes())));
    std::fs::write(
        d.join("k.ks"),
        serde_json::to_string_pretty(&forged).unwrap(),
    )
    .unwrap();
    let o = sign("a.xdr");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        stderr(&o).contains("passphrase is wrong, or the keystore file has been altered"),
        "{}",
        show(&o)
    );
    std::fs::write(d.join("k.ks"), serde_json::to_string_pretty(&ks).unwrap()).unwrap();

    // Bound again with the passphrase: signs, under the loosened policy.
    let o = signer(
        d,
        &[
            "policy",
            "bind",
            "--keystore",
            "k.ks",
            "--passphrase-env",
            "P",
        ],
        &[("P", STRONG)],
    );
    assert!(o.status.success(), "{}", show(&o));
    assert!(sign("b.xdr").status.success());

    // A policy file of another owner is refused (the tests run as root in CI; chown needs it).
    if nix_euid_is_root() {
        std::os::unix::fs::chown(&policy, Some(65534), None).unwrap();
        let o = sign("c.xdr");
        assert_eq!(o.status.code(), Some(1), "{}", show(&o));
        assert!(
            stderr(&o).contains("belongs to another user (uid 65534)"),
            "{}",
            show(&o)
        );
        std::os::unix::fs::chown(&policy, Some(0), None).unwrap();
    }

    // Weak KDF parameters: a warning on use; `policy bind` seals with today's.
    let seed = SecretSeed::generate().unwrap();
    let weak = airgap::keys::keystore::seal(
        seed.bytes(),
        STRONG.as_bytes(),
        airgap::keys::keystore::KdfParams::new(10, 8, 1).unwrap(),
    )
    .unwrap();
    std::fs::write(d.join("old.ks"), weak).unwrap();
    std::fs::set_permissions(d.join("old.ks"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(d.join("old.ks.policy.json"), airgap::policy::default_text()).unwrap();
    std::fs::set_permissions(
        d.join("old.ks.policy.json"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let o = signer(d, &["keys", "public", "--key", "keystore:old.ks"], &[]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        stderr(&o).contains("below today's log_n 17"),
        "{}",
        show(&o)
    );
    let a = payment(&[
        "--network",
        "testnet",
        "--sequence",
        "5",
        "--key",
        "keystore:old.ks",
        "--passphrase-env",
        "P",
        "--out",
        "d.xdr",
    ]);
    let o = signer(d, &args(&a), &[("P", STRONG)]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        stderr(&o).contains("(version 1) does not bind its policy"),
        "{}",
        show(&o)
    );
    let o = signer(
        d,
        &[
            "policy",
            "bind",
            "--keystore",
            "old.ks",
            "--passphrase-env",
            "P",
        ],
        &[("P", STRONG)],
    );
    assert!(o.status.success(), "{}", show(&o));
    let resealed: Value =
        serde_json::from_slice(&std::fs::read(d.join("old.ks")).unwrap()).unwrap();
    assert_eq!(
        (
            resealed["version"].as_u64(),
            resealed["kdf"]["log_n"].as_u64()
        ),
        (Some(2), Some(17))
    );
    let o = signer(d, &["keys", "public", "--key", "keystore:old.ks"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        seed.public_key().to_string()
    );
    assert!(!stderr(&o).contains("below today's"), "{}", show(&o));
}

fn nix_euid_is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// Batch end to end: --sequence is the first transaction's and the rest follow; a line whose own
/// sequence collides is refused; --out-dir writes one blob per transaction that
/// `airgap-relay submit DIR` takes as it is; `batch --help` lists only what batch accepts.
#[test]
fn batch_numbers_consecutively_and_its_directory_submits() {
    let dir = TestDir::new();
    let d = dir.path();
    let o = signer(d, &["batch", "--help"], &[]);
    let help = String::from_utf8(o.stdout).unwrap();
    for absent in ["--qr ", "--qr-terminal", "--qr-content", "--format"] {
        assert!(
            !help.contains(absent),
            "batch --help lists {absent}:\n{help}"
        );
    }
    for present in [
        "--out-dir",
        "--out ",
        "--qr-frames",
        "--sequence",
        "--account",
    ] {
        assert!(
            help.contains(present),
            "batch --help lacks {present}:\n{help}"
        );
    }

    let sb = Sandbox::start(&[]);
    let issuer = SecretSeed::generate().unwrap();
    sb.fund(&issuer.public_key());
    sb.fund(&DEST.parse().unwrap());
    let next = sb.next_sequence(&issuer.public_key());
    let secret = issuer.to_strkey();
    let env = [("K", secret.as_str())];
    let line = |amount: &str, sequence: Option<i64>| {
        let mut p = json!({"network": "standalone", "operations": [
            {"type": "payment", "destination": DEST, "asset": "native", "amount": amount}]});
        if let Some(s) = sequence {
            p["sequence"] = json!(s.to_string());
        }
        p.to_string()
    };
    // The third line names the sequence the second one takes.
    let clash = dir.write(
        "clash.jsonl",
        [line("1", None), line("2", None), line("3", Some(next + 1))].join("\n"),
    );
    let first = next.to_string();
    let o = signer(
        d,
        &[
            "batch",
            clash.to_str().unwrap(),
            "--sequence",
            &first,
            "--key",
            "env:K",
            "--yes",
            "--out-dir",
            "blobs",
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stderr(&o).contains("line 3: sequence"), "{}", show(&o));
    assert!(stderr(&o).contains("collides"), "{}", show(&o));
    assert!(!d.join("blobs").exists());

    let good = dir.write(
        "topups.jsonl",
        [line("1", None), line("2", None), line("3", Some(next + 2))].join("\n"),
    );
    let o = signer(
        d,
        &[
            "batch",
            good.to_str().unwrap(),
            "--sequence",
            &first,
            "--key",
            "env:K",
            "--yes",
            "--out-dir",
            "blobs",
            "--out",
            "batch.jsonl",
        ],
        &env,
    );
    assert!(o.status.success(), "{}", show(&o));
    let mut names: Vec<String> = std::fs::read_dir(d.join("blobs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        (0..3)
            .map(|i| format!("{:06}-{}.xdr", i + 1, next + i))
            .collect::<Vec<_>>()
    );
    let lines = std::fs::read_to_string(d.join("batch.jsonl")).unwrap();
    let seqs: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["sequence"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(seqs, [next, next + 1, next + 2].map(|s| s.to_string()));
    let o = relay_in(d, &["submit", "--horizon", &sb.url, "blobs"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(sb.next_sequence(&issuer.public_key()), next + 3);
}
