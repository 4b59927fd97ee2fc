#!/usr/bin/env python3
"""Signer benchmarks (issue 2), peers measured in the same run. Prints a Markdown table.

  python3 bench/run.py [--runs N] [--batch N]

Needs: release builds (this script runs `cargo build --release`), Python stellar-sdk, tests/js installed.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
SIGNER = os.path.join(TARGET, "release", "airgap-signer")
BARE = os.path.join(TARGET, "release", "examples", "bare_sign")


def peak_kib(argv, env, stdin=None):
    """Run once under GNU time; return (seconds, peak RSS KiB, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, env=env, stdin=stdin, capture_output=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (argv, p.stderr.decode()[-2000:]))
    return dt, int(p.stderr.decode().strip().splitlines()[-1]), p.stdout


def median_ms(argv, env, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=10000)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "airgap-signer"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "stellar-airgap", "--example", "bare_sign"],
                   cwd=ROOT, check=True)
    from stellar_sdk import Keypair
    kp, dest = Keypair.random(), Keypair.random().public_key
    env = dict(os.environ, BENCH_SECRET=kp.secret, BENCH_DEST=dest)
    signer = [SIGNER, "payment", "--network", "testnet", "--sequence", "1234", "--min-time", "0",
              "--max-time", "1900000000", "--destination", dest, "--asset", "native", "--amount", "10",
              "--key", "env:BENCH_SECRET", "--yes"]
    py = [sys.executable, os.path.join(ROOT, "bench", "sdk_sign.py")]
    js = ["node", os.path.join(ROOT, "bench", "sdk_sign.mjs")]
    outs = {n: subprocess.run(c, env=env, capture_output=True, check=True).stdout.strip() for n, c in
            [("signer", signer), ("py", py), ("js", js)]}
    assert outs["signer"] == outs["py"] == outs["js"], "the three envelopes differ: %s" % outs
    rows = []
    ms = {n: median_ms(c, env, a.runs) for n, c in [("signer", signer), ("py", py), ("js", js)]}
    mem = {n: peak_kib(c, env)[1] for n, c in [("signer", signer), ("py", py), ("js", js)]}
    faster = min(ms["py"], ms["js"])
    rows.append(("(a) build+sign one payment, whole process, median of %d" % a.runs,
                 "%.1f ms" % ms["signer"], "Python SDK %.1f ms; JS SDK %.1f ms" % (ms["py"], ms["js"]),
                 "%.0f× faster than the faster SDK (target ≥ 50×)" % (faster / ms["signer"])))
    rows.append(("(c) peak memory of (a)", "%d KiB" % mem["signer"],
                 "Python %d KiB; JS %d KiB" % (mem["py"], mem["js"]), ""))
    with tempfile.TemporaryDirectory() as d:
        plans = os.path.join(d, "plans.jsonl")
        with open(plans, "w") as f:
            for i in range(a.batch):
                f.write(json.dumps({"network": "testnet", "source": kp.public_key, "sequence": str(1000 + i),
                                    "fee": 100, "min_time": 1700000000 + 86400 * i,
                                    "max_time": 1700086400 + 86400 * i,
                                    "operations": [{"type": "payment", "destination": dest, "asset": "native",
                                                    "amount": "100"}]}) + "\n")
        out = os.path.join(d, "out.jsonl")
        secs, kib, _ = peak_kib([SIGNER, "batch", plans, "--key", "env:BENCH_SECRET", "--yes", "--out", out], env)
        with open(out) as f:
            n = sum(1 for _ in f)
        assert n == a.batch, (n, a.batch)
        bare = float(subprocess.run([BARE, str(a.batch)], capture_output=True, check=True).stdout)
        rate = a.batch / secs
        rows.append(("(b) batch of %d payment plans, whole process" % a.batch, "%.0f envelopes/s" % rate,
                     "bare SHA-256 + ed25519 sign: %.0f/s" % bare,
                     "%.0f%% of bare (target ≥ 70%%)" % (100 * rate / bare)))
        rows.append(("(c) peak memory of (b)", "%d KiB" % kib, "", ""))
    print("| measurement | airgap-signer | peers | result |")
    print("|---|---|---|---|")
    for r in rows:
        print("| %s |" % " | ".join(r))


if __name__ == "__main__":
    main()
