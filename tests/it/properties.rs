//! Property tests: amounts print and parse back for every value; any envelope the builder makes
//! from a random valid `TxSpec` survives every encoding the tools carry it in (base64, raw XDR,
//! stellar-xdr's own round trip, txrep, SEP-7 URIs, UR frames in any rotation) unchanged, signed
//! or not, bare or inside a fee bump, and review describes it without error.
//!
//! Case counts are modest so `cargo test` stays fast; raise them for a longer run with
//! `PROPTEST_CASES=10000 cargo test --test it properties::`.
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::{Asset, AssetCode};
use airgap::build::{
    self, Authorize, MemoSpec, OpBody, OpSpec, SetOptionsSpec, TimeWindow, TxSpec,
};
use airgap::carry::{self, Piece};
use airgap::envelope;
use airgap::frames::{self, FrameAssembler};
use airgap::keys::SecretSeed;
use airgap::network::Network;
use airgap::qr::encode::QrDensity;
use airgap::review;
use airgap::sep7;
use airgap::txrep;
use proptest::prelude::*;
use stellar_xdr::{
    FeeBumpTransaction, FeeBumpTransactionEnvelope, FeeBumpTransactionExt,
    FeeBumpTransactionInnerTx, Limits, ReadXdr, TransactionEnvelope, VecM, WriteXdr,
};
use zeroize::Zeroizing;

const NOW: u64 = 1_800_000_000;

fn config(cases: u32) -> ProptestConfig {
    // PROPTEST_CASES in the environment overrides the default given here.
    let from_env = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig {
        cases: from_env.unwrap_or(cases),
        ..ProptestConfig::default()
    }
}

fn account() -> impl Strategy<Value = AccountId> {
    any::<[u8; 32]>().prop_map(AccountId)
}

fn code() -> impl Strategy<Value = AssetCode> {
    "[A-Za-z0-9]{1,12}".prop_map(|s| s.parse().expect("generated code is valid"))
}

fn credit() -> impl Strategy<Value = Asset> {
    (code(), account()).prop_map(|(code, issuer)| Asset::Credit { code, issuer })
}

fn asset() -> impl Strategy<Value = Asset> {
    prop_oneof![1 => Just(Asset::Native), 3 => credit()]
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        (0..=i64::MAX),
        (0i64..1_000_000_000),
        Just(0i64),
        Just(i64::MAX)
    ]
    .prop_map(|n| Amount::from_stroops(n).unwrap())
}

fn positive() -> impl Strategy<Value = Amount> {
    prop_oneof![(1..=i64::MAX), (1i64..1_000_000_000)]
        .prop_map(|n| Amount::from_stroops(n).unwrap())
}

/// Disjoint (set, clear) flag bits below `limit` (unknown bits included: the XDR carries any u32).
fn disjoint_flags(limit: u32) -> impl Strategy<Value = (u32, u32)> {
    (0..limit, 0..limit).prop_map(|(set, clear)| (set, clear & !set))
}

/// Text of at most `max_bytes` UTF-8 bytes, ASCII or not.
fn text(max_bytes: usize, min_bytes: usize) -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,64}", "\\PC{0,20}", ".{0,16}"].prop_filter_map(
        "byte length out of range",
        move |s| {
            let mut s: String = s;
            while s.len() > max_bytes {
                s.pop();
            }
            (s.len() >= min_bytes).then_some(s)
        },
    )
}

fn set_options() -> impl Strategy<Value = SetOptionsSpec> {
    (
        proptest::option::of(disjoint_flags(16)),
        proptest::option::of(text(32, 0)),
        proptest::option::of(any::<u8>()),
        (
            proptest::option::of(any::<u8>()),
            proptest::option::of(any::<u8>()),
            proptest::option::of(any::<u8>()),
        ),
        proptest::option::of((account(), any::<u8>())),
        proptest::option::of(account()),
        any::<(bool, bool)>(),
    )
        .prop_map(
            |(
                flags,
                home_domain,
                master_weight,
                (low, med, high),
                signer,
                inflation_dest,
                (s, c),
            )| {
                let (set, clear) = flags.unwrap_or((0, 0));
                SetOptionsSpec {
                    set_flags: (flags.is_some() && s).then_some(set),
                    clear_flags: (flags.is_some() && c).then_some(clear),
                    home_domain,
                    master_weight,
                    low_threshold: low,
                    med_threshold: med,
                    high_threshold: high,
                    signer,
                    inflation_dest,
                }
            },
        )
}

