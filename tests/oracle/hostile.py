#!/usr/bin/env python3
"""Hostile envelopes, built with Stellar's Python SDK, for the signer's review and policy.

Each case is what a compromised online machine could hand the offline signer (issue 11): signers
of every kind, lowered thresholds, preconditions v2, muxed destinations, huge fees, validity to
the year 2100 and beyond, look-alike asset codes, operations acting for other accounts, terminal
escapes, right-to-left overrides and NULs in every text field. Each comes with what the review must
find (severity and code of every finding, no more, no fewer) and what the default policy of a new
keystore must do with it (sign it, or name the rule it breaks).

For every envelope, `fields` lists every field the SDK's XDR layer decodes from it, as
(path in the signer's JSON review, value): a walk over the decoded XDR objects fails if any leaf is
left unmapped, so a field the review does not show cannot go unnoticed.

Usage: hostile.py < {"now", "secret", "alice", "cosigner", "dest"}   → JSON list of cases.
Exit 3 when the SDK is missing (the tests then fail with an install hint).
"""

import hashlib
import json
import sys
import warnings

# allow_trust is deprecated in favour of set_trust_line_flags, and still an operation a hostile
# online machine can send.
warnings.filterwarnings("ignore", category=DeprecationWarning)

try:
    from stellar_sdk import (
        Account,
        Asset,
        Keypair,
        LiquidityPoolAsset,
        MuxedAccount,
        Network,
        SignedPayloadSigner,
        Signer,
        SignerKey,
        StrKey,
        TransactionBuilder,
        xdr as X,
    )
    from stellar_sdk.operation.set_options import AuthorizationFlag
    from stellar_sdk.operation.set_trust_line_flags import TrustLineFlags
except ImportError as e:  # the tests must fail loudly, never skip
    sys.stderr.write(f"hostile.py: cannot import stellar_sdk ({e}).\n")
    sys.exit(3)

TESTNET = Network.TESTNET_NETWORK_PASSPHRASE
PUBNET = Network.PUBLIC_NETWORK_PASSPHRASE


# ---- building ------------------------------------------------------------------------------

def builder(inp, network=TESTNET, base_fee=100, source=None, v1=True, timeout=True):
    src = source or inp["issuer"].public_key
    b = TransactionBuilder(Account(src, 99), network, base_fee=base_fee, v1=v1)
    if timeout:
        b.add_time_bounds(0, inp["now"] + 3600)
    return b


def tx_hash(env, network):
    """The hash signatures cover, through the SDK's XDR types."""
    if env.type == X.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
        tagged = X.TransactionSignaturePayloadTaggedTransaction(
            type=X.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP, fee_bump=env.fee_bump.tx)
    else:
        tagged = X.TransactionSignaturePayloadTaggedTransaction(
            type=X.EnvelopeType.ENVELOPE_TYPE_TX, tx=env.v1.tx)
    payload = X.TransactionSignaturePayload(
        network_id=X.Hash(Network(network).network_id()), tagged_transaction=tagged)
    return hashlib.sha256(payload.to_xdr_bytes()).digest()


def sign(env, network, kp):
    """Sign an XDR envelope (v1 or fee bump) with the SDK's keypair."""
    sig = X.DecoratedSignature(
        hint=X.SignatureHint(kp.signature_hint()), signature=X.Signature(kp.sign(tx_hash(env, network))))
    if env.type == X.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
        env.fee_bump.signatures.append(sig)
    else:
        env.v1.signatures.append(sig)
    return env


def signed(inp, b, network=TESTNET, patch=None):
    """Build, apply `patch` to the XDR (for what the SDK's builders refuse), sign with the issuer."""
    env = b.build().to_xdr_object()
    if patch:
        patch(env.v1.tx)
    return sign(env, network, inp["issuer"]).to_xdr()


def account_id(g):
    return Keypair.from_public_key(g).xdr_account_id()


def alpha12(code_bytes, issuer):
    return X.Asset(
        type=X.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12,
        alpha_num12=X.AlphaNum12(asset_code=X.AssetCode12(code_bytes.ljust(12, b"\0")), issuer=account_id(issuer)))


def alpha4(code_bytes, issuer):
    return X.Asset(
        type=X.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4,
        alpha_num4=X.AlphaNum4(asset_code=X.AssetCode4(code_bytes.ljust(4, b"\0")), issuer=account_id(issuer)))


# ANSI escapes (clear screen, set the window title, colours), a right-to-left override, a NUL.
HOSTILE = "\x1b[2J\x1b]0;pwn\x07\u202eEVIL\x00"


