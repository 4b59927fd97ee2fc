#!/usr/bin/env python3
"""QR benchmark (issue 4), peers measured in the same run. Prints Markdown tables.

  python3 bench/qr.py [--seeds 11 12]

For the shared corpus (../shared/qr-corpus) and fresh corpora made by tests/qr_corpus/make_corpus.py
with the given seeds: per damage kind, photos read by `airgap-relay decode` (whole process),
zxing-cpp (Python binding, in process) and zbarimg (Debian zbar-tools, whole process); decode time
per photo, median and worst. Then encode time and frame count of a ~10 KB envelope per density.
"""
import argparse, collections, json, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
RELAY = os.path.join(TARGET, "release", "airgap-relay")
SIGNER = os.path.join(TARGET, "release", "airgap-signer")


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t) * 1000


def relay(path):
    p = subprocess.run([RELAY, "decode", path], capture_output=True, timeout=120)
    return p.stdout.decode().strip().splitlines()[0] if p.returncode == 0 and p.stdout.strip() else ""


def zxing(path):
    import zxingcpp
    from PIL import Image
    r = zxingcpp.read_barcodes(Image.open(path))
    return r[0].text if r else ""


def zbar(path):
    p = subprocess.run(["zbarimg", "-q", "--raw", "-Sbinary", path], capture_output=True, timeout=120)
    return p.stdout.decode("latin-1").strip()


def score(corpus, decoders):
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    per = {n: collections.defaultdict(int) for n in decoders}
    times = {n: [] for n in decoders}
    kinds = collections.Counter(m["damage"] for m in manifest.values())
    for fname, m in sorted(manifest.items()):
        for name, fn in decoders.items():
            got, ms = timed(lambda: fn(os.path.join(corpus, fname)))
            times[name].append(ms)
            per[name][m["damage"]] += got == m["xdr"]
    return kinds, per, times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="*", default=[11, 12])
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "airgap-relay", "-p", "airgap-signer"], cwd=ROOT, check=True)
    decoders = {"airgap-relay": relay, "zxing-cpp": zxing}
    if shutil.which("zbarimg"):
        decoders["zbarimg"] = zbar
    work = tempfile.mkdtemp(prefix="airgap-qrbench-")
    corpora = [("shared", os.path.join(ROOT, "..", "shared", "qr-corpus"))]
    for s in a.seeds:
        d = os.path.join(work, "seed%d" % s)
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "qr_corpus", "make_corpus.py"), "--seed", str(s),
                        "--out", d], check=True, capture_output=True)
        corpora.append(("fresh seed %d" % s, d))
    for label, corpus in corpora:
        kinds, per, times = score(corpus, decoders)
        names = list(decoders)
        print("\n### %s corpus (%d photos)\n" % (label, sum(kinds.values())))
        print("| damage | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for k in sorted(kinds):
            print("| %s | " % k + " | ".join("%d/%d" % (per[n][k], kinds[k]) for n in names) + " |")
        print("| **total** | " + " | ".join("**%d/%d**" % (sum(per[n].values()), sum(kinds.values())) for n in names) + " |")
        print("| time per photo, median / worst (ms) | " + " | ".join(
            "%.0f / %.0f" % (statistics.median(times[n]), max(times[n])) for n in names) + " |")
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
        _, ms = timed(lambda: subprocess.run([SIGNER, "qr", blob, "--network", "testnet", "--qr-frames", out,
                                              "--qr-density", density], check=True, capture_output=True))
        n = len([f for f in os.listdir(out) if f.endswith(".png")])
        print("| %s | %d | %.0f ms |" % (density, n, ms))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
