//! The bodies of the fuzz targets, one function per target.
//!
//! Shared by the cargo-fuzz targets in `fuzz/fuzz_targets/` and by `tests/fuzz_corpus.rs`, which
//! replays every file of `fuzz/corpus/<target>/` through the same function on every `cargo test`.
//! Each function takes bytes a stranger could hand us. Errors are fine; a panic is a bug, and so
//! is a broken round trip (the assertions below state what must always hold).
use crate::account::AccountId;
use crate::amount::Amount;
use crate::asset::{Asset, AssetCode};
use crate::build::{self, Authorize, MemoSpec};
use crate::carry::{self, Piece};
use crate::context;
use crate::envelope;
use crate::frames::{self, FrameAssembler};
use crate::keys::{self, keystore};
use crate::network::Network;
use crate::plan::{self, Overrides};
use crate::policy;
use crate::qr::decode as qr_decode;
use crate::qr::encode::QrDensity;
use crate::review;
use crate::sep7;
use crate::txrep;
use stellar_xdr::TransactionEnvelope;

/// The clock the targets pretend it is (2027-01-15); fixed so a crash reproduces.
pub const NOW: u64 = 1_800_000_000;

/// The passphrase the keystore seeds in the corpus were sealed with.
pub const KEYSTORE_PASSPHRASE: &[u8] = b"fuzz passphrase";

/// Keystores whose scrypt needs more memory than this are only inspected, not opened, so that
/// one input costs milliseconds (the parameters themselves are checked by `inspect`).
const MAX_FUZZ_KDF_MEMORY: u64 = 1 << 20;

fn networks() -> [Network; 3] {
    [
        Network::Pubnet,
        Network::Testnet,
        Network::Custom("Fuzz Network ; 2026".into()),
    ]
}

/// Everything the tools do with an envelope that decoded: the encodings round-trip, review never
/// panics (and its text and JSON render), txrep written for it reads back as the same envelope,
/// the default policy checks it.
pub fn exercise_envelope(env: &TransactionEnvelope) {
    let bytes = envelope::to_bytes(env);
    assert_eq!(
        envelope::decode_bytes(&bytes).as_ref(),
        Ok(env),
        "XDR bytes round trip"
    );
    let b64 = envelope::encode(env);
    if b64.len() <= envelope::MAX_BASE64_LEN {
        assert_eq!(
            envelope::decode(&b64).as_ref(),
            Ok(env),
            "base64 round trip"
        );
    }

    let source = envelope::source(env);
    let _ = envelope::sequence(env);
    let default_policy = policy::default_for_new_keystore();
    for network in networks() {
        if let Ok(r) = review::review(env, &network, NOW, &[source]) {
            assert!(!r.to_text().is_empty());
        }
        let _ = default_policy.check(env, &network, NOW);
    }
    // Relative times at the ends of the clock.
    for now in [0, u64::MAX] {
        if let Ok(r) = review::review(env, &Network::Testnet, now, &[]) {
            assert!(!r.to_text().is_empty());
        }
    }

    if let Ok(text) = txrep::to_txrep(env) {
        match txrep::from_txrep(&text) {
            Ok(back) => assert_eq!(&back, env, "txrep round trip changed the envelope"),
            Err(e) => panic!("txrep written by to_txrep does not read back: {e}\n{text}"),
        }
    }
}

/// `envelope_base64`: text as pasted or read from a `.b64` file.
pub fn envelope_base64(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(env) = envelope::decode(text) {
        exercise_envelope(&env);
    }
}

/// `envelope_xdr`: raw XDR bytes, as carried in QR frames.
pub fn envelope_xdr(data: &[u8]) {
    if let Ok(env) = envelope::decode_bytes(data) {
        exercise_envelope(&env);
    }
}

/// `txrep`: SEP-11 text. Whatever reads must write back out and read again to the same envelope.
pub fn txrep(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(env) = txrep::from_txrep(text) {
        exercise_envelope(&env);
    }
}

/// `plan`: a plan file (JSON), and the same bytes as a batch file (one plan per line). Whatever
/// resolves and builds must review without error: the ten operation kinds a plan can hold are
/// exactly the ones review describes.
pub fn plan(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    one_plan(text);
    if text.contains('\n') {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            one_plan(line);
        }
    }
}

