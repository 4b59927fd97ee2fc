#!/usr/bin/env python3
"""Writes the seed files of fuzz/corpus/<target>/ (names starting `seed-`) from real inputs:

* envelopes built by the Python stellar-sdk: every case of tests/txrep/oracle.py (all ten
  operation kinds, every memo type, muxed accounts, preconditions v2, signatures, fee bumps, a v0
  envelope) plus envelopes of operations review refuses (path payment, offers, claimable balances);
* the SDK's own txrep of each of those envelopes;
* the example plan of docs/plan-format.md and one plan per operation kind, and a batch file;
* the example policies of docs/policy.md, each also followed by a NUL byte and an envelope;
* (keystore files are sealed by the library itself, with the cheapest KDF the format accepts:
  `cargo test --test it -- --ignored fuzz_corpus::write_generated_seeds`);
* short values typed on command lines (amounts, times, durations, signers, assets, networks);
* SEP-7 URIs written by the SDK's TransactionStellarUri, and a few photos from the shared QR
  corpus (set QR_CORPUS to its directory if it is not ../shared/qr-corpus);
* the JSON examples of the shared Horizon API reference, each behind a status byte (horizon);
* (`ur:` frames and animated GIFs are written by the library's own encoder, with the keystores).

Run from the repository root: python3 fuzz/seed-corpus.py   (needs stellar-sdk 16.1.1)
"""
import base64
import json
import os
import re
import subprocess
import sys
import warnings

warnings.simplefilter("ignore")
from stellar_sdk import Account, Asset, Keypair, Network, TransactionBuilder  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def kp(i):
    return Keypair.from_raw_ed25519_seed(bytes([i]) * 32)


def unsupported_envelopes():
    issuer, other = kp(1), kp(2)
    usd = Asset("USD", issuer.public_key)
    out = {}

    def tx(name, add):
        b = TransactionBuilder(
            Account(issuer.public_key, 41),
            network_passphrase=Network.TESTNET_NETWORK_PASSPHRASE,
            base_fee=100,
        ).add_time_bounds(0, 1_900_000_000)
        add(b)
        out[name] = b.build().to_xdr()

    tx("path_payment", lambda b: b.append_path_payment_strict_receive_op(
        other.public_key, Asset.native(), "10", usd, "5", [Asset("EUR", issuer.public_key)]))
    tx("manage_sell_offer", lambda b: b.append_manage_sell_offer_op(usd, Asset.native(), "1", "0.5"))
    tx("create_claimable_balance_after_payment", lambda b: (
        b.append_payment_op(other.public_key, usd, "1"),
        b.append_begin_sponsoring_future_reserves_op(other.public_key)))
    return out


