"""Stellar's Python SDK (unmodified) against a running `airgap-relay sandbox`.

Run through tests/it/sandbox_sdk.rs, which starts the real binary on a free loopback port and
sets HORIZON_URL. Every expectation here is Horizon's documented behaviour (result-code strings,
status codes, resource fields), not output captured from the sandbox.
"""

import base64
import os
import time

import pytest
import requests
from stellar_sdk import (
    Account,
    Asset,
    AuthorizationFlag,
    Keypair,
    Server,
    Signer,
    TransactionBuilder,
    TrustLineFlags,
)
from stellar_sdk.exceptions import BadRequestError, NotFoundError

PASSPHRASE = "Standalone Network ; February 2017"
HORIZON_URL = os.environ.get("HORIZON_URL", "")

pytestmark = pytest.mark.skipif(not HORIZON_URL, reason="HORIZON_URL not set")


@pytest.fixture(scope="module")
def server():
    return Server(HORIZON_URL)


def fund(kp):
    r = requests.get(f"{HORIZON_URL}/friendbot", params={"addr": kp.public_key}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def funded():
    kp = Keypair.random()
    fund(kp)
    return kp


def builder(server, kp):
    return TransactionBuilder(server.load_account(kp.public_key), PASSPHRASE, base_fee=100).set_timeout(300)


def native_balance(server, account_id):
    acc = server.accounts().account_id(account_id).call()
    return next(b["balance"] for b in acc["balances"] if b["asset_type"] == "native")


def stroops(amount):
    whole, frac = amount.split(".")
    return int(whole) * 10_000_000 + int(frac.ljust(7, "0"))


def result_codes(excinfo):
    return excinfo.value.extras["result_codes"]


def test_root_reports_standalone_network(server):
    root = server.root().call()
    assert root["network_passphrase"] == PASSPHRASE
    assert root["history_latest_ledger"] >= 1


def test_friendbot_funds_ten_thousand_lumens(server):
    kp = Keypair.random()
    tx = fund(kp)
    assert tx["successful"] is True
    assert native_balance(server, kp.public_key) == "10000.0000000"
    acc = server.load_account(kp.public_key)
    assert acc.sequence > 0
    # funding twice is refused, not applied twice
    r = requests.get(f"{HORIZON_URL}/friendbot", params={"addr": kp.public_key}, timeout=10)
    assert r.status_code == 400
    assert native_balance(server, kp.public_key) == "10000.0000000"


def test_fetch_base_fee_and_fee_stats(server):
    assert server.fetch_base_fee() == 100
    stats = server.fee_stats().call()
    assert stats["last_ledger_base_fee"] == "100"


def test_unknown_and_invalid_lookups(server):
    with pytest.raises(NotFoundError):
        server.transactions().transaction("0" * 64).call()
    with pytest.raises(NotFoundError):
        server.accounts().account_id(Keypair.random().public_key).call()
    r = requests.get(f"{HORIZON_URL}/transactions/{'A' * 64}", timeout=10)
    assert r.status_code == 400
    assert r.json()["extras"]["invalid_field"] == "tx_id"
    r = requests.get(f"{HORIZON_URL}/accounts/not-an-account", timeout=10)
    assert r.status_code == 400
    assert r.json()["extras"]["invalid_field"] == "account_id"


def test_malformed_envelope_is_rejected(server):
    r = requests.post(f"{HORIZON_URL}/transactions", data={"tx": "not xdr"}, timeout=10)
    assert r.status_code == 400
    body = r.json()
    assert body["type"] == "https://stellar.org/horizon-errors/transaction_malformed"
    assert body["extras"]["envelope_xdr"] == "not xdr"
    assert r.headers["Content-Type"].startswith("application/problem+json")
    r = requests.post(f"{HORIZON_URL}/transactions", json={"tx": "x"}, timeout=10)
    assert r.status_code == 415


def test_two_key_ceremony(server):
    issuer = funded()
    cosigner = Keypair.random()
    distributor = funded()
    asset = Asset("REHRS", issuer.public_key)

    # Issuer adds a co-signer; medium and high operations now need both keys.
    tx = (
        builder(server, issuer)
        .append_set_options_op(
            signer=Signer.ed25519_public_key(cosigner.public_key, 1),
            master_weight=1,
            low_threshold=1,
            med_threshold=2,
            high_threshold=2,
        )
        .build()
    )
    tx.sign(issuer)
    assert server.submit_transaction(tx)["successful"] is True

    # Ceremony 1: flags, home domain and a data entry, signed by both keys.
    tx = (
        builder(server, issuer)
        .append_set_options_op(
            set_flags=AuthorizationFlag.AUTHORIZATION_REQUIRED
            | AuthorizationFlag.AUTHORIZATION_REVOCABLE
            | AuthorizationFlag.AUTHORIZATION_CLAWBACK_ENABLED,
        )
        .append_set_options_op(home_domain="example.org")
        .append_manage_data_op("ceremony", b"rehearsal")
        .build()
    )
    tx.sign(issuer)
    tx.sign(cosigner)
    resp = server.submit_transaction(tx)
    assert resp["successful"] is True
    assert resp["operation_count"] == 3
    assert resp["fee_charged"] == "300"

    # The distributor trusts the asset; the trustline inherits clawback, needs authorization.
    tx = builder(server, distributor).append_change_trust_op(asset).build()
    tx.sign(distributor)
    server.submit_transaction(tx)

    # Ceremony 2: authorize the trustline and issue, both keys.
    tx = (
        builder(server, issuer)
        .append_set_trust_line_flags_op(
            distributor.public_key, asset, set_flags=TrustLineFlags.AUTHORIZED_FLAG
        )
        .append_payment_op(distributor.public_key, asset, "1000")
        .build()
    )
    tx.sign(issuer)
    tx.sign(cosigner)
    resp = server.submit_transaction(tx)
    assert resp["successful"] is True
    assert server.transactions().transaction(resp["hash"]).call()["successful"] is True

    acc = server.accounts().account_id(issuer.public_key).call()
    assert acc["flags"] == {
        "auth_required": True,
        "auth_revocable": True,
        "auth_immutable": False,
        "auth_clawback_enabled": True,
    }
    assert acc["home_domain"] == "example.org"
    assert acc["data"]["ceremony"] == base64.b64encode(b"rehearsal").decode()
    assert acc["thresholds"] == {"low_threshold": 1, "med_threshold": 2, "high_threshold": 2}
    assert acc["subentry_count"] == 2  # one signer, one data entry
    assert {"weight": 1, "key": cosigner.public_key, "type": "ed25519_public_key"} in acc["signers"]
    assert acc["signers"][-1]["key"] == issuer.public_key

    holder = server.accounts().account_id(distributor.public_key).call()
    line = holder["balances"][0]
    assert line["asset_code"] == "REHRS"
    assert line["asset_type"] == "credit_alphanum12"
    assert line["balance"] == "1000.0000000"
    assert line["is_authorized"] is True
    assert line["is_clawback_enabled"] is True
    assert holder["balances"][-1]["asset_type"] == "native"

    # Clawback is a medium-threshold op of the issuer: both keys again.
    tx = builder(server, issuer).append_clawback_op(asset, distributor.public_key, "250").build()
    tx.sign(issuer)
    tx.sign(cosigner)
    assert server.submit_transaction(tx)["successful"] is True
    holder = server.accounts().account_id(distributor.public_key).call()
    assert holder["balances"][0]["balance"] == "750.0000000"

    # One key alone meets the low threshold of the tx but not the ops' medium threshold.
    seq_before = server.load_account(issuer.public_key).sequence
    tx = builder(server, issuer).append_payment_op(distributor.public_key, asset, "1").build()
    tx.sign(issuer)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e) == {"transaction": "tx_failed", "operations": ["op_bad_auth"]}
    assert server.load_account(issuer.public_key).sequence == seq_before
    with pytest.raises(NotFoundError):
        server.transactions().transaction(tx.hash_hex()).call()


