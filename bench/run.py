#!/usr/bin/env python3
"""Signer benchmarks (issue 2), peers measured in the same run. Prints a Markdown table.

  python3 bench/run.py [--runs N] [--batch N] [--batch-runs N]

(b) runs `batch` and the bare rate alternately --batch-runs times and takes the medians; it also
reports the CPU time (user + system) each used, from the kernel's accounting of child processes,
and the load average, because on a shared machine the wall-clock rate depends on how much of the
cores the other work leaves.

Needs: release builds (this script runs `cargo build --release`), Python stellar-sdk, tests/js installed.
"""
import argparse, json, os, resource, statistics, subprocess, sys, tempfile, time

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


def timed(argv, env):
    """Run once; return (wall seconds, CPU seconds of the process: user + system, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, capture_output=True)
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (argv, p.stderr.decode()[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dt, cpu, p.stdout


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
    ap.add_argument("--batch-runs", type=int, default=5)
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
        batch = [SIGNER, "batch", plans, "--key", "env:BENCH_SECRET", "--yes", "--out", out, "--force"]
        load = os.getloadavg()[0]
        walls, cpus, bares, bare_cpus = [], [], [], []
        for _ in range(a.batch_runs):
            dt, cpu, _ = timed(batch, env)
            walls.append(dt)
            cpus.append(cpu)
            _, cpu, stdout = timed([BARE, str(a.batch)], env)
            bares.append(float(stdout))
            bare_cpus.append(cpu)
        with open(out) as f:
            n = sum(1 for _ in f)
        assert n == a.batch, (n, a.batch)
        _, kib, _ = peak_kib(batch, env)
        secs, cpu, bare = statistics.median(walls), statistics.median(cpus), statistics.median(bares)
        bare_cpu = statistics.median(bare_cpus)
        rate = a.batch / secs
        rows.append(("(b) batch of %d payment plans, whole process, median of %d" % (a.batch, a.batch_runs),
                     "%.0f envelopes/s" % rate,
                     "bare SHA-256 + ed25519 sign: %.0f/s (median of %d)" % (bare, a.batch_runs),
                     "%.0f%% of bare (target ≥ 70%%)" % (100 * rate / bare)))
        rows.append(("(b) CPU time per envelope / per bare signature",
                     "%.1f µs (on %.2f CPUs on average)" % (1e6 * cpu / a.batch, cpu / secs),
                     "%.1f µs" % (1e6 * bare_cpu / a.batch),
                     "load average %.1f at the start" % load))
        rows.append(("(c) peak memory of (b)", "%d KiB" % kib, "", ""))
    print("| measurement | airgap-signer | peers | result |")
    print("|---|---|---|---|")
    for r in rows:
        print("| %s |" % " | ".join(r))


if __name__ == "__main__":
    main()
