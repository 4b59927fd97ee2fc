"""`--fault`: run by tests/it/sandbox_sdk.rs (`faults_look_like_horizon`) against
`airgap-relay sandbox --fault 504:0.3,429:0.15,503:0.15`. Skipped unless SANDBOX_PHASE=faults.

Checks that injected answers have Horizon's real shapes (reference §2.7, §8.3, plain-text 503)
and that a client which polls and resubmits the identical envelope gets each payment applied
exactly once, whatever the faults.
"""

import os
import time

import pytest
import requests
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder

PASSPHRASE = "Standalone Network ; February 2017"
HORIZON_URL = os.environ.get("HORIZON_URL", "")
PROBLEM = "https://stellar.org/horizon-errors/"
XLM = 10_000_000

pytestmark = pytest.mark.skipif(os.environ.get("SANDBOX_PHASE") != "faults", reason="phase faults only")


def get_until_ok(path):
    """GET, retrying injected faults; returns the final response (200 or 404 or 400)."""
    for _ in range(200):
        r = requests.get(f"{HORIZON_URL}{path}", timeout=10)
        if r.status_code not in (429, 503, 504):
            return r
        time.sleep(0.01)
    raise AssertionError(f"{path}: faults never stopped")


def fund(kp):
    r = requests.get(f"{HORIZON_URL}/friendbot", params={"addr": kp.public_key}, timeout=10)
    assert r.status_code == 200, r.text  # friendbot is exempt from faults


def check_fault_shape(r):
    if r.status_code == 429:
        assert r.json()["type"] == PROBLEM + "rate_limit_exceeded"
        assert r.headers["Content-Type"] == "application/problem+json; charset=utf-8"
        assert int(r.headers["Retry-After"]) >= 1
        assert "X-Ratelimit-Limit" in r.headers and r.headers["X-Ratelimit-Remaining"] == "0"
        return "429"
    if r.status_code == 503:
        if r.headers.get("Content-Type", "").startswith("text/plain"):
            assert r.text == "Server capacity exceeded."
            return "503-text"
        body = r.json()
        if "tx_status" in body:
            assert body["tx_status"] == "TRY_AGAIN_LATER"
            return "503-try-again-later"
        assert body["type"] == PROBLEM + "stale_history"
        return "503-stale"
    if r.status_code == 504:
        if not r.content:
            return "504-bare"
        body = r.json()
        if body["type"] == PROBLEM + "timeout":
            return "504-timeout"
        assert body["type"] == PROBLEM + "transaction_submission_timeout"
        assert len(body["extras"]["hash"]) == 64
        return "504-submission-timeout"
    if r.status_code == 200:
        assert r.headers["X-Ratelimit-Limit"] == "101"
        assert 0 < int(r.headers["X-Ratelimit-Remaining"]) <= 100
    return str(r.status_code)


def test_fault_bodies_are_horizons():
    seen = {}
    for _ in range(80):
        kind = check_fault_shape(requests.get(f"{HORIZON_URL}/fee_stats", timeout=10))
        seen[kind] = seen.get(kind, 0) + 1
    assert seen.get("200", 0) > 0
    assert seen.get("429", 0) > 0
    assert any(k.startswith("503") for k in seen)
    assert any(k.startswith("504") for k in seen)


def test_poll_and_resubmit_applies_each_payment_once():
    a, b = Keypair.random(), Keypair.random()
    fund(a)
    fund(b)
    seq = int(get_until_ok(f"/accounts/{a.public_key}").json()["sequence"])
    kinds = set()
    payments = 12
    for i in range(payments):
        tx = (
            TransactionBuilder(Account(a.public_key, seq + i), PASSPHRASE, base_fee=100)
            .set_timeout(600)
            .append_payment_op(b.public_key, Asset.native(), "1")
            .build()
        )
        tx.sign(a)
        envelope, tx_hash = tx.to_xdr(), tx.hash_hex()
        for _ in range(200):
            r = requests.post(f"{HORIZON_URL}/transactions", data={"tx": envelope}, timeout=10)
            kind = check_fault_shape(r)
            kinds.add(kind)
            if r.status_code == 200:
                assert r.json()["hash"] == tx_hash
                break
            assert r.status_code != 400, r.text  # never tx_bad_seq for an envelope already applied
            if kind == "504-submission-timeout":
                assert r.json()["extras"]["hash"] == tx_hash
            # outcome unknown: poll by hash, resubmit the identical envelope if not there
            if get_until_ok(f"/transactions/{tx_hash}").status_code == 200:
                break
        else:
            raise AssertionError("payment never confirmed")

    account = get_until_ok(f"/accounts/{a.public_key}").json()
    assert int(account["sequence"]) == seq + payments
    balance_b = next(x["balance"] for x in get_until_ok(f"/accounts/{b.public_key}").json()["balances"])
    assert balance_b == f"{10_000 + payments}.0000000"
    assert kinds - {"200"}, "no fault was injected on submission"