def corpus(inp):
    now = inp["now"]
    issuer = inp["issuer"].public_key
    alice, cosigner, dest = inp["alice"], inp["cosigner"], inp["dest"]
    usd = Asset("USD", issuer)
    cases = []

    def case(name, envelope, findings, policy, network="testnet", refused=None):
        cases.append({"name": name, "envelope": envelope, "network": network,
                      "findings": sorted([list(f) for f in findings]), "policy": policy,
                      "refused": refused})

    D, W = "danger", "warning"
    pay = lambda b: b.append_payment_op(dest, Asset.native(), "10")
    case("plain_payment", signed(inp, pay(builder(inp))), [], "signed")
    case("pubnet", signed(inp, pay(builder(inp, PUBNET)), PUBNET), [(D, "pubnet")], "networks", "pubnet")

    # Signers of every kind, added with weight 255 (the takeover an operator who skims misses).
    kinds = {
        "ed25519": Signer.ed25519_public_key(alice, 255),
        "pre_auth_tx": Signer.pre_auth_tx(bytes(range(32)), 255),
        "hash_x": Signer.sha256_hash(hashlib.sha256(b"x").digest(), 255),
        "signed_payload": Signer(SignerKey.ed25519_signed_payload(
            SignedPayloadSigner(alice, b"\x01\x02\x03payload")), 255),
    }
    for kind, s in kinds.items():
        b = builder(inp).append_set_options_op(signer=s)
        case(f"signer_{kind}", signed(inp, b), [(D, "signer_change")], "allow_signer_changes")
    # The batch line of issue 11: a top-up payment and, in the same transaction, a new signer.
    b = pay(builder(inp)).append_set_options_op(signer=Signer.ed25519_public_key(alice, 255))
    case("payment_and_signer_255", signed(inp, b), [(D, "signer_change")], "allow_signer_changes")
    b = builder(inp).append_set_options_op(signer=Signer.ed25519_public_key(cosigner, 0))
    case("signer_removed", signed(inp, b), [(D, "signer_removal")], "allow_signer_removal")
    b = builder(inp).append_set_options_op(low_threshold=0, med_threshold=0, high_threshold=0)
    case("thresholds_lowered", signed(inp, b), [(D, "threshold_change")], "allow_threshold_changes")
    b = builder(inp).append_set_options_op(master_weight=0)
    case("master_weight_zero", signed(inp, b), [(D, "master_weight_change")], "allow_master_weight_change")
    # A 2-of-3 setup in several set_options: not locked out.
    b = (builder(inp)
         .append_set_options_op(master_weight=1, low_threshold=2, med_threshold=2, high_threshold=2,
                                signer=Signer.ed25519_public_key(alice, 1))
         .append_set_options_op(signer=Signer.ed25519_public_key(cosigner, 1)))
    case("two_of_three", signed(inp, b),
         [(D, "master_weight_change"), (D, "threshold_change"), (D, "signer_change")],
         "allow_master_weight_change")
    b = builder(inp).append_set_options_op(master_weight=0, high_threshold=5)
    case("lockout", signed(inp, b),
         [(D, "master_weight_change"), (D, "threshold_change"), (D, "lockout")],
         "allow_master_weight_change")

    # Preconditions v2.
    b = pay(builder(inp)).set_min_sequence_number(42)
    case("min_seq_num", signed(inp, b), [(D, "min_seq_num")], "allow_preconditions")
    b = pay(builder(inp)).set_ledger_bounds(100, 200000)
    case("ledger_bounds", signed(inp, b), [], "allow_preconditions")
    b = pay(builder(inp)).set_min_sequence_age(60).set_min_sequence_ledger_gap(5)
    case("min_seq_age_and_gap", signed(inp, b), [], "allow_preconditions")
    b = pay(builder(inp)).add_extra_signer(
        SignerKey.ed25519_signed_payload(SignedPayloadSigner(alice, b"tie" * 10)))
    case("extra_signers", signed(inp, b), [(D, "extra_signers")], "allow_preconditions")

    # Muxed accounts: a muxed destination, and muxed sources of the same account.
    m_dest = MuxedAccount(dest, 18446744073709551615).account_muxed
    case("muxed_destination",
         signed(inp, builder(inp).append_payment_op(m_dest, Asset.native(), "1")),
         [(W, "muxed_destination")], "muxed_destinations")
    m_issuer = MuxedAccount(issuer, 7).account_muxed
    b = builder(inp, source=m_issuer).append_payment_op(dest, Asset.native(), "1", source=MuxedAccount(issuer, 8).account_muxed)
    case("muxed_sources", signed(inp, b), [], "signed")
    b = builder(inp).append_account_merge_op(MuxedAccount(dest, 3).account_muxed)
    case("merge_to_muxed", signed(inp, b), [(D, "account_merge"), (W, "muxed_destination")], "allow_account_merge")

    # Fees: 429 XLM (the most a transaction can bid) and a 1,000,000 XLM fee bump.
    case("fee_429_xlm", signed(inp, pay(builder(inp, base_fee=4294967295))), [(D, "fee")], "max_fee")
    inner = TransactionBuilder.from_xdr(signed(inp, pay(builder(inp))), TESTNET)
    fb = TransactionBuilder.build_fee_bump_transaction(
        MuxedAccount(alice, 5).account_muxed, 5_000_000_000_000, inner, TESTNET)
    fb.sign(inp["alice_kp"])
    case("fee_bump_million_xlm", fb.to_xdr(), [(D, "fee")], "max_fee")

    # Validity: until 2100, until the end of u64, forever.
    b = pay(builder(inp, timeout=False)).add_time_bounds(0, 4102444800)
    case("valid_until_2100", signed(inp, b), [(D, "validity")], "max_validity")
    b = pay(builder(inp, timeout=False)).add_time_bounds(0, 2 ** 64 - 1)
    case("valid_until_u64_max", signed(inp, b), [(D, "validity")], "max_validity")
    case("no_upper_bound", signed(inp, pay(builder(inp, timeout=False).add_time_bounds(0, 0))),
         [(D, "no_upper_bound")], "max_validity")

    # A 12-byte USD that looks like the 4-byte one, in a payment and in allow_trust.
    def twelve(tx):
        tx.operations[0].body.payment_op.asset = alpha12(b"USD", issuer)
    b = builder(inp).append_payment_op(dest, usd, "5")
    case("usd_12_byte", signed(inp, b, patch=twelve), [(W, "code_lookalike")], "signed")
    def twelve_allow(tx):
        tx.operations[0].body.allow_trust_op.asset = X.AssetCode(
            type=X.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12, asset_code12=X.AssetCode12(b"USD".ljust(12, b"\0")))
    b = builder(inp).append_allow_trust_op(alice, "USD", TrustLineFlags.AUTHORIZED_FLAG)
    case("allow_trust_12_byte", signed(inp, b, patch=twelve_allow), [(W, "code_lookalike")], "signed")

    # Operations acting for another account; the authorization sandwich.
    b = builder(inp).append_payment_op(dest, Asset.native(), "1", source=alice)
    case("operation_source", signed(inp, b), [(D, "operation_source")], "signed")
    full, maint = TrustLineFlags.AUTHORIZED_FLAG, TrustLineFlags.AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG
    b = (builder(inp)
         .append_set_trust_line_flags_op(alice, usd, clear_flags=maint, set_flags=full)
         .append_set_trust_line_flags_op(cosigner, usd, clear_flags=maint, set_flags=full)
         .append_payment_op(cosigner, usd, "3", source=alice)
         .append_set_trust_line_flags_op(cosigner, usd, clear_flags=full, set_flags=maint)
         .append_set_trust_line_flags_op(alice, usd, clear_flags=full, set_flags=maint))
    case("authorization_sandwich", signed(inp, b),
         [(D, "operation_source"), (W, "maintain_liabilities")], "signed")

    # Irreversible and surprising account changes.
    b = builder(inp).append_set_options_op(set_flags=AuthorizationFlag.AUTHORIZATION_IMMUTABLE)
    case("auth_immutable", signed(inp, b), [(D, "auth_immutable")], "allow_auth_immutable")
    b = builder(inp).append_set_options_op(set_flags=AuthorizationFlag.AUTHORIZATION_CLAWBACK_ENABLED)
    case("clawback_without_revocable", signed(inp, b), [(D, "clawback_without_revocable")], "signed")
    b = builder(inp).append_account_merge_op(dest)
    case("account_merge", signed(inp, b), [(D, "account_merge")], "allow_account_merge")
    b = builder(inp).append_clawback_op(usd, MuxedAccount(alice, 9).account_muxed, "2")
    case("clawback", signed(inp, b), [(W, "clawback")], "signed")

    # Every other supported operation kind, plainly.
    pool = LiquidityPoolAsset(Asset.native(), usd, 30)
    b = (builder(inp)
         .append_create_account_op(dest, "10")
         .append_change_trust_op(usd, "1000")
         .append_change_trust_op(pool)
         .append_manage_data_op("note", b"v")
         .append_manage_data_op("gone", None)
         .append_bump_sequence_op(1000)
         .append_set_options_op(inflation_dest=alice, clear_flags=AuthorizationFlag.AUTHORIZATION_REQUIRED))
    case("every_kind", signed(inp, b), [], "signed")
    b = TransactionBuilder(Account(issuer, 99), TESTNET, base_fee=100, v1=False)
    b.add_time_bounds(0, now + 3600).append_payment_op(dest, Asset.native(), "1").add_id_memo(2 ** 64 - 1)
    te = b.build()
    te.sign(inp["issuer"])
    case("v0_envelope", te.to_xdr(), [], "signed")
    b = pay(builder(inp)).add_hash_memo(bytes(range(32)))
    case("hash_memo", signed(inp, b), [], "signed")
    b = pay(builder(inp)).add_return_hash_memo(bytes(range(1, 33)))
    case("return_memo", signed(inp, b), [], "signed")

    # Terminal escapes, a right-to-left override and a NUL in every text field.
    b = pay(builder(inp)).add_text_memo(HOSTILE.encode()[:28])
    case("hostile_memo_text", signed(inp, b), [], "signed")
    b = builder(inp).append_set_options_op(home_domain=HOSTILE + "x.com")
    case("hostile_home_domain", signed(inp, b), [], "signed")
    b = builder(inp).append_manage_data_op(HOSTILE, HOSTILE.encode())
    case("hostile_data_entry", signed(inp, b), [], "signed")
    def hostile_codes(tx):
        tx.operations[0].body.payment_op.asset = alpha4("\u202eU".encode(), issuer)
        tx.operations[1].body.payment_op.asset = alpha12(b"\x1b[31mU\x00SD" + "\u202e".encode(), issuer)
        tx.operations[2].body.change_trust_op.line = X.ChangeTrustAsset(
            type=X.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4,
            alpha_num4=X.AlphaNum4(asset_code=X.AssetCode4(b"U\x00\x1bD"), issuer=account_id(issuer)))
    b = (builder(inp).append_payment_op(dest, usd, "1").append_payment_op(dest, usd, "1")
         .append_change_trust_op(usd))
    case("hostile_asset_codes", signed(inp, b, patch=hostile_codes), [], "signed")

    # What the review cannot show whole is refused, never half-shown: an operation it cannot
    # describe, and a signed-payload signer without payload (SEP-51 XDR-JSON cannot carry it).
    b = builder(inp).append_path_payment_strict_send_op(dest, Asset.native(), "1", usd, "1", [])
    case("unsupported_operation", signed(inp, b), [], "operations", refused="cannot describe")
    def empty_payload(tx):
        tx.operations[0].body.set_options_op.signer.key = X.SignerKey(
            type=X.SignerKeyType.SIGNER_KEY_TYPE_ED25519_SIGNED_PAYLOAD,
            ed25519_signed_payload=X.SignerKeyEd25519SignedPayload(
                ed25519=X.Uint256(StrKey.decode_ed25519_public_key(alice)), payload=b""))
    b = builder(inp).append_set_options_op(signer=Signer.ed25519_public_key(alice, 1))
    case("empty_signed_payload", signed(inp, b, patch=empty_payload), [], "allow_signer_changes",
         refused="cannot carry")
    return cases


