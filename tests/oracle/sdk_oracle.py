#!/usr/bin/env python3
"""Independent oracle: what Stellar's Python SDK builds, signs and reads.

The Rust integration tests compare `airgap-signer` against this. It only calls the SDK; it never
re-implements Stellar encoding. Usage: `sdk_oracle.py SUBCOMMAND < input.json`; the result goes to
stdout, failures to stderr with exit code 2.

Subcommands (input JSON → output):
  build      {"plan": {...}, "secrets": ["S…"]}               → base64 envelope (plan: docs/plan-format.md)
  sign       {"envelope", "network", "secrets"}               → base64 envelope with signatures added
  verify     {"envelope", "network", "public_keys"}           → {"hash", "signatures": [{"hint", "signer"}]}
  decode     {"envelope", "network"}                          → the transaction as the SDK reads it
  txrep      {"envelope"}                                     → SEP-11 txrep text
  from_txrep {"txrep", "network"}                             → base64 envelope
  sep5       {"mnemonic", "passphrase", "index"}              → {"public", "secret"}
  public     {"secret"}                                       → G… address
  sep7       {"uri", "network"?}                              → {"xdr", "network_passphrase"}
  sep7_make  {"envelope", "network"}                          → web+stellar:tx?… URI
"""

import json
import sys
import warnings
from datetime import datetime
from decimal import Decimal

try:
    from stellar_sdk import (
        Account,
        AccountMerge,
        AllowTrust,
        BumpSequence,
        ChangeTrust,
        Clawback,
        CreateAccount,
        ManageData,
        Payment,
        SetOptions,
        SetTrustLineFlags,
        Asset,
        Keypair,
        Network,
        Signer,
        TransactionBuilder,
        TransactionEnvelope,
    )
    from stellar_sdk.exceptions import BadSignatureError
    from stellar_sdk.memo import HashMemo, IdMemo, NoneMemo, ReturnHashMemo, TextMemo
    from stellar_sdk.operation.allow_trust import TrustLineEntryFlag
    from stellar_sdk.operation.set_options import AuthorizationFlag
    from stellar_sdk.operation.set_trust_line_flags import TrustLineFlags
    from stellar_sdk.sep.stellar_uri import TransactionStellarUri
    from stellar_sdk.sep.txrep import from_txrep, to_txrep
except ImportError as e:  # the tests must fail loudly, never skip
    sys.stderr.write(
        f"oracle: cannot import stellar_sdk ({e}).\n"
        "Install the test requirements: pip install -r tests/requirements.txt\n"
    )
    sys.exit(3)


NETWORKS = {
    "testnet": Network.TESTNET_NETWORK_PASSPHRASE,
    "pubnet": Network.PUBLIC_NETWORK_PASSPHRASE,
    "futurenet": Network.FUTURENET_NETWORK_PASSPHRASE,
    "standalone": Network.STANDALONE_NETWORK_PASSPHRASE,
}

ACCOUNT_FLAGS = {
    "auth_required": AuthorizationFlag.AUTHORIZATION_REQUIRED,
    "auth_revocable": AuthorizationFlag.AUTHORIZATION_REVOCABLE,
    "auth_immutable": AuthorizationFlag.AUTHORIZATION_IMMUTABLE,
    "auth_clawback_enabled": AuthorizationFlag.AUTHORIZATION_CLAWBACK_ENABLED,
}

TRUSTLINE_FLAGS = {
    "authorized": TrustLineFlags.AUTHORIZED_FLAG,
    "authorized_to_maintain_liabilities": TrustLineFlags.AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG,
    "clawback_enabled": TrustLineFlags.TRUSTLINE_CLAWBACK_ENABLED_FLAG,
}

ALLOW_TRUST = {
    "full": TrustLineEntryFlag.AUTHORIZED_FLAG,
    "maintain_liabilities": TrustLineEntryFlag.AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG,
    "none": TrustLineEntryFlag.UNAUTHORIZED_FLAG,
}

