"""Self-test of the oracle: what the Python SDK builds, the JavaScript SDK must read and verify.

Run: python3 -m pytest tests/oracle  (needs `pip install -r tests/requirements.txt` and
`npm ci --prefix tests/js`; a missing package fails the test with that hint, it never skips).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "sdk_oracle.py")
VERIFY_JS = os.path.join(HERE, "..", "js", "verify.mjs")
JS_MODULES = os.path.join(HERE, "..", "js", "node_modules", "@stellar", "stellar-base")

# Fixed test keys, generated once with stellar_sdk.Keypair.random(). Inputs, not expected values.
ISSUER_S = "SASFR2YZUC577B45JE7KKA67DYD4WLCVTFUTUAVD3L2ILB25FDUHGAC5"
ISSUER = "GDJBPTCG4YVAIVCENBJV77PA7ZVK6KLBYY56MG7BUR4IR77MPQBKOQ46"
ALICE_S = "SCOLX4NHU6ZYZLN7ACCNJGQ5CQIWLXZ4DDXGBCMOO7LOSWK3S7PPSZTI"
ALICE = "GC6W3JOQFTUD5KBXYFBJOZ7LGYL3UZIKP4SF7CMQDIBYCC2QFCWDITD3"
BOB = "GD44ZI4HQGQASJ4HDF4TVLWNDD3PWTOLZ4SSGXPGM4R6R4WASTHKZBSC"
USD = f"USD:{ISSUER}"


def oracle(cmd, inp, ok=True):
    r = subprocess.run(
        [sys.executable, ORACLE, cmd], input=json.dumps(inp), capture_output=True, text=True
    )
    if r.returncode == 3:
        pytest.fail(r.stderr)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def out(cmd, inp):
    return oracle(cmd, inp).stdout.strip()


def js_verify(inp):
    if shutil.which("node") is None or not os.path.isdir(JS_MODULES):
        pytest.fail("the JS SDK is missing: install Node.js and run `npm ci --prefix tests/js`")
    r = subprocess.run(
        ["node", VERIFY_JS], input=json.dumps(inp), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def plan(**kw):
    p = {
        "network": "testnet",
        "source": ISSUER,
        "sequence": "1234567890123",
        "fee": 100,
        "min_time": 0,
        "max_time": 1900000000,
        "operations": [
            {"type": "set_options", "set_flags": ["auth_required", "auth_revocable"],
             "home_domain": "example.com", "signer": {"key": ALICE, "weight": 5}},
            {"type": "create_account", "destination": BOB, "starting_balance": "10"},
            {"type": "payment", "destination": BOB, "asset": USD, "amount": "0.0000001"},
            {"type": "change_trust", "asset": USD, "source": ALICE},
            {"type": "allow_trust", "trustor": ALICE, "asset": "USD", "authorize": "full"},
            {"type": "set_trust_line_flags", "trustor": ALICE, "asset": USD,
             "set_flags": ["authorized"], "clear_flags": ["authorized_to_maintain_liabilities"]},
            {"type": "clawback", "from": ALICE, "asset": USD, "amount": "922337203685.4775807"},
            {"type": "manage_data", "name": "k", "value": "v"},
            {"type": "manage_data", "name": "gone"},
            {"type": "bump_sequence", "to": "99999999999"},
            {"type": "account_merge", "destination": BOB, "source": ALICE},
        ],
    }
    p.update(kw)
    return p


def test_build_in_python_verify_in_js():
    env = out("build", {"plan": plan(memo={"text": "ceremony 1"}), "secrets": [ISSUER_S, ALICE_S]})
    inp = {"envelope": env, "network": "testnet", "public_keys": [ALICE, ISSUER]}
    js = js_verify(inp)
    py = json.loads(out("verify", inp))
    assert js == py
    assert [s["signer"] for s in js["signatures"]] == [ISSUER, ALICE]


def test_sign_in_python_verify_in_js():
    unsigned = out("build", {"plan": plan(memo={"id": "18446744073709551615"})})
    assert json.loads(out("decode", {"envelope": unsigned, "network": "testnet"}))["signatures"] == []
    signed = out("sign", {"envelope": unsigned, "network": "testnet", "secrets": [ALICE_S]})
    js = js_verify({"envelope": signed, "network": "testnet", "public_keys": [ISSUER, ALICE]})
    assert [s["signer"] for s in js["signatures"]] == [ALICE]
    decoded = json.loads(out("decode", {"envelope": signed, "network": "testnet"}))
    assert decoded["hash"] == js["hash"]


def test_signature_for_another_network_does_not_verify_in_js():
    env = out("build", {"plan": plan(network="pubnet"), "secrets": [ISSUER_S]})
    js = js_verify({"envelope": env, "network": "testnet", "public_keys": [ISSUER]})
    assert [s["signer"] for s in js["signatures"]] == [None]
    js = js_verify({"envelope": env, "network": "Public Global Stellar Network ; September 2015",
                    "public_keys": [ISSUER]})
    assert [s["signer"] for s in js["signatures"]] == [ISSUER]


def test_decode_reads_back_the_plan():
    p = plan(memo={"hash": "ab" * 32}, fee=250)
    d = json.loads(out("decode", {"envelope": out("build", {"plan": p}), "network": "testnet"}))
    assert (d["source"], d["sequence"], d["fee"]) == (ISSUER, "1234567890123", 250 * 11)
    assert d["memo"] == {"type": "hash", "value": "ab" * 32}
    assert [o["type"] for o in d["operations"]] == [o["type"] for o in p["operations"]]
    assert d["operations"][2]["amount"] == "0.0000001"
    assert d["operations"][3]["limit"] == "922337203685.4775807"
    assert d["operations"][8]["value"] is None


def test_txrep_round_trip():
    env = out("build", {"plan": plan(memo={"return": "cd" * 32}), "secrets": [ISSUER_S]})
    text = out("txrep", {"envelope": env})
    assert "tx.memo.type: MEMO_RETURN" in text
    assert out("from_txrep", {"txrep": text, "network": "testnet"}) == env


def test_sep7_round_trip():
    env = out("build", {"plan": plan()})
    uri = out("sep7_make", {"envelope": env, "network": "testnet"})
    assert uri.startswith("web+stellar:tx?")
    back = json.loads(out("sep7", {"uri": uri}))
    assert back == {"xdr": env, "network_passphrase": "Test SDF Network ; September 2015"}


def test_sep5_matches_the_sep_0005_vector():
    # First test vector published in SEP-0005 (12 words, no passphrase, m/44'/148'/0').
    kp = json.loads(out("sep5", {
        "mnemonic": "illness spike retreat truth genius clock brain pass fit cave bargain toe",
        "passphrase": "", "index": 0}))
    assert kp["public"] == "GDRXE2BQUC3AZNPVFSCEZ76NJ3WWL25FYFK6RGZGIEKWE4SOOHSUJUJ6"
    assert out("public", {"secret": kp["secret"]}) == kp["public"]


@pytest.mark.parametrize("bad", [
    {"colour": "red"},
    {"operations": [{"type": "payment", "destination": BOB, "asset": "native", "amount": "1",
                     "memo": "x"}]},
    {"operations": [{"type": "payment", "destination": BOB, "asset": "native",
                     "amount": "0.00000001"}]},
])
def test_bad_plans_are_refused(bad):
    r = oracle("build", {"plan": plan(**bad)}, ok=False)
    assert r.returncode == 2 and r.stdout == ""