# ---- what the SDK decodes, and where the review must show it --------------------------------

def leaves(o, path=""):
    """Every leaf of a decoded XDR object: (path, value), None-valued arms skipped."""
    if o is None:
        return
    if isinstance(o, (int, str, bytes, bool)) or hasattr(o, "value") and not hasattr(o, "__dict__"):
        yield path, o
        return
    if isinstance(o, list):
        for i, e in enumerate(o):
            yield from leaves(e, f"{path}[{i}]")
        return
    for k, v in vars(o).items():
        yield from leaves(v, f"{path}.{k}" if path else k)


def amount(stroops):
    sign = "-" if stroops < 0 else ""
    a = abs(stroops)
    return f"{sign}{a // 10 ** 7}.{a % 10 ** 7:07d}"


class Fields:
    """Pairs of (review path, value), and the XDR leaves they account for."""

    def __init__(self):
        self.pairs = []
        self.used = set()

    def put(self, xdr_paths, review_path, value):
        for p in ([xdr_paths] if isinstance(xdr_paths, str) else xdr_paths):
            self.used.add(p)
        self.pairs.append([review_path, value])

    def seen(self, *xdr_paths):
        """Leaves that the review shows through another field (a union's discriminant)."""
        self.used.update(xdr_paths)


def g(b):
    return StrKey.encode_ed25519_public_key(b)


