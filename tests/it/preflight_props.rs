//! The property behind `inspect`'s prediction: for random multi-operation transactions over
//! random ledger states, the result codes `inspect` predicts (the sandbox's engine applied to the
//! entries read back from Horizon) are the codes `submit` then gets from the sandbox, and the
//! same prediction is made from the entries Stellar RPC gives (`inspect --rpc`).
//!
//! Each case makes five accounts (four funded, one left for `create_account`), then walks
//! through a few random transactions: trustlines made, authorized, deauthorized and removed,
//! account flags, thresholds and signers, data entries, payments and clawbacks, merges, with
//! signatures sometimes missing, sequence numbers sometimes wrong, time bounds sometimes closed,
//! fees sometimes too low, and some wrapped in fee bumps. Each transaction is inspected, then submitted; the ledger it leaves is the next one's.
//! Cases: 16 by default (a few seconds); `PROPTEST_CASES` for more.

use crate::relay_support::*;
use crate::util::show;
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::{Asset, AssetCode};
use airgap::build::{
    self, Authorize, MemoSpec, OpBody, OpSpec, SetOptionsSpec, TimeWindow, TxSpec,
};
use airgap::envelope;
use airgap::keys::SecretSeed;
use airgap::network::Network;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

const NET: Network = Network::Standalone;
/// Accounts per case; the last is not funded (a `create_account` destination).
const POOL: usize = 5;

#[derive(Clone, Debug)]
struct Credit {
    /// USD or EUR.
    eur: bool,
    /// By pool index; `None`: the operation's own source (an issuer acting on its asset).
    issuer: Option<usize>,
}

#[derive(Clone, Debug)]
enum Op {
    Create {
        dest: usize,
        balance: u8,
    },
    Pay {
        dest: usize,
        asset: Option<Credit>,
        amount: u8,
    },
    Trust {
        asset: Credit,
        limit: u8,
    },
    Allow {
        trustor: usize,
        eur: bool,
        authorize: u8,
    },
    Flags {
        trustor: usize,
        asset: Credit,
        set: u32,
        clear: u32,
    },
    Options(Box<Options>),
    Clawback {
        from: usize,
        asset: Credit,
        amount: u8,
    },
    Data {
        name: bool,
        value: Option<u8>,
    },
    Bump {
        ahead: u8,
    },
    Merge {
        dest: usize,
    },
}

#[derive(Clone, Debug)]
struct Options {
    set: Option<u32>,
    clear: Option<u32>,
    master: Option<u8>,
    thresholds: Option<(u8, u8, u8)>,
    signer: Option<(usize, u8)>,
    domain: bool,
}

#[derive(Clone, Debug)]
struct Tx {
    source: usize,
    ops: Vec<(Option<usize>, Op)>,
    /// Whose keys sign, by pool index (the source's and the operations' sources' mostly).
    extra_signer: Option<usize>,
    leave_out: Option<usize>,
    /// 0: the next sequence number; otherwise off by this much.
    seq_off: i8,
    /// 0: valid for the next hour; 1: not valid yet; 2: expired.
    time: u8,
    cheap: bool,
    /// Wrapped in a fee bump paid (and signed) by this account.
    fee_bump: Option<usize>,
}

/// A case is its transactions; the accounts are new keys each time it runs (so that a case run
/// again while shrinking starts from fresh accounts).
#[derive(Clone, Debug)]
struct Case {
    txs: Vec<Tx>,
}

fn who() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0..POOL - 1, 1 => Just(POOL - 1)]
}

/// An asset of one of the first two accounts.
fn credit() -> impl Strategy<Value = Credit> {
    (any::<bool>(), 0..2usize).prop_map(|(eur, issuer)| Credit {
        eur,
        issuer: Some(issuer),
    })
}

/// An asset for an issuer's operation: mostly the operation's source's own.
fn own_credit() -> impl Strategy<Value = Credit> {
    prop_oneof![
        4 => any::<bool>().prop_map(|eur| Credit { eur, issuer: None }),
        1 => credit(),
    ]
}

/// Trustline flags to set (clawback cannot be set: that is malformed) and to clear.
fn set_flags() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), Just(1), Just(2)]
}

