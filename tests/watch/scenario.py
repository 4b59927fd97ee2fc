"""Redemptions for `airgap-relay watch`, made and read back with Stellar's Python SDK.

    scenario.py setup HORIZON_URL STATE.json [--senders N]
        An issuer (USD), a base account trusting it, another issuer (EUR, not accepted), N
        senders holding both; writes the accounts (and the senders' seeds) to STATE.json and
        prints {"issuer", "base", "other"}.
    scenario.py pay HORIZON_URL STATE.json [--payments N]
        N payments from the senders, on one thread per sender: memo ID (two operations in one
        transaction), memo text, muxed destinations, no memo, both path payments, native, the
        unaccepted asset, burns (payments to the issuer), transactions that fail in their
        ledger, top-ups from the issuer, a payment out of the base account; then two account
        merges into the base. Prints {"submitted": N, "failed": M}.
    scenario.py payone HORIZON_URL STATE.json --memo-text TEXT [--sender I]
        One USD payment to the base account with that memo; prints {"hash", "ledger"}.
    scenario.py expect HORIZON_URL STATE.json
        The rows `watch --account BASE --account ISSUER --asset USD:ISSUER` must record, from the
        SDK's own view of the ledger (every payment record of both accounts with its joined
        transaction; a merge's amount from the SDK's decoding of the result XDR), as JSON.

The rules are restated here, independently of the relay: status `internal` when the sender is a
watched account or the issuer; else `unaccepted` for an asset other than USD:ISSUER; else
`deposit` with a customer (the muxed ID, else the memo), `unattributed` without.
"""

import base64
import json
import sys
import threading
import time

import requests
from stellar_sdk import (
    Asset,
    Keypair,
    MuxedAccount,
    Network,
    Server,
    TransactionBuilder,
)
from stellar_sdk.exceptions import BadRequestError
from stellar_sdk.xdr import TransactionResult

PASSPHRASE = Network.STANDALONE_NETWORK_PASSPHRASE


def builder(server, kp, fee=100):
    return TransactionBuilder(server.load_account(kp.public_key), PASSPHRASE, base_fee=fee).set_timeout(300)


def friendbot(url, kp):
    r = requests.get(f"{url}/friendbot", params={"addr": kp.public_key}, timeout=60)
    assert r.status_code == 200, r.text


def setup(url, path, senders):
    s = Server(url)
    bank, issuer, base, other = (Keypair.random() for _ in range(4))
    friendbot(url, bank)
    tb = builder(s, bank)
    people = [Keypair.random() for _ in range(senders)]
    for kp in [issuer, base, other] + people:
        tb.append_create_account_op(kp.public_key, "300")
    tx = tb.build()
    tx.sign(bank)
    s.submit_transaction(tx)
    usd, eur = Asset("USD", issuer.public_key), Asset("EUR", other.public_key)
    # Trustlines: a few transactions, each operation by its own account (at most 20
    # signatures a transaction).
    holders = [base] + people
    for i in range(0, len(holders), 10):
        tb = builder(s, bank)
        for kp in holders[i : i + 10]:
            tb.append_change_trust_op(usd, source=kp.public_key)
            tb.append_change_trust_op(eur, source=kp.public_key)
        tx = tb.build()
        tx.sign(bank)
        for kp in holders[i : i + 10]:
            tx.sign(kp)
        s.submit_transaction(tx)
    for iss, asset in ((issuer, usd), (other, eur)):
        tb = builder(s, iss)
        for kp in people:
            tb.append_payment_op(kp.public_key, asset, "100000")
        tx = tb.build()
        tx.sign(iss)
        s.submit_transaction(tx)
    state = {
        "issuer": issuer.public_key,
        "issuer_seed": issuer.secret,
        "base": base.public_key,
        "base_seed": base.secret,
        "other": other.public_key,
        "bank_seed": bank.secret,
        "senders": [kp.secret for kp in people],
    }
    with open(path, "w") as f:
        json.dump(state, f)
    print(json.dumps({"issuer": issuer.public_key, "base": base.public_key, "other": other.public_key}))


