"""Stellar's Python SDK (unmodified `SorobanServer`) against the sandbox's Stellar RPC, with
ledgers closing every 200 ms: accounts and entries, submission statuses and polling, CAP-67
events with filters and paging, transactions, fees."""

import base64

import pytest
from stellar_sdk import Asset, Keypair, MuxedAccount, TransactionBuilder, scval
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.exceptions import SorobanRpcErrorResponse
from stellar_sdk.soroban_rpc import (
    EventFilter,
    EventFilterType,
    GetTransactionStatus,
    SendTransactionStatus,
)

from helpers import (
    HORIZON_URL,
    PASSPHRASE,
    RPC_URL,
    builder,
    funded,
    horizon,
    rpc,
    rpc_call,
    without_a_close_in_between,
)

pytestmark = pytest.mark.skipif(not RPC_URL, reason="RPC_URL not set")


def test_health_network_latest_ledger_and_fees():
    s = rpc()
    health = s.get_health()
    assert health.status == "healthy"
    assert 1 <= health.oldest_ledger <= health.latest_ledger
    net = s.get_network()
    assert net.passphrase == PASSPHRASE
    assert net.protocol_version == 23
    latest = s.get_latest_ledger()
    assert latest.sequence >= health.latest_ledger
    # the header's hash is the ledger's id, and the close meta names the same ledger
    header = stellar_xdr.LedgerHeader.from_xdr(latest.header_xdr)
    assert header.ledger_seq.uint32 == latest.sequence
    import hashlib

    assert hashlib.sha256(header.to_xdr_bytes()).hexdigest() == latest.id
    meta = stellar_xdr.LedgerCloseMeta.from_xdr(latest.metadata_xdr)
    assert meta.v2.ledger_header.header.ledger_seq.uint32 == latest.sequence
    assert meta.v2.ledger_header.hash.hash.hex() == latest.id
    fees = s.get_fee_stats()
    assert fees.latest_ledger >= latest.sequence
    assert fees.inclusion_fee.ledger_count <= 10


def test_accounts_and_ledger_entries_match_horizon():
    issuer, holder = funded(2)
    s = rpc()
    h = horizon()
    usd = Asset("USD", issuer.public_key)
    tx = (
        builder(s.load_account(holder.public_key))
        .append_change_trust_op(usd)
        .append_manage_data_op("customer", b"42")
        .build()
    )
    tx.sign(holder)
    sent = s.send_transaction(tx)
    assert sent.status == SendTransactionStatus.PENDING
    assert s.poll_transaction(sent.hash, sleep_strategy=lambda _: 0.1).status == GetTransactionStatus.SUCCESS
    acc = s.load_account(holder.public_key)
    assert acc.sequence == h.load_account(holder.public_key).sequence
    keys = [
        stellar_xdr.LedgerKey(
            stellar_xdr.LedgerEntryType.TRUSTLINE,
            trust_line=stellar_xdr.LedgerKeyTrustLine(
                account_id=holder.xdr_account_id(),
                asset=usd.to_trust_line_asset_xdr_object(),
            ),
        ),
        stellar_xdr.LedgerKey(
            stellar_xdr.LedgerEntryType.DATA,
            data=stellar_xdr.LedgerKeyData(
                account_id=holder.xdr_account_id(),
                data_name=stellar_xdr.String64(b"customer"),
            ),
        ),
        stellar_xdr.LedgerKey(
            stellar_xdr.LedgerEntryType.ACCOUNT,
            account=stellar_xdr.LedgerKeyAccount(account_id=Keypair.random().xdr_account_id()),
        ),
    ]
    resp = s.get_ledger_entries(keys)
    # the missing account is left out; the others come in the order asked
    assert len(resp.entries) == 2
    line = stellar_xdr.LedgerEntryData.from_xdr(resp.entries[0].xdr).trust_line
    assert line.balance.int64 == 0
    assert line.limit.int64 == 2**63 - 1
    data = stellar_xdr.LedgerEntryData.from_xdr(resp.entries[1].xdr).data
    assert data.data_value.data_value == b"42"
    assert resp.entries[0].key == keys[0].to_xdr()
    ledger = h.transactions().transaction(sent.hash).call()["ledger"]
    assert resp.entries[0].last_modified_ledger == ledger