def main():
    cases = json.loads(subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests", "txrep", "oracle.py"), "cases"],
        check=True, capture_output=True, text=True).stdout)
    envs = {c["name"]: c["xdr"] for c in cases}
    for c in cases:
        write("txrep", c["name"], c["txrep"])
    envs.update(unsupported_envelopes())
    for name, b64 in envs.items():
        write("envelope_base64", name, b64)
        write("envelope_xdr", name, base64.b64decode(b64))
    # Wrapped the way a file or terminal wraps it.
    b64 = envs["payment_muxed_everywhere"]
    write("envelope_base64", "wrapped", "\n".join(b64[i:i + 76] for i in range(0, len(b64), 76)) + "\n")

    doc = open(os.path.join(ROOT, "docs", "plan-format.md")).read()
    example = re.search(r"```json\n(.*?)```", doc, re.S).group(1)
    write("plan", "doc_example", example)
    g1, g2 = kp(1).public_key, kp(2).public_key
    usd = f"USD:{g1}"
    ops = [
        {"type": "create_account", "destination": g2, "starting_balance": "10"},
        {"type": "payment", "destination": g2, "asset": usd, "amount": "0.0000001"},
        {"type": "change_trust", "source": g2, "asset": usd, "limit": "922337203685.4775807"},
        {"type": "allow_trust", "trustor": g2, "asset": "USD", "authorize": "maintain_liabilities"},
        {"type": "set_trust_line_flags", "trustor": g2, "asset": usd,
         "set_flags": ["authorized"], "clear_flags": ["clawback_enabled"]},
        {"type": "set_options", "set_flags": ["auth_required", "auth_revocable"],
         "clear_flags": ["auth_clawback_enabled"], "home_domain": "example.com", "master_weight": 1,
         "low_threshold": 1, "med_threshold": 2, "high_threshold": 3, "inflation_dest": g2,
         "signer": {"key": g2, "weight": 1}},
        {"type": "clawback", "from": g2, "asset": usd, "amount": "5"},
        {"type": "manage_data", "name": "config", "value": "v1"},
        {"type": "bump_sequence", "to": "1234567890123"},
        {"type": "account_merge", "destination": g2},
    ]
    plan = {"network": "testnet", "source": g1, "sequence": 42, "fee": 100, "min_time": 0,
            "max_time": "2027-01-01T00:00:00Z", "memo": {"id": "18446744073709551615"},
            "operations": ops}
    write("plan", "every_operation", json.dumps(plan, indent=2))
    lines = []
    for i, op in enumerate(ops):
        p = {"network": "testnet", "source": g1, "sequence": str(100 + i), "operations": [op]}
        if i % 2:
            p["memo"] = {"text": "batch line"}
        lines.append(json.dumps(p))
    write("plan", "batch", "\n".join(lines) + "\n\n")

    doc = open(os.path.join(ROOT, "docs", "policy.md")).read()
    some_env = base64.b64decode(envs["set_options_every_field"])
    for i, example in enumerate(re.findall(r"```json\n(.*?)```", doc, re.S)):
        write("policy", f"doc_example_{i}", example)
        write("policy", f"doc_example_{i}_with_envelope", example.encode() + b"\0" + some_env)
    permissive = {"version": 1, "networks": ["testnet", "pubnet"],
                  "may_set_flags": ["auth_required", "auth_revocable", "auth_clawback_enabled"],
                  "may_clear_flags": ["auth_required"], "allow_auth_immutable": True,
                  "allow_master_weight_change": True, "allow_signer_removal": True,
                  "allow_account_merge": True,
                  "max_amount_per_tx": {"native": "100", usd: "1000"},
                  "max_amount_per_batch": {usd: "1500"},
                  "destinations": {usd: [g2]}}
    write("policy", "permissive_with_payment",
          json.dumps(permissive).encode() + b"\0" + base64.b64decode(envs["clawback"]))

    values = ["0", "0.0000001", "922337203685.4775807", "922337203685.4775808", ".5", "-1",
              "007.10", "1700000000", "2026-11-21T12:00:00Z", "2023-11-14T23:13:20+01:00",
              "1d12h", "30m", "7w", f"{g2}:255", f"{g2}:256", "1234567890123",
              "native", usd, "ABCDEFGHIJKL:" + g1, "testnet", "Test SDF Network ; September 2015",
              "auth-required,auth_revocable", "authorized_to_maintain_liabilities",
              "maintain-liabilities", "a" * 64, kp(3).secret,
              "illness spike retreat truth genius clock brain pass fit cave bargain toe"]
    for i, v in enumerate(values):
        write("text_values", f"{i:02}", v)

    # SEP-7 URIs as the SDK writes them (sep7 target), and as files handed to the relay (carry).
    from stellar_sdk.helpers import parse_transaction_envelope_from_xdr as parse_env
    from stellar_sdk.sep.stellar_uri import TransactionStellarUri
    for name in ["create_account_and_native_payment", "fee_bump_signed", "memo_text_unicode_and_controls"]:
        te = parse_env(envs[name], Network.TESTNET_NETWORK_PASSPHRASE)
        uri = TransactionStellarUri(te, network_passphrase=Network.TESTNET_NETWORK_PASSPHRASE,
                                    message="sign this", origin_domain="example.com").to_uri()
        write("sep7", name, uri)
        write("carry", "sep7_" + name, uri)
    te = parse_env(envs["clawback"], Network.PUBLIC_NETWORK_PASSPHRASE)
    write("sep7", "pubnet_no_passphrase", TransactionStellarUri(te).to_uri())
    write("carry", "base64_" + "set_options_every_field", envs["set_options_every_field"] + "\n")

    # A few photos of QR codes from the shared corpus (qr_image and carry).
    shared = os.path.join(os.path.dirname(ROOT), "shared", "qr-corpus")
    for env_root in [os.environ.get("QR_CORPUS"), shared, "/work/shared/qr-corpus"]:
        if env_root and os.path.isdir(env_root):
            for name in ["tiny_1ops_v0.png", "jpeg6_1ops_v0.png", "inverted_1ops_v0.png"]:
                path = os.path.join(env_root, name)
                if os.path.exists(path):
                    data = open(path, "rb").read()
                    write("qr_image", name, data)
            tiny = os.path.join(env_root, "tiny_1ops_v0.png")
            if os.path.exists(tiny):
                write("carry", "tiny_1ops_v0.png", open(tiny, "rb").read())
            break

    # Horizon's answers as documented (horizon target: one status byte, then the body).
    statuses = [200, 400, 404, 413, 429, 500, 502, 503, 504, 403]
    for ref in [os.environ.get("HORIZON_REFERENCE"),
                os.path.join(os.path.dirname(ROOT), "shared", "reference", "horizon-api.md"),
                "/work/shared/reference/horizon-api.md"]:
        if ref and os.path.exists(ref):
            blocks = re.findall(r"```json\n(.*?)```", open(ref).read(), re.S)
            for i, block in enumerate(blocks):
                m = re.search(r'"status"\s*:\s*(\d+)', block)
                status = int(m.group(1)) if m else 200
                index = statuses.index(status) if status in statuses else 1
                write("horizon", f"reference_{i:02}", bytes([index]) + block.encode())
            break


if __name__ == "__main__":
    main()