def pay(url, path, payments):
    state = json.load(open(path))
    s = Server(url)
    issuer = Keypair.from_secret(state["issuer_seed"])
    base = Keypair.from_secret(state["base_seed"])
    people = [Keypair.from_secret(x) for x in state["senders"]]
    usd, eur = Asset("USD", issuer.public_key), Asset("EUR", state["other"])
    B = base.public_key
    per = payments // len(people)
    counts = {"submitted": 0, "failed": 0, "errors": []}
    lock = threading.Lock()

    def one(kp, i, n):
        tb = builder(s, kp)
        amount = f"{1 + n % 7}.{(i * 37 + n) % 10_000_000:07d}"
        customer = 1000 * (i + 1) + n
        k = n % 10
        if k == 0:  # memo ID, two operations in one transaction
            tb.add_id_memo(customer)
            tb.append_payment_op(B, usd, amount)
            tb.append_payment_op(B, usd, "0.0000001")
        elif k == 1:  # memo text as given: not ASCII, a control character
            tb.add_text_memo(f"c-{customer}-é\x07")
        elif k == 2:  # a muxed destination names the customer
            tb.append_payment_op(MuxedAccount(B, customer).account_muxed, usd, amount)
        elif k == 3:  # no memo: unattributed
            pass
        elif k == 4:  # path payment, strict send, memo hash
            tb.add_hash_memo(customer.to_bytes(32, "big"))
            tb.append_path_payment_strict_send_op(B, usd, amount, usd, amount, [])
        elif k == 5:  # path payment, strict receive, to a muxed address
            tb.append_path_payment_strict_receive_op(
                MuxedAccount(B, customer).account_muxed, usd, amount, usd, amount, []
            )
        elif k == 6:  # native: not accepted
            tb.add_id_memo(customer)
            tb.append_payment_op(B, Asset.native(), amount)
        elif k == 7:  # another issuer's asset: not accepted
            tb.add_text_memo(str(customer))
            tb.append_payment_op(B, eur, amount)
        elif k == 8:  # redemption straight to the issuer: a burn
            tb.add_id_memo(customer)
            tb.append_payment_op(issuer.public_key, usd, amount)
        elif k == 9:  # fails in its ledger (underfunded): nothing of it is recorded
            tb.add_id_memo(customer)
            tb.append_payment_op(B, usd, amount)
            tb.append_payment_op(B, usd, "99999999")
        if k in (1, 3):
            tb.append_payment_op(B, usd, amount)
        tx = tb.build()
        tx.sign(kp)
        try:
            s.submit_transaction(tx)
            with lock:
                counts["submitted"] += 1
        except BadRequestError as e:
            with lock:
                if k == 9 and "tx_failed" in str(e.extras):
                    counts["failed"] += 1
                else:
                    counts["errors"].append(str(e.extras)[:300])

    def sender(i, kp):
        for n in range(per):
            try:
                one(kp, i, n)
            except Exception as e:  # surfaced in the output
                with lock:
                    counts["errors"].append(repr(e))

    def treasury():
        # Top-ups of the float from the issuer (internal), and a payment out of the base account
        # (not a credit), while the senders pay.
        for n in range(5):
            for kp, dest in ((issuer, B), (base, people[0].public_key)):
                tb = builder(s, kp)
                tb.append_payment_op(dest, usd, f"{10 + n}")
                tx = tb.build()
                tx.sign(kp)
                s.submit_transaction(tx)
            time.sleep(0.3)

    threads = [threading.Thread(target=sender, args=(i, kp)) for i, kp in enumerate(people)]
    threads.append(threading.Thread(target=treasury))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Two accounts merged into the base account: native, the amount merged.
    bank = Keypair.from_secret(state["bank_seed"])
    for n in range(2):
        gone = Keypair.random()
        tb = builder(s, bank)
        tb.append_create_account_op(gone.public_key, f"{3 + n}.5")
        tx = tb.build()
        tx.sign(bank)
        s.submit_transaction(tx)
        tb = builder(s, gone)
        tb.add_id_memo(4242 + n)
        tb.append_account_merge_op(B)
        tx = tb.build()
        tx.sign(gone)
        s.submit_transaction(tx)
    print(json.dumps(counts))
    if counts["errors"]:
        sys.exit(1)