# Fields each operation type may carry besides "type" and "source"; anything else is an error,
# so a test plan with a typo fails here instead of silently building something else.
OP_FIELDS = {
    "create_account": {"destination", "starting_balance"},
    "payment": {"destination", "asset", "amount"},
    "change_trust": {"asset", "limit"},
    "allow_trust": {"trustor", "asset", "authorize"},
    "set_trust_line_flags": {"trustor", "asset", "set_flags", "clear_flags"},
    "set_options": {
        "set_flags", "clear_flags", "home_domain", "master_weight", "low_threshold",
        "med_threshold", "high_threshold", "inflation_dest", "signer",
    },
    "clawback": {"from", "asset", "amount"},
    "manage_data": {"name", "value"},
    "bump_sequence": {"to"},
    "account_merge": {"destination"},
}
PLAN_FIELDS = {"network", "source", "sequence", "fee", "min_time", "max_time", "memo", "operations"}


# allow_trust is deprecated in the SDK but is part of the plan format; keep stderr for real errors.
warnings.simplefilter("ignore", DeprecationWarning)


class OracleError(Exception):
    pass


def passphrase(name):
    return NETWORKS.get(name, name)


def check_fields(what, obj, allowed):
    unknown = set(obj) - allowed
    if unknown:
        raise OracleError(f"{what}: unknown field(s) {sorted(unknown)}")


def time_value(v):
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.isdigit():
        return int(v)
    return int(datetime.fromisoformat(v).timestamp())


def asset(text):
    if text == "native":
        return Asset.native()
    code, issuer = text.split(":")
    return Asset(code, issuer)


def flags(names, table, flag_type):
    if not names:
        return None
    value = flag_type(0)
    for n in names:
        value |= table[n]
    return value


def operation(op):
    kind = op.get("type")
    if kind not in OP_FIELDS:
        raise OracleError(f"unknown operation type {kind!r}")
    check_fields(kind, op, OP_FIELDS[kind] | {"type", "source"})
    src = op.get("source")
    if kind == "create_account":
        return CreateAccount(op["destination"], op["starting_balance"], src)
    if kind == "payment":
        return Payment(op["destination"], asset(op["asset"]), op["amount"], src)
    if kind == "change_trust":
        return ChangeTrust(asset(op["asset"]), op.get("limit"), src)
    if kind == "allow_trust":
        return AllowTrust(op["trustor"], op["asset"], ALLOW_TRUST[op["authorize"]], src)
    if kind == "set_trust_line_flags":
        return SetTrustLineFlags(
            op["trustor"],
            asset(op["asset"]),
            clear_flags=flags(op.get("clear_flags"), TRUSTLINE_FLAGS, TrustLineFlags),
            set_flags=flags(op.get("set_flags"), TRUSTLINE_FLAGS, TrustLineFlags),
            source=src,
        )
    if kind == "set_options":
        signer = op.get("signer")
        if signer is not None:
            check_fields("signer", signer, {"key", "weight"})
            signer = Signer.ed25519_public_key(signer["key"], signer["weight"])
        return SetOptions(
            inflation_dest=op.get("inflation_dest"),
            clear_flags=flags(op.get("clear_flags"), ACCOUNT_FLAGS, AuthorizationFlag),
            set_flags=flags(op.get("set_flags"), ACCOUNT_FLAGS, AuthorizationFlag),
            master_weight=op.get("master_weight"),
            low_threshold=op.get("low_threshold"),
            med_threshold=op.get("med_threshold"),
            high_threshold=op.get("high_threshold"),
            signer=signer,
            home_domain=op.get("home_domain"),
            source=src,
        )
    if kind == "clawback":
        return Clawback(asset(op["asset"]), op["from"], op["amount"], src)
    if kind == "manage_data":
        return ManageData(op["name"], op.get("value"), src)
    if kind == "bump_sequence":
        return BumpSequence(int(op["to"]), src)
    if kind == "account_merge":
        return AccountMerge(op["destination"], src)
    raise AssertionError(kind)