def muxed(f, x, xp, rp, with_type=True):
    """A MuxedAccount at XDR path `xp`, shown at review path `rp` as {account, muxed_id}."""
    f.seen(f"{xp}.type")
    if x.type == X.CryptoKeyType.KEY_TYPE_MUXED_ED25519:
        f.put(f"{xp}.med25519.ed25519.uint256", f"{rp}.account", g(x.med25519.ed25519.uint256))
        f.put(f"{xp}.med25519.id.uint64", f"{rp}.muxed_id", str(x.med25519.id.uint64))
    else:
        f.put(f"{xp}.ed25519.uint256", f"{rp}.account", g(x.ed25519.uint256))


def muxed_flat(f, x, xp, rp, rp_id):
    """A MuxedAccount shown as two flat fields (`source`, `source_muxed_id`)."""
    f.seen(f"{xp}.type")
    if x.type == X.CryptoKeyType.KEY_TYPE_MUXED_ED25519:
        f.put(f"{xp}.med25519.ed25519.uint256", rp, g(x.med25519.ed25519.uint256))
        f.put(f"{xp}.med25519.id.uint64", rp_id, str(x.med25519.id.uint64))
    else:
        f.put(f"{xp}.ed25519.uint256", rp, g(x.ed25519.uint256))


def asset(f, a, xp, rp):
    f.seen(f"{xp}.type")
    if a.type == X.AssetType.ASSET_TYPE_NATIVE:
        f.pairs.append([f"{rp}.type", "native"])
        return
    arm = "alpha_num4" if a.type == X.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4 else "alpha_num12"
    x = getattr(a, arm)
    code = x.asset_code.asset_code4 if arm == "alpha_num4" else x.asset_code.asset_code12
    f.pairs.append([f"{rp}.type", "credit_alphanum4" if arm == "alpha_num4" else "credit_alphanum12"])
    f.put(f"{xp}.{arm}.asset_code.{'asset_code4' if arm == 'alpha_num4' else 'asset_code12'}",
          f"{rp}.code_hex", code.hex())
    f.put(f"{xp}.{arm}.issuer.account_id.ed25519.uint256", f"{rp}.issuer", g(x.issuer.account_id.ed25519.uint256))
    f.seen(f"{xp}.{arm}.issuer.account_id.type")