/// One operation of each of the ten kinds the builder makes, with valid values.
fn op_body() -> impl Strategy<Value = OpBody> {
    prop_oneof![
        (account(), amount()).prop_map(|(destination, starting_balance)| OpBody::CreateAccount {
            destination,
            starting_balance
        }),
        (account(), asset(), positive()).prop_map(|(destination, asset, amount)| {
            OpBody::Payment {
                destination,
                asset,
                amount,
            }
        }),
        (credit(), proptest::option::of(amount()))
            .prop_map(|(asset, limit)| OpBody::ChangeTrust { asset, limit }),
        (
            account(),
            code(),
            prop_oneof![
                Just(Authorize::Full),
                Just(Authorize::MaintainLiabilities),
                Just(Authorize::None)
            ]
        )
            .prop_map(|(trustor, code, authorize)| OpBody::AllowTrust {
                trustor,
                code,
                authorize
            }),
        (account(), credit(), disjoint_flags(8)).prop_map(|(trustor, asset, (set, clear))| {
            OpBody::SetTrustLineFlags {
                trustor,
                asset,
                set,
                clear,
            }
        }),
        set_options().prop_map(OpBody::SetOptions),
        (account(), credit(), positive()).prop_map(|(from, asset, amount)| OpBody::Clawback {
            from,
            asset,
            amount
        }),
        (
            text(64, 1),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..=64))
        )
            .prop_map(|(name, value)| OpBody::ManageData { name, value }),
        any::<i64>().prop_map(|to| OpBody::BumpSequence { to }),
        account().prop_map(|destination| OpBody::AccountMerge { destination }),
    ]
}

fn op() -> impl Strategy<Value = OpSpec> {
    (proptest::option::of(account()), op_body()).prop_map(|(source, body)| OpSpec { source, body })
}

fn memo() -> impl Strategy<Value = MemoSpec> {
    prop_oneof![
        Just(MemoSpec::None),
        text(28, 0).prop_map(MemoSpec::Text),
        any::<u64>().prop_map(MemoSpec::Id),
        any::<[u8; 32]>().prop_map(MemoSpec::Hash),
        any::<[u8; 32]>().prop_map(MemoSpec::Return),
    ]
}

fn network() -> impl Strategy<Value = Network> {
    prop_oneof![
        Just(Network::Pubnet),
        Just(Network::Testnet),
        Just(Network::Futurenet),
        Just(Network::Standalone),
        "[A-Za-z]{1,10} [ -~]{0,30}".prop_map(Network::Custom),
    ]
}

fn time_window() -> impl Strategy<Value = TimeWindow> {
    prop_oneof![
        Just(TimeWindow { min: 0, max: 0 }),
        any::<u64>().prop_map(|min| TimeWindow { min, max: 0 }),
        (any::<u64>(), any::<u64>()).prop_map(|(a, b)| TimeWindow {
            min: a.min(b),
            max: a.max(b).max(1)
        }),
        (0u64..4_000_000_000, 0u64..100_000).prop_map(|(min, len)| TimeWindow {
            min,
            max: min + len + 1
        }),
    ]
}

fn tx_spec() -> impl Strategy<Value = TxSpec> {
    (
        network(),
        account(),
        1..=i64::MAX,
        // Up to 100 operations: base fee × operations must fit in a u32.
        0..=(u32::MAX / 100),
        time_window(),
        memo(),
        prop_oneof![
            8 => proptest::collection::vec(op(), 1..=5),
            1 => proptest::collection::vec(op(), 1..=100)
        ],
    )
        .prop_map(
            |(network, source, sequence, base_fee, time, memo, operations)| TxSpec {
                network,
                source,
                sequence,
                base_fee,
                time,
                memo,
                operations,
            },
        )
}

