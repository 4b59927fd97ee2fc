//! Custody (issue 5) through the real `airgap-signer` binary: the signing policy refuses before
//! anything is signed and names its rule; secrets never leave the process through any output;
//! loose key files are refused; copies signed in different places merge into one envelope whose
//! signatures Stellar's SDK verifies; signer sets show the missing weight; the offline guard.

use std::process::Output;

use crate::util::{oracle, oracle_json, run, show, Key, TestDir, ALICE, COSIGNER, DEST, ISSUER};
use serde_json::{json, Value};

/// Fixed test keys (made with `stellar_sdk.Keypair.random()`, the same as tests/it/signer_sdk.rs).
const ALL_KEYS: [&Key; 3] = [&ISSUER, &ALICE, &COSIGNER];

/// The upper time bound of the test transactions: a day from now, within the 30 days every
/// policy allows by default (`max_validity`).
static MAX_TIME: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (now + 86_400).to_string()
});

/// A keystore passphrase strong enough for `keys generate` (zxcvbn score 3 or more).
const STRONG: &str = "quartz lantern evening pumpkin ferry";

/// The SEP-5 test vector 1 mnemonic (12 words).
const MNEMONIC: &str = "illness spike retreat truth genius clock brain pass fit cave bargain toe";

fn signer(dir: &TestDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = dir.command("airgap-signer");
    for key in ALL_KEYS {
        cmd.env(key.var, key.secret);
    }
    for (var, value) in env {
        cmd.env(var, value);
    }
    run(cmd.args(args), None)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A payment of `amount` XLM from the issuer to DEST, signed by the issuer, with the shared
/// transaction options and `extra` (e.g. `--policy FILE`).
fn payment_args<'a>(network: &'a str, amount: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "payment",
        "--destination",
        DEST,
        "--asset",
        "native",
        "--amount",
        amount,
        "--network",
        network,
        "--sequence",
        "100",
        "--max-time",
        MAX_TIME.as_str(),
        "--yes",
    ];
    a.extend_from_slice(extra);
    a
}

