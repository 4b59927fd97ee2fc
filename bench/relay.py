#!/usr/bin/env python3
"""Relay benchmark (issue 3): a directory of N signed payment blobs from A source accounts,
submitted to the sandbox with the journal on; then the same envelopes posted straight to a
fresh sandbox brought to the same state, to tell the relay's own share of the time. Markdown table.

  python3 bench/relay.py [--blobs 10000] [--accounts 100]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time, http.client, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
RELAY = os.path.join(TARGET, "release", "airgap-relay")
SIGNER = os.path.join(TARGET, "release", "airgap-signer")


def sandbox():
    # In memory: the sandbox is deterministic (one transaction per ledger), so replaying the same
    # friendbot calls on a fresh one reproduces the same accounts and sequence numbers.
    p = subprocess.Popen([RELAY, "sandbox", "--listen", "127.0.0.1:0"],
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blobs", type=int, default=10000)
    ap.add_argument("--accounts", type=int, default=100)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "airgap-relay", "-p", "airgap-signer"], cwd=ROOT, check=True)
    from stellar_sdk import Keypair
    work = tempfile.mkdtemp(prefix="airgap-bench-")
    keys = [Keypair.random() for _ in range(a.accounts)]
    dest = Keypair.random().public_key

    def fresh():
        proc, addr = sandbox()
        for k in keys + [Keypair.from_public_key(dest)]:
            st, _ = get(addr, "/friendbot?addr=" + k.public_key)
            assert st == 200, st
        return proc, addr

    proc, addr = fresh()
    per = a.blobs // a.accounts
    blobdir = os.path.join(work, "blobs")
    os.mkdir(blobdir)
    t_sign = 0.0
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
        t0 = time.perf_counter()
        out = subprocess.run([SIGNER, "batch", plans, "--key", "env:K", "--yes"], env=dict(os.environ, K=k.secret),
                             capture_output=True, text=True, check=True).stdout
        t_sign += time.perf_counter() - t0
        for i, line in enumerate(out.splitlines()):
            with open(os.path.join(blobdir, "%03d-%05d.xdr" % (n, i)), "w") as f:
                f.write(json.loads(line)["envelope"] + "\n")
    proc.terminate(); proc.wait()
    envelopes = [open(os.path.join(blobdir, f)).read().strip() for f in sorted(os.listdir(blobdir))]

    # 1. The relay: submit the directory (journal on by default for directories).
    proc, addr = fresh()
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", RELAY, "submit", blobdir, "--horizon", "http://" + addr,
                        "--json"], capture_output=True, text=True)
    relay_s = time.perf_counter() - t0
    peak = int(r.stderr.strip().splitlines()[-1])
    statuses = [json.loads(l)["status"] for l in r.stdout.splitlines() if l.startswith("{")]
    ok = statuses.count("success")
    proc.terminate(); proc.wait()

    # 2. The same envelopes straight to a fresh sandbox in the same state: one keep-alive
    #    connection, no checks, no journal. This is the sandbox's own time.
    proc, addr = fresh()
    c = http.client.HTTPConnection(addr, timeout=60)
    t0 = time.perf_counter()
    direct_ok = 0
    # Same order as the relay: per account, in sequence order.
    for env in envelopes:
        c.request("POST", "/transactions", urllib.parse.urlencode({"tx": env}),
                  {"Content-Type": "application/x-www-form-urlencoded"})
        resp = c.getresponse(); resp.read()
        direct_ok += resp.status == 200
    direct_s = time.perf_counter() - t0
    proc.terminate(); proc.wait()
    shutil.rmtree(work)

    print("| measurement | value |")
    print("|---|---|")
    print("| blobs, source accounts | %d, %d |" % (len(envelopes), a.accounts))
    print("| signing them (airgap-signer batch, %d runs) | %.2f s |" % (a.accounts, t_sign))
    print("| relay `submit DIR` (journal on): succeeded | %d of %d |" % (ok, len(envelopes)))
    print("| relay `submit DIR`: wall time, rate | %.1f s, %.0f blobs/s |" % (relay_s, len(envelopes) / relay_s))
    print("| relay peak memory | %d KiB |" % peak)
    print("| same envelopes posted directly to the sandbox: succeeded | %d |" % direct_ok)
    print("| direct posting: wall time, rate | %.1f s, %.0f tx/s |" % (direct_s, len(envelopes) / direct_s))
    print("| relay's own share of its time | %.0f%% |" % (100 * max(0.0, relay_s - direct_s) / relay_s))


if __name__ == "__main__":
    main()
