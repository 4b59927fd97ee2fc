"""Payouts for `airgap-relay pay`, set up and read back with Stellar's Python SDK.

    scenario.py setup HORIZON_URL STATE.json [--channels K] [--dests N] [--base-usd AMOUNT]
        An issuer of USD with auth_required (trustlines start unauthorized), an issuer of EUR, a
        base account trusting both (authorized, funded), K channel accounts, N destinations
        trusting both (authorized), one destination with no trustline, one whose USD trustline
        is not authorized, and a key whose account does not exist. Writes STATE.json (seeds
        included) and prints the public keys.
    scenario.py rows STATE.json --rows N --csv OUT.csv
        N payout rows (USD, EUR, native; memo ID, text and none; muxed destinations), each with
        a unique amount, and then one row each for the missing account, the destination
        without a trustline, the unauthorized one, a malformed amount and a malformed
        destination. Writes the CSV for `pay enqueue --csv` and prints the rows as JSON with
        "valid" (true or the reason's prefix).
    scenario.py ledger HORIZON_URL STATE.json
        The SDK's view: every payment operation from the base account (failed ones too), with
        its transaction's hash, source, memo and success, and every account's balances.
"""

import json
import sys

import requests
from stellar_sdk import Asset, AuthorizationFlag, Keypair, MuxedAccount, Network, Server, TransactionBuilder, TrustLineFlags

PASSPHRASE = Network.STANDALONE_NETWORK_PASSPHRASE


def builder(server, kp, fee=100):
    return TransactionBuilder(server.load_account(kp.public_key), PASSPHRASE, base_fee=fee).set_timeout(300)


def friendbot(url, kp):
    for _ in range(50):
        try:
            r = requests.get(f"{url}/friendbot", params={"addr": kp.public_key}, timeout=60)
            if r.status_code == 200:
                return
        except requests.RequestException:
            pass
    raise SystemExit("friendbot failed")


def submit(s, tx):
    return s.submit_transaction(tx)


def setup(url, path, channels, dests, base_usd):
    s = Server(url)
    bank, issuer, other, base = (Keypair.random() for _ in range(4))
    chans = [Keypair.random() for _ in range(channels)]
    people = [Keypair.random() for _ in range(dests)]
    untrusting, unauthorized, missing = Keypair.random(), Keypair.random(), Keypair.random()
    friendbot(url, bank)
    everyone = [issuer, other, base] + chans + people + [untrusting, unauthorized]
    for i in range(0, len(everyone), 50):
        tb = builder(s, bank)
        for kp in everyone[i : i + 50]:
            tb.append_create_account_op(kp.public_key, "100")
        tx = tb.build()
        tx.sign(bank)
        submit(s, tx)
    usd, eur = Asset("USD", issuer.public_key), Asset("EUR", other.public_key)
    tb = builder(s, issuer)
    tb.append_set_options_op(set_flags=AuthorizationFlag.AUTHORIZATION_REQUIRED | AuthorizationFlag.AUTHORIZATION_REVOCABLE)
    tx = tb.build()
    tx.sign(issuer)
    submit(s, tx)
    holders = [base] + people + [unauthorized]
    for i in range(0, len(holders), 9):
        tb = builder(s, bank)
        group = holders[i : i + 9]
        for kp in group:
            tb.append_change_trust_op(usd, source=kp.public_key)
            tb.append_change_trust_op(eur, source=kp.public_key)
        tx = tb.build()
        tx.sign(bank)
        for kp in group:
            tx.sign(kp)
        submit(s, tx)
    authorized = [base] + people
    for i in range(0, len(authorized), 50):
        tb = builder(s, issuer)
        for kp in authorized[i : i + 50]:
            tb.append_set_trust_line_flags_op(kp.public_key, usd, set_flags=TrustLineFlags.AUTHORIZED_FLAG)
        tx = tb.build()
        tx.sign(issuer)
        submit(s, tx)
    for iss, asset in ((issuer, usd), (other, eur)):
        tb = builder(s, iss)
        tb.append_payment_op(base.public_key, asset, base_usd if asset == usd else "1000000")
        tx = tb.build()
        tx.sign(iss)
        submit(s, tx)
    # The base account pays native payouts too: give it more lumens.
    tb = builder(s, bank)
    tb.append_payment_op(base.public_key, Asset.native(), "5000")
    tx = tb.build()
    tx.sign(bank)
    submit(s, tx)
    state = {
        "issuer": issuer.public_key,
        "issuer_seed": issuer.secret,
        "other": other.public_key,
        "base": base.public_key,
        "base_seed": base.secret,
        "channels": [kp.secret for kp in chans],
        "channel_ids": [kp.public_key for kp in chans],
        "dests": [kp.public_key for kp in people],
        "untrusting": untrusting.public_key,
        "unauthorized": unauthorized.public_key,
        "missing": missing.public_key,
    }
    with open(path, "w") as f:
        json.dump(state, f)
    print(json.dumps({k: v for k, v in state.items() if "seed" not in k and k != "channels"}))


