#!/usr/bin/env python3
"""Python stellar-sdk oracle for tests/it/txrep_sdk.rs (SEP-11 txrep).

  oracle.py cases   Builds every test envelope with the SDK and prints a JSON list of
                    {"name", "xdr", "txrep", "sdk_self_roundtrip", "sdk_self_error",
                    "sdk_self_xdr"}:
                    xdr is the SDK-built envelope (base64), txrep is the SDK's to_txrep of it,
                    sdk_self_roundtrip tells whether the SDK's from_txrep reads its own txrep
                    back to the same XDR, sdk_self_xdr is what it read (null on error).
  oracle.py parse   Reads a JSON list of txrep texts on stdin and prints a JSON list of
                    {"xdr"} or {"error"}: the SDK's from_txrep of each, as base64 XDR.

Needs stellar-sdk (tested with 16.1.1): pip install 'stellar-sdk==16.1.1'
"""

import json
import sys

try:
    from stellar_sdk import (
        Account,
        Asset,
        AuthorizationFlag,
        Keypair,
        LiquidityPoolAsset,
        MuxedAccount,
        Network,
        Signer,
        SignerKey,
        TransactionBuilder,
        TrustLineEntryFlag,
        TrustLineFlags,
    )
    from stellar_sdk.helpers import parse_transaction_envelope_from_xdr
    from stellar_sdk.memo import TextMemo
    from stellar_sdk.operation import SetOptions
    from stellar_sdk.sep.txrep import from_txrep, to_txrep
    from stellar_sdk.signer_key import SignedPayloadSigner
except ImportError as e:  # pragma: no cover - environment problem
    sys.stderr.write(
        f"the Python stellar-sdk is not importable ({e}); "
        "install it with: pip install 'stellar-sdk==16.1.1'\n"
    )
    sys.exit(3)

import warnings

warnings.simplefilter("ignore")  # allow_trust is deprecated, still built by issuers

NET = Network.TESTNET_NETWORK_PASSPHRASE


def kp(i):
    return Keypair.from_raw_ed25519_seed(bytes([i]) * 32)


ISSUER = kp(1)
K2 = kp(2)
K3 = kp(3)
K4 = kp(4)
USD = Asset("USD", ISSUER.public_key)
LONG = Asset("LONGASSET123", ISSUER.public_key)
FIVE = Asset("ABCDE", ISSUER.public_key)


def muxed(k, mid):
    return MuxedAccount(k.public_key, mid).account_muxed


def builder(source=None, seq=46489056724385792, fee=100, v1=True):
    return TransactionBuilder(
        Account(source or ISSUER.public_key, seq), NET, base_fee=fee, v1=v1
    )


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def create_account_and_native_payment():
    b = builder()
    b.append_create_account_op(K2.public_key, "1000.5")
    b.append_payment_op(K2.public_key, Asset.native(), "12.3456789")
    return b.build()


@case
def payment_muxed_everywhere():
    b = builder(source=muxed(ISSUER, 9007199254740993))
    b.append_payment_op(muxed(K2, 0), USD, "0.0000001", source=muxed(K3, 42))
    b.append_payment_op(K2.public_key, LONG, "0.000001", source=K3.public_key)
    b.append_payment_op(K2.public_key, FIVE, "922337203685.4775807")
    b.append_payment_op(K2.public_key, USD, "0.0000015")
    b.append_payment_op(K2.public_key, USD, "100")
    return b.build()


@case
def memo_text_plain():
    return builder().add_text_memo("Enjoy this transaction").append_bump_sequence_op(
        1
    ).build()


@case
def memo_text_escapes():
    return builder().add_text_memo('say "hi" \\ and\nbye').append_bump_sequence_op(
        1
    ).build()


@case
def memo_text_unicode_and_controls():
    return builder().add_text_memo(
        "h\u00e9 \u20ac\t\U0001f600\x01\x7f\r\b\f/"
    ).append_bump_sequence_op(1).build()


@case
def memo_text_not_utf8():
    return builder().add_memo(TextMemo(b"\xff\xfe\x00ab")).append_bump_sequence_op(
        1
    ).build()