def test_statuses_pending_duplicate_try_again_later_error():
    a, b = funded(2)
    s = rpc()
    txs = {}

    def scenario():
        acc = s.load_account(a.public_key)
        first = builder(acc).append_payment_op(b.public_key, Asset.native(), "1").build()
        first.sign(a)
        second = builder(acc).append_payment_op(b.public_key, Asset.native(), "2").build()
        second.sign(a)
        before = s.get_latest_ledger().sequence
        sent = s.send_transaction(first)
        # stellar-core: the same transaction again is a duplicate; another from the same
        # source account waits for the next ledger
        again, other = s.send_transaction(first), s.send_transaction(second)
        if s.get_latest_ledger().sequence != before:
            s.poll_transaction(sent.hash, sleep_strategy=lambda _: 0.1)
            if other.status == SendTransactionStatus.PENDING:
                s.poll_transaction(second.hash_hex(), sleep_strategy=lambda _: 0.1)
            return False
        assert sent.status == SendTransactionStatus.PENDING
        assert again.status == SendTransactionStatus.DUPLICATE
        assert other.status == SendTransactionStatus.TRY_AGAIN_LATER
        txs.update(first=first, second=second, sent=sent)
        return True

    without_a_close_in_between(scenario)
    first, second, sent = txs["first"], txs["second"], txs["sent"]
    got = s.poll_transaction(sent.hash, sleep_strategy=lambda _: 0.1)
    assert got.status == GetTransactionStatus.SUCCESS
    assert got.application_order >= 1 and got.fee_bump is False
    assert got.envelope_xdr == first.to_xdr()
    result = stellar_xdr.TransactionResult.from_xdr(got.result_xdr)
    assert result.result.code == stellar_xdr.TransactionResultCode.txSUCCESS
    stellar_xdr.TransactionMeta.from_xdr(got.result_meta_xdr)
    # now that the ledger closed, the second one is accepted
    assert s.send_transaction(second).status == SendTransactionStatus.PENDING
    assert s.poll_transaction(second.hash_hex(), sleep_strategy=lambda _: 0.1).status == GetTransactionStatus.SUCCESS
    # an applied transaction sent again: its sequence number is used, ERROR with the result
    again = s.send_transaction(first)
    assert again.status == SendTransactionStatus.ERROR
    err = stellar_xdr.TransactionResult.from_xdr(again.error_result_xdr)
    assert err.result.code == stellar_xdr.TransactionResultCode.txBAD_SEQ


def test_failed_in_the_ledger_and_not_found():
    a, b = funded(2)
    s = rpc()
    tx = builder(s.load_account(a.public_key)).append_payment_op(b.public_key, Asset.native(), "20000").build()
    tx.sign(a)
    sent = s.send_transaction(tx)
    assert sent.status == SendTransactionStatus.PENDING
    got = s.poll_transaction(sent.hash, sleep_strategy=lambda _: 0.1)
    assert got.status == GetTransactionStatus.FAILED
    result = stellar_xdr.TransactionResult.from_xdr(got.result_xdr)
    assert result.result.code == stellar_xdr.TransactionResultCode.txFAILED
    op = result.result.results[0].tr.payment_result
    assert op.code == stellar_xdr.PaymentResultCode.PAYMENT_UNDERFUNDED
    missing = s.get_transaction("00" * 32)
    assert missing.status == GetTransactionStatus.NOT_FOUND
    assert missing.latest_ledger >= got.ledger


