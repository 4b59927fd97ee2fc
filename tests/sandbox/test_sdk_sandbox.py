"""Stellar's Python SDK (unmodified) against a running `airgap-relay sandbox`.

Run through relay/tests/sandbox_sdk.rs, which starts the real binary on a free loopback port and
sets HORIZON_URL. Every expectation here is Horizon's documented behaviour (result-code strings,
status codes, resource fields), not output captured from the sandbox.
"""

import base64
import os

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
