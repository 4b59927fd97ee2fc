#!/usr/bin/env python3
"""Time zxing-cpp and our qr_decode example per photo, and measure each pipeline step's gain.

usage: bench.py [--steps] CORPUS [CORPUS...]

For each corpus (a directory with manifest.json, as made by make_corpus.py or the shared one):
  - zxing-cpp (in process, Image.open + read_barcodes, defaults) and qr_decode --time (decode of
    the file's bytes, in the example process) per photo: successes, median and worst milliseconds;
  - with --steps: qr_decode --step N for every step alone, and the first step of the pipeline that
    reads each photo, per damage kind.
Needs: pip install -r tests/requirements.txt; cargo build --release --example qr_decode
"""
import collections, json, os, statistics, subprocess, sys, time

try:
    import zxingcpp
    from PIL import Image
except ImportError as e:
    sys.exit("bench.py needs zxing-cpp and pillow: pip install -r tests/requirements.txt (%s)" % e)

EXE = os.environ.get("QR_DECODE", os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release/examples/qr_decode"))


def ours(path, *extra):
    p = subprocess.run([EXE, "--time", *extra, path], capture_output=True, timeout=120)
    ms = float([l for l in p.stderr.decode().splitlines() if l.startswith("time_ms")][0].split()[1])
    out = p.stdout.decode("utf-8", "replace").strip().splitlines()
    return (out[0] if out else ""), ms


def zx(path):
    t = time.perf_counter()
    res = zxingcpp.read_barcodes(Image.open(path))
    ms = (time.perf_counter() - t) * 1000
    return (res[0].text if res else ""), ms


def summary(name, oks, times):
    return "%-8s %3d/%d  median %.1f ms  worst %.1f ms" % (name, sum(oks), len(oks), statistics.median(times), max(times))


def main():
    args = sys.argv[1:]
    steps = "--steps" in args
    corpora = [a for a in args if a != "--steps"]
    for corpus in corpora:
        manifest = json.load(open(os.path.join(corpus, "manifest.json")))
        files = sorted(manifest)
        res = {"zxing-cpp": ([], []), "ours": ([], [])}
        for f in files:
            path = os.path.join(corpus, f)
            for name, fn in (("zxing-cpp", zx), ("ours", ours)):
                text, ms = fn(path)
                res[name][0].append(text == manifest[f]["xdr"])
                res[name][1].append(ms)
        print("== %s" % corpus)
        for name, (oks, times) in res.items():
            print(summary(name, oks, times))
        if not steps:
            continue
        names = subprocess.run([EXE, "--steps"], capture_output=True).stdout.decode().splitlines()
        alone = collections.Counter()
        first = {}
        for i, _ in enumerate(names):
            for f in files:
                text, _ = ours(os.path.join(corpus, f), "--step", str(i))
                if text == manifest[f]["xdr"]:
                    alone[i] += 1
                    first.setdefault(f, i)
        print("step | alone | first read here (cumulative) | kinds first read here")
        cum = 0
        for i, n in enumerate(names):
            here = [f for f, s in first.items() if s == i]
            cum += len(here)
            kinds = collections.Counter(manifest[f]["damage"] for f in here)
            print("%s | %d | %d (%d) | %s" % (n, alone[i], len(here), cum, " ".join("%s=%d" % kv for kv in sorted(kinds.items()))))


if __name__ == "__main__":
    main()