def test_resubmission_returns_stored_answer(server):
    sender = funded()
    receiver = funded()
    tx = builder(server, sender).append_payment_op(receiver.public_key, Asset.native(), "12.5").build()
    tx.sign(sender)
    envelope = tx.to_xdr()
    first = server.submit_transaction(envelope)
    second = server.submit_transaction(envelope)
    assert first["hash"] == second["hash"] == tx.hash_hex()
    assert first["ledger"] == second["ledger"]
    assert first["result_xdr"] == second["result_xdr"]
    assert first["created_at"] == second["created_at"]
    assert native_balance(server, receiver.public_key) == "10012.5000000"
    assert stroops(native_balance(server, sender.public_key)) == stroops("9987.5000000") - 100
    assert server.load_account(sender.public_key).sequence == tx.transaction.sequence


def test_tx_bad_seq(server):
    kp = funded()
    seq = server.load_account(kp.public_key).sequence
    tx = TransactionBuilder(Account(kp.public_key, seq), PASSPHRASE, base_fee=100).set_timeout(300).append_bump_sequence_op(0).build()
    tx.sign(kp)
    server.submit_transaction(tx)
    tx2 = (
        TransactionBuilder(Account(kp.public_key, seq), PASSPHRASE, base_fee=100)  # reuses the consumed sequence
        .set_timeout(300)
        .append_manage_data_op("k", b"v")
        .build()
    )
    tx2.sign(kp)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx2)
    assert e.value.status == 400
    assert result_codes(e) == {"transaction": "tx_bad_seq"}
    # Horizon answers a sync tx_bad_seq with its canned result (fee 0), reference §2.5
    assert e.value.extras["result_xdr"] == "AAAAAAAAAAD////7AAAAAA=="


