#!/usr/bin/env python3
"""Relay benchmark (issues 3 and 6): a directory of N signed payment blobs from A source accounts,
submitted to the sandbox with the journal on, for each --jobs value; then the same envelopes posted
straight to a fresh sandbox brought to the same state, to tell the relay's own share of the time.
Several --blobs sizes show whether peak memory grows with the number of blobs. Markdown table.

  python3 bench/relay.py [--blobs 1000,10000] [--accounts 100] [--jobs 1,8]
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


def make_blobs(work, keys, dest, per, fresh):
    """Sign `per` payments for each key; returns (directory, envelopes in file order, seconds)."""
    proc, addr = fresh()
    blobdir = os.path.join(work, "blobs-%d" % (per * len(keys)))
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
    return blobdir, envelopes, t_sign


def relay_run(blobdir, jobs, fresh):
    """Submit a copy of the directory; returns (succeeded, seconds, peak KiB)."""
    run_dir = blobdir + "-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(blobdir, run_dir)
    proc, addr = fresh()
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", RELAY, "submit", run_dir, "--horizon", "http://" + addr,
                        "--json", "--jobs", str(jobs)], capture_output=True, text=True)
    secs = time.perf_counter() - t0
    peak = int(r.stderr.strip().splitlines()[-1])
    statuses = [json.loads(l)["status"] for l in r.stdout.splitlines() if l.startswith("{")]
    proc.terminate(); proc.wait()
    shutil.rmtree(run_dir)
    return statuses.count("success"), secs, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blobs", default="1000,10000", help="comma-separated sizes")
    ap.add_argument("--accounts", type=int, default=100)
    ap.add_argument("--jobs", default="1,8", help="comma-separated --jobs values")
    a = ap.parse_args()
    sizes = [int(x) for x in a.blobs.split(",")]
    jobs_list = [int(x) for x in a.jobs.split(",")]
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

    print("| blobs | accounts | --jobs | succeeded | wall time | blobs/s | relay peak memory |")
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        blobdir, envelopes, t_sign = make_blobs(work, keys, dest, size // a.accounts, fresh)
        for jobs in jobs_list:
            ok, secs, peak = relay_run(blobdir, jobs, fresh)
            print("| %d | %d | %d | %d | %.1f s | %.0f | %d KiB |" % (len(envelopes), a.accounts, jobs, ok, secs,
                                                                  len(envelopes) / secs, peak), flush=True)

    # The largest set straight to a fresh sandbox in the same state: one keep-alive connection,
    # no checks, no journal. This is the sandbox's own time.
    proc, addr = fresh()
    c = http.client.HTTPConnection(addr, timeout=60)
    t0 = time.perf_counter()
    direct_ok = 0
    for env in envelopes:
        c.request("POST", "/transactions", urllib.parse.urlencode({"tx": env}),
                  {"Content-Type": "application/x-www-form-urlencoded"})
        resp = c.getresponse(); resp.read()
        direct_ok += resp.status == 200
    direct_s = time.perf_counter() - t0
    proc.terminate(); proc.wait()
    shutil.rmtree(work)
    print()
    print("Signing the last set: %.2f s (airgap-signer batch, %d runs). The same %d envelopes posted directly"
          " to the sandbox, one after another: %d succeeded in %.1f s, %.0f tx/s."
          % (t_sign, a.accounts, len(envelopes), direct_ok, direct_s, len(envelopes) / direct_s))


if __name__ == "__main__":
    main()