def signer_key(f, k, xp, rp):
    f.seen(f"{xp}.type")
    sk = SignerKey.from_xdr_object(k)
    f.pairs.append([f"{rp}.key", sk.encoded_signer_key])
    if k.type == X.SignerKeyType.SIGNER_KEY_TYPE_ED25519:
        f.put(f"{xp}.ed25519.uint256", f"{rp}.key", sk.encoded_signer_key)
        f.pairs.append([f"{rp}.kind", "ed25519"])
    elif k.type == X.SignerKeyType.SIGNER_KEY_TYPE_PRE_AUTH_TX:
        f.put(f"{xp}.pre_auth_tx.uint256", f"{rp}.hash", k.pre_auth_tx.uint256.hex())
        f.pairs.append([f"{rp}.kind", "pre_auth_tx"])
    elif k.type == X.SignerKeyType.SIGNER_KEY_TYPE_HASH_X:
        f.put(f"{xp}.hash_x.uint256", f"{rp}.hash", k.hash_x.uint256.hex())
        f.pairs.append([f"{rp}.kind", "hash_x"])
    else:
        p = k.ed25519_signed_payload
        f.put(f"{xp}.ed25519_signed_payload.ed25519.uint256", f"{rp}.ed25519", g(p.ed25519.uint256))
        f.put(f"{xp}.ed25519_signed_payload.payload", f"{rp}.payload", p.payload.hex())
        f.pairs.append([f"{rp}.kind", "ed25519_signed_payload"])


def opt_u32(f, v, xp, rp):
    if v is not None:
        f.put(f"{xp}.uint32", rp, v.uint32)
    else:
        f.pairs.append([rp, None])


OP_NAMES = {
    X.OperationType.CREATE_ACCOUNT: "create_account", X.OperationType.PAYMENT: "payment",
    X.OperationType.CHANGE_TRUST: "change_trust", X.OperationType.ALLOW_TRUST: "allow_trust",
    X.OperationType.SET_TRUST_LINE_FLAGS: "set_trust_line_flags", X.OperationType.SET_OPTIONS: "set_options",
    X.OperationType.CLAWBACK: "clawback", X.OperationType.MANAGE_DATA: "manage_data",
    X.OperationType.BUMP_SEQUENCE: "bump_sequence", X.OperationType.ACCOUNT_MERGE: "account_merge",
}