fn clear_flags() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), Just(1), Just(2), Just(4)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (who(), prop_oneof![Just(0u8), Just(10), Just(50)])
            .prop_map(|(dest, balance)| Op::Create { dest, balance }),
        4 => (who(), proptest::option::of(credit()), 1..=50u8)
            .prop_map(|(dest, asset, amount)| Op::Pay { dest, asset, amount }),
        4 => (credit(), prop_oneof![4 => Just(255u8), 1 => Just(0), 1 => 1..=20u8])
            .prop_map(|(asset, limit)| Op::Trust { asset, limit }),
        2 => (who(), any::<bool>(), 0..=2u8)
            .prop_map(|(trustor, eur, authorize)| Op::Allow { trustor, eur, authorize }),
        3 => (who(), own_credit(), set_flags(), clear_flags())
            .prop_map(|(trustor, asset, set, clear)| Op::Flags { trustor, asset, set, clear }),
        3 => (
            proptest::option::of(prop_oneof![Just(1u32), Just(2), Just(3), Just(10), Just(4)]),
            proptest::option::of(prop_oneof![Just(1u32), Just(2), Just(8)]),
            proptest::option::of(prop_oneof![9 => Just(1u8), 1 => Just(0), 1 => Just(2)]),
            proptest::option::of((0..=2u8, 0..=2u8, 0..=2u8)),
            proptest::option::of((who(), 0..=2u8)),
            any::<bool>(),
        )
            .prop_map(|(set, clear, master, thresholds, signer, domain)| {
                Op::Options(Box::new(Options { set, clear, master, thresholds, signer, domain }))
            }),
        1 => (who(), own_credit(), 1..=20u8)
            .prop_map(|(from, asset, amount)| Op::Clawback { from, asset, amount }),
        2 => (any::<bool>(), prop_oneof![3 => any::<u8>().prop_map(Some), 1 => Just(None)])
            .prop_map(|(name, value)| Op::Data { name, value }),
        1 => (0..=2u8).prop_map(|ahead| Op::Bump { ahead }),
        1 => who().prop_map(|dest| Op::Merge { dest }),
    ]
}

