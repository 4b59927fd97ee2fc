"""Stellar's Python SDK (unmodified `Server`) and raw HTTP against the sandbox's Horizon with
ledgers closing every 200 ms: submission that waits for the ledger, core's queue statuses
through Horizon, V0 envelopes, and the payments and transactions collections (join,
include_failed, muxed fields, path payments, TOID paging tokens, Last-Event-ID)."""

import json
import time

import pytest
import requests
from stellar_sdk import Asset, Keypair, MuxedAccount, TransactionBuilder
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.exceptions import BadResponseError

from helpers import (
    HORIZON_URL,
    builder,
    funded,
    horizon,
    latest_ledger,
    toid_parts,
    without_a_close_in_between,
)

pytestmark = pytest.mark.skipif(not HORIZON_URL, reason="HORIZON_URL not set")


def post_async(tx):
    return requests.post(f"{HORIZON_URL}/transactions_async", data={"tx": tx.to_xdr()}, timeout=10)


def wait_tx(h, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = requests.get(f"{HORIZON_URL}/transactions/{h}", timeout=10)
        if r.status_code == 200:
            return r.json()
        time.sleep(0.05)
    raise AssertionError(f"{h} not in a ledger after {timeout}s")


def test_sync_submission_waits_for_its_ledger():
    a, b = funded(2)
    s = horizon()
    before = s.root().call()["history_latest_ledger"]
    tx = builder(s.load_account(a.public_key)).append_payment_op(b.public_key, Asset.native(), "1").build()
    tx.sign(a)
    resp = s.submit_transaction(tx)
    assert resp["successful"] is True
    assert resp["ledger"] > before


def test_async_statuses_are_cores():
    a, b = funded(2)
    s = horizon()

    def scenario():
        acc = s.load_account(a.public_key)
        first = builder(acc).append_payment_op(b.public_key, Asset.native(), "1").build()
        first.sign(a)
        second = builder(acc).append_payment_op(b.public_key, Asset.native(), "2").build()
        second.sign(a)
        before = latest_ledger()
        r = post_async(first)
        again, other = post_async(first), post_async(second)
        if latest_ledger() != before:
            wait_tx(first.hash_hex())
            if other.status_code == 201:
                wait_tx(second.hash_hex())
            return False
        assert (r.status_code, r.json()["tx_status"]) == (201, "PENDING")
        assert (again.status_code, again.json()["tx_status"]) == (409, "DUPLICATE")
        assert (other.status_code, other.json()["tx_status"]) == (503, "TRY_AGAIN_LATER")
        assert wait_tx(first.hash_hex())["successful"] is True
        r = post_async(second)
        assert (r.status_code, r.json()["tx_status"]) == (201, "PENDING")
        assert wait_tx(second.hash_hex())["successful"] is True
        return True

    without_a_close_in_between(scenario)


def test_sync_try_again_later_times_out_with_the_hash():
    """Horizon's txsub takes TRY_AGAIN_LATER as submitted and waits: 504 after its timeout
    (--txsub-timeout 3s here), with extras.hash."""
    a, b = funded(2)
    s = horizon()

    def scenario():
        acc = s.load_account(a.public_key)
        # the same sequence number twice: the second one can never be applied, and while the
        # first is queued, core answers it TRY_AGAIN_LATER
        blocker = builder(acc).append_bump_sequence_op(0).build()
        blocker.sign(a)
        acc.sequence -= 1
        waiting = builder(acc).append_payment_op(b.public_key, Asset.native(), "1").build()
        waiting.sign(a)
        before = latest_ledger()
        assert post_async(blocker).status_code == 201
        started = time.time()
        r = requests.post(f"{HORIZON_URL}/transactions", data={"tx": waiting.to_xdr()}, timeout=30)
        wait_tx(blocker.hash_hex())
        if r.status_code == 400:
            # the blocker's ledger closed first: core said tx_bad_seq
            assert r.json()["extras"]["result_codes"]["transaction"] == "tx_bad_seq"
            assert latest_ledger() != before
            return False
        assert r.status_code == 504, r.text
        body = r.json()
        assert body["type"].endswith("/transaction_submission_timeout")
        assert body["extras"]["hash"] == waiting.hash_hex()
        assert time.time() - started >= 2.5
        return True

    without_a_close_in_between(scenario)


def test_v0_envelopes_are_converted_and_applied():
    a, b = funded(2)
    s = horizon()
    tx = builder(s.load_account(a.public_key)).append_payment_op(b.public_key, Asset.native(), "1").build()
    tx.transaction.v1 = False
    tx.sign(a)
    env = stellar_xdr.TransactionEnvelope.from_xdr(tx.to_xdr())
    assert env.type == stellar_xdr.EnvelopeType.ENVELOPE_TYPE_TX_V0
    resp = s.submit_transaction(tx)
    assert resp["successful"] is True
    assert resp["hash"] == tx.hash_hex()
    # core keeps the envelope it converted to
    stored = stellar_xdr.TransactionEnvelope.from_xdr(resp["envelope_xdr"])
    assert stored.type == stellar_xdr.EnvelopeType.ENVELOPE_TYPE_TX


def sse(url, headers=None, timeout=10):
    """The raw events of a stream, until it closes."""
    h = {"Accept": "text/event-stream"}
    h.update(headers or {})
    events = []
    with requests.get(url, headers=h, stream=True, timeout=timeout) as r:
        assert r.status_code == 200, r.text
        block = {}
        for line in r.iter_lines(decode_unicode=True):
            if line == "":
                if block:
                    events.append(block)
                block = {}
                continue
            k, _, v = line.partition(": ")
            block[k] = v
        if block:
            events.append(block)
    return events


def test_payment_records_muxed_path_failed_and_joined():
    issuer, a, b = funded(3)
    s = horizon()
    usd = Asset("USD", issuer.public_key)
    for kp in (a, b):
        tx = builder(s.load_account(kp.public_key)).append_change_trust_op(usd).build()
        tx.sign(kp)
        s.submit_transaction(tx)
    tx = builder(s.load_account(issuer.public_key)).append_payment_op(a.public_key, usd, "100").build()
    tx.sign(issuer)
    s.submit_transaction(tx)
    cursor = s.payments().for_account(b.public_key).order(desc=True).limit(1).call()["_embedded"]["records"][0]["paging_token"]

    to_muxed = MuxedAccount(b.public_key, 123).account_muxed
    acc = s.load_account(a.public_key)
    muxed_tx = builder(acc).add_id_memo(5).append_payment_op(to_muxed, usd, "1").build()
    muxed_tx.sign(a)
    s.submit_transaction(muxed_tx)
    path_tx = (
        builder(s.load_account(a.public_key))
        .append_path_payment_strict_receive_op(b.public_key, usd, "3", usd, "2", [])
        .append_path_payment_strict_send_op(b.public_key, usd, "2", usd, "1", [usd])
        .build()
    )
    path_tx.sign(a)
    s.submit_transaction(path_tx)
    # a conversion needs the order book, which has no offers: the transaction fails in the ledger
    fail_tx = (
        builder(s.load_account(a.public_key))
        .append_path_payment_strict_send_op(b.public_key, Asset.native(), "1", usd, "1", [])
        .build()
    )
    fail_tx.sign(a)
    with pytest.raises(Exception) as e:
        s.submit_transaction(fail_tx)
    assert e.value.extras["result_codes"]["operations"] == ["op_too_few_offers"]

    base = f"{HORIZON_URL}/accounts/{b.public_key}/payments?cursor={cursor}"
    url = base + "&limit=20"
    plain = requests.get(url, timeout=10).json()["_embedded"]["records"]
    assert [r["transaction_hash"] for r in plain] == [muxed_tx.hash_hex(), path_tx.hash_hex(), path_tx.hash_hex()]
    m = plain[0]
    assert (m["to"], m["to_muxed"], m["to_muxed_id"]) == (b.public_key, to_muxed, "123")
    assert m["from"] == a.public_key and "from_muxed" not in m
    assert "transaction" not in m
    recv, send = plain[1], plain[2]
    assert recv["type"] == "path_payment_strict_receive" and recv["type_i"] == 2
    assert (recv["amount"], recv["source_amount"], recv["source_max"]) == ("2.0000000", "2.0000000", "3.0000000")
    assert send["type"] == "path_payment_strict_send" and send["type_i"] == 13
    assert (send["amount"], send["destination_min"]) == ("2.0000000", "1.0000000")
    assert [p["asset_code"] for p in send["path"]] == ["USD"]
    # paging tokens are TOIDs: the ledger, the transaction's place, the operation from 1
    ledger, order, op = toid_parts(recv["paging_token"])
    assert ledger == s.transactions().transaction(path_tx.hash_hex()).call()["ledger"]
    assert order >= 1 and op == 1
    assert toid_parts(send["paging_token"])[2] == 2
    # include_failed adds the failed one; join=transactions embeds each transaction
    full = requests.get(url + "&include_failed=true&join=transactions", timeout=10).json()["_embedded"]["records"]
    assert [r["transaction_successful"] for r in full] == [True, True, True, False]
    assert full[3]["amount"] == "0.0000000" and full[3]["source_amount"] == "1.0000000"
    assert full[0]["transaction"]["memo"] == "5"
    assert full[0]["transaction"]["memo_type"] == "id"
    assert full[0]["transaction"]["envelope_xdr"] == muxed_tx.to_xdr()
    bad = requests.get(url + "&join=ledgers", timeout=10)
    assert bad.status_code == 400 and bad.json()["extras"]["invalid_field"] == "join"

    # the same records as a stream, and Last-Event-ID resumes after the event it names
    events = sse(base + "&include_failed=true&join=transactions&limit=4")
    assert events[0] == {"retry": "1000", "event": "open", "data": '"hello"'}
    assert events[-1] == {"retry": "10", "event": "close", "data": '"byebye"'}
    records = [json.loads(e["data"]) for e in events[1:-1]]
    assert [r["id"] for r in records] == [r["id"] for r in full]
    assert [e["id"] for e in events[1:-1]] == [r["paging_token"] for r in full]
    resumed = sse(base + "&include_failed=true&limit=2", headers={"Last-Event-ID": records[1]["id"]})
    assert [json.loads(e["data"])["id"] for e in resumed[1:-1]] == [r["id"] for r in full[2:]]


def test_transactions_collections_and_streams():
    a, b = funded(2)
    s = horizon()
    last = lambda kp: s.transactions().for_account(kp.public_key).order(desc=True).limit(1).call()["_embedded"]["records"][0]["paging_token"]
    start = max(last(a), last(b), key=int)
    hashes = []
    for amount in ["1", "2"]:
        tx = builder(s.load_account(a.public_key)).add_text_memo(f"m{amount}").append_payment_op(b.public_key, Asset.native(), amount).build()
        tx.sign(a)
        s.submit_transaction(tx)
        hashes.append(tx.hash_hex())
    page = s.transactions().for_account(a.public_key).cursor(start).call()["_embedded"]["records"]
    assert [t["hash"] for t in page] == hashes
    assert [t["memo"] for t in page] == ["m1", "m2"]
    # b takes part as the destination
    theirs = s.transactions().for_account(b.public_key).cursor(start).call()["_embedded"]["records"]
    assert [t["hash"] for t in theirs] == hashes
    for t in page:
        ledger, order, op = toid_parts(t["paging_token"])
        assert (ledger, op) == (t["ledger"], 0) and order >= 1
    everyone = requests.get(f"{HORIZON_URL}/transactions?cursor={start}&limit=200", timeout=10).json()["_embedded"]["records"]
    assert set(hashes) <= {t["hash"] for t in everyone}
    events = sse(f"{HORIZON_URL}/accounts/{a.public_key}/transactions?cursor={start}&limit=2")
    assert [json.loads(e["data"])["hash"] for e in events[1:-1]] == hashes
    assert [e["id"] for e in events[1:-1]] == [t["paging_token"] for t in page]