def operation(f, op, xp, rp):
    if op.source_account is not None:
        muxed_flat(f, op.source_account, f"{xp}.source_account", f"{rp}.source", f"{rp}.source_muxed_id")
    f.put(f"{xp}.body.type", f"{rp}.type", OP_NAMES[op.body.type])
    b, bp, d = op.body, f"{xp}.body", f"{rp}.details"
    t = op.body.type
    if t == X.OperationType.CREATE_ACCOUNT:
        o = b.create_account_op
        f.put(f"{bp}.create_account_op.destination.account_id.ed25519.uint256", f"{d}.destination",
              g(o.destination.account_id.ed25519.uint256))
        f.seen(f"{bp}.create_account_op.destination.account_id.type")
        f.put(f"{bp}.create_account_op.starting_balance.int64", f"{d}.starting_balance", amount(o.starting_balance.int64))
    elif t == X.OperationType.PAYMENT:
        o = b.payment_op
        muxed(f, o.destination, f"{bp}.payment_op.destination", f"{d}.destination")
        asset(f, o.asset, f"{bp}.payment_op.asset", f"{d}.asset")
        f.put(f"{bp}.payment_op.amount.int64", f"{d}.amount", amount(o.amount.int64))
    elif t == X.OperationType.CHANGE_TRUST:
        o = b.change_trust_op
        lp = f"{bp}.change_trust_op.line"
        if o.line.type == X.AssetType.ASSET_TYPE_POOL_SHARE:
            f.seen(f"{lp}.type", f"{lp}.liquidity_pool.type")
            c = o.line.liquidity_pool.constant_product
            cp = f"{lp}.liquidity_pool.constant_product"
            asset(f, c.asset_a, f"{cp}.asset_a", f"{d}.line.asset_a")
            asset(f, c.asset_b, f"{cp}.asset_b", f"{d}.line.asset_b")
            f.put(f"{cp}.fee.int32", f"{d}.line.fee", c.fee.int32)
            pool = LiquidityPoolAsset(Asset.from_xdr_object(c.asset_a), Asset.from_xdr_object(c.asset_b), c.fee.int32)
            f.pairs.append([f"{d}.line.liquidity_pool_id", pool.liquidity_pool_id])
            f.pairs.append([f"{d}.line.type", "liquidity_pool_shares"])
        else:
            asset(f, o.line, lp, f"{d}.line")
        f.put(f"{bp}.change_trust_op.limit.int64", f"{d}.limit", amount(o.limit.int64))
    elif t == X.OperationType.ALLOW_TRUST:
        o = b.allow_trust_op
        ap = f"{bp}.allow_trust_op"
        f.put(f"{ap}.trustor.account_id.ed25519.uint256", f"{d}.trustor", g(o.trustor.account_id.ed25519.uint256))
        f.seen(f"{ap}.trustor.account_id.type", f"{ap}.asset.type")
        if o.asset.type == X.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4:
            f.put(f"{ap}.asset.asset_code4.asset_code4", f"{d}.asset_code_hex", o.asset.asset_code4.asset_code4.hex())
            f.pairs.append([f"{d}.asset_type", "credit_alphanum4"])
        else:
            f.put(f"{ap}.asset.asset_code12.asset_code12", f"{d}.asset_code_hex", o.asset.asset_code12.asset_code12.hex())
            f.pairs.append([f"{d}.asset_type", "credit_alphanum12"])
        f.put(f"{ap}.authorize.uint32", f"{d}.authorize", o.authorize.uint32)
    elif t == X.OperationType.SET_TRUST_LINE_FLAGS:
        o = b.set_trust_line_flags_op
        sp = f"{bp}.set_trust_line_flags_op"
        f.put(f"{sp}.trustor.account_id.ed25519.uint256", f"{d}.trustor", g(o.trustor.account_id.ed25519.uint256))
        f.seen(f"{sp}.trustor.account_id.type")
        asset(f, o.asset, f"{sp}.asset", f"{d}.asset")
        f.put(f"{sp}.clear_flags.uint32", f"{d}.clear_flags", o.clear_flags.uint32)
        f.put(f"{sp}.set_flags.uint32", f"{d}.set_flags", o.set_flags.uint32)
    elif t == X.OperationType.SET_OPTIONS:
        o = b.set_options_op
        sp = f"{bp}.set_options_op"
        if o.inflation_dest is not None:
            f.put(f"{sp}.inflation_dest.account_id.ed25519.uint256", f"{d}.inflation_dest",
                  g(o.inflation_dest.account_id.ed25519.uint256))
            f.seen(f"{sp}.inflation_dest.account_id.type")
        else:
            f.pairs.append([f"{d}.inflation_dest", None])
        for name in ["clear_flags", "set_flags", "master_weight", "low_threshold", "med_threshold", "high_threshold"]:
            opt_u32(f, getattr(o, name), f"{sp}.{name}", f"{d}.{name}")
        if o.home_domain is not None:
            f.put(f"{sp}.home_domain.string32", f"{d}.home_domain.hex", o.home_domain.string32.hex())
        else:
            f.pairs.append([f"{d}.home_domain", None])
        if o.signer is not None:
            signer_key(f, o.signer.key, f"{sp}.signer.key", f"{d}.signer")
            f.put(f"{sp}.signer.weight.uint32", f"{d}.signer.weight", o.signer.weight.uint32)
        else:
            f.pairs.append([f"{d}.signer", None])
    elif t == X.OperationType.CLAWBACK:
        o = b.clawback_op
        asset(f, o.asset, f"{bp}.clawback_op.asset", f"{d}.asset")
        muxed(f, o.from_, f"{bp}.clawback_op.from_", f"{d}.from")
        f.put(f"{bp}.clawback_op.amount.int64", f"{d}.amount", amount(o.amount.int64))
    elif t == X.OperationType.MANAGE_DATA:
        o = b.manage_data_op
        f.put(f"{bp}.manage_data_op.data_name.string64", f"{d}.name.hex", o.data_name.string64.hex())
        if o.data_value is not None:
            f.put(f"{bp}.manage_data_op.data_value.data_value", f"{d}.value.hex", o.data_value.data_value.hex())
        else:
            f.pairs.append([f"{d}.value", None])
    elif t == X.OperationType.BUMP_SEQUENCE:
        o = b.bump_sequence_op
        f.put(f"{bp}.bump_sequence_op.bump_to.sequence_number.int64", f"{d}.bump_to", str(o.bump_to.sequence_number.int64))
    elif t == X.OperationType.ACCOUNT_MERGE:
        muxed(f, b.destination, f"{bp}.destination", f"{d}.destination")
    else:
        raise ValueError(f"operation type {t} is not in the corpus")