def test_tx_bad_auth(server):
    kp = funded()
    balance = native_balance(server, kp.public_key)
    tx = builder(server, kp).append_bump_sequence_op(0).build()
    tx.sign(Keypair.random())
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e) == {"transaction": "tx_bad_auth"}
    assert native_balance(server, kp.public_key) == balance


def test_op_no_trust_fails_in_ledger(server):
    issuer = funded()
    holder = funded()
    seq = server.load_account(issuer.public_key).sequence
    tx = builder(server, issuer).append_payment_op(holder.public_key, Asset("USD", issuer.public_key), "5").build()
    tx.sign(issuer)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e) == {"transaction": "tx_failed", "operations": ["op_no_trust"]}
    assert e.value.extras["result_xdr"] == "AAAAAAAAAGT/////AAAAAQAAAAAAAAAB////+gAAAAA="
    # failed in a ledger: stored, fee charged, sequence consumed
    stored = server.transactions().transaction(tx.hash_hex()).call()
    assert stored["successful"] is False
    assert stored["fee_charged"] == "100"
    assert server.load_account(issuer.public_key).sequence == seq + 1
    assert native_balance(server, issuer.public_key) == "9999.9999900"
    # and resubmitting answers the same failure without charging again
    with pytest.raises(BadRequestError) as e2:
        server.submit_transaction(tx)
    assert result_codes(e2) == result_codes(e)
    assert native_balance(server, issuer.public_key) == "9999.9999900"


def test_op_cant_change_when_immutable(server):
    issuer = funded()
    tx = (
        builder(server, issuer)
        .append_set_options_op(set_flags=AuthorizationFlag.AUTHORIZATION_REVOCABLE | AuthorizationFlag.AUTHORIZATION_IMMUTABLE)
        .build()
    )
    tx.sign(issuer)
    server.submit_transaction(tx)
    tx = builder(server, issuer).append_set_options_op(clear_flags=AuthorizationFlag.AUTHORIZATION_REVOCABLE).build()
    tx.sign(issuer)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e) == {"transaction": "tx_failed", "operations": ["op_cant_change"]}


def test_op_low_reserve(server):
    kp = funded()
    tx = builder(server, kp).append_create_account_op(Keypair.random().public_key, "0.5").build()
    tx.sign(kp)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e) == {"transaction": "tx_failed", "operations": ["op_low_reserve"]}
    assert e.value.extras["result_xdr"] == "AAAAAAAAAGT/////AAAAAQAAAAAAAAAA/////QAAAAA="


