//! The 2-of-3 issuer, end to end against the sandbox: three signers sign copies of one payment on
//! their own (`airgap-signer sign`), `airgap-relay merge` combines them, the relay and the signer
//! show the missing weight, and the sandbox refuses one signature (tx_bad_auth) and applies two.

use crate::relay_support::*;
use crate::util::{scrubbed, show};
use airgap::build::{OpBody, OpSpec, SetOptionsSpec};
use airgap::keys::SecretSeed;
use airgap::network::Network;
use std::path::Path;
use std::process::Output;

const NET: Network = Network::Standalone;

fn signer(dir: &Path, args: &[&str], secrets: &[(&str, &SecretSeed)]) -> Output {
    let mut c = scrubbed("airgap-signer");
    c.current_dir(dir).env("HOME", dir);
    for (var, seed) in secrets {
        c.env(var, seed.to_strkey().as_str());
    }
    c.args(args).output().expect("run airgap-signer")
}

fn relay_in(dir: &Path, args: &[&str]) -> Output {
    relay()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run airgap-relay")
}

#[test]
fn two_of_three_issuer_merge_inspect_and_submit() {
    let sb = Sandbox::start(&[]);
    let (issuer, a1, a2) = (
        SecretSeed::generate().unwrap(),
        SecretSeed::generate().unwrap(),
        SecretSeed::generate().unwrap(),
    );
    sb.fund(&issuer.public_key());
    sb.fund(&a1.public_key());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // Make the issuer 2-of-3: two more signers of weight 1, every threshold 2 (master weight 1).
    let seq = sb.next_sequence(&issuer.public_key());
    let signer_op = |k: &SecretSeed, low: Option<u8>| {
        OpSpec::new(OpBody::SetOptions(SetOptionsSpec {
            signer: Some((k.public_key(), 1)),
            low_threshold: low,
            med_threshold: low,
            high_threshold: low,
            ..Default::default()
        }))
    };
    let setup = write(
        d,
        "setup.xdr",
        &blob(
            &issuer,
            seq,
            vec![signer_op(&a1, None), signer_op(&a2, Some(2))],
            &NET,
        ),
    );
    let o = run(&["submit", "--horizon", &sb.url, setup.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", show(&o));

    // The account file the offline side gets: `airgap-relay account --json`, saved as it is.
    let o = run(&[
        "account",
        "--horizon",
        &sb.url,
        "--json",
        &issuer.public_key().to_string(),
    ]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    std::fs::write(d.join("issuer.json"), &o.stdout).unwrap();

    // The payment, built unsigned, then signed by each signer on their own copy.
    let seq = (seq + 1).to_string();
    let issuer_id = issuer.public_key().to_string();
    let dest = a1.public_key().to_string();
    let o = signer(
        d,
        &[
            "payment",
            "--network",
            "standalone",
            "--sequence",
            &seq,
            "--source",
            &issuer_id,
            "--destination",
            &dest,
            "--asset",
            "native",
            "--amount",
            "12.5",
            "--valid-for",
            "1h",
            "--unsigned",
            "--out",
            "unsigned.xdr",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", show(&o));
    let keys = [("K_ISSUER", &issuer), ("K_A1", &a1), ("K_A2", &a2)];
    for (var, seed) in keys {
        let key = format!("env:{var}");
        let out = format!("{var}.xdr");
        let o = signer(
            d,
            &[
                "sign",
                "unsigned.xdr",
                "--network",
                "standalone",
                "--key",
                &key,
                "--yes",
                "--out",
                &out,
            ],
            &[(var, seed)],
        );
        assert!(o.status.success(), "{}", show(&o));
    }

    // One signature: the signer's review and the relay's inspect both say weight is missing.
    let o = signer(
        d,
        &[
            "inspect",
            "K_A2.xdr",
            "--network",
            "standalone",
            "--signers",
            "issuer.json",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", show(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("needs 2, has 1") && text.contains("MISSING 1"),
        "{text}"
    );
    let o = relay_in(d, &["inspect", "--horizon", &sb.url, "K_A2.xdr"]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(report.contains("below"), "{report}");

    // Merge two copies with the relay: two signatures, weight enough.
    let o = relay_in(
        d,
        &[
            "merge",
            "K_ISSUER.xdr",
            "K_A2.xdr",
            "--network",
            "standalone",
            "--signers",
            "issuer.json",
            "--out",
            "two.xdr",
        ],
    );
    assert_eq!(code(&o), 0, "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2 signatures kept"), "{err}");
    assert!(!err.contains("MISSING"), "{err}");
    let merged = airgap::envelope::decode(&std::fs::read_to_string(d.join("two.xdr")).unwrap())
        .expect("merged envelope");
    assert_eq!(airgap::envelope::signatures(&merged).len(), 2);

    // A copy of another transaction (one more stroop) is refused, the field named.
    let mut other =
        airgap::envelope::decode(&std::fs::read_to_string(d.join("K_A1.xdr")).unwrap()).unwrap();
    if let stellar_xdr::TransactionEnvelope::Tx(e) = &mut other {
        let mut ops = e.tx.operations.to_vec();
        if let stellar_xdr::OperationBody::Payment(p) = &mut ops[0].body {
            p.amount += 1;
        }
        e.tx.operations = ops.try_into().unwrap();
    }
    write(d, "other.xdr", &airgap::envelope::encode(&other));
    let o = relay_in(
        d,
        &[
            "merge",
            "K_ISSUER.xdr",
            "other.xdr",
            "--network",
            "standalone",
        ],
    );
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(
            "copy 2 holds a different transaction than copy 1: the first difference is tx.operations[0].body.paymentOp.amount"
        ),
        "{}",
        show(&o)
    );
    assert!(o.stdout.is_empty());

    // One signature is refused by the ledger, two succeed.
    let o = relay_in(d, &["submit", "--horizon", &sb.url, "--json", "K_A2.xdr"]);
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert_eq!(records(&o)[0]["result_codes"]["transaction"], "tx_bad_auth");
    let o = relay_in(d, &["submit", "--horizon", &sb.url, "--json", "two.xdr"]);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(records(&o)[0]["status"], "success");
    assert_eq!(
        sb.next_sequence(&issuer.public_key()).to_string(),
        (seq.parse::<i64>().unwrap() + 1).to_string()
    );
}
