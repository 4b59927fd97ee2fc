#!/usr/bin/env python3
"""Submit at ledger cadence (issue 13): a directory of N signed payment blobs from K source accounts,
submitted with `airgap-relay submit --jobs K` to a sandbox whose ledgers close every second, over
Horizon and over Stellar RPC. With one transaction per source account per ledger, N blobs from K
accounts cannot land in fewer than ceil(N/K) ledgers: the table sets the relay's wall time against
that lower bound (target: within 10%), with the relay's peak memory (/usr/bin/time -v). Markdown.

  python3 bench/cadence.py [--blobs 2000] [--accounts 50] [--close-every 1s] [--backends horizon,rpc]

Each row gets a fresh sandbox: the accounts are made by one create_account transaction (friendbot
funds one account per ledger), the blobs signed by `airgap-signer batch` (not timed), then the
relay's run is timed from its start to its exit (the first pass, reading and checking every blob
and signature, included).
"""
import argparse, json, math, os, shutil, subprocess, tempfile, time, http.client, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
RELAY = os.path.join(TARGET, "release", "airgap-relay")
SIGNER = os.path.join(TARGET, "release", "airgap-signer")
PASSPHRASE = "Standalone Network ; February 2017"


def sandbox(close_every):
    p = subprocess.Popen([RELAY, "sandbox", "--listen", "127.0.0.1:0", "--close-every", close_every],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    return p, line.split("http://", 1)[1]


def get(addr, path):
    c = http.client.HTTPConnection(addr, timeout=60)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, json.loads(body) if body else None


def post_tx(addr, envelope):
    c = http.client.HTTPConnection(addr, timeout=60)
    c.request("POST", "/transactions", urllib.parse.urlencode({"tx": envelope}),
              {"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, json.loads(body)


def setup(addr, keys, dest):
    """Fund one bank account by friendbot, then create the K accounts and the destination in one
    transaction (Python SDK)."""
    from stellar_sdk import Keypair, TransactionBuilder, Account
    bank = Keypair.random()
    st, _ = get(addr, "/friendbot?addr=" + bank.public_key)
    assert st == 200, st
    _, acct = get(addr, "/accounts/" + bank.public_key)
    b = TransactionBuilder(Account(bank.public_key, int(acct["sequence"])), PASSPHRASE, base_fee=100)
    for pk in [k.public_key for k in keys] + [dest]:
        b.append_create_account_op(pk, "100")
    tx = b.set_timeout(600).build()
    tx.sign(bank)
    st, body = post_tx(addr, tx.to_xdr())
    assert st == 200, body


def make_blobs(work, addr, keys, dest, per):
    blobdir = os.path.join(work, "blobs")
    shutil.rmtree(blobdir, ignore_errors=True)
    os.mkdir(blobdir)
    for n, k in enumerate(keys):
        _, acct = get(addr, "/accounts/" + k.public_key)
        seq = int(acct["sequence"])
        plans = os.path.join(work, "plans.jsonl")
        with open(plans, "w") as f:
            for i in range(per):
                f.write(json.dumps({"network": "standalone", "source": k.public_key, "sequence": str(seq + 1 + i),
                                    "fee": 100, "min_time": 0, "max_time": 0,
                                    "operations": [{"type": "payment", "destination": dest, "asset": "native",
                                                    "amount": "0.0000001"}]}) + "\n")
        out = subprocess.run([SIGNER, "batch", plans, "--key", "env:K", "--yes"], env=dict(os.environ, K=k.secret),
                             capture_output=True, text=True, check=True).stdout
        for i, line in enumerate(out.splitlines()):
            with open(os.path.join(blobdir, "%03d-%05d.xdr" % (n, i)), "w") as f:
                f.write(json.loads(line)["envelope"] + "\n")
    return blobdir


def one_row(backend, n_blobs, n_accounts, close_every, period_s):
    from stellar_sdk import Keypair
    work = tempfile.mkdtemp(prefix="airgap-cadence-")
    proc, addr = sandbox(close_every)
    try:
        keys = [Keypair.random() for _ in range(n_accounts)]
        dest = Keypair.random().public_key
        setup(addr, keys, dest)
        per = n_blobs // n_accounts
        blobdir = make_blobs(work, addr, keys, dest, per)
        total = per * n_accounts
        url = "http://" + addr + ("/rpc" if backend == "rpc" else "")
        flag = "--rpc" if backend == "rpc" else "--horizon"
        _, before = get(addr, "/ledgers?order=desc&limit=1")
        first_ledger = before["_embedded"]["records"][0]["sequence"]
        t0 = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-v", RELAY, "submit", blobdir, flag, url, "--json",
                            "--jobs", str(n_accounts), "--timeout", "2m"], capture_output=True, text=True)
        secs = time.perf_counter() - t0
        peak = next(int(l.split(":")[1]) for l in r.stderr.splitlines() if "Maximum resident set size" in l)
        recs = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
        ok = sum(1 for x in recs if x["status"] == "success")
        ledgers = sorted({x["ledger"] for x in recs if x.get("ledger")})
        used = (ledgers[-1] - first_ledger) if ledgers else 0
        bound = math.ceil(total / n_accounts)
        return dict(backend=backend, blobs=total, accounts=n_accounts, ok=ok, exit=r.returncode, secs=secs,
                    bound_s=bound * period_s, bound=bound, ledgers=used, peak=peak)
    finally:
        proc.terminate(); proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blobs", type=int, default=2000)
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--close-every", default="1s")
    ap.add_argument("--backends", default="horizon,rpc")
    a = ap.parse_args()
    assert a.close_every.endswith("s") and not a.close_every.endswith("ms"), "seconds, e.g. 1s"
    period_s = float(a.close_every[:-1])
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "airgap-relay", "-p", "airgap-signer"], cwd=ROOT,
                   check=True)
    print("| server | blobs | accounts (--jobs) | succeeded | exit | ledgers used (lower bound) "
          "| wall time | lower bound | over the bound | relay peak memory |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for backend in a.backends.split(","):
        row = one_row(backend, a.blobs, a.accounts, a.close_every, period_s)
        print("| %s | %d | %d | %d | %d | %d (%d) | %.1f s | %.0f s | %+.1f%% | %d KiB |" % (
            "Stellar RPC" if backend == "rpc" else "Horizon", row["blobs"], row["accounts"], row["ok"], row["exit"],
            row["ledgers"], row["bound"], row["secs"], row["bound_s"],
            100.0 * (row["secs"] - row["bound_s"]) / row["bound_s"], row["peak"]), flush=True)


if __name__ == "__main__":
    main()