def test_op_underfunded_and_rollback_of_earlier_ops(server):
    kp = funded()
    other = funded()
    tx = (
        builder(server, kp)
        .append_payment_op(other.public_key, Asset.native(), "1")
        .append_payment_op(other.public_key, Asset.native(), "20000")
        .build()
    )
    tx.sign(kp)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e) == {"transaction": "tx_failed", "operations": ["op_success", "op_underfunded"]}
    # the successful first payment was rolled back with the failed transaction
    assert native_balance(server, other.public_key) == "10000.0000000"
    assert native_balance(server, kp.public_key) == "9999.9999800"


def test_op_not_authorized(server):
    issuer = funded()
    holder = funded()
    asset = Asset("GOLD", issuer.public_key)
    tx = builder(server, issuer).append_set_options_op(set_flags=AuthorizationFlag.AUTHORIZATION_REQUIRED).build()
    tx.sign(issuer)
    server.submit_transaction(tx)
    tx = builder(server, holder).append_change_trust_op(asset, limit="100").build()
    tx.sign(holder)
    server.submit_transaction(tx)
    line = server.accounts().account_id(holder.public_key).call()["balances"][0]
    assert line["is_authorized"] is False
    assert line["limit"] == "100.0000000"
    tx = builder(server, issuer).append_payment_op(holder.public_key, asset, "1").build()
    tx.sign(issuer)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e) == {"transaction": "tx_failed", "operations": ["op_not_authorized"]}
    # not revocable: authorizing is allowed, revoking is not
    tx = builder(server, issuer).append_set_trust_line_flags_op(holder.public_key, asset, set_flags=TrustLineFlags.AUTHORIZED_FLAG).build()
    tx.sign(issuer)
    server.submit_transaction(tx)
    tx = builder(server, issuer).append_payment_op(holder.public_key, asset, "101").build()
    tx.sign(issuer)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e)["operations"] == ["op_line_full"]
    tx = builder(server, issuer).append_set_trust_line_flags_op(holder.public_key, asset, clear_flags=TrustLineFlags.AUTHORIZED_FLAG).build()
    tx.sign(issuer)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e)["operations"] == ["op_cant_revoke"]


def test_clawback_needs_flag_on_trustline(server):
    issuer = funded()
    holder = funded()
    asset = Asset("EARLY", issuer.public_key)
    tx = builder(server, holder).append_change_trust_op(asset).build()
    tx.sign(holder)
    server.submit_transaction(tx)
    tx = (
        builder(server, issuer)
        .append_set_options_op(set_flags=AuthorizationFlag.AUTHORIZATION_REVOCABLE | AuthorizationFlag.AUTHORIZATION_CLAWBACK_ENABLED)
        .append_payment_op(holder.public_key, asset, "10")
        .build()
    )
    tx.sign(issuer)
    server.submit_transaction(tx)
    tx = builder(server, issuer).append_clawback_op(asset, holder.public_key, "1").build()
    tx.sign(issuer)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e)["operations"] == ["op_not_clawback_enabled"]


def test_clawback_without_revocable_is_refused(server):
    issuer = funded()
    tx = builder(server, issuer).append_set_options_op(set_flags=AuthorizationFlag.AUTHORIZATION_CLAWBACK_ENABLED).build()
    tx.sign(issuer)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(tx)
    assert result_codes(e)["operations"] == ["op_auth_revocable_required"]


def test_bump_sequence_and_merge(server):
    kp = funded()
    dest = funded()
    acc = server.load_account(kp.public_key)
    tx = builder(server, kp).append_bump_sequence_op(acc.sequence + 10).build()
    tx.sign(kp)
    server.submit_transaction(tx)
    assert server.load_account(kp.public_key).sequence == acc.sequence + 10
    tx = builder(server, kp).append_account_merge_op(dest.public_key).build()
    tx.sign(kp)
    resp = server.submit_transaction(tx)
    assert resp["successful"] is True
    with pytest.raises(NotFoundError):
        server.accounts().account_id(kp.public_key).call()
    assert native_balance(server, dest.public_key) == "19999.9999800"


