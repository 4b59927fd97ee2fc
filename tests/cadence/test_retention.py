"""--retain-ledgers: Horizon's history_elder_ledger and RPC's oldestLedger move up as ledgers
close, and reads of the history behave as Horizon (`validateAndAdjustCursor`: an ascending
cursor before the retained history starts at its oldest ledger, a descending one is 410
before_history) and Stellar RPC (ledger range errors, NOT_FOUND) behave at its edge.
Run with --retain-ledgers 5 (RETAIN_LEDGERS)."""

import os

import pytest
import requests
from stellar_sdk import Asset
from stellar_sdk.soroban_rpc import GetTransactionStatus

from helpers import HORIZON_URL, RPC_URL, builder, funded, horizon, rpc, rpc_call, wait_for_ledger

RETAIN = int(os.environ.get("RETAIN_LEDGERS", "0"))
pytestmark = pytest.mark.skipif(not (HORIZON_URL and RETAIN), reason="RETAIN_LEDGERS not set")


def test_elder_ledger_moves_and_reads_behave_at_the_edge():
    a, b = funded(2)
    s = horizon()
    tx = builder(s.load_account(a.public_key)).append_payment_op(b.public_key, Asset.native(), "1").build()
    tx.sign(a)
    old = s.submit_transaction(tx)
    old_ledger = old["ledger"]
    latest = wait_for_ledger(old_ledger + RETAIN + 2)
    root = s.root().call()
    latest = root["history_latest_ledger"]
    assert root["history_elder_ledger"] >= latest - RETAIN + 1 > old_ledger
    elder = root["history_elder_ledger"]
    # the old transaction is gone from both
    assert requests.get(f"{HORIZON_URL}/transactions/{old['hash']}", timeout=10).status_code == 404
    assert rpc().get_transaction(old["hash"]).status == GetTransactionStatus.NOT_FOUND
    # ascending from before the history: moved up to it, no error
    r = requests.get(f"{HORIZON_URL}/payments?cursor={old['paging_token']}&limit=200", timeout=10)
    assert r.status_code == 200
    for rec in r.json()["_embedded"]["records"]:
        assert int(rec["paging_token"]) >> 32 >= elder
    # descending from before it: 410
    r = requests.get(f"{HORIZON_URL}/payments?cursor={old['paging_token']}&order=desc", timeout=10)
    assert r.status_code == 410
    assert r.json()["type"].endswith("/before_history")
    # RPC: the same window
    health = rpc().get_health()
    assert health.oldest_ledger >= elder and health.ledger_retention_window == RETAIN
    err = rpc_call("getEvents", {"startLedger": old_ledger})
    assert err["error"]["code"] == -32600
    assert "ledger range" in err["error"]["message"]