def pay_one(url, path, memo_text, sender):
    """One USD payment to the base account with a text memo; prints its hash and ledger."""
    state = json.load(open(path))
    s = Server(url)
    kp = Keypair.from_secret(state["senders"][sender])
    tb = builder(s, kp)
    tb.add_text_memo(memo_text)
    tb.append_payment_op(state["base"], Asset("USD", state["issuer"]), "1.5")
    tx = tb.build()
    tx.sign(kp)
    r = s.submit_transaction(tx)
    print(json.dumps({"hash": r["hash"], "ledger": r["ledger"]}))


def memo_of(tx):
    kind = tx.get("memo_type", "none")
    if kind == "none":
        return "none", None
    if kind == "id":
        return kind, tx["memo"]
    if kind == "text":
        return kind, base64.b64decode(tx["memo_bytes"]).decode("utf-8", "replace")
    return kind, base64.b64decode(tx["memo"]).hex()


def asset_of(r):
    if r["asset_type"] == "native":
        return "native"
    return f'{r["asset_code"]}:{r["asset_issuer"]}'


def expect(url, path):
    state = json.load(open(path))
    s = Server(url)
    watched = [state["base"], state["issuer"]]
    accepted = {f'USD:{state["issuer"]}'}
    rows = []
    for w in watched:
        cursor = None
        while True:
            call = s.payments().for_account(w).join("transactions").limit(200)
            if cursor:
                call = call.cursor(cursor)
            records = call.call()["_embedded"]["records"]
            if not records:
                break
            for r in records:
                cursor = r["paging_token"]
                if not r["transaction_successful"]:
                    continue
                t, muxed = r["type"], None
                if t in ("payment", "path_payment_strict_send", "path_payment_strict_receive") and r["to"] == w:
                    sender, asset, amount, muxed = r["from"], asset_of(r), r["amount"], r.get("to_muxed_id")
                    kind = "path_payment" if t != "payment" else "payment"
                elif t == "create_account" and r["account"] == w:
                    sender, asset, amount, kind = r["funder"], "native", r["starting_balance"], "create_account"
                elif t == "account_merge" and r["into"] == w:
                    op = (int(cursor) & 0xFFF) - 1
                    result = TransactionResult.from_xdr(r["transaction"]["result_xdr"])
                    merged = result.result.results[op].tr.account_merge_result.source_account_balance.int64
                    sender, asset, kind, muxed = r["account"], "native", "account_merge", r.get("into_muxed_id")
                    amount = f"{merged // 10_000_000}.{merged % 10_000_000:07d}"
                else:
                    continue
                if asset != "native" and asset.split(":")[1] == w:
                    kind = "burn"
                memo_type, memo = memo_of(r["transaction"])
                customer = str(muxed) if muxed is not None else memo
                if sender in watched or sender == state["issuer"]:
                    status = "internal"
                elif asset not in accepted:
                    status = "unaccepted"
                elif customer is not None:
                    status = "deposit"
                else:
                    status = "unattributed"
                token = int(r["paging_token"])
                rows.append({
                    "tx_hash": r["transaction_hash"],
                    "op_index": (token & 0xFFF) - 1,
                    "ledger": token >> 32,
                    "closed_at": r["created_at"],
                    "account": w,
                    "sender": sender,
                    "customer": customer,
                    "memo_type": memo_type,
                    "asset": asset,
                    "amount": amount,
                    "kind": kind,
                    "status": status,
                })
    print(json.dumps(rows))


def main():
    cmd, url, path = sys.argv[1:4]
    args = dict(zip(sys.argv[4::2], sys.argv[5::2]))
    if cmd == "setup":
        setup(url, path, int(args.get("--senders", 20)))
    elif cmd == "pay":
        pay(url, path, int(args.get("--payments", 500)))
    elif cmd == "payone":
        pay_one(url, path, args["--memo-text"], int(args.get("--sender", 0)))
    elif cmd == "expect":
        expect(url, path)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