def test_async_submission(server):
    kp = funded()
    tx = builder(server, kp).append_manage_data_op("async", b"1").build()
    tx.sign(kp)
    resp = server.submit_transaction_async(tx)
    assert resp["tx_status"] == "PENDING"
    assert resp["hash"] == tx.hash_hex()
    assert server.transactions().transaction(tx.hash_hex()).call()["successful"] is True
    # the async endpoint relays core: an applied envelope now has a consumed sequence number
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction_async(tx)
    assert e.value.status == 400
    r = requests.post(f"{HORIZON_URL}/transactions_async", data={"tx": tx.to_xdr()}, timeout=10)
    assert r.json()["tx_status"] == "ERROR"
    assert r.json()["error_result_xdr"] == "AAAAAAAAAGT////7AAAAAA=="


def test_fee_bump_pays_for_an_offline_signed_envelope(server):
    issuer = funded()
    holder = funded()
    relay = funded()
    inner = builder(server, issuer).append_payment_op(holder.public_key, Asset.native(), "3").build()
    inner.sign(issuer)
    bump = TransactionBuilder.build_fee_bump_transaction(relay.public_key, 200, inner, PASSPHRASE)
    bump.sign(relay)
    resp = server.submit_transaction(bump)
    assert resp["successful"] is True
    assert resp["hash"] == bump.hash_hex()
    assert resp["fee_account"] == relay.public_key
    assert resp["source_account"] == issuer.public_key
    assert resp["max_fee"] == "400"
    assert resp["fee_charged"] == "200"
    assert resp["fee_bump_transaction"]["hash"] == bump.hash_hex()
    assert resp["inner_transaction"]["hash"] == inner.hash_hex()
    assert resp["inner_transaction"]["max_fee"] == "100"
    # the issuer paid 3 XLM and no fee; the relay paid the fee
    assert native_balance(server, issuer.public_key) == "9997.0000000"
    assert native_balance(server, relay.public_key) == "9999.9999800"
    # the inner hash resolves too, and resubmitting the inner envelope gets the stored answer
    by_inner = server.transactions().transaction(inner.hash_hex()).call()
    assert by_inner["hash"] == inner.hash_hex()
    assert by_inner["ledger"] == resp["ledger"]
    again = server.submit_transaction(inner)
    assert again["hash"] == inner.hash_hex()
    assert native_balance(server, holder.public_key) == "10003.0000000"

    # an inner failure is reported with both codes
    inner = builder(server, issuer).append_payment_op(holder.public_key, Asset.native(), "20000").build()
    inner.sign(issuer)
    bump = TransactionBuilder.build_fee_bump_transaction(relay.public_key, 200, inner, PASSPHRASE)
    bump.sign(relay)
    with pytest.raises(BadRequestError) as e:
        server.submit_transaction(bump)
    assert result_codes(e) == {
        "transaction": "tx_fee_bump_inner_failed",
        "inner_transaction": "tx_failed",
        "operations": ["op_underfunded"],
    }


def deep_envelope(depth):
    """A Soroban invoke envelope whose argument nests `depth` SCVal vectors (decodes, or trips
    the XDR depth limit)."""
    from stellar_sdk import Account, scval

    kp = Keypair.random()
    tx = (
        TransactionBuilder(Account(kp.public_key, 1), PASSPHRASE, base_fee=100)
        .set_timeout(30)
        .append_invoke_contract_function_op(
            "CA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQGAXE", "f", [scval.to_uint32(0xDEADBEEF)]
        )
        .build()
    )
    raw = tx.to_xdr_object().to_xdr_bytes()
    marker = bytes.fromhex("00000003deadbeef")
    assert raw.count(marker) == 1
    vec_of_one = bytes.fromhex("00000010" "00000001" "00000001")  # SCV_VEC, present, length 1
    nested = vec_of_one * depth + bytes.fromhex("00000001")  # ... SCV_VOID
    return base64.b64encode(raw.replace(marker, nested)).decode()