fn tx() -> impl Strategy<Value = Tx> {
    (
        0..POOL - 1,
        proptest::collection::vec(
            (
                prop_oneof![4 => Just(None), 1 => who().prop_map(Some)],
                op(),
            ),
            1..=3,
        ),
        prop_oneof![9 => Just(None), 1 => (0..POOL).prop_map(Some)],
        prop_oneof![9 => Just(None), 1 => (0..POOL).prop_map(Some)],
        prop_oneof![18 => Just(0i8), 1 => Just(1), 1 => Just(-1)],
        prop_oneof![18 => Just(0u8), 1 => Just(1), 1 => Just(2)],
        prop_oneof![19 => Just(false), 1 => Just(true)],
        prop_oneof![7 => Just(None), 1 => who().prop_map(Some)],
    )
        .prop_map(
            |(source, ops, extra_signer, leave_out, seq_off, time, cheap, fee_bump)| Tx {
                source,
                ops,
                extra_signer,
                leave_out,
                seq_off,
                time,
                cheap,
                fee_bump,
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    proptest::collection::vec(tx(), 1..=8).prop_map(|txs| Case { txs })
}

fn stroops(units_tenths: u8) -> Amount {
    Amount::from_stroops(i64::from(units_tenths) * 1_000_000).expect("amount")
}

/// The operation as the library's builder takes it (`source`: the operation's source).
fn spec(op: &Op, ids: &[AccountId], source: usize) -> OpBody {
    let asset = |c: &Credit| -> Asset {
        let issuer = ids[c.issuer.unwrap_or(source)];
        format!("{}:{}", if c.eur { "EUR" } else { "USD" }, issuer)
            .parse()
            .expect("asset")
    };
    match op {
        Op::Create { dest, balance } => OpBody::CreateAccount {
            destination: ids[*dest],
            starting_balance: Amount::from_stroops(i64::from(*balance) * 10_000_000)
                .expect("amount"),
        },
        Op::Pay {
            dest,
            asset: a,
            amount,
        } => OpBody::Payment {
            destination: ids[*dest],
            asset: a.as_ref().map_or(Asset::Native, asset),
            amount: stroops(*amount),
        },
        Op::Trust { asset: a, limit } => OpBody::ChangeTrust {
            asset: asset(a),
            limit: (*limit != 255).then(|| stroops(*limit)),
        },
        Op::Allow {
            trustor,
            eur,
            authorize,
        } => OpBody::AllowTrust {
            trustor: ids[*trustor],
            code: (if *eur { "EUR" } else { "USD" })
                .parse::<AssetCode>()
                .expect("code"),
            authorize: match authorize {
                0 => Authorize::None,
                1 => Authorize::Full,
                _ => Authorize::MaintainLiabilities,
            },
        },
        Op::Flags {
            trustor,
            asset: a,
            set,
            clear,
        } => OpBody::SetTrustLineFlags {
            trustor: ids[*trustor],
            asset: asset(a),
            set: *set,
            clear: *clear,
        },
        Op::Options(o) => OpBody::SetOptions(SetOptionsSpec {
            set_flags: o.set,
            clear_flags: o.clear,
            home_domain: o.domain.then(|| "example.com".to_string()),
            master_weight: o.master,
            low_threshold: o.thresholds.map(|t| t.0),
            med_threshold: o.thresholds.map(|t| t.1),
            high_threshold: o.thresholds.map(|t| t.2),
            signer: o.signer.map(|(w, weight)| (ids[w], weight)),
            inflation_dest: None,
        }),
        Op::Clawback {
            from,
            asset: a,
            amount,
        } => OpBody::Clawback {
            from: ids[*from],
            asset: asset(a),
            amount: stroops(*amount),
        },
        Op::Data { name, value } => OpBody::ManageData {
            name: (if *name { "b" } else { "a" }).into(),
            value: value.map(|v| vec![v]),
        },
        Op::Bump { ahead } => OpBody::BumpSequence {
            to: i64::from(*ahead),
        },
        Op::Merge { dest } => OpBody::AccountMerge {
            destination: ids[*dest],
        },
    }
}

/// The account's next sequence number as the relay reads it (1 when it does not exist).
fn next_sequence(sb: &Sandbox, id: &AccountId) -> i64 {
    let o = run(&["account", "--horizon", &sb.url, "--json", &id.to_string()]);
    if code(&o) != 0 {
        return 1;
    }
    records(&o)[0]["next_sequence"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// `inspect --json` of one blob over `backend` (`--horizon` or `--rpc`) at `url`.
fn inspect_one(backend: &str, url: &str, blob: &str) -> Value {
    let o = inspect_over(backend, url, &[blob]);
    records(&o)
        .pop()
        .unwrap_or_else(|| panic!("no inspect record: {}", show(&o)))
}

/// What must not depend on the backend: the prediction (but the ledger it read, which may have
/// closed in between), and each check's verdict (but the fee's, from each server's statistics).
fn comparable(record: &Value) -> Value {
    let prediction = prediction_of(record);
    let checks: Vec<Value> = record["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["check"] != "fee")
                .map(|c| serde_json::json!([c["check"], c["outcome"], c["code"], c["would_fail"]]))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({ "prediction": prediction, "checks": checks })
}

/// How many transactions ended how (the submit's codes), over the whole run: printed at the end,
/// so a run that compares little (every transaction refused by the builder, say) shows it.
type Tally = std::sync::Mutex<std::collections::BTreeMap<String, usize>>;

fn one_case(sb: &Sandbox, c: &Case, tally: &Tally) -> Result<(), TestCaseError> {
    let keys: Vec<SecretSeed> = (0..POOL)
        .map(|_| SecretSeed::generate().expect("seed"))
        .collect();
    // A bank per case funds the accounts (friendbot only funds new accounts, once each).
    let bank = &SecretSeed::generate().expect("seed");
    sb.fund(&bank.public_key());
    let ids: Vec<AccountId> = keys.iter().map(SecretSeed::public_key).collect();
    let funded: Vec<OpSpec> = ids[..POOL - 1]
        .iter()
        .map(|id| {
            OpSpec::new(OpBody::CreateAccount {
                destination: *id,
                starting_balance: "100".parse().expect("amount"),
            })
        })
        .collect();
    let bank_id = bank.public_key();
    submit_all(
        sb,
        &[blob_signed_by(
            &bank_id,
            next_sequence(sb, &bank_id),
            funded,
            &[bank],
            &NET,
            next_hour(),
        )],
    );
    let dir = tempfile::tempdir().expect("temp dir");
    for (step, t) in c.txs.iter().enumerate() {
        let source = ids[t.source];
        let ops: Vec<OpSpec> = t
            .ops
            .iter()
            .map(|(src, op)| OpSpec {
                source: src.map(|s| ids[s]),
                body: spec(op, &ids, src.unwrap_or(t.source)),
            })
            .collect();
        let mut signers: Vec<usize> = vec![t.source];
        signers.extend(t.ops.iter().filter_map(|(s, _)| *s));
        signers.extend(t.extra_signer);
        signers.sort_unstable();
        signers.dedup();
        signers.retain(|s| Some(*s) != t.leave_out);
        let now = now();
        let time = match t.time {
            0 => TimeWindow {
                min: 0,
                max: now + 3600,
            },
            1 => TimeWindow {
                min: now + 3600,
                max: now + 7200,
            },
            _ => TimeWindow {
                min: 0,
                max: now - 1000,
            },
        };
        let sequence = next_sequence(sb, &source) + i64::from(t.seq_off);
        let tx_spec = TxSpec {
            network: NET,
            source,
            sequence,
            base_fee: if t.cheap { 50 } else { 100 },
            time,
            memo: MemoSpec::None,
            operations: ops,
        };
        let Ok(built) = build::build(&tx_spec) else {
            // Not a transaction the library builds (flags set and cleared at once, …).
            *tally
                .lock()
                .unwrap()
                .entry("(not built)".into())
                .or_default() += 1;
            continue;
        };
        let mut env = build::envelope(built);
        for s in &signers {
            envelope::sign(&mut env, &NET, &keys[*s]).expect("sign");
        }
        if let Some(payer) = t.fee_bump {
            let max_fee = 200 * (i64::try_from(t.ops.len()).unwrap_or(1) + 1);
            let Ok(mut outer) = airgap::feebump::wrap(&env, ids[payer], max_fee) else {
                *tally
                    .lock()
                    .unwrap()
                    .entry("(not built)".into())
                    .or_default() += 1;
                continue;
            };
            envelope::sign(&mut outer, &NET, &keys[payer]).expect("sign");
            env = outer;
        }
        let path = write(dir.path(), &format!("{step}.xdr"), &envelope::encode(&env));
        let p = path.to_str().expect("path");
        let i = inspect_one("--horizon", &sb.url, p);
        // The same prediction from the entries Stellar RPC gives (getLedgerEntries by key).
        let r = inspect_one("--rpc", &format!("{}/rpc", sb.url), p);
        prop_assert_eq!(
            comparable(&r),
            comparable(&i),
            "step {} of {:#?}: over RPC\n{}\nover Horizon\n{}",
            step,
            c,
            r,
            i
        );
        let submitted = run(&[
            "submit",
            "--horizon",
            &sb.url,
            "--json",
            "--timeout",
            "20s",
            p,
        ]);
        let s = records(&submitted).pop().expect("a submit record");
        let context = || {
            format!(
                "step {step} of {c:#?}\ninspect: {i}\nsubmit: {s}\n{}",
                show(&submitted)
            )
        };
        if s["status"] == "error" {
            // Refused by the relay before sending (a signature by no signer): inspect says so.
            let refused = i["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .any(|c| c["check"] == "signatures" && c["would_fail"] == true);
            prop_assert!(
                refused,
                "submit refused it, inspect did not say so: {}",
                context()
            );
            continue;
        }
        prop_assert_ne!(
            &i["prediction"]["outcome"],
            &Value::from("unknown"),
            "{}",
            context()
        );
        prop_assert_eq!(
            codes_of(&i["prediction"]["result_codes"]),
            codes_of(&s["result_codes"]),
            "{}",
            context()
        );
        let key = codes_of(&s["result_codes"]).unwrap_or_default();
        *tally.lock().unwrap().entry(key).or_default() += 1;
    }
    Ok(())
}

#[test]
fn inspect_predicts_the_codes_submit_gets() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let sb = Sandbox::start(&[]);
    let mut runner = TestRunner::new(Config {
        cases,
        // Each case runs the relay a dozen times: shrink, but not for ever.
        max_shrink_iters: 64,
        ..Config::default()
    });
    let tally = Tally::default();
    let result = runner.run(&case(), |c| one_case(&sb, &c, &tally));
    let tally = tally.into_inner().unwrap();
    eprintln!(
        "{} transactions, predicted and submitted:",
        tally.values().sum::<usize>()
    );
    for (codes, n) in &tally {
        eprintln!("  {n:4}  {codes}");
    }
    if let Err(e) = result {
        panic!("{e}");
    }
}