/// How the envelope travels: bare, signed by one or two keys, or signed and fee-bumped.
#[derive(Clone, Debug)]
enum Wrapping {
    Bare,
    Signed(Vec<[u8; 32]>),
    FeeBump {
        seeds: Vec<[u8; 32]>,
        fee_source: AccountId,
        fee: i64,
    },
}

fn wrapping() -> impl Strategy<Value = Wrapping> {
    let seeds = proptest::collection::vec(any::<[u8; 32]>(), 1..=2);
    prop_oneof![
        Just(Wrapping::Bare),
        seeds.clone().prop_map(Wrapping::Signed),
        (seeds, account(), 0..=i64::MAX).prop_map(|(seeds, fee_source, fee)| {
            Wrapping::FeeBump {
                seeds,
                fee_source,
                fee,
            }
        }),
    ]
}

fn seed(bytes: &[u8; 32]) -> SecretSeed {
    SecretSeed::from_bytes(Zeroizing::new(*bytes))
}

fn wrap(spec: &TxSpec, w: &Wrapping) -> TransactionEnvelope {
    let mut env = build::envelope(build::build(spec).expect("a valid spec builds"));
    match w {
        Wrapping::Bare => env,
        Wrapping::Signed(seeds) => {
            for s in seeds {
                envelope::sign(&mut env, &spec.network, &seed(s)).expect("sign");
            }
            env
        }
        Wrapping::FeeBump {
            seeds,
            fee_source,
            fee,
        } => {
            let TransactionEnvelope::Tx(inner) = env else {
                unreachable!("build makes v1 envelopes")
            };
            let mut fb = TransactionEnvelope::TxFeeBump(FeeBumpTransactionEnvelope {
                tx: FeeBumpTransaction {
                    fee_source: fee_source.to_muxed(),
                    fee: *fee,
                    inner_tx: FeeBumpTransactionInnerTx::Tx(inner),
                    ext: FeeBumpTransactionExt::V0,
                },
                signatures: VecM::default(),
            });
            for s in seeds {
                envelope::sign(&mut fb, &spec.network, &seed(s)).expect("sign");
            }
            fb
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn amount_display_round_trips(n in prop_oneof![0..=i64::MAX, 0i64..100_000_000, Just(i64::MAX)]) {
        let a = Amount::from_stroops(n).unwrap();
        prop_assert_eq!(a.to_string().parse::<Amount>(), Ok(a));
        prop_assert_eq!(a.to_horizon_string().parse::<Amount>(), Ok(a));
        prop_assert_eq!(a.stroops(), n);
        // Horizon's form always has exactly 7 decimal places.
        let h = a.to_horizon_string();
        prop_assert_eq!(h.split_once('.').map(|(_, f)| f.len()), Some(7));
    }

    #[test]
    fn negative_stroops_are_refused(n in i64::MIN..0) {
        prop_assert!(Amount::from_stroops(n).is_err());
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn built_envelopes_survive_every_encoding(spec in tx_spec(), w in wrapping()) {
        let env = wrap(&spec, &w);

        // The tool's own encodings.
        let b64 = envelope::encode(&env);
        prop_assert_eq!(envelope::decode(&b64), Ok(env.clone()));
        let bytes = envelope::to_bytes(&env);
        prop_assert_eq!(envelope::decode_bytes(&bytes), Ok(env.clone()));
        // Wrapped across lines, as in a file.
        let wrapped: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        prop_assert_eq!(envelope::decode(&wrapped.join("\n")), Ok(env.clone()));

        // stellar-xdr's own round trip, and agreement with ours.
        let xdr = env.to_xdr(Limits::none()).unwrap();
        prop_assert_eq!(&xdr, &bytes);
        prop_assert_eq!(TransactionEnvelope::from_xdr(&xdr, Limits::none()).unwrap(), env.clone());
        prop_assert_eq!(
            TransactionEnvelope::from_xdr_base64(&b64, Limits::none()).unwrap(),
            env.clone()
        );

        // txrep.
        let text = txrep::to_txrep(&env).expect("every built envelope has a txrep");
        prop_assert_eq!(txrep::from_txrep(&text), Ok(env.clone()), "txrep:\n{}", text);

        // Review: never an error for what the builder makes, one entry per operation, and the
        // hash it shows is the one signatures cover.
        for now in [NOW, 0, u64::MAX] {
            let r = review::review(&env, &spec.network, now, &[]).expect("review");
            prop_assert_eq!(r.operations.len(), spec.operations.len());
            prop_assert_eq!(r.hash.clone(), hex::encode(envelope::hash(&env, &spec.network)));
            prop_assert!(!r.to_text().is_empty());
        }
        prop_assert_eq!(envelope::source(&env), spec.source);
        prop_assert_eq!(envelope::sequence(&env), spec.sequence);
    }

    #[test]
    fn signatures_name_their_signers(spec in tx_spec(), s in any::<[u8; 32]>()) {
        let mut env = build::envelope(build::build(&spec).expect("a valid spec builds"));
        let key = seed(&s);
        envelope::sign(&mut env, &spec.network, &key).unwrap();
        let back = envelope::decode(&envelope::encode(&env)).unwrap();
        let r = review::review(&back, &spec.network, NOW, &[key.public_key()]).unwrap();
        prop_assert_eq!(r.signatures.len(), 1);
        prop_assert_eq!(r.signatures[0].signer, Some(key.public_key()));
    }

    #[test]
    fn built_envelopes_survive_sep7_and_frames(
        spec in tx_spec(),
        w in wrapping(),
        density in prop_oneof![Just(QrDensity::Low), Just(QrDensity::Medium), Just(QrDensity::High)],
        rotate in any::<usize>(),
    ) {
        let env = wrap(&spec, &w);
        let b64 = envelope::encode(&env);

        // SEP-7, with and without a passphrase, directly and as the relay reads a file.
        let passphrase = spec.network.passphrase();
        let uri = sep7::tx_uri(&b64, Some(passphrase));
        let tx = sep7::parse_tx_uri(&uri).expect("parse what tx_uri wrote");
        prop_assert_eq!(envelope::decode(&tx.xdr), Ok(env.clone()));
        prop_assert_eq!(tx.network_passphrase.as_deref(), Some(passphrase));
        let bare = sep7::parse_tx_uri(&sep7::tx_uri(&b64, None)).unwrap();
        prop_assert_eq!(bare.network_passphrase, None);
        prop_assert_eq!(envelope::decode(&bare.xdr), Ok(env.clone()));
        match carry::pieces(uri.as_bytes()).unwrap().as_slice() {
            [Piece::Envelope { base64, sep7_passphrase }] => {
                prop_assert_eq!(envelope::decode(base64), Ok(env.clone()));
                prop_assert_eq!(sep7_passphrase.clone(), Some(Some(passphrase.to_string())));
            }
            other => prop_assert!(false, "pieces of a SEP-7 URI: {:?}", other),
        }

        // UR frames: in order, and starting anywhere in the loop (as a camera joins it).
        let bytes = envelope::to_bytes(&env);
        let parts = frames::encode_frames(&bytes, density).expect("frames");
        prop_assert_eq!(frames::decode_frames(&parts).ok(), Some(bytes.clone()));
        let start = rotate % parts.len();
        let mut assembler = FrameAssembler::new();
        for p in parts[start..].iter().chain(&parts[..start]) {
            assembler.feed(p).expect("feed a part of this message");
        }
        prop_assert!(assembler.progress().complete);
        let assembled = assembler.finish().expect("complete");
        prop_assert_eq!(envelope::decode_bytes(&assembled), Ok(env.clone()));
        // Lower case, as some readers return them, one frame per line through carry.
        let text = parts.iter().map(|p| p.to_ascii_lowercase()).collect::<Vec<_>>().join("\n");
        let mut collected = carry::Frames::new();
        for piece in carry::pieces(text.as_bytes()).unwrap() {
            let Piece::Part(part) = piece else {
                return Err(TestCaseError::fail("a frame read as a whole envelope"));
            };
            collected.feed(&part, "frames.txt").unwrap();
        }
        prop_assert_eq!(collected.finish().unwrap(), env);
    }
}
