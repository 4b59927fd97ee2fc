//! Regression (issue 10): a secret pasted where a key source belongs — wrapped in a mail client's
//! “quotes”, after a space or a tab, behind a stray letter, bare, or with trailing garbage — is
//! refused by both binaries with exit code 1, no panic, and nothing of the secret in any output.
//! `airgap-signer --key “S…”` used to panic and print the whole secret in the panic message;
//! `airgap-relay --fee-bump-key " S…"` echoed 40 characters of it.
use crate::util::{run, show, TestDir};
use std::process::Output;

/// Secrets made from fixed seeds by the library, so every run tests the same text.
fn secrets() -> Vec<String> {
    [[7u8; 32], [0x5a; 32], *b"an issuer's key, never to leak!!"]
        .into_iter()
        .map(|bytes| {
            let seed = airgap::keys::SecretSeed::from_bytes(zeroize::Zeroizing::new(bytes));
            seed.to_strkey().as_str().to_string()
        })
        .collect()
}

/// Every way a secret reaches a key source by mistake.
fn pasted(secret: &str) -> Vec<String> {
    vec![
        format!("“{secret}”"),
        format!("„{secret}“"),
        format!("\"{secret}\""),
        format!("'{secret}'"),
        format!(" {secret}"),
        format!("\t{secret}"),
        format!("é{secret}"),
        format!("\u{feff}{secret}"),
        format!("→ {secret}"),
        secret.to_string(),
        format!("{secret}xyz!"),
        format!("{secret} "),
        // The secret where the variable's name or the file's path belongs (`--key env:$SECRET`).
        format!("env:{secret}"),
        format!("file:{secret}"),
    ]
}

/// The first piece of `secret` of 4 characters or more found in `out`.
fn leaked(out: &[u8], secret: &str) -> Option<String> {
    let out = String::from_utf8_lossy(out);
    // Any longer piece holds a piece of 4.
    (0..=secret.len() - 4)
        .map(|i| &secret[i..i + 4])
        .find(|piece| out.contains(piece))
        .map(str::to_string)
}

/// Exit code 1, no panic, nothing of `secret` on stdout or stderr, and an error that says which
/// forms a key source takes.
fn assert_refused_quietly(out: &Output, secret: &str, given: &str, forms: &str) {
    // Test secrets, but shown as they would be in a real report: masked.
    let what = format!("{given:?} → {}", show(out)).replace(secret, "<the secret>");
    assert_eq!(out.status.code(), Some(1), "{what}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what}");
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Some(piece) = leaked(stream, secret) {
            panic!("{name} holds {piece:?} of the secret it was given");
        }
    }
    assert!(
        stderr.contains(forms) || stderr.contains("looks like a secret key itself"),
        "the error names the accepted forms: {what}"
    );
}

const DESTINATION: &str = "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7";

fn signer(dir: &TestDir, args: &[&str]) -> Output {
    run(dir.command("airgap-signer").args(args), None)
}

#[test]
fn signer_never_echoes_a_pasted_secret() {
    let dir = TestDir::new();
    for secret in secrets() {
        for given in pasted(&secret) {
            let payment = [
                "payment",
                "--network",
                "testnet",
                "--destination",
                DESTINATION,
                "--asset",
                "native",
                "--amount",
                "1",
                "--sequence",
                "2",
                "--yes",
                "--key",
                &given,
            ];
            let out = signer(&dir, &payment);
            assert_refused_quietly(&out, &secret, &given, "env:VAR");
            // The second of two keys, and the `keys public` path.
            let out = signer(
                &dir,
                &[
                    "keys",
                    "public",
                    "--key",
                    "env:UNSET_VARIABLE",
                    "--key",
                    &given,
                ],
            );
            assert_refused_quietly(&out, &secret, &given, "env:VAR");
        }
    }
    assert!(
        !dir.join("tx.xdr").exists() && std::fs::read_dir(dir.path()).unwrap().count() == 0,
        "nothing was written"
    );
}

/// The same mistake where an account or a signer's public key belongs.
#[test]
fn signer_never_echoes_a_secret_given_as_an_account() {
    let dir = TestDir::new();
    for secret in secrets() {
        for given in pasted(&secret).into_iter().filter(|g| !g.contains(':')) {
            let with_weight = format!("{given}:1");
            for (option, value) in [
                ("--destination", &given),
                ("--source", &given),
                ("--signer", &given),
                ("--signer", &with_weight),
            ] {
                let command = if option == "--signer" {
                    vec!["set-options", option, value]
                } else {
                    vec![
                        "payment", option, value, "--asset", "native", "--amount", "1",
                    ]
                };
                let mut args = command.clone();
                if option != "--destination" && option != "--signer" {
                    args.extend(["--destination", DESTINATION]);
                }
                if option != "--source" {
                    args.extend(["--source", DESTINATION]);
                }
                args.extend(["--network", "testnet", "--sequence", "2", "--unsigned"]);
                let out = signer(&dir, &args);
                assert_refused_quietly(&out, &secret, &given, "is a secret key, not an account ID");
            }
        }
    }
}

#[test]
fn relay_never_echoes_a_pasted_fee_bump_key() {
    let dir = TestDir::new();
    // Never read: the key source is refused before any input is read or any connection made.
    let input = dir.write("tx.xdr", "AAAA\n");
    let input = input.to_str().expect("UTF-8 temp path");
    for secret in secrets() {
        for given in pasted(&secret) {
            let out = run(
                dir.command("airgap-relay").args([
                    "submit",
                    input,
                    "--network",
                    "testnet",
                    "--horizon",
                    "http://127.0.0.1:9",
                    "--max-fee",
                    "10000",
                    "--fee-bump-key",
                    &given,
                ]),
                None,
            );
            assert_refused_quietly(&out, &secret, &given, "env:VAR, file:PATH or keystore:PATH");
        }
    }
}

/// The forms a binary does not take are refused by name, and the names it does take still work.
#[test]
fn recognised_sources_still_work() {
    let dir = TestDir::new();
    let secret = &secrets()[0];
    let public = airgap::keys::SecretSeed::from_strkey(secret)
        .expect("secret")
        .public_key()
        .to_string();
    let out = run(
        dir.command("airgap-signer")
            .args(["keys", "public", "--key", "env:ISSUER_SECRET"])
            .env("ISSUER_SECRET", secret),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), public);
    let out = run(
        dir.command("airgap-relay").args([
            "submit",
            "tx.xdr",
            "--network",
            "testnet",
            "--max-fee",
            "10000",
            "--fee-bump-key",
            "mnemonic",
        ]),
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    // The relay runs unattended: nothing it would have to prompt for.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "mnemonic key sources are not accepted here; use env:VAR, file:PATH or keystore:PATH"
        ),
        "{}",
        show(&out)
    );
}