def rows(path, n, csv_path):
    st = json.load(open(path))
    usd, eur = f"USD:{st['issuer']}", f"EUR:{st['other']}"
    out = []
    for i in range(n):
        d = st["dests"][i % len(st["dests"])]
        k = i % 6
        dest = MuxedAccount(d, 1_000_000 + i).account_muxed if k == 3 else d
        asset = [usd, eur, "native"][i % 3] if k != 3 else usd
        # Unique per row, so each row's payment can be found in the ledger by its amount.
        amount = f"{1 + i // 100}.{i % 100:02d}{i:05d}"
        memo_type, memo = ("id", str(500_000 + i)) if k in (0, 4) else (("text", f"payout {i}") if k in (1, 5) else ("none", None))
        out.append({"id": f"p{i:05d}", "customer": f"c{i % 17}", "destination": dest, "asset": asset,
                    "amount": amount, "memo_type": memo_type, "memo": memo, "valid": True})
    bad = [
        ("missing", st["missing"], usd, "destination_missing"),
        ("untrusting", st["untrusting"], usd, "no_trustline"),
        ("unauthorized", st["unauthorized"], usd, "not_authorized"),
        ("bad-amount", st["dests"][0], usd, "malformed"),
        ("bad-destination", "GNOTANACCOUNT", usd, "malformed"),
        ("missing-native", st["missing"], "native", "destination_missing"),
    ]
    for j, (name, dest, asset, why) in enumerate(bad):
        amount = "1.5.5" if name == "bad-amount" else f"777.{j:07d}"
        out.append({"id": f"x-{name}", "customer": None, "destination": dest, "asset": asset,
                    "amount": amount, "memo_type": "none", "memo": None, "valid": why})
    with open(csv_path, "w") as f:
        f.write("id,customer,destination,asset,amount,memo_type,memo\n")
        for r in out:
            f.write(",".join(r[c] or "" for c in ("id", "customer", "destination", "asset", "amount", "memo_type", "memo")) + "\n")
    print(json.dumps(out))


def ledger(url, path):
    st = json.load(open(path))
    s = Server(url)
    pays, cursor = [], None
    while True:
        call = s.payments().for_account(st["base"]).join("transactions").include_failed(True).limit(200)
        if cursor:
            call = call.cursor(cursor)
        records = call.call()["_embedded"]["records"]
        if not records:
            break
        for r in records:
            cursor = r["paging_token"]
            if r["type"] != "payment" or r["from"] != st["base"]:
                continue
            t = r["transaction"]
            asset = "native" if r["asset_type"] == "native" else f'{r["asset_code"]}:{r["asset_issuer"]}'
            memo = t.get("memo")
            if t["memo_type"] == "text":
                memo = t.get("memo")
            pays.append({
                "tx_hash": r["transaction_hash"],
                "successful": r["transaction_successful"],
                "tx_source": t["source_account"],
                "fee_charged": t["fee_charged"],
                "to": r["to"],
                "to_muxed": r.get("to_muxed"),
                "asset": asset,
                "amount": r["amount"],
                "memo_type": t["memo_type"],
                "memo": memo if t["memo_type"] != "none" else None,
            })
    balances = {}
    for a in st["dests"] + [st["untrusting"], st["unauthorized"], st["base"]] + st["channel_ids"]:
        acc = s.accounts().account_id(a).call()
        balances[a] = {("native" if b["asset_type"] == "native" else f'{b["asset_code"]}:{b["asset_issuer"]}'): b["balance"]
                       for b in acc["balances"]}
    print(json.dumps({"payments": pays, "balances": balances}))


def main():
    cmd = sys.argv[1]
    if cmd == "setup":
        url, path = sys.argv[2:4]
        args = dict(zip(sys.argv[4::2], sys.argv[5::2]))
        setup(url, path, int(args.get("--channels", 4)), int(args.get("--dests", 20)), args.get("--base-usd", "1000000"))
    elif cmd == "rows":
        path = sys.argv[2]
        args = dict(zip(sys.argv[3::2], sys.argv[4::2]))
        rows(path, int(args.get("--rows", 300)), args["--csv"])
    elif cmd == "ledger":
        ledger(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