fn write_policy(dir: &TestDir, extra: &str) -> String {
    let text = format!(r#"{{"version": 1, "networks": ["testnet"]{extra}}}"#);
    let p = dir.write("policy.json", text);
    p.to_str().unwrap().to_string()
}

/// The signer refused: exit 1, the rule named, nothing on stdout, no output file, never asked.
fn assert_policy_refusal(dir: &TestDir, out: &Output, rule: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", show(out));
    let err = stderr(out);
    assert!(
        err.contains(&format!("refused by the signing policy (rule {rule}")),
        "the refusal must name rule {rule}:\n{}",
        show(out)
    );
    assert!(
        err.contains("Signing policy (version 1)"),
        "the policy is shown with the review:\n{err}"
    );
    assert!(
        !err.contains("Will sign with"),
        "refused before asking:\n{err}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout:\n{}", show(out));
    assert!(!dir.join("out.xdr").exists(), "no output file");
}

/// Build a command with `--policy` (the issuer signs, output to out.xdr) and expect `rule`.
fn refused_by(extra_policy: &str, command: &[&str], rule: &str) {
    let dir = TestDir::new();
    let policy = write_policy(&dir, extra_policy);
    let mut args: Vec<&str> = command.to_vec();
    args.extend_from_slice(&[
        "--network",
        "testnet",
        "--sequence",
        "100",
        "--max-time",
        MAX_TIME.as_str(),
        "--yes",
        "--key",
        "env:ISSUER_SECRET",
        "--out",
        "out.xdr",
        "--policy",
        &policy,
    ]);
    let out = signer(&dir, &args, &[]);
    assert_policy_refusal(&dir, &out, rule);
}

// ---- the signing policy through the signer ----------------------------------------------------

#[test]
fn policy_networks() {
    let dir = TestDir::new();
    let policy = write_policy(&dir, "");
    let out = signer(
        &dir,
        &payment_args(
            "futurenet",
            "1",
            &[
                "--key",
                "env:ISSUER_SECRET",
                "--policy",
                &policy,
                "--out",
                "out.xdr",
            ],
        ),
        &[],
    );
    assert_policy_refusal(&dir, &out, "networks");
}

#[test]
fn policy_source_accounts() {
    refused_by(
        &format!(r#", "source_accounts": ["{}"]"#, ALICE.public),
        &[
            "payment",
            "--destination",
            DEST,
            "--asset",
            "native",
            "--amount",
            "1",
        ],
        "source_accounts",
    );
}

#[test]
fn policy_operations() {
    refused_by(
        r#", "operations": ["payment"]"#,
        &["manage-data", "--name", "k", "--value", "v"],
        "operations",
    );
}

#[test]
fn policy_destinations() {
    refused_by(
        &format!(r#", "destinations": {{"native": ["{}"]}}"#, ALICE.public),
        &[
            "payment",
            "--destination",
            DEST,
            "--asset",
            "native",
            "--amount",
            "1",
        ],
        "destinations",
    );
}

#[test]
fn policy_max_amount_per_tx() {
    refused_by(
        r#", "max_amount_per_tx": {"native": "10"}"#,
        &[
            "payment",
            "--destination",
            DEST,
            "--asset",
            "native",
            "--amount",
            "10.0000001",
        ],
        "max_amount_per_tx.",
    );
}

#[test]
fn policy_flags_and_irreversible_changes() {
    let flags = r#", "may_set_flags": ["auth_required"], "may_clear_flags": ["auth_required"]"#;
    refused_by(
        flags,
        &["set-options", "--set-flags", "auth-revocable"],
        "may_set_flags",
    );
    refused_by(
        flags,
        &["set-options", "--clear-flags", "auth-revocable"],
        "may_clear_flags",
    );
    refused_by(
        flags,
        &["set-options", "--set-flags", "auth-immutable"],
        "allow_auth_immutable",
    );
    refused_by(
        "",
        &["set-options", "--master-weight", "2"],
        "allow_master_weight_change",
    );
    let removal = format!("{}:0", ALICE.public);
    refused_by(
        "",
        &["set-options", "--signer", &removal],
        "allow_signer_removal",
    );
    refused_by(
        "",
        &["account-merge", "--destination", DEST],
        "allow_account_merge",
    );
}

#[test]
fn a_transaction_within_the_policy_is_signed() {
    let dir = TestDir::new();
    let policy = write_policy(&dir, r#", "max_amount_per_tx": {"native": "10"}"#);
    let out = signer(
        &dir,
        &payment_args(
            "testnet",
            "10",
            &["--key", "env:ISSUER_SECRET", "--policy", &policy],
        ),
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
    let envelope = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let v = oracle_json(
        "verify",
        &json!({"envelope": envelope, "network": "testnet", "public_keys": [ISSUER.public]}),
    );
    assert_eq!(v["signatures"][0]["signer"], ISSUER.public);
}

#[test]
fn batch_over_the_per_batch_limit_is_refused_whole() {
    let dir = TestDir::new();
    let policy = write_policy(
        &dir,
        r#", "max_amount_per_tx": {"native": "6"}, "max_amount_per_batch": {"native": "10"}"#,
    );
    // Each transaction is within the per-transaction limit; together they are over.
    let plan = |seq: u64| {
        json!({
            "network": "testnet", "source": ISSUER.public, "sequence": seq.to_string(),
            "max_time": MAX_TIME.as_str(),
            "operations": [{"type": "payment", "destination": DEST, "asset": "native", "amount": "6"}],
        })
        .to_string()
    };
    let file = dir.write("plans.jsonl", format!("{}\n{}\n", plan(100), plan(101)));
    let args = [
        "batch",
        file.to_str().unwrap(),
        "--yes",
        "--key",
        "env:ISSUER_SECRET",
        "--policy",
        &policy,
        "--out",
        "out.xdr",
    ];
    let out = signer(&dir, &args, &[]);
    assert_policy_refusal(&dir, &out, "max_amount_per_batch.");
    assert!(
        stderr(&out).contains("no transaction of the batch is signed"),
        "{}",
        show(&out)
    );
    // One transaction alone is within both limits.
    let file = dir.write("one.jsonl", format!("{}\n", plan(100)));
    let mut one = args;
    one[1] = file.to_str().unwrap();
    let out = signer(&dir, &one, &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(dir.join("out.xdr").exists());
}

#[test]
fn a_new_keystore_gets_the_default_policy_which_refuses_pubnet() {
    let dir = TestDir::new();
    let pass = [("PASS", "a keystore passphrase")];
    let out = signer(
        &dir,
        &[
            "keys",
            "generate",
            "--keystore",
            "k.ks",
            "--passphrase-env",
            "PASS",
        ],
        &pass,
    );
    assert!(out.status.success(), "{}", show(&out));
    let policy = dir.join("k.ks.policy.json");
    let text = std::fs::read_to_string(&policy).expect("the default policy is written");
    assert_eq!(text, airgap::policy::default_text());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&policy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let key = ["--key", "keystore:k.ks", "--passphrase-env", "PASS"];
    let mut extra = key.to_vec();
    extra.extend(["--out", "out.xdr"]);
    let out = signer(&dir, &payment_args("pubnet", "1", &extra), &pass);
    assert_policy_refusal(&dir, &out, "networks");
    // The same on testnet is allowed by the default policy.
    let out = signer(&dir, &payment_args("testnet", "1", &extra), &pass);
    assert!(out.status.success(), "{}", show(&out));
    assert!(stderr(&out).contains("k.ks.policy.json"), "{}", show(&out));
    // A second keystore at the same path is refused and the policy is left alone.
    let out = signer(
        &dir,
        &[
            "keys",
            "generate",
            "--keystore",
            "k.ks",
            "--passphrase-env",
            "PASS",
        ],
        &pass,
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(std::fs::read_to_string(&policy).unwrap(), text);
}

#[test]
fn without_a_policy_the_review_says_so() {
    let dir = TestDir::new();
    let out = signer(
        &dir,
        &payment_args("pubnet", "1", &["--key", "env:ISSUER_SECRET"]),
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        stderr(&out).contains("Signing policy: none in force"),
        "{}",
        show(&out)
    );
}

#[test]
fn a_policy_others_can_write_is_refused() {
    let dir = TestDir::new();
    let policy = write_policy(&dir, "");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = signer(
        &dir,
        &payment_args(
            "testnet",
            "1",
            &[
                "--key",
                "env:ISSUER_SECRET",
                "--policy",
                &policy,
                "--out",
                "out.xdr",
            ],
        ),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stderr(&out).contains("can be changed by other users (mode 0666)"),
        "{}",
        show(&out)
    );
    assert!(!dir.join("out.xdr").exists());
}

// ---- secret hygiene ---------------------------------------------------------------------------

/// Every form in which a secret could leak: the S… strkey, the raw seed as hex (both cases) and
/// base64 and raw bytes, and (for mnemonics) the phrase and each pair of adjacent words.
fn secret_forms(strkey: &str, mnemonic: Option<&str>) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let seed = airgap::keys::SecretSeed::from_strkey(strkey).expect("test secret");
    let raw = *seed.bytes();
    let mut forms = vec![
        strkey.as_bytes().to_vec(),
        hex::encode(raw).into_bytes(),
        hex::encode_upper(raw).into_bytes(),
        base64::engine::general_purpose::STANDARD
            .encode(raw)
            .into_bytes(),
        raw.to_vec(),
    ];
    if let Some(m) = mnemonic {
        forms.push(m.as_bytes().to_vec());
        let words: Vec<&str> = m.split_whitespace().collect();
        for pair in words.windows(2) {
            forms.push(pair.join(" ").into_bytes());
        }
    }
    forms
}

fn assert_no_secret(what: &str, haystack: &[u8], forms: &[Vec<u8>]) {
    for f in forms {
        assert!(
            !haystack.windows(f.len()).any(|w| w == f.as_slice()),
            "{what} contains a form of the secret ({})",
            String::from_utf8_lossy(f)
        );
    }
}

/// Run `args` in `dir`, then check stdout, stderr and every file the run left in `dir` (other than
/// `keep`, the key files themselves).
fn assert_run_leaks_nothing(
    dir: &TestDir,
    args: &[&str],
    env: &[(&str, &str)],
    forms: &[Vec<u8>],
    keep: &[&str],
    expect_success: bool,
) {
    let out = signer(dir, args, env);
    assert_eq!(out.status.success(), expect_success, "{}", show(&out));
    assert_no_secret("stdout", &out.stdout, forms);
    assert_no_secret("stderr", &out.stderr, forms);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_file() && !keep.contains(&name.as_str()) {
            assert_no_secret(&name, &std::fs::read(&path).unwrap(), forms);
        }
    }
}

fn signing_runs<'a>(key: &'a [&'a str]) -> Vec<Vec<&'a str>> {
    let mut json = payment_args("testnet", "1", key);
    json.extend(["--format", "json", "--out", "out.xdr"]);
    let mut txrep = payment_args("testnet", "2", key);
    txrep.extend(["--format", "txrep"]);
    let mut public = vec!["keys", "public"];
    public.extend_from_slice(key);
    vec![json, txrep, public]
}

#[test]
fn secrets_leave_no_trace_from_env_and_file_keys() {
    let forms = secret_forms(ISSUER.secret, None);
    let dir = TestDir::new();
    for run_args in signing_runs(&["--key", "env:ISSUER_SECRET"]) {
        let _ = std::fs::remove_file(dir.join("out.xdr"));
        assert_run_leaks_nothing(&dir, &run_args, &[], &forms, &[], true);
    }
    let dir = TestDir::new();
    let file = dir.write("issuer.secret", format!("{}\n", ISSUER.secret));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    for run_args in signing_runs(&["--key", "file:issuer.secret"]) {
        let _ = std::fs::remove_file(dir.join("out.xdr"));
        assert_run_leaks_nothing(&dir, &run_args, &[], &forms, &["issuer.secret"], true);
    }
    // A damaged secret is refused without being echoed (the last character changed).
    let mut damaged = ISSUER.secret.to_string();
    damaged.pop();
    damaged.push('A');
    let dir = TestDir::new();
    let mut forms = secret_forms(ISSUER.secret, None);
    forms.push(damaged.as_bytes().to_vec());
    forms.push(damaged.as_bytes()[1..20].to_vec());
    assert_run_leaks_nothing(
        &dir,
        &payment_args("testnet", "1", &["--key", "env:BROKEN"]),
        &[("BROKEN", &damaged)],
        &forms,
        &[],
        false,
    );
}

#[test]
fn secrets_leave_no_trace_from_a_keystore() {
    let dir = TestDir::new();
    let pass = "keystore passphrase for the test";
    let out = signer(
        &dir,
        &[
            "keys",
            "generate",
            "--keystore",
            "k.ks",
            "--passphrase-env",
            "PASS",
        ],
        &[("PASS", pass)],
    );
    assert!(out.status.success(), "{}", show(&out));
    // The secret is not known outside the keystore; recover it only to know what to look for,
    // through the library's keystore reader.
    let sealed = std::fs::read(dir.join("k.ks")).unwrap();
    let (seed, _) = airgap::keys::keystore::open(&sealed, pass.as_bytes()).expect("opens");
    let strkey = airgap::keys::SecretSeed::from_bytes(seed).to_strkey();
    let mut forms = secret_forms(&strkey, None);
    forms.push(pass.as_bytes().to_vec());
    let key = ["--key", "keystore:k.ks", "--passphrase-env", "PASS"];
    for run_args in signing_runs(&key) {
        let _ = std::fs::remove_file(dir.join("out.xdr"));
        assert_run_leaks_nothing(&dir, &run_args, &[("PASS", pass)], &forms, &["k.ks"], true);
    }
}

#[test]
fn secrets_leave_no_trace_from_a_mnemonic() {
    let sep5 = oracle_json("sep5", &json!({"mnemonic": MNEMONIC, "index": 0}));
    let secret = sep5["secret"].as_str().unwrap();
    let forms = secret_forms(secret, Some(MNEMONIC));
    let dir = TestDir::new();
    for run_args in signing_runs(&["--key", "env:WORDS"]) {
        let _ = std::fs::remove_file(dir.join("out.xdr"));
        assert_run_leaks_nothing(&dir, &run_args, &[("WORDS", MNEMONIC)], &forms, &[], true);
    }
    // The key signed is the SDK's SEP-5 key.
    let out = signer(
        &dir,
        &["keys", "public", "--key", "env:WORDS"],
        &[("WORDS", MNEMONIC)],
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        sep5["public"].as_str().unwrap()
    );
}

#[test]
fn key_files_readable_by_others_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TestDir::new();
    let out = signer(
        &dir,
        &[
            "keys",
            "generate",
            "--keystore",
            "k.ks",
            "--passphrase-env",
            "PASS",
        ],
        &[("PASS", STRONG)],
    );
    assert!(out.status.success(), "{}", show(&out));
    let ks = dir.join("k.ks");
    assert_eq!(
        std::fs::metadata(&ks).unwrap().permissions().mode() & 0o777,
        0o600,
        "keystores are created 0600"
    );
    std::fs::set_permissions(&ks, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = signer(
        &dir,
        &payment_args(
            "testnet",
            "1",
            &[
                "--key",
                "keystore:k.ks",
                "--passphrase-env",
                "PASS",
                "--out",
                "out.xdr",
            ],
        ),
        &[("PASS", STRONG)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stderr(&out).contains("readable by other users (mode 0644)"),
        "{}",
        show(&out)
    );
    assert!(!dir.join("out.xdr").exists());
    let file = dir.write("s.key", ISSUER.secret);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = signer(&dir, &["keys", "public", "--key", "file:s.key"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(stderr(&out).contains("mode 0640"), "{}", show(&out));
}

// ---- merge and signer sets --------------------------------------------------------------------

/// The issuer's account as Horizon shows it after adding ALICE and COSIGNER with weight 1 and
/// setting every threshold to 2: a 2-of-3 account.
fn two_of_three(dir: &TestDir) -> String {
    let account = json!({
        "id": ISSUER.public,
        "account_id": ISSUER.public,
        "sequence": "99",
        "subentry_count": 2,
        "thresholds": {"low_threshold": 2, "med_threshold": 2, "high_threshold": 2},
        "flags": {"auth_required": false, "auth_revocable": false, "auth_immutable": false, "auth_clawback_enabled": false},
        "balances": [{"balance": "100.0000000", "asset_type": "native"}],
        "signers": [
            {"weight": 1, "key": ALICE.public, "type": "ed25519_public_key"},
            {"weight": 1, "key": COSIGNER.public, "type": "ed25519_public_key"},
            {"weight": 1, "key": ISSUER.public, "type": "ed25519_public_key"},
        ],
    });
    let p = dir.write("issuer.account.json", account.to_string());
    p.to_str().unwrap().to_string()
}

/// An unsigned payment from the issuer (through the signer), and one copy of it signed by each
/// of `keys`, through `airgap-signer sign`. Returns the copies' file names.
fn signed_copies(dir: &TestDir, amount: &str, keys: &[&Key], prefix: &str) -> Vec<String> {
    let mut args = payment_args(
        "testnet",
        amount,
        &["--source", ISSUER.public, "--unsigned"],
    );
    let unsigned_name = format!("{prefix}unsigned.xdr");
    args.extend(["--out", &unsigned_name]);
    let out = signer(dir, &args, &[]);
    assert!(out.status.success(), "{}", show(&out));
    keys.iter()
        .map(|k| {
            let name = format!("{prefix}{}.xdr", k.var);
            let key = format!("env:{}", k.var);
            let out = signer(
                dir,
                &[
                    "sign",
                    &unsigned_name,
                    "--network",
                    "testnet",
                    "--key",
                    &key,
                    "--yes",
                    "--out",
                    &name,
                ],
                &[],
            );
            assert!(out.status.success(), "{}", show(&out));
            name
        })
        .collect()
}

fn read_envelope(dir: &TestDir, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap()
        .trim()
        .to_string()
}

/// The signer of each signature according to the Python and the JS SDK (which must agree).
fn sdk_signers(envelope: &str) -> Vec<Value> {
    let input = json!({"envelope": envelope, "network": "testnet",
            "public_keys": ALL_KEYS.iter().map(|k| k.public).collect::<Vec<_>>()});
    let v = oracle_json("verify", &input);
    assert_eq!(
        v,
        crate::util::js_verify(&input),
        "the Python and JS SDKs disagree"
    );
    v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signer"].clone())
        .collect()
}

#[test]
fn three_partial_copies_combine_and_the_sdk_verifies_them() {
    let dir = TestDir::new();
    let copies = signed_copies(&dir, "5", &[&ISSUER, &ALICE, &COSIGNER], "");
    let signers_file = two_of_three(&dir);
    let mut args = vec!["merge"];
    args.extend(copies.iter().map(String::as_str));
    args.extend([
        "--network",
        "testnet",
        "--signers",
        &signers_file,
        "--out",
        "merged.xdr",
    ]);
    let out = signer(&dir, &args, &[]);
    assert!(out.status.success(), "{}", show(&out));
    let merged = read_envelope(&dir, "merged.xdr");
    assert_eq!(
        sdk_signers(&merged),
        vec![
            json!(ISSUER.public),
            json!(ALICE.public),
            json!(COSIGNER.public)
        ]
    );
    // The transaction is the one every copy holds: the SDK's hash of a copy and of the merge agree.
    let hash = |e: &str| {
        oracle_json(
            "verify",
            &json!({"envelope": e, "network": "testnet", "public_keys": []}),
        )["hash"]
            .clone()
    };
    assert_eq!(hash(&merged), hash(&read_envelope(&dir, &copies[0])));
    let err = stderr(&out);
    assert!(err.contains("3 signatures kept"), "{err}");
    // Weight 3 present; 2 needed for each requirement.
    assert!(err.contains("needs 2, has 3"), "{err}");
}

#[test]
fn merge_drops_duplicates_and_refuses_signatures_of_unknown_keys() {
    let dir = TestDir::new();
    let copies = signed_copies(&dir, "5", &[&ISSUER, &ALICE], "");
    // A copy holding both signatures, merged with the single ones again.
    let both = dir.join("both.xdr");
    let out = signer(
        &dir,
        &[
            "sign",
            &copies[0],
            "--network",
            "testnet",
            "--key",
            "env:ALICE_SECRET",
            "--yes",
            "--out",
            both.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
    let signers_file = two_of_three(&dir);
    let out = signer(
        &dir,
        &[
            "merge",
            "both.xdr",
            &copies[0],
            &copies[1],
            "--network",
            "testnet",
            "--signers",
            &signers_file,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
    let merged = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(
        sdk_signers(&merged),
        vec![json!(ISSUER.public), json!(ALICE.public)]
    );
    assert!(
        stderr(&out).contains("2 duplicates left out"),
        "{}",
        show(&out)
    );
    // Without the signer set, ALICE is no key of this transaction: merging would drop her
    // signature, so the merge is refused (exit 1, nothing written) and says to pass --signers.
    let out = signer(
        &dir,
        &[
            "merge",
            &copies[0],
            &copies[1],
            "--network",
            "testnet",
            "--out",
            "dropped.xdr",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(out.stdout.is_empty(), "{}", show(&out));
    assert!(!dir.join("dropped.xdr").exists());
    let err = stderr(&out);
    assert!(
        err.contains("1 signature would be dropped") && err.contains("in copy 2"),
        "{err}"
    );
    assert!(err.contains("--signers"), "{err}");
}

#[test]
fn merge_refuses_a_copy_with_another_amount_naming_the_field() {
    let dir = TestDir::new();
    let five = signed_copies(&dir, "5", &[&ISSUER], "a-");
    let six = signed_copies(&dir, "6", &[&ALICE], "b-");
    let out = signer(
        &dir,
        &[
            "merge",
            &five[0],
            &six[0],
            "--network",
            "testnet",
            "--out",
            "merged.xdr",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stderr(&out).contains(
            "copy 2 holds a different transaction than copy 1: the first difference is tx.operations[0].body.paymentOp.amount"
        ),
        "{}",
        show(&out)
    );
    assert!(out.stdout.is_empty());
    assert!(!dir.join("merged.xdr").exists());
}

#[test]
fn inspect_shows_the_missing_weight() {
    let dir = TestDir::new();
    let copies = signed_copies(&dir, "5", &[&ALICE], "");
    let signers_file = two_of_three(&dir);
    let out = signer(
        &dir,
        &[
            "inspect",
            &copies[0],
            "--network",
            "testnet",
            "--signers",
            &signers_file,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", show(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    // Thresholds 2, ALICE weight 1: the transaction (low) and the payment (medium) each miss 1.
    assert!(
        text.contains(&format!(
            "1. payment: medium threshold of {}: threshold 2, needs 2, has 1 from {} (1): MISSING 1",
            ISSUER.public, ALICE.public
        )),
        "{text}"
    );
    assert!(text.contains(&format!("by {}", ALICE.public)), "{text}");
    let out = signer(
        &dir,
        &[
            "inspect",
            &copies[0],
            "--network",
            "testnet",
            "--signers",
            &signers_file,
            "--json",
        ],
        &[],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let reqs = doc["weights"]["requirements"].as_array().expect("weights");
    assert_eq!(reqs.len(), 2);
    for r in reqs {
        assert_eq!(r["weight"]["missing"], 1, "{r}");
    }
    assert_eq!(reqs[1]["category"], "medium");
}

// ---- the offline guard --------------------------------------------------------------------------

/// Run the signer in a new network namespace (only `lo`, down) with a fresh /sys, through
/// `unshare`, as an unprivileged user namespace's root.
fn signer_offline(dir: &TestDir, args: &[&str]) -> Output {
    let bin = crate::util::bin_path("airgap-signer");
    let mut script = String::from("mount -t sysfs sysfs /sys && exec \"$0\"");
    for i in 1..=args.len() {
        script.push_str(&format!(" \"${{{i}}}\""));
    }
    let mut cmd = std::process::Command::new("unshare");
    cmd.env_clear()
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(ISSUER.var, ISSUER.secret)
        .args(["-rnm", "sh", "-c", &script])
        .arg(&bin)
        .args(args);
    run(&mut cmd, None)
}

/// Whether this machine has a network interface other than lo up, by its operstate.
fn host_is_online() -> bool {
    std::fs::read_dir("/sys/class/net")
        .map(|d| {
            d.flatten().any(|e| {
                e.file_name() != "lo"
                    && std::fs::read_to_string(e.path().join("operstate"))
                        .is_ok_and(|s| s.trim() == "up")
            })
        })
        .unwrap_or(false)
}

#[test]
fn require_offline_signs_only_without_network() {
    let dir = TestDir::new();
    let policy = write_policy(&dir, r#", "require_offline": true"#);
    let by_flag = payment_args(
        "testnet",
        "1",
        &["--key", "env:ISSUER_SECRET", "--require-offline"],
    );
    let by_policy = payment_args(
        "testnet",
        "1",
        &["--key", "env:ISSUER_SECRET", "--policy", &policy],
    );
    for args in [&by_flag, &by_policy] {
        let out = signer_offline(&dir, args);
        assert!(
            out.status.success(),
            "in a network namespace with only lo the signer must sign (needs unshare -rnm):\n{}",
            show(&out)
        );
        assert!(!stderr(&out).contains("ONLINE"), "{}", show(&out));
    }
    if host_is_online() {
        for args in [&by_flag, &by_policy] {
            let out = signer(&dir, args, &[]);
            assert_eq!(out.status.code(), Some(1), "{}", show(&out));
            let err = stderr(&out);
            assert!(err.contains("this machine is ONLINE"), "{err}");
            assert!(err.contains("nothing was signed"), "{err}");
            assert!(out.stdout.is_empty());
        }
        let out = signer(&dir, &by_policy, &[]);
        assert!(stderr(&out).contains("require_offline"), "{}", show(&out));
        // Without the requirement it signs, with the warning.
        let out = signer(
            &dir,
            &payment_args("testnet", "1", &["--key", "env:ISSUER_SECRET"]),
            &[],
        );
        assert!(out.status.success(), "{}", show(&out));
        assert!(stderr(&out).contains("this machine is ONLINE"));
    }
}

#[test]
fn hardening_succeeds_without_a_warning() {
    // guard::harden (core limit 0, not dumpable) is checked in the signer's unit tests; here,
    // that the real binary reports no failure doing it and still works.
    let dir = TestDir::new();
    let out = signer(&dir, &["keys", "public", "--key", "env:ISSUER_SECRET"], &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        !stderr(&out).contains("could not"),
        "hardening failed: {}",
        show(&out)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        oracle("public", &json!({"secret": ISSUER.secret}))
    );
}

/// Run the signer under a pseudo-terminal (util-linux `script`), answer its hidden prompt with
/// `typed` once the prompt is shown, and return everything the terminal displayed and the exit
/// status. Echo is the terminal's job: the secret appears in the transcript if the signer forgot
/// to turn echo off.
fn signer_on_a_terminal(dir: &TestDir, args: &[&str], typed: &str) -> (Vec<u8>, bool) {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    use std::sync::{Arc, Mutex};
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(&crate::util::bin_path("airgap-signer").display().to_string());
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let mut child = Command::new("script")
        .args(["-qefc", &line, "/dev/null"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux script runs");
    let shown = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let shown = Arc::clone(&shown);
        let mut out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                shown.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    // Type only once the prompt is up.
    let started = std::time::Instant::now();
    while !String::from_utf8_lossy(&shown.lock().unwrap()).contains(" for key") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no prompt: {}",
            String::from_utf8_lossy(&shown.lock().unwrap())
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // rpassword writes the prompt and only then turns echo off, a few instructions later: a person
    // cannot type inside that window, but a test can. Wait as a person would.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{typed}\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    let mut err = Vec::new();
    let _ = child.stderr.take().unwrap().read_to_end(&mut err);
    let mut all = shown.lock().unwrap().clone();
    all.extend(err);
    (all, status.success())
}

#[test]
fn secrets_leave_no_trace_from_the_hidden_prompts() {
    let sep5 = oracle_json("sep5", &json!({"mnemonic": MNEMONIC, "index": 0}));
    let from_words = sep5["secret"].as_str().unwrap().to_string();
    let cases = [
        (
            "prompt",
            ISSUER.secret.to_string(),
            secret_forms(ISSUER.secret, None),
        ),
        (
            "prompt",
            MNEMONIC.to_string(),
            secret_forms(&from_words, Some(MNEMONIC)),
        ),
        (
            "mnemonic",
            MNEMONIC.to_string(),
            secret_forms(&from_words, Some(MNEMONIC)),
        ),
    ];
    for (source, typed, forms) in cases {
        let dir = TestDir::new();
        let mut args = payment_args("testnet", "1", &["--key", source]);
        args.extend(["--format", "json", "--out", "out.xdr"]);
        let (shown, ok) = signer_on_a_terminal(&dir, &args, &typed);
        let text = String::from_utf8_lossy(&shown).into_owned();
        assert!(ok, "{source}: {text}");
        assert!(
            text.contains("Secret key") || text.contains("mnemonic"),
            "{text}"
        );
        assert_no_secret("the terminal", &shown, &forms);
        let written = std::fs::read_to_string(dir.join("out.xdr")).unwrap();
        assert_no_secret("out.xdr", written.as_bytes(), &forms);
        // The signature is the key's: the same envelope as from env: with that secret.
        let expected = signer(
            &dir,
            &payment_args("testnet", "1", &["--key", "env:TYPED"]),
            &[("TYPED", &secret_of(&forms))],
        );
        assert!(expected.status.success(), "{}", show(&expected));
        assert_eq!(
            written.trim(),
            String::from_utf8_lossy(&expected.stdout).trim(),
            "{source}"
        );
    }
}

/// The strkey among `secret_forms`' output (its first entry).
fn secret_of(forms: &[Vec<u8>]) -> String {
    String::from_utf8(forms[0].clone()).unwrap()
}
