#!/usr/bin/env python3
"""QR benchmark (issues 4 and 14), peers measured in the same run. Prints Markdown tables.

  python3 bench/qr.py [--set heldout] [--seeds 9001] [--variants 3] [--shared] [--encode]
                      [--compare OLD_RELAY]

Corpora: by default the issue-14 HELD-OUT kinds (tests/qr_corpus/kinds_heldout.py: damage models
written before the decoder work and never used to develop it) made with seeds used nowhere
else; `--set dev` makes the development kinds instead, `--set v0` the issue-4 kinds, and
`--shared` adds ../shared/qr-corpus. For each corpus and damage kind: photos read and time per
photo (median / worst) for

  airgap-relay  `airgap-relay decode --decode-budget B PHOTO`, a whole process per photo
  zxing-cpp     the Python binding (`zxingcpp.read_barcodes`, defaults), in process
  zbarimg       Debian's zbar-tools, a whole process per photo (skipped when not installed)

timed one after the other on each photo, so that the machine's load falls on all three alike.
`--compare PATH` adds another airgap-relay binary (an earlier build: `git worktree add /tmp/old
REV && cargo build --release -p airgap-relay` there) as one more column, timed the same way.
A photo counts as read when every envelope it holds is in the output (both, for a photo of two
envelopes); other codes in it do not count. `--encode` adds the issue-4 table: encode time and
frame count of a ~10 KB envelope per density.
"""
import argparse, collections, json, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
RELAY = os.path.join(TARGET, "release", "airgap-relay")
SIGNER = os.path.join(TARGET, "release", "airgap-signer")


def relay(budget, binary=RELAY):
    def run(path):
        p = subprocess.run([binary, "decode", "--decode-budget", budget, path], capture_output=True, timeout=600)
        return set(p.stdout.decode("utf-8", "replace").split()) if p.returncode == 0 else set()
    return run


def zxing(path):
    import zxingcpp
    from PIL import Image
    return set(r.text for r in zxingcpp.read_barcodes(Image.open(path)))


def zbar(path):
    p = subprocess.run(["zbarimg", "-q", "--raw", "-Sbinary", path], capture_output=True, timeout=600)
    return set(p.stdout.decode("latin-1").split())


def score(corpus, decoders):
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    read = {n: collections.Counter() for n in decoders}
    times = {n: collections.defaultdict(list) for n in decoders}
    kinds = collections.Counter(m["damage"] for m in manifest.values())
    for fname, m in sorted(manifest.items()):
        want = set(m.get("expect", [m["xdr"]]))
        for name, fn in decoders.items():
            t = time.perf_counter()
            got = fn(os.path.join(corpus, fname))
            ms = (time.perf_counter() - t) * 1000
            times[name][m["damage"]].append(ms)
            read[name][m["damage"]] += want <= got
    return kinds, read, times


def table(label, kinds, read, times, budget_ms):
    names = list(read)
    print("\n### %s (%d photos)\n" % (label, sum(kinds.values())))
    print("| damage | " + " | ".join("%s read, median / worst ms" % n for n in names) + " |")
    print("|---|" + "---|" * len(names))
    cell = lambda n, ks: "%d/%d, %.0f / %.0f" % (
        sum(read[n][k] for k in ks), sum(kinds[k] for k in ks),
        statistics.median([t for k in ks for t in times[n][k]]), max(t for k in ks for t in times[n][k]))
    for k in sorted(kinds):
        print("| %s | " % k + " | ".join(cell(n, [k]) for n in names) + " |")
    print("| **all** | " + " | ".join("**%s**" % cell(n, list(kinds)) for n in names) + " |")
    over = sum(t > budget_ms for k in kinds for t in times["airgap-relay"][k])
    print("\nairgap-relay photos over the %.0f ms budget (whole process, start-up included): %d" % (budget_ms, over))