def transaction(f, tx, xp, inner_fee=False):
    """A v1 transaction at XDR path `xp`."""
    muxed_flat(f, tx.source_account, f"{xp}.source_account", "source", "source_muxed_id")
    f.put(f"{xp}.fee.uint32", "fee.inner_fee" if inner_fee else "fee.stroops", tx.fee.uint32)
    f.put(f"{xp}.seq_num.sequence_number.int64", "sequence", str(tx.seq_num.sequence_number.int64))
    cond, cp = tx.cond, f"{xp}.cond"
    f.seen(f"{cp}.type")
    names = {X.PreconditionType.PRECOND_NONE: "none", X.PreconditionType.PRECOND_TIME: "time",
             X.PreconditionType.PRECOND_V2: "v2"}
    f.pairs.append(["preconditions.type", names[cond.type]])
    if cond.type == X.PreconditionType.PRECOND_TIME:
        time_bounds(f, cond.time_bounds, f"{cp}.time_bounds")
    elif cond.type == X.PreconditionType.PRECOND_V2:
        v = cond.v2
        vp = f"{cp}.v2"
        if v.time_bounds is not None:
            time_bounds(f, v.time_bounds, f"{vp}.time_bounds")
        if v.ledger_bounds is not None:
            f.put(f"{vp}.ledger_bounds.min_ledger.uint32", "preconditions.ledger_bounds.min_ledger", v.ledger_bounds.min_ledger.uint32)
            f.put(f"{vp}.ledger_bounds.max_ledger.uint32", "preconditions.ledger_bounds.max_ledger", v.ledger_bounds.max_ledger.uint32)
        if v.min_seq_num is not None:
            f.put(f"{vp}.min_seq_num.sequence_number.int64", "preconditions.min_seq_num", str(v.min_seq_num.sequence_number.int64))
        f.put(f"{vp}.min_seq_age.duration.uint64", "preconditions.min_seq_age", v.min_seq_age.duration.uint64)
        f.put(f"{vp}.min_seq_ledger_gap.uint32", "preconditions.min_seq_ledger_gap", v.min_seq_ledger_gap.uint32)
        for i, k in enumerate(v.extra_signers):
            signer_key(f, k, f"{vp}.extra_signers[{i}]", f"preconditions.extra_signers[{i}]")
    memo(f, tx.memo, f"{xp}.memo")
    for i, op in enumerate(tx.operations):
        operation(f, op, f"{xp}.operations[{i}]", f"operations[{i}]")
    f.seen(f"{xp}.ext.v")
    assert tx.ext.v == 0