def test_fee_bump_replaces_a_queued_transaction_at_ten_times_the_fee():
    a, b, payer = funded(3)
    s = rpc()
    txs = {}

    def scenario():
        inner = builder(s.load_account(a.public_key)).append_payment_op(b.public_key, Asset.native(), "1").build()
        inner.sign(a)
        # 5× the fee per operation: refused, with the fee that would do (10 × 100 × 2 ops)
        low = TransactionBuilder.build_fee_bump_transaction(payer.public_key, 500, inner, PASSPHRASE)
        low.sign(payer)
        bump = TransactionBuilder.build_fee_bump_transaction(payer.public_key, 1000, inner, PASSPHRASE)
        bump.sign(payer)
        before = s.get_latest_ledger().sequence
        first = s.send_transaction(inner)
        refused = s.send_transaction(low)
        sent = s.send_transaction(bump)
        dup = s.send_transaction(inner)
        if s.get_latest_ledger().sequence != before:
            s.poll_transaction(inner.hash_hex(), sleep_strategy=lambda _: 0.1)
            return False
        assert first.status == SendTransactionStatus.PENDING
        assert refused.status == SendTransactionStatus.ERROR
        err = stellar_xdr.TransactionResult.from_xdr(refused.error_result_xdr)
        assert err.result.code == stellar_xdr.TransactionResultCode.txINSUFFICIENT_FEE
        assert err.fee_charged.int64 == 2000
        assert sent.status == SendTransactionStatus.PENDING
        assert dup.status == SendTransactionStatus.DUPLICATE
        txs.update(inner=inner, bump=bump)
        return True

    without_a_close_in_between(scenario)
    inner, bump = txs["inner"], txs["bump"]
    got = s.poll_transaction(bump.hash_hex(), sleep_strategy=lambda _: 0.1)
    assert got.status == GetTransactionStatus.SUCCESS
    assert got.fee_bump is True
    by_inner = s.get_transaction(inner.hash_hex())
    assert by_inner.status == GetTransactionStatus.SUCCESS


def test_cap67_events_filters_and_paging():
    issuer, base, customer = funded(3)
    s = rpc()
    usd = Asset("USD", issuer.public_key)
    usd_contract = usd.contract_id(PASSPHRASE)
    start = s.get_latest_ledger().sequence

    def send(kp, build):
        tx = build(builder(s.load_account(kp.public_key))).build()
        tx.sign(kp)
        sent = s.send_transaction(tx)
        assert sent.status == SendTransactionStatus.PENDING, sent
        got = s.poll_transaction(sent.hash, sleep_strategy=lambda _: 0.1)
        assert got.status == GetTransactionStatus.SUCCESS, got
        return sent.hash

    send(base, lambda t: t.append_change_trust_op(usd))
    send(customer, lambda t: t.append_change_trust_op(usd))
    send(issuer, lambda t: t.append_payment_op(customer.public_key, usd, "100"))
    deposit = send(customer, lambda t: t.add_id_memo(77).append_payment_op(base.public_key, usd, "12.5"))
    muxed = MuxedAccount(base.public_key, 9001).account_muxed
    send(customer, lambda t: t.append_payment_op(muxed, usd, "3"))
    burn = send(customer, lambda t: t.add_text_memo("redeem").append_payment_op(issuer.public_key, usd, "4"))

    # transfers to the base account: the data map names the customer
    to_base = scval.to_address(base.public_key).to_xdr()
    flt = EventFilter(
        event_type=EventFilterType.CONTRACT,
        contract_ids=[usd_contract],
        topics=[[scval.to_symbol("transfer").to_xdr(), "*", to_base, "**"]],
    )
    page = s.get_events(start_ledger=start, filters=[flt], limit=100)
    assert [e.transaction_hash for e in page.events][:1] == [deposit]
    assert len(page.events) == 2
    first = page.events[0]
    assert first.contract_id == usd_contract
    topics = [stellar_xdr.SCVal.from_xdr(t) for t in first.topic]
    assert scval.to_native(topics[0]) == "transfer"
    assert scval.to_native(topics[1]).address == customer.public_key
    assert scval.to_native(topics[3]) == f"USD:{issuer.public_key}"
    value = scval.to_native(stellar_xdr.SCVal.from_xdr(first.value))
    assert value == {"amount": 125_000_000, "to_muxed_id": 77}
    muxed_value = scval.to_native(stellar_xdr.SCVal.from_xdr(page.events[1].value))
    assert muxed_value == {"amount": 30_000_000, "to_muxed_id": 9001}
    # a payment to the issuer is a burn: no memo in the event, the bare amount
    burns = s.get_events(
        start_ledger=start,
        filters=[EventFilter(contract_ids=[usd_contract], topics=[[scval.to_symbol("burn").to_xdr(), "**"]])],
    )
    assert [e.transaction_hash for e in burns.events] == [burn]
    assert scval.to_native(stellar_xdr.SCVal.from_xdr(burns.events[0].value)) == 40_000_000
    # paging one event at a time reaches the same events, in order, through the cursor
    seen = []
    cursor = None
    for _ in range(50):
        if cursor is None:
            p = s.get_events(start_ledger=start, filters=[flt], limit=1)
        else:
            p = s.get_events(filters=[flt], cursor=cursor, limit=1)
        seen += [e.id for e in p.events]
        cursor = p.cursor
        if not p.events:
            break
    assert seen == [e.id for e in page.events]
    ids = [e.id for e in page.events]
    assert ids == sorted(ids)