@case
def memo_text_empty():
    return builder().add_text_memo("").append_bump_sequence_op(1).build()


@case
def memo_id_max():
    return builder().add_id_memo(2**64 - 1).append_bump_sequence_op(1).build()


@case
def memo_hash():
    return builder().add_hash_memo(bytes(range(32))).append_bump_sequence_op(
        1
    ).build()


@case
def memo_return():
    return builder().add_return_hash_memo(
        bytes(range(255, 223, -1))
    ).append_bump_sequence_op(1).build()


@case
def change_trust_all_kinds():
    b = builder(source=K2.public_key)
    b.append_change_trust_op(USD)
    b.append_change_trust_op(LONG, "1000")
    b.append_change_trust_op(USD, "0")
    b.append_change_trust_op(LiquidityPoolAsset(Asset.native(), USD, 30))
    return b.build()


@case
def allow_trust_true_false():
    b = builder()
    b.append_allow_trust_op(K2.public_key, "USD", True)
    b.append_allow_trust_op(K2.public_key, "LONGASSET123", False)
    return b.build()


@case
def allow_trust_maintain_liabilities():
    b = builder()
    b.append_allow_trust_op(
        K2.public_key, "USD", TrustLineEntryFlag.AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG
    )
    return b.build()


@case
def set_trust_line_flags():
    b = builder()
    b.append_set_trust_line_flags_op(
        K2.public_key,
        USD,
        clear_flags=TrustLineFlags.AUTHORIZED_FLAG,
        set_flags=TrustLineFlags.AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG
        | TrustLineFlags.TRUSTLINE_CLAWBACK_ENABLED_FLAG,
    )
    b.append_set_trust_line_flags_op(K2.public_key, LONG)
    return b.build()


@case
def set_options_every_field():
    b = builder()
    b.append_set_options_op(
        inflation_dest=K3.public_key,
        clear_flags=AuthorizationFlag.AUTHORIZATION_REVOCABLE,
        set_flags=AuthorizationFlag.AUTHORIZATION_REQUIRED
        | AuthorizationFlag.AUTHORIZATION_CLAWBACK_ENABLED,
        master_weight=0,
        low_threshold=1,
        med_threshold=2,
        high_threshold=255,
        home_domain="example.com",
        signer=Signer.ed25519_public_key(K2.public_key, 10),
    )
    return b.build()


@case
def set_options_nothing():
    return builder().append_operation(SetOptions()).build()


@case
def set_options_signer_kinds():
    b = builder()
    b.append_pre_auth_tx_signer(bytes([7]) * 32, 1)
    b.append_hashx_signer(bytes([8]) * 32, 2)
    b.append_ed25519_public_key_signer(K3.public_key, 0)
    return b.build()


@case
def set_options_signed_payload_signer():
    signer_key = SignerKey.ed25519_signed_payload(
        SignedPayloadSigner(K4.public_key, b"payload!")
    )
    return builder().append_set_options_op(signer=Signer(signer_key, 3)).build()


@case
def set_options_zero_flags():
    b = builder()
    b.append_set_options_op(clear_flags=0, set_flags=0)
    return b.build()


@case
def set_options_home_domain_escapes():
    return builder().append_set_options_op(home_domain='a"b\\c\nd').build()


@case
def set_options_home_domain_unicode():
    return builder().append_set_options_op(home_domain="ex\u00e4mple.com").build()


@case
def clawback():
    b = builder()
    b.append_clawback_op(USD, muxed(K2, 7), "5.25")
    b.append_clawback_op(LONG, K2.public_key, "0.0000009")
    return b.build()


@case
def manage_data():
    b = builder()
    b.append_manage_data_op("config", b"\x00\x01binary\xff")
    b.append_manage_data_op('k"ey\\', "text value")
    b.append_manage_data_op("gone", None)
    return b.build()


@case
def manage_data_empty_value():
    return builder().append_manage_data_op("empty", b"").build()


@case
def manage_data_unicode_name():
    return builder().append_manage_data_op("n\u00e4me\t", b"v").build()