def test_hostile_requests_get_horizon_errors(server):
    url = HORIZON_URL
    r = requests.post(f"{url}/transactions", data={"tx": "A" * (300 * 1024)}, timeout=10)
    assert r.status_code == 400 and r.json()["type"].endswith("transaction_malformed")
    kp = funded()
    tx = builder(server, kp).append_bump_sequence_op(0).build()
    tx.sign(kp)
    trailing = base64.b64encode(base64.b64decode(tx.to_xdr()) + b"\0\0\0\0").decode()
    r = requests.post(f"{url}/transactions", data={"tx": trailing}, timeout=10)
    assert r.status_code == 400 and r.json()["type"].endswith("transaction_malformed")
    r = requests.post(f"{url}/transactions", data={"tx": deep_envelope(5000)}, timeout=10)
    assert r.status_code == 400 and r.json()["type"].endswith("transaction_malformed")
    r = requests.post(f"{url}/transactions", data={"tx": deep_envelope(20)}, timeout=10)
    assert r.status_code == 400 and r.json()["type"].endswith("transaction_failed")
    r = requests.post(f"{url}/transactions_async", data={"tx": "%%%"}, timeout=10)
    assert r.status_code == 400 and "error" in r.json()["extras"]
    r = requests.post(f"{url}/transactions", timeout=10)
    assert r.status_code == 400 and r.json()["extras"]["envelope_xdr"] == ""
    for path in ["/" + "x" * 8000, "/accounts/", "/transactions/%00", "/../../etc/passwd", "/ledgers?limit=abc", "/ledgers?order=up", "/friendbot?addr=%FF"]:
        r = requests.get(url + path, timeout=10)
        assert r.status_code in (400, 404), path
        assert r.headers["Content-Type"].startswith("application/problem+json"), path
    assert requests.delete(f"{url}/", timeout=10).status_code == 404
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"\x00\xff GARBAGE \r\n\r\n")
        s.recv(1024)
    # the sandbox still answers, and tx submission works
    assert server.root().call()["network_passphrase"] == PASSPHRASE
    assert server.submit_transaction(tx)["successful"] is True


def test_sep29_memo_required_is_seen_by_the_sdk(server):
    from stellar_sdk.sep.exceptions import AccountRequiresMemoError

    exchange = funded()
    sender = funded()
    tx = builder(server, exchange).append_manage_data_op("config.memo_required", b"1").build()
    tx.sign(exchange)
    server.submit_transaction(tx)
    assert server.accounts().account_id(exchange.public_key).call()["data"]["config.memo_required"] == "MQ=="
    tx = builder(server, sender).append_payment_op(exchange.public_key, Asset.native(), "1").build()
    tx.sign(sender)
    with pytest.raises(AccountRequiresMemoError):
        server.submit_transaction(tx)
    tx = builder(server, sender).add_text_memo("deposit 42").append_payment_op(exchange.public_key, Asset.native(), "1").build()
    tx.sign(sender)
    resp = server.submit_transaction(tx)
    assert resp["memo_type"] == "text"
    assert resp["memo"] == "deposit 42"
    assert resp["memo_bytes"] == base64.b64encode(b"deposit 42").decode()


def test_concurrent_clients_each_close_one_ledger_per_transaction(server):
    from concurrent.futures import ThreadPoolExecutor

    sink = funded()
    senders = [funded() for _ in range(8)]
    start = server.root().call()["history_latest_ledger"]

    def run(kp):
        client = Server(HORIZON_URL)
        hashes = []
        for _ in range(4):
            tx = builder(client, kp).append_payment_op(sink.public_key, Asset.native(), "1").build()
            tx.sign(kp)
            resp = client.submit_transaction(tx)
            assert resp["successful"] is True
            hashes.append((resp["ledger"], resp["hash"]))
        return hashes

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [h for hs in pool.map(run, senders) for h in hs]
    ledgers = sorted(ledger for ledger, _ in results)
    assert len(set(ledgers)) == 32  # one transaction per ledger, applied serially
    assert server.root().call()["history_latest_ledger"] == start + 32
    assert native_balance(server, sink.public_key) == "10032.0000000"
    page = server.ledgers().order(desc=True).limit(1).call()["_embedded"]["records"][0]
    assert page["sequence"] == start + 32
    assert page["successful_transaction_count"] == 1