def build(inp):
    plan = inp["plan"]
    check_fields("plan", plan, PLAN_FIELDS)
    if "max_time" not in plan:
        raise OracleError("plan: give max_time explicitly (the oracle cannot reproduce 'now')")
    sequence = int(plan["sequence"])
    builder = TransactionBuilder(
        Account(plan["source"], sequence - 1),
        network_passphrase=passphrase(plan["network"]),
        base_fee=int(plan.get("fee", 100)),
    )
    builder.add_time_bounds(time_value(plan.get("min_time", 0)), time_value(plan["max_time"]))
    memo = plan.get("memo")
    if memo is not None:
        if len(memo) != 1:
            raise OracleError(f"memo: exactly one kind, got {sorted(memo)}")
        (kind, value), = memo.items()
        if kind == "text":
            builder.add_text_memo(value)
        elif kind == "id":
            builder.add_id_memo(int(value))
        elif kind == "hash":
            builder.add_hash_memo(value)
        elif kind == "return":
            builder.add_return_hash_memo(value)
        else:
            raise OracleError(f"memo: unknown kind {kind!r}")
    for op in plan["operations"]:
        builder.append_operation(operation(op))
    envelope = builder.build()
    for secret in inp.get("secrets", []):
        envelope.sign(secret)
    return envelope.to_xdr()


def envelope_of(inp):
    return TransactionEnvelope.from_xdr(inp["envelope"], passphrase(inp["network"]))


def sign(inp):
    envelope = envelope_of(inp)
    for secret in inp["secrets"]:
        envelope.sign(secret)
    return envelope.to_xdr()


def verify(inp):
    envelope = envelope_of(inp)
    tx_hash = envelope.hash()
    keys = [Keypair.from_public_key(k) for k in inp["public_keys"]]
    out = []
    for sig in envelope.signatures:
        signer = None
        for kp in keys:
            try:
                kp.verify(tx_hash, sig.signature)
            except BadSignatureError:
                continue
            signer = kp.public_key
            break
        out.append({"hint": sig.signature_hint.hex(), "signer": signer})
    return {"hash": tx_hash.hex(), "signatures": out}


def flag_names(value, table):
    if value is None:
        return None
    return [name for name, bit in table.items() if int(value) & int(bit)]


def amount_text(a):
    # The SDK reads 1 stroop as "1E-7"; the plan format writes "0.0000001".
    return None if a is None else format(Decimal(a), "f")


def asset_text(a):
    return "native" if a.is_native() else f"{a.code}:{a.issuer}"


def account_text(a):
    return a if isinstance(a, str) or a is None else a.universal_account_id


def decode_op(op):
    name = {
        CreateAccount: "create_account",
        Payment: "payment",
        ChangeTrust: "change_trust",
        AllowTrust: "allow_trust",
        SetTrustLineFlags: "set_trust_line_flags",
        SetOptions: "set_options",
        Clawback: "clawback",
        ManageData: "manage_data",
        BumpSequence: "bump_sequence",
        AccountMerge: "account_merge",
    }.get(type(op), type(op).__name__)
    d = {"type": name, "source": account_text(op.source)}
    if isinstance(op, CreateAccount):
        d.update(destination=op.destination, starting_balance=amount_text(op.starting_balance))
    elif isinstance(op, Payment):
        d.update(destination=account_text(op.destination), asset=asset_text(op.asset), amount=amount_text(op.amount))
    elif isinstance(op, ChangeTrust):
        d.update(asset=asset_text(op.asset), limit=amount_text(op.limit))
    elif isinstance(op, AllowTrust):
        authorize = {v: k for k, v in ALLOW_TRUST.items()}[op.authorize]
        d.update(trustor=op.trustor, asset=op.asset_code, authorize=authorize)
    elif isinstance(op, SetTrustLineFlags):
        d.update(
            trustor=op.trustor,
            asset=asset_text(op.asset),
            set_flags=flag_names(op.set_flags, TRUSTLINE_FLAGS) or [],
            clear_flags=flag_names(op.clear_flags, TRUSTLINE_FLAGS) or [],
        )
    elif isinstance(op, SetOptions):
        signer = None
        if op.signer is not None:
            signer = {"key": op.signer.signer_key.encoded_signer_key, "weight": op.signer.weight}
        d.update(
            set_flags=flag_names(op.set_flags, ACCOUNT_FLAGS),
            clear_flags=flag_names(op.clear_flags, ACCOUNT_FLAGS),
            home_domain=op.home_domain,
            master_weight=op.master_weight,
            low_threshold=op.low_threshold,
            med_threshold=op.med_threshold,
            high_threshold=op.high_threshold,
            inflation_dest=op.inflation_dest,
            signer=signer,
        )
    elif isinstance(op, Clawback):
        d.update(**{"from": account_text(op.from_), "asset": asset_text(op.asset), "amount": amount_text(op.amount)})
    elif isinstance(op, ManageData):
        value = None if op.data_value is None else op.data_value.decode("utf-8", "backslashreplace")
        d.update(name=op.data_name, value=value)
    elif isinstance(op, BumpSequence):
        d.update(to=str(op.bump_to))
    elif isinstance(op, AccountMerge):
        d.update(destination=account_text(op.destination))
    return d