@case
def bump_sequence():
    b = builder()
    b.append_bump_sequence_op(2**63 - 1)
    b.append_bump_sequence_op(0)
    return b.build()


@case
def account_merge():
    b = builder(source=K2.public_key)
    b.append_account_merge_op(ISSUER.public_key)
    b.append_account_merge_op(muxed(ISSUER, 18446744073709551615), source=K3.public_key)
    return b.build()


@case
def time_bounds_zero():
    return builder().add_time_bounds(0, 0).append_bump_sequence_op(1).build()


@case
def time_bounds_dates():
    return builder().add_time_bounds(1535756672, 253402300799).append_bump_sequence_op(
        1
    ).build()


@case
def preconditions_v2_full():
    b = builder()
    b.add_time_bounds(1600000000, 1700000000)
    b.set_ledger_bounds(100, 200)
    b.set_min_sequence_number(46489056724385000)
    b.set_min_sequence_age(3600)
    b.set_min_sequence_ledger_gap(5)
    b.add_extra_signer(SignerKey.ed25519_public_key(K3.public_key))
    b.add_extra_signer(SignedPayloadSigner(K4.public_key, bytes(range(1, 34))))
    return b.append_bump_sequence_op(1).build()


@case
def preconditions_v2_sparse():
    b = builder()
    b.set_ledger_bounds(0, 0)
    b.add_extra_signer(SignerKey.pre_auth_tx(bytes([5]) * 32))
    b.add_extra_signer(SignerKey.sha256_hash(bytes([6]) * 32))
    return b.append_bump_sequence_op(1).build()


@case
def signed_twice():
    b = builder()
    b.add_text_memo("two signatures")
    b.append_payment_op(K2.public_key, USD, "1")
    te = b.build()
    te.sign(ISSUER)
    te.sign(K3)
    return te


@case
def fee_bump_signed():
    inner = builder(source=K2.public_key).add_text_memo("inner").append_payment_op(
        K3.public_key, Asset.native(), "3"
    ).add_time_bounds(0, 1700000000).build()
    inner.sign(K2)
    fb = TransactionBuilder.build_fee_bump_transaction(K4.public_key, 200, inner, NET)
    fb.sign(K4)
    return fb


@case
def fee_bump_muxed_unsigned():
    inner = builder().append_set_trust_line_flags_op(
        K2.public_key, USD, set_flags=TrustLineFlags.AUTHORIZED_FLAG
    ).build()
    return TransactionBuilder.build_fee_bump_transaction(
        muxed(K4, 1), 500, inner, NET
    )


@case
def envelope_v0():
    b = builder(v1=False)
    b.add_time_bounds(10, 20)
    b.add_id_memo(5)
    b.append_payment_op(K2.public_key, USD, "7")
    te = b.build()
    te.sign(ISSUER)
    return te


def cmd_cases():
    out = []
    for name, fn in CASES.items():
        env = fn()
        xdr = env.to_xdr()
        # Render from the XDR as a reader of the envelope would, not from the builder's objects.
        parsed = parse_transaction_envelope_from_xdr(xdr, NET)
        text = to_txrep(parsed)
        back = None
        try:
            back = from_txrep(text, NET).to_xdr()
            ok, err = back == xdr, None if back == xdr else "different XDR"
        except Exception as e:  # noqa: BLE001 - report, do not hide
            ok, err = False, f"{type(e).__name__}: {e}"
        out.append(
            {
                "name": name,
                "xdr": xdr,
                "txrep": text,
                "sdk_self_roundtrip": ok,
                "sdk_self_error": err,
                "sdk_self_xdr": back,
            }
        )
    json.dump(out, sys.stdout)


def cmd_parse():
    texts = json.load(sys.stdin)
    out = []
    for text in texts:
        try:
            out.append({"xdr": from_txrep(text, NET).to_xdr()})
        except Exception as e:  # noqa: BLE001
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("cases", "parse"):
        sys.stderr.write("usage: oracle.py cases|parse\n")
        sys.exit(2)
    {"cases": cmd_cases, "parse": cmd_parse}[sys.argv[1]]()