def test_get_transactions_pages_by_cursor():
    a, b = funded(2)
    s = rpc()
    start = s.get_latest_ledger().sequence
    hashes = []
    for amount in ["1", "2", "3"]:
        tx = builder(s.load_account(a.public_key)).append_payment_op(b.public_key, Asset.native(), amount).build()
        tx.sign(a)
        sent = s.send_transaction(tx)
        assert sent.status == SendTransactionStatus.PENDING
        assert s.poll_transaction(sent.hash, sleep_strategy=lambda _: 0.1).status == GetTransactionStatus.SUCCESS
        hashes.append(sent.hash)
    seen = []
    page = s.get_transactions(start_ledger=start, limit=2)
    for _ in range(20):
        seen += [t.transaction_hash for t in page.transactions]
        if not page.transactions:
            break
        page = s.get_transactions(cursor=page.cursor, limit=2)
    mine = [h for h in seen if h in hashes]
    assert mine == hashes
    assert len(seen) == len(set(seen))


def test_simulate_and_unknown_methods_are_clear_errors():
    r = rpc_call("simulateTransaction", {"transaction": "AAAA"})
    assert r["error"]["code"] == -32600
    assert "Soroban" in r["error"]["message"]
    assert rpc_call("nope")["error"]["code"] == -32601
    with pytest.raises(SorobanRpcErrorResponse):
        rpc().get_events(start_ledger=10**9)


def test_xdr_format_json_is_sep51():
    a, b = funded(2)
    s = rpc()
    tx = builder(s.load_account(a.public_key)).add_text_memo("hi").append_payment_op(b.public_key, Asset.native(), "1").build()
    tx.sign(a)
    sent = s.send_transaction(tx)
    s.poll_transaction(sent.hash, sleep_strategy=lambda _: 0.1)
    got = rpc_call("getTransaction", {"hash": sent.hash, "xdrFormat": "json"})["result"]
    env = got["envelopeJson"]["tx"]["tx"]
    assert env["memo"] == {"text": "hi"}
    assert env["source_account"] == a.public_key
    assert env["operations"][0]["body"]["payment"]["amount"] == "10000000"
    assert "envelopeXdr" not in got
    events = got["events"]["contractEventsJson"][0][0]["body"]["v0"]
    assert events["topics"][0] == {"symbol": "transfer"}
    bad = rpc_call("getTransaction", {"hash": sent.hash, "xdrFormat": "yaml"})
    assert bad["error"]["code"] == -32602