def decode(inp):
    envelope = envelope_of(inp)
    tx = envelope.transaction
    memo = tx.memo
    if isinstance(memo, NoneMemo):
        m = {"type": "none", "value": None}
    elif isinstance(memo, TextMemo):
        m = {"type": "text", "value": memo.memo_text.decode("utf-8", "backslashreplace")}
    elif isinstance(memo, IdMemo):
        m = {"type": "id", "value": str(memo.memo_id)}
    elif isinstance(memo, HashMemo):
        m = {"type": "hash", "value": memo.memo_hash.hex()}
    elif isinstance(memo, ReturnHashMemo):
        m = {"type": "return", "value": memo.memo_return.hex()}
    else:
        raise OracleError(f"unexpected memo {memo!r}")
    bounds = tx.preconditions.time_bounds if tx.preconditions else None
    return {
        "hash": envelope.hash_hex(),
        "network_passphrase": envelope.network_passphrase,
        "source": account_text(tx.source),
        "sequence": str(tx.sequence),
        "fee": tx.fee,
        "min_time": bounds.min_time if bounds else 0,
        "max_time": bounds.max_time if bounds else 0,
        "memo": m,
        "operations": [decode_op(op) for op in tx.operations],
        "signatures": [{"hint": s.signature_hint.hex()} for s in envelope.signatures],
    }


def txrep(inp):
    # The passphrase does not enter txrep; any will do for parsing.
    return to_txrep(TransactionEnvelope.from_xdr(inp["envelope"], Network.TESTNET_NETWORK_PASSPHRASE))


def txrep_back(inp):
    return from_txrep(inp["txrep"], passphrase(inp["network"])).to_xdr()


def sep5(inp):
    kp = Keypair.from_mnemonic_phrase(
        inp["mnemonic"], passphrase=inp.get("passphrase", ""), index=int(inp.get("index", 0))
    )
    return {"public": kp.public_key, "secret": kp.secret}


def public(inp):
    return Keypair.from_secret(inp["secret"]).public_key


def sep7(inp):
    # With "network" given, the SDK checks the URI's network_passphrase against it (or assumes it,
    # when the URI has none); without, the URI must carry one.
    network = inp.get("network")
    uri = TransactionStellarUri.from_uri(inp["uri"], None if network is None else passphrase(network))
    return {"xdr": uri.transaction_envelope.to_xdr(), "network_passphrase": uri.network_passphrase}


def sep7_make(inp):
    pp = passphrase(inp["network"])
    envelope = TransactionEnvelope.from_xdr(inp["envelope"], pp)
    return TransactionStellarUri(envelope, network_passphrase=pp).to_uri()


COMMANDS = {
    "build": build,
    "sign": sign,
    "verify": verify,
    "decode": decode,
    "txrep": txrep,
    "from_txrep": txrep_back,
    "sep5": sep5,
    "public": public,
    "sep7": sep7,
    "sep7_make": sep7_make,
}


def main(argv):
    if len(argv) != 2 or argv[1] not in COMMANDS:
        sys.stderr.write(f"usage: sdk_oracle.py {{{'|'.join(COMMANDS)}}} < input.json\n")
        return 2
    try:
        result = COMMANDS[argv[1]](json.load(sys.stdin))
    except Exception as e:  # any SDK refusal is a failed oracle call, reported plainly
        sys.stderr.write(f"oracle {argv[1]}: {type(e).__name__}: {e}\n")
        return 2
    if isinstance(result, str):
        sys.stdout.write(result.rstrip("\n") + "\n")
    else:
        sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
