#!/usr/bin/env python3
"""Watcher benchmark (issue 16): deposits recorded per second while `airgap-relay watch` catches
up on N payments already in the ledger, over Horizon and over RPC, into SQLite and PostgreSQL,
against the rate at which Stellar's Python SDK merely reads the same payments stream
(`server.payments().for_account(A).join("transactions").stream()`, the records the watcher reads,
parsed into dicts and nothing more). One run, one sandbox, one ledger; Markdown table.

  python3 bench/watch.py [--payments 10000] [--runs 1]

Needs the release build (`cargo build --release -p airgap-relay`; CARGO_TARGET_DIR is honoured),
the Python SDK, and PostgreSQL's binaries (/usr/lib/postgresql/*/bin; as root the server runs as
the `postgres` user, as the tests' harness does).
"""
import argparse, glob, json, os, shutil, subprocess, sys, tempfile, threading, time

import requests
from stellar_sdk import Asset, Keypair, MuxedAccount, Network, Server, TransactionBuilder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
RELAY = os.path.join(TARGET, "release", "airgap-relay")
PASSPHRASE = Network.STANDALONE_NETWORK_PASSPHRASE
OPS = 100  # operations a transaction


def sandbox():
    p = subprocess.Popen([RELAY, "sandbox", "--listen", "127.0.0.1:0", "--close-every", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = p.stdout.readline().strip().split("listening on ", 1)[1]
    return p, url


def ledger(url, n_payments):
    """A base account, its asset's issuer, and `n_payments` USD deposits to muxed addresses of the
    base account in transactions of 100 operations, each with an ID memo."""
    s = Server(url)
    bank, issuer, base = Keypair.random(), Keypair.random(), Keypair.random()
    requests.get(f"{url}/friendbot", params={"addr": bank.public_key}, timeout=60).raise_for_status()
    senders = [Keypair.random() for _ in range(10)]

    def submit(kp, build):
        tb = TransactionBuilder(s.load_account(kp.public_key), PASSPHRASE, base_fee=100).set_timeout(600)
        build(tb)
        tx = tb.build()
        tx.sign(kp)
        for extra in getattr(build, "signers", []):
            tx.sign(extra)
        s.submit_transaction(tx)

    def create(tb):
        for kp in [issuer, base] + senders:
            tb.append_create_account_op(kp.public_key, "500")
    submit(bank, create)
    usd = Asset("USD", issuer.public_key)

    def trust(tb):
        for kp in [base] + senders:
            tb.append_change_trust_op(usd, source=kp.public_key)
    trust.signers = [base] + senders
    submit(bank, trust)

    def mint(tb):
        for kp in senders:
            tb.append_payment_op(kp.public_key, usd, "1000000")
    submit(issuer, mint)
    txs = n_payments // OPS
    per = txs // len(senders)

    def sender(i, kp):
        for n in range(per):
            def pay(tb):
                tb.add_id_memo(i * 100000 + n)
                for k in range(OPS):
                    tb.append_payment_op(MuxedAccount(base.public_key, i * 1000000 + n * OPS + k).account_muxed,
                                         usd, "1.0000001")
            submit(kp, pay)
    threads = [threading.Thread(target=sender, args=(i, kp)) for i, kp in enumerate(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return issuer.public_key, base.public_key, per * len(senders) * OPS


def sdk_read(url, account, n):
    """Seconds for the Python SDK to read n payment records of `account` from the start."""
    s = Server(url)
    t0 = time.perf_counter()
    seen = 0
    for record in s.payments().for_account(account).join("transactions").cursor("0").limit(200).stream():
        if record["type"] == "payment":
            seen += 1
            if seen >= n:
                break
    return time.perf_counter() - t0


class Postgres:
    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
        if not bins:
            raise SystemExit("PostgreSQL's binaries are missing (apt-get install postgresql)")
        self.bin = bins[-1]
        self.dir = tempfile.mkdtemp(prefix="airgap-bench-pg-")
        self.user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.user:
            shutil.chown(self.dir, "postgres", "postgres")
        data = os.path.join(self.dir, "data")
        subprocess.run(self.user + [f"{self.bin}/initdb", "--auth=trust", "--username=airgap", "--no-locale",
                                    "-E", "UTF8", "-D", data], check=True, capture_output=True)
        # Durable as in production (fsync on): the watcher's transactions are what is measured.
        subprocess.run(self.user + [f"{self.bin}/pg_ctl", "-D", data, "-l", os.path.join(self.dir, "log"), "-w",
                                    "-o", f"-c listen_addresses='' -k {self.dir}", "start"],
                       check=True, capture_output=True)
        self.data = data
        self.n = 0

    def database(self):
        self.n += 1
        name = f"bench{self.n}"
        subprocess.run([f"{self.bin}/psql", "-h", self.dir, "-U", "airgap", "-d", "postgres", "-c",
                        f"CREATE DATABASE {name}"], check=True, capture_output=True)
        return f"postgresql://airgap@/{name}?host={self.dir}"

    def stop(self):
        subprocess.run(self.user + [f"{self.bin}/pg_ctl", "-D", self.data, "stop", "-m", "fast"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def watch(url, via, db, accounts, asset, n):
    """Seconds from the watcher's start to its n-th recorded row (its --json line)."""
    backend = ["--horizon", url] if via == "horizon" else ["--rpc", f"{url}/rpc"]
    args = [RELAY, "watch", *backend, "--from", "oldest", "--json", "--asset", asset]
    for a in accounts:
        args += ["--account", a]
    env = dict(os.environ, DATABASE_URL=db)
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    rows = 0
    for line in p.stdout:
        if '"status":"deposit"' in line:
            rows += 1
            if rows >= n:
                break
    elapsed = time.perf_counter() - t0
    p.terminate()
    _, err = p.communicate(timeout=30)
    if rows < n:
        return None, err.strip().splitlines()[-1:] if err else []
    return elapsed, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--payments", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    if not os.path.exists(RELAY):
        raise SystemExit(f"{RELAY} is missing: cargo build --release -p airgap-relay")
    proc, url = sandbox()
    pg = Postgres()
    work = tempfile.mkdtemp(prefix="airgap-bench-watch-")
    try:
        t0 = time.perf_counter()
        issuer, base, n = ledger(url, args.payments)
        print(f"# {n} payments to one account in {time.perf_counter() - t0:.1f} s "
              f"({n // OPS} transactions of {OPS} operations)", file=sys.stderr)
        results = []
        for run in range(args.runs):
            t = sdk_read(url, base, n)
            results.append(("Python SDK: read the stream (join=transactions), nothing recorded", t, None))
            for via in ("horizon", "rpc"):
                for kind in ("sqlite", "postgres"):
                    db = os.path.join(work, f"{via}-{run}.db") if kind == "sqlite" else pg.database()
                    t, err = watch(url, via, db, [base, issuer], f"USD:{issuer}", n)
                    results.append((f"airgap-relay watch --{via}, {kind}", t, err))
        print(f"| reader (catching up on {n} payments, {args.runs} run(s)) | seconds | deposits/s |")
        print("|---|---|---|")
        for name, t, err in results:
            if t is None:
                print(f"| {name} | — | did not finish: {' '.join(err)} |")
            else:
                print(f"| {name} | {t:.2f} | {n / t:.0f} |")
    finally:
        proc.terminate()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