def encode_table(work):
    # Encoding: a ~10 KB envelope (100 operations, 20 signatures) as frames at each density.
    from stellar_sdk import Keypair
    keys = [Keypair.random() for _ in range(20)]
    src = keys[0].public_key
    ops = [{"type": "manage_data", "name": "entry-%02d" % i, "value": "v" * 40} for i in range(100)]
    plan = os.path.join(work, "plan.json")
    json.dump({"network": "testnet", "source": src, "sequence": "2", "fee": 100, "min_time": 0,
               "max_time": 1900000000, "operations": ops}, open(plan, "w"))
    env = dict(os.environ, **{"K%d" % i: k.secret for i, k in enumerate(keys)})
    blob = os.path.join(work, "blob.xdr")
    args = [SIGNER, "plan", plan, "--yes", "--out", blob] + sum((["--key", "env:K%d" % i] for i in range(20)), [])
    subprocess.run(args, env=env, check=True, capture_output=True)
    size = len(open(blob).read().strip())
    print("\n### Encoding a %d-character envelope (100 operations, 20 signatures)\n" % size)
    print("| density | frames | encode time (whole `airgap-signer qr` process) |")
    print("|---|---|---|")
    for density in ["low", "medium", "high"]:
        out = os.path.join(work, "frames-" + density)
        t = time.perf_counter()
        subprocess.run([SIGNER, "qr", blob, "--network", "testnet", "--qr-frames", out, "--qr-density", density],
                       check=True, capture_output=True)
        ms = (time.perf_counter() - t) * 1000
        n = len([f for f in os.listdir(out) if f.endswith(".png")])
        print("| %s | %d | %.0f ms |" % (density, n, ms))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="heldout", choices=["heldout", "dev", "v0"])
    ap.add_argument("--seeds", type=int, nargs="*", default=[9001])
    ap.add_argument("--variants", type=int, default=3, help="pictures per kind and envelope (issue-14 sets)")
    ap.add_argument("--kinds", default="", help="only these kinds (comma-separated)")
    ap.add_argument("--budget", default="2s", help="--decode-budget for the relay")
    ap.add_argument("--shared", action="store_true", help="also the shared corpus ../shared/qr-corpus")
    ap.add_argument("--encode", action="store_true", help="also the frame-encoding table")
    ap.add_argument("--keep", help="write the corpora here and keep them")
    ap.add_argument("--compare", action="append", default=[], metavar="RELAY",
                    help="also time another airgap-relay binary (an earlier build), on the same photos")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "airgap-relay", "-p", "airgap-signer"], cwd=ROOT,
                   check=True)
    budget_ms = float(a.budget.rstrip("s")) * 1000 if a.budget.endswith("s") else 2000.0
    decoders = {"airgap-relay": relay(a.budget)}
    for other in a.compare:
        decoders["airgap-relay %s" % other] = relay(a.budget, os.path.abspath(other))
    decoders["zxing-cpp"] = zxing
    if shutil.which("zbarimg"):
        decoders["zbarimg"] = zbar
    else:
        print("(zbarimg not installed: apt-get install zbar-tools)", file=sys.stderr)
    work = a.keep or tempfile.mkdtemp(prefix="airgap-qrbench-")
    corpora = []
    if a.shared:
        corpora.append(("shared corpus", os.path.join(ROOT, "..", "shared", "qr-corpus")))
    for s in a.seeds:
        d = os.path.join(work, "%s-%d" % (a.set, s))
        cmd = [sys.executable, os.path.join(ROOT, "tests", "qr_corpus", "make_corpus.py"), "--set", a.set,
               "--seed", str(s), "--out", d]
        if a.set != "v0":
            cmd += ["--variants", str(a.variants)]
        if a.kinds:
            cmd += ["--kinds", a.kinds]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        print("(made the %s corpus of seed %d in %.0f s)" % (a.set, s, time.perf_counter() - t), file=sys.stderr)
        corpora.append(("%s kinds, seed %d" % (a.set, s), d))
    print("decode budget %s; machine: %d cores, load average %.1f at the start" % (
        a.budget, os.cpu_count(), os.getloadavg()[0]))
    for label, corpus in corpora:
        kinds, read, times = score(corpus, decoders)
        table(label, kinds, read, times, budget_ms)
    if a.encode:
        encode_table(work)
    if not a.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