fn one_plan(text: &str) {
    let Ok(raw) = plan::parse(text) else {
        return;
    };
    let overridden = Overrides {
        network: Some(Network::Testnet),
        source: Some(AccountId([7; 32])),
        sequence: Some(1),
        base_fee: Some(100),
        min_time: Some(0),
        max_time: Some(NOW + 3600),
        memo: Some(MemoSpec::Id(1)),
    };
    for (o, exercise) in [(Overrides::default(), true), (overridden, false)] {
        let Ok(spec) = raw.resolve(&o, NOW) else {
            continue;
        };
        let Ok(tx) = build::build(&spec) else {
            continue;
        };
        let env = build::envelope(tx);
        if let Err(e) = review::review(&env, &spec.network, NOW, &[]) {
            panic!("review refused an envelope built from a plan: {e}");
        }
        if exercise {
            exercise_envelope(&env);
        }
    }
}

/// `keystore`: a keystore file. `inspect` on everything; `open` (with the corpus passphrase and a
/// wrong one) on files whose KDF is cheap.
pub fn keystore(data: &[u8]) {
    let Ok(info) = keystore::inspect(data) else {
        // open must refuse what inspect refuses, before any KDF work.
        assert!(keystore::open(data, KEYSTORE_PASSPHRASE).is_err());
        return;
    };
    assert!(info.public_key.parse::<AccountId>().is_ok());
    if info.kdf.memory_bytes() > MAX_FUZZ_KDF_MEMORY {
        return;
    }
    if let Ok((seed, opened)) = keystore::open(data, KEYSTORE_PASSPHRASE) {
        assert_eq!(opened, info, "open and inspect disagree");
        let public = keys::SecretSeed::from_bytes(seed).public_key();
        assert_eq!(
            public.to_string(),
            info.public_key,
            "open returned a seed of another key"
        );
    }
    assert!(keystore::open(data, b"not the passphrase").is_err());
}

/// `policy`: a policy file, then optionally a NUL byte and XDR envelope bytes to check against it
/// (alone, and as a batch of two).
pub fn policy(data: &[u8]) {
    let (policy_bytes, env_bytes) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(text) = std::str::from_utf8(policy_bytes) else {
        return;
    };
    let Ok(p) = policy::parse(text) else {
        return;
    };
    assert!(!p.describe().is_empty());
    let Some(env) = env_bytes.and_then(|b| envelope::decode_bytes(b).ok()) else {
        return;
    };
    for network in networks() {
        let one = p.check(&env, &network, NOW);
        let two = p.check_batch(
            &[(env.clone(), network.clone()), (env.clone(), network)],
            NOW,
        );
        // A batch of two copies cannot be allowed when one copy alone is refused.
        if one.is_err() {
            assert!(
                two.is_err(),
                "a batch passed that holds a refused transaction"
            );
        }
    }
}

/// `text_values`: the short values typed on a command line or written in plans and policies:
/// amounts, times, durations, signers, sequence numbers, memos, networks, assets, accounts, flags,
/// secret keys and mnemonics. Parsed values must print back to themselves.
pub fn text_values(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = s.parse::<Amount>() {
        assert_eq!(a.to_string().parse::<Amount>(), Ok(a), "amount round trip");
        assert_eq!(
            a.to_horizon_string().parse::<Amount>(),
            Ok(a),
            "horizon amount round trip"
        );
        let _ = a.positive();
    }
    let _ = build::parse_time(s);
    let _ = build::parse_duration(s);
    if let Ok((key, weight)) = build::parse_signer(s) {
        assert_eq!(
            build::parse_signer(&format!("{key}:{weight}")),
            Ok((key, weight))
        );
    }
    let _ = build::parse_sequence(s);
    let _ = MemoSpec::text(s);
    let _ = MemoSpec::id(s);
    let _ = MemoSpec::hash(s);
    let _ = MemoSpec::ret(s);
    if let Ok(n) = s.parse::<Network>() {
        assert_eq!(n.passphrase().parse::<Network>(), Ok(n.clone()));
        let _ = n.to_string();
    }
    if let Ok(a) = s.parse::<Asset>() {
        assert_eq!(
            a.to_string().parse::<Asset>(),
            Ok(a.clone()),
            "asset round trip"
        );
        let _ = a.to_xdr();
    }
    if let Ok(c) = s.parse::<AssetCode>() {
        let _ = c.to_xdr();
    }
    if let Ok(id) = s.parse::<AccountId>() {
        assert_eq!(id.to_string().parse::<AccountId>(), Ok(id));
        let _ = id.short();
    }
    let parts: Vec<&str> = s.split(',').collect();
    let _ = build::account_flags(&parts);
    let _ = build::trustline_flags(&parts);
    let _ = s.parse::<Authorize>();
    let _ = keys::seed_from_text(s, 0);
}

