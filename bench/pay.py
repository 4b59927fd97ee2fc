#!/usr/bin/env python3
"""Payout benchmark (issue 17): the wall time of `airgap-relay pay --once` draining N queued
payouts with K channel accounts against the sandbox closing a ledger every second, against the
bound of ceil(N/K) ledgers (one transaction per channel per ledger), over Horizon or Stellar RPC
(--over horizon|rpc|both). Accounts and rows come from tests/pay/scenario.py (Stellar's Python
SDK); Markdown table, one row per backend (each on a fresh sandbox and queue).

  python3 bench/pay.py [--rows 1000] [--channels 10] [--close-every 1s] [--build release|debug]
                       [--over horizon|rpc|both]

Uses target/<build>/airgap-relay (CARGO_TARGET_DIR is honoured).
"""
import argparse, json, math, os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--channels", type=int, default=10)
    ap.add_argument("--close-every", default="1s")
    ap.add_argument("--build", default="release")
    ap.add_argument("--over", choices=["horizon", "rpc", "both"], default="both")
    a = ap.parse_args()
    print("| over | payouts | channels | ledger | wall time | ceil(N/K) ledgers | ratio | exit |")
    print("|---|---|---|---|---|---|---|---|")
    for over in (["horizon", "rpc"] if a.over == "both" else [a.over]):
        run(a, over)


def run(a, over):
    relay = os.path.join(TARGET, a.build, "airgap-relay")
    scenario = os.path.join(ROOT, "tests", "pay", "scenario.py")
    d = tempfile.mkdtemp(prefix="pay-bench-")
    sb = subprocess.Popen([relay, "sandbox", "--listen", "127.0.0.1:0", "--close-every", a.close_every],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = sb.stdout.readline().strip().split("listening on ", 1)[1]
        state = os.path.join(d, "state.json")
        subprocess.run([sys.executable, scenario, "setup", url, state, "--channels", str(a.channels),
                        "--dests", "20"], check=True, stdout=subprocess.DEVNULL)
        rows = json.loads(subprocess.run([sys.executable, scenario, "rows", state, "--rows", str(a.rows),
                                          "--csv", os.path.join(d, "rows.csv")],
                                         check=True, capture_output=True, text=True).stdout)
        st = json.load(open(state))
        keys = []
        for i, seed in enumerate([st["base_seed"]] + st["channels"]):
            p = os.path.join(d, f"k{i}")
            with open(os.open(p, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(seed + "\n")
            keys.append(p)
        db = os.path.join(d, "q.db")
        with open(os.path.join(d, "rows.csv")) as f:
            subprocess.run([relay, "pay", "enqueue", "--db", db, "--csv"], stdin=f, check=True,
                           stderr=subprocess.DEVNULL)
        server = ["--horizon", url] if over == "horizon" else ["--rpc", url + "/rpc"]
        cmd = [relay, "pay", "--db", db, *server, "--network", "standalone", "--once",
               "--source", f"file:{keys[0]}"]
        for k in keys[1:]:
            cmd += ["--channel", f"file:{k}"]
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - t0
        valid = sum(1 for x in rows if x["valid"] is True)
        period = float(a.close_every.rstrip("ms")) / (1000 if a.close_every.endswith("ms") else 1)
        bound = math.ceil(valid / a.channels) * period
        print(f"| {over} | {valid} (+{len(rows) - valid} refused) | {a.channels} | {a.close_every} "
              f"| {wall:.1f} s | {bound:.0f} s | {wall / bound:.3f} | {r.returncode} |", flush=True)
        print(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "", file=sys.stderr)
    finally:
        sb.kill()


if __name__ == "__main__":
    main()