def test_payments_page_and_stream(server):
    import threading

    a, b = funded(), funded()
    # the SDK's own streaming client, from "now"
    got = []

    def listen():
        for record in Server(HORIZON_URL).payments().for_account(b.public_key).cursor("now").stream():
            got.append(record)
            return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.5)
    tx = builder(server, a).append_payment_op(b.public_key, Asset.native(), "7").build()
    tx.sign(a)
    server.submit_transaction(tx)
    listener.join(10)
    assert got, "no payment streamed"
    assert got[0]["type"] == "payment" and got[0]["type_i"] == 1
    assert got[0]["from"] == a.public_key and got[0]["to"] == b.public_key
    assert got[0]["amount"] == "7.0000000" and got[0]["asset_type"] == "native"
    assert got[0]["transaction_hash"] == tx.hash_hex()

    # the HAL page: friendbot's create_account, then the payment
    records = server.payments().for_account(b.public_key).call()["_embedded"]["records"]
    assert [r["type"] for r in records] == ["create_account", "payment"]
    assert records[0]["account"] == b.public_key and records[0]["starting_balance"] == "10000.0000000"
    newest = server.payments().for_account(b.public_key).order(desc=True).limit(1).call()
    assert newest["_embedded"]["records"][0]["paging_token"] == got[0]["paging_token"]

    # Horizon's wire framing: hello, one event per record with its paging token, byebye after limit
    r = requests.get(
        f"{HORIZON_URL}/accounts/{b.public_key}/payments?limit=2",
        headers={"Accept": "text/event-stream"},
        timeout=10,
    )
    assert r.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    text = r.text
    assert text.startswith('retry: 1000\nevent: open\ndata: "hello"\n\n')
    assert text.endswith('retry: 10\nevent: close\ndata: "byebye"\n\n')
    assert f"id: {records[0]['paging_token']}\ndata: {{" in text
    assert f"id: {records[1]['paging_token']}\ndata: {{" in text
    # Last-Event-ID resumes after the given record
    r = requests.get(
        f"{HORIZON_URL}/accounts/{b.public_key}/payments?limit=1",
        headers={"Accept": "text/event-stream", "Last-Event-ID": records[0]["paging_token"]},
        timeout=10,
    )
    assert f"id: {records[1]['paging_token']}\n" in r.text


def test_transaction_meta_decodes_and_matches_the_ledger(server):
    from stellar_sdk import xdr

    a, b = funded(), funded()
    before_a = stroops(native_balance(server, a.public_key))
    tx = builder(server, a).append_payment_op(b.public_key, Asset.native(), "5").build()
    tx.sign(a)
    resp = server.submit_transaction(tx)

    def account_balances(changes, kind):
        out = {}
        for change in changes:
            if change.type != kind:
                continue
            entry = change.updated if kind == xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED else change.state
            acc = entry.data.account
            if acc is not None:
                out[Keypair.from_raw_ed25519_public_key(acc.account_id.account_id.ed25519.uint256).public_key] = acc.balance.int64
        return out

    fee = xdr.LedgerEntryChanges.from_xdr(resp["fee_meta_xdr"]).ledger_entry_changes
    assert account_balances(fee, xdr.LedgerEntryChangeType.LEDGER_ENTRY_STATE) == {a.public_key: before_a}
    assert account_balances(fee, xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED) == {a.public_key: before_a - 100}

    meta = xdr.TransactionMeta.from_xdr(resp["result_meta_xdr"])
    assert meta.v == 3
    before = meta.v3.tx_changes_before.ledger_entry_changes
    seq_update = [c.updated.data.account for c in before if c.type == xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED]
    assert seq_update[0].seq_num.sequence_number.int64 == tx.transaction.sequence
    assert len(meta.v3.operations) == 1
    op_changes = meta.v3.operations[0].changes.ledger_entry_changes
    updated = account_balances(op_changes, xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED)
    assert updated[a.public_key] == stroops(native_balance(server, a.public_key))
    assert updated[b.public_key] == stroops(native_balance(server, b.public_key)) == 10_005 * 10_000_000
    for change in op_changes:
        entry = change.updated if change.type == xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED else None
        if entry is not None:
            assert entry.last_modified_ledger_seq.uint32 == resp["ledger"]