/// `sep7`: a SEP-7 `web+stellar:tx?…` URI. What parses and carries an envelope must come back
/// the same through `tx_uri`.
pub fn sep7(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tx) = sep7::parse_tx_uri(text) else {
        return;
    };
    let uri = sep7::tx_uri(&tx.xdr, tx.network_passphrase.as_deref());
    let back = sep7::parse_tx_uri(&uri).expect("a URI written by tx_uri parses");
    assert_eq!(back.xdr, tx.xdr, "SEP-7 round trip changed the xdr");
    assert_eq!(back.network_passphrase, tx.network_passphrase);
    if let Ok(env) = envelope::decode(&tx.xdr) {
        exercise_envelope(&env);
    }
}

/// `frames`: `ur:bytes/…` frames, one per line, fed in the order given (repeats, gaps and
/// strangers included). A completed message must re-encode to frames that decode to it again.
pub fn frames(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut assembler = FrameAssembler::new();
    let mut carried = carry::Frames::new();
    for line in text.lines() {
        let _ = assembler.feed(line);
        let _ = carried.feed(line, "fuzz input");
    }
    let progress = assembler.progress();
    assert!(progress.fragments_resolved <= progress.parts_needed || progress.complete);
    let _ = carried.finish();
    let Some(bytes) = assembler.finish() else {
        return;
    };
    assert!(progress.complete);
    for density in [QrDensity::Low, QrDensity::High] {
        if let Ok(parts) = frames::encode_frames(&bytes, density) {
            assert_eq!(
                frames::decode_frames(&parts).ok().as_ref(),
                Some(&bytes),
                "frames round trip"
            );
        }
    }
    if let Ok(env) = envelope::decode_bytes(&bytes) {
        exercise_envelope(&env);
    }
}

/// `qr_image`: a picture (PNG, JPEG, GIF) that may hold QR codes.
pub fn qr_image(data: &[u8]) {
    if let Ok(payloads) = qr_decode::decode_image(data) {
        assert!(!payloads.is_empty());
    }
}

/// `carry`: anything an operator hands the online side (a blob file, a QR photo or GIF, `ur:`
/// frames, a SEP-7 URI): the pieces it holds, frames assembled, envelopes decoded and reviewed.
pub fn carry(data: &[u8]) {
    let Ok(pieces) = carry::pieces(data) else {
        return;
    };
    let mut frames = carry::Frames::new();
    for piece in pieces {
        match piece {
            Piece::Envelope { base64, .. } => {
                if let Ok(env) = envelope::decode(&base64) {
                    exercise_envelope(&env);
                }
            }
            Piece::Part(part) => {
                let _ = frames.feed(&part, "fuzz input");
            }
        }
    }
    if !frames.is_empty() {
        if let Ok(env) = frames.finish() {
            exercise_envelope(&env);
        }
    }
}

/// An account context (`--account`) from a stranger's bytes: JSON, an image of QR codes, or `ur:`
/// parts. When it reads, its network check, age and text never panic, and its signer set is
/// what `weights` reads from the same JSON.
pub fn context(data: &[u8]) {
    let Ok(c) = context::from_bytes(data) else {
        return;
    };
    for n in networks() {
        let _ = c.check_network(&n);
    }
    let _ = c.is_stale(NOW);
    let _ = c.age(0);
    let text = c.to_text(NOW);
    assert!(
        text.lines().all(|l| crate::text::unprintable(l).is_none()),
        "the context's text is printable"
    );
    assert!(c.next_sequence >= 0 && c.sequence >= 0);
}