def time_bounds(f, tb, xp):
    f.put(f"{xp}.min_time.time_point.uint64", "preconditions.time_bounds.min_time", tb.min_time.time_point.uint64)
    f.put(f"{xp}.max_time.time_point.uint64", "preconditions.time_bounds.max_time", tb.max_time.time_point.uint64)


def memo(f, m, xp):
    f.seen(f"{xp}.type")
    names = {X.MemoType.MEMO_NONE: "none", X.MemoType.MEMO_TEXT: "text", X.MemoType.MEMO_ID: "id",
             X.MemoType.MEMO_HASH: "hash", X.MemoType.MEMO_RETURN: "return"}
    f.pairs.append(["memo_type", names[m.type]])
    if m.type == X.MemoType.MEMO_TEXT:
        f.put(f"{xp}.text", "memo_value", m.text.hex())
    elif m.type == X.MemoType.MEMO_ID:
        f.put(f"{xp}.id.uint64", "memo_value", str(m.id.uint64))
    elif m.type == X.MemoType.MEMO_HASH:
        f.put(f"{xp}.hash.hash", "memo_value", m.hash.hash.hex())
    elif m.type == X.MemoType.MEMO_RETURN:
        f.put(f"{xp}.ret_hash.hash", "memo_value", m.ret_hash.hash.hex())


def signatures(f, sigs, xp, rp):
    for i, s in enumerate(sigs):
        f.put(f"{xp}[{i}].hint.signature_hint", f"{rp}[{i}].hint", s.hint.signature_hint.hex())
        f.put(f"{xp}[{i}].signature.signature", f"{rp}[{i}].signature", s.signature.signature.hex())


def fields(b64):
    env = X.TransactionEnvelope.from_xdr(b64)
    f = Fields()
    f.seen("type")
    if env.type == X.EnvelopeType.ENVELOPE_TYPE_TX_V0:
        f.pairs.append(["envelope_type", "transaction (v0)"])
        tx = env.v0.tx
        f.put("v0.tx.source_account_ed25519.uint256", "source", g(tx.source_account_ed25519.uint256))
        f.put("v0.tx.fee.uint32", "fee.stroops", tx.fee.uint32)
        f.put("v0.tx.seq_num.sequence_number.int64", "sequence", str(tx.seq_num.sequence_number.int64))
        if tx.time_bounds is not None:
            time_bounds(f, tx.time_bounds, "v0.tx.time_bounds")
        memo(f, tx.memo, "v0.tx.memo")
        for i, op in enumerate(tx.operations):
            operation(f, op, f"v0.tx.operations[{i}]", f"operations[{i}]")
        f.seen("v0.tx.ext.v")
        signatures(f, env.v0.signatures, "v0.signatures", "signatures")
    elif env.type == X.EnvelopeType.ENVELOPE_TYPE_TX:
        f.pairs.append(["envelope_type", "transaction"])
        transaction(f, env.v1.tx, "v1.tx")
        signatures(f, env.v1.signatures, "v1.signatures", "signatures")
    else:
        f.pairs.append(["envelope_type", "fee bump"])
        fb = env.fee_bump
        muxed_flat(f, fb.tx.fee_source, "fee_bump.tx.fee_source", "fee_source", "fee_source_muxed_id")
        f.put("fee_bump.tx.fee.int64", "fee.stroops", fb.tx.fee.int64)
        f.seen("fee_bump.tx.inner_tx.type", "fee_bump.tx.ext.v")
        transaction(f, fb.tx.inner_tx.v1.tx, "fee_bump.tx.inner_tx.v1.tx", inner_fee=True)
        signatures(f, fb.tx.inner_tx.v1.signatures, "fee_bump.tx.inner_tx.v1.signatures", "inner_signatures")
        signatures(f, fb.signatures, "fee_bump.signatures", "signatures")
    unmapped = [p for p, _ in leaves(env) if p not in f.used]
    if unmapped:
        raise ValueError(f"fields the review mapping does not account for: {unmapped}")
    return f.pairs


def main():
    inp = json.load(sys.stdin)
    inp["issuer"] = Keypair.from_secret(inp["secret"])
    inp["alice_kp"] = Keypair.from_secret(inp["alice_secret"])
    cases = corpus(inp)
    for c in cases:
        c["fields"] = [] if c["refused"] else fields(c["envelope"])
    json.dump(cases, sys.stdout)


if __name__ == "__main__":
    main()
