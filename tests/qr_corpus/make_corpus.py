#!/usr/bin/env python3
"""Make a fresh corpus of damaged QR photos.

usage: make_corpus.py --seed N --out DIR [--set v0|dev|heldout] [--kinds K,K] [--ops 1,4,8]
                      [--variants V] [--manifest SHARED_MANIFEST]

Takes the envelopes (the "xdr" of each file) from the shared corpus manifest and writes pictures
of them, with one kind of damage each, drawn from the seed:

  --set v0       (default) the 26 kinds of /work/shared/qr-corpus (issue 4): each envelope as a QR
                 code the way the shared corpus does (segno, byte mode, error level M, 6 px per
                 module, 4-module quiet zone, black on white), then the damage
  --set dev      issue 14's development kinds (kinds_dev.py): steep tilt, bent paper, halftone,
                 thermal, 1-bit scans and faxes, two codes in one photo, dark noisy photos
  --set heldout  issue 14's held-out kinds (kinds_heldout.py): scored only by bench/qr.py, never
                 used while developing the decoder

DIR/<damage>_<ops>ops_v<seed>[_<variant>].<png|jpg> and DIR/manifest.json in the shared format,
{file: {"xdr", "damage", "ops", "bytes"}}, plus for the issue-14 sets "expect" (every envelope the
picture holds: a decoder must return all of them) and "others" (the texts of other codes in it,
which a decoder should name and ignore). `--kinds` keeps only the named kinds, `--ops` only the
named envelopes (1, 4 or 8 operations); `--variants` makes that many pictures per kind and
envelope (issue-14 sets; default 2). Each picture has its own random generator, seeded by
(seed, kind, envelope, variant), so a subset is made of the same pictures as the whole set.

Score decoders on it with:
  python3 /work/shared/tools/qr_score.py DIR zxing "cmd:/work/target/release/examples/qr_decode {}"
  python3 bench/qr.py ...

Needs: pip install numpy pillow segno
"""
import argparse
import io
import json
import math
import os
import sys

try:
    import numpy as np
    import segno
    from PIL import Image, ImageDraw, ImageFilter, ImageFont
except ImportError as e:  # pragma: no cover
    sys.exit("make_corpus.py needs numpy, pillow and segno: pip install -r tests/requirements.txt (%s)" % e)

KINDS = [
    "clean", "blur12", "blur20", "blur30", "motion", "noise25", "noise60", "jpeg6", "jpeg15",
    "glare", "lighting", "lowcontrast", "inverted", "mirrored", "rot10", "rot33", "rot90",
    "persp08", "persp16", "persp24", "small", "tiny", "clutter", "occluded", "phone", "phone_hard",
]
SCALE, BORDER = 6, 4
DEFAULT_MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "qr-corpus", "manifest.json")


def render(text):
    q = segno.make(text, error="m", boost_error=False, micro=False)
    m = np.array(q.matrix, dtype=np.uint8)
    m = np.pad(m, BORDER)
    a = np.where(np.kron(m, np.ones((SCALE, SCALE), dtype=np.uint8)) > 0, 0, 255).astype(np.uint8)
    return Image.fromarray(a, "L")


def arr(im):
    return np.asarray(im).astype(np.float64)


def img(a):
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")


def pad(im, factor, fill=255):
    w, h = im.size
    W, H = int(round(w * factor)), int(round(h * factor))
    out = Image.new("L", (W, H), fill)
    out.paste(im, ((W - w) // 2, (H - h) // 2))
    return out


def perspective(im, rng, strength, fill=255):
    """Pad by 1.5x and move each corner of the code at random by up to strength x its size."""
    w, h = im.size
    big = pad(im, 1.5, fill)
    W, H = big.size
    x0, y0 = (W - w) / 2, (H - h) / 2
    src = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]
    dst = [(x + rng.uniform(-strength, strength) * w, y + rng.uniform(-strength, strength) * h) for x, y in src]
    # PIL wants the coefficients of the map from output to input: solve dst -> src
    A, b = [], []
    for (X, Y), (x, y) in zip(dst, src):
        A.append([X, Y, 1, 0, 0, 0, -x * X, -x * Y]); b.append(x)
        A.append([0, 0, 0, X, Y, 1, -y * X, -y * Y]); b.append(y)
    coef = np.linalg.solve(np.array(A), np.array(b))
    return big.transform((W, H), Image.PERSPECTIVE, tuple(coef), Image.BICUBIC, fillcolor=fill)


def rotate(im, deg, fill=255):
    return pad(im, 5 / 3, fill).rotate(deg, Image.BICUBIC, expand=False, fillcolor=fill)


def gauss_noise(a, rng, sd):
    return a + rng.normal(0, sd, a.shape)


def jpeg(im, q):
    b = io.BytesIO()
    im.save(b, "JPEG", quality=q)
    b.seek(0)
    return Image.open(b).convert("L")


def motion(im, rng):
    length = int(rng.integers(7, 12))
    ang = rng.uniform(0, math.pi)
    a = arr(im)
    acc = np.zeros_like(a)
    for i in range(length):
        t = i - (length - 1) / 2
        dx, dy = int(round(t * math.cos(ang))), int(round(t * math.sin(ang)))
        acc += np.roll(np.roll(a, dy, 0), dx, 1)
    # np.roll wraps; the quiet zone is white on every side, so the wrap only brings in white
    return img(acc / length)


def gradient(shape, rng, lo, hi):
    h, w = shape
    ang = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    t = (xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang)
    t = (t - t.min()) / max(t.max() - t.min(), 1e-9)
    return lo + (hi - lo) * t


def glare(im, rng):
    a = arr(im)
    h, w = a.shape
    cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    r = rng.uniform(0.15, 0.3) * w
    yy, xx = np.mgrid[0:h, 0:w]
    spot = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    strength = rng.uniform(0.6, 0.8)
    return img(a + (255 - a) * strength * spot)


def lighting(im, rng):
    a = arr(im)
    g = gradient(a.shape, rng, rng.uniform(0.35, 0.5), rng.uniform(0.9, 1.0))
    return img(a * g + rng.uniform(0, 20))


def occluded(im, rng):
    d = ImageDraw.Draw(im)
    w, h = im.size
    bw, bh = rng.uniform(0.4, 0.55) * w, rng.uniform(0.05, 0.065) * h
    x0 = rng.uniform(0.2, 0.8 - bw / w + 0.05) * w
    y0 = rng.uniform(0.3, 0.65) * h
    d.rectangle([x0, y0, x0 + bw, y0 + bh], fill=40)
    return im


def clutter(im, rng):
    w, h = im.size
    W, H = int(w * rng.uniform(1.6, 1.8)), int(h * rng.uniform(1.8, 2.0))
    blocks = rng.normal(150, 40, (H // 10 + 1, W // 10 + 1))
    bg = np.kron(blocks, np.ones((10, 10)))[:H, :W]
    canvas = img(gauss_noise(bg, rng, 8))
    d = ImageDraw.Draw(canvas)
    k = w / 462  # text scales with the code, as in the shared corpus
    for _ in range(int(rng.integers(6, 10))):
        size = int(rng.integers(12, 45) * k)
        font = ImageFont.load_default(size=size)
        d.text((rng.uniform(0, W * 0.8), rng.uniform(0, H * 0.95)), "LEDGER %06d" % rng.integers(0, 10**6),
               fill=int(rng.integers(20, 80)), font=font)
    canvas.paste(im, (int(rng.uniform(0.05, 0.3) * w), int(rng.uniform(0.03, 0.3) * h)))
    d = ImageDraw.Draw(canvas)
    for _ in range(2):  # a label or two may overlap the code's frame
        font = ImageFont.load_default(size=int(rng.integers(20, 40) * k))
        d.text((rng.uniform(0, W * 0.8), rng.uniform(0, H * 0.95)), "LEDGER %06d" % rng.integers(0, 10**6),
               fill=int(rng.integers(30, 80)), font=font)
    return canvas


def phone(im, rng, hard):
    ps = 0.12 if hard else 0.08
    out = perspective(im, rng, ps)
    if hard:
        s = rng.uniform(0.75, 0.85)
        out = out.resize((int(out.width * s), int(out.height * s)), Image.BILINEAR)
    a = arr(out)
    a = a * gradient(a.shape, rng, rng.uniform(0.4, 0.6), rng.uniform(0.9, 1.0))
    out = img(a).filter(ImageFilter.GaussianBlur(rng.uniform(1.2, 1.6) if hard else rng.uniform(0.6, 1.0)))
    a = gauss_noise(arr(out), rng, 7.5 if hard else 4.5)
    out = img(a)
    if hard:
        return jpeg(out, int(rng.integers(30, 50)))
    return out


def damage(kind, im, rng):
    if kind == "clean":
        return im
    if kind.startswith("blur"):
        return im.filter(ImageFilter.GaussianBlur(int(kind[4:]) / 10))
    if kind == "motion":
        return motion(im, rng)
    if kind.startswith("noise"):
        return img(gauss_noise(arr(im), rng, int(kind[5:])))
    if kind.startswith("jpeg"):
        return jpeg(im, int(kind[4:]))
    if kind == "glare":
        return glare(im, rng)
    if kind == "lighting":
        return lighting(im, rng)
    if kind == "lowcontrast":
        lo, hi = rng.uniform(85, 105), rng.uniform(155, 175)
        return img(lo + arr(im) / 255 * (hi - lo))
    if kind == "inverted":
        return img(255 - arr(im))
    if kind == "mirrored":
        return im.transpose(Image.FLIP_LEFT_RIGHT)
    if kind.startswith("rot"):
        deg = int(kind[3:])
        if deg != 90:
            deg = deg + rng.uniform(-2, 2)
        return rotate(im, deg * rng.choice([-1, 1]))
    if kind.startswith("persp"):
        return perspective(im, rng, int(kind[5:]) / 100)
    if kind == "small":
        s = rng.uniform(0.42, 0.47)
        return im.resize((int(im.width * s), int(im.height * s)), Image.BILINEAR)
    if kind == "tiny":
        s = rng.uniform(0.29, 0.31)
        return im.resize((int(im.width * s), int(im.height * s)), Image.BILINEAR)
    if kind == "clutter":
        return clutter(im, rng)
    if kind == "occluded":
        return occluded(im, rng)
    if kind == "phone":
        return phone(im, rng, False)
    if kind == "phone_hard":
        return phone(im, rng, True)
    raise ValueError(kind)


def save(a, fmt, path):
    """Write a picture: "png" (8-bit grey), "png1" (1-bit) or ("jpg", quality)."""
    if isinstance(fmt, tuple):
        img(a).save(path, "JPEG", quality=fmt[1])
    elif fmt == "png1":
        img(a).convert("1", dither=Image.NONE).save(path)
    else:
        img(a).save(path)


def make_issue14(args, envelopes, kinds_module, manifest):
    rng = np.random.default_rng(args.seed)
    kinds = kinds_module.KINDS
    if args.kinds:
        wanted = args.kinds.split(",")
        unknown = [k for k in wanted if k not in kinds]
        if unknown:
            sys.exit("unknown kinds for --set %s: %s (known: %s)" % (args.set, ",".join(unknown), ",".join(kinds)))
        kinds = wanted
    ops_list = sorted(envelopes)
    only_ops = {int(o) for o in args.ops.split(",") if o}
    for kind in kinds:
        for oi, ops in enumerate(ops_list):
            if only_ops and ops not in only_ops:
                continue
            for variant in range(args.variants):
                # one generator per picture, so --kinds picks the same pictures as a full run
                prng = np.random.default_rng([args.seed, kinds_module.KINDS.index(kind), ops, variant])
                other = envelopes[ops_list[(oi + 1) % len(ops_list)]]
                texts = kinds_module.codes_for(kind, envelopes[ops], other, prng, None)
                codes = [(t, matrix_of(t)) for t, _ in texts]
                a, fmt = kinds_module.make(kind, codes, prng)
                ext = "jpg" if isinstance(fmt, tuple) else "png"
                name = "%s_%dops_v%d_%d.%s" % (kind, ops, args.seed, variant, ext)
                save(a, fmt, os.path.join(args.out, name))
                expect = [t for t, e in texts if e]
                manifest[name] = {"xdr": expect[0], "damage": kind, "ops": ops, "bytes": len(expect[0]),
                                  "expect": expect, "others": [t for t, e in texts if not e]}
    del rng


def matrix_of(text):
    """The module matrix of `text` as segno writes it (byte mode for envelopes, level M)."""
    q = segno.make(text, error="m", boost_error=False, micro=False)
    return np.array(q.matrix, dtype=np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--manifest", default=DEFAULT_MANIFEST, help="shared corpus manifest to take envelopes from")
    ap.add_argument("--set", default="v0", choices=["v0", "dev", "heldout"])
    ap.add_argument("--kinds", default="", help="comma-separated kinds to make (issue-14 sets)")
    ap.add_argument("--variants", type=int, default=2, help="pictures per kind and envelope (issue-14 sets)")
    ap.add_argument("--ops", default="", help="comma-separated envelope sizes to use (1,4,8; issue-14 sets)")
    args = ap.parse_args()
    shared = json.load(open(args.manifest))
    envelopes = {}
    for m in shared.values():
        envelopes.setdefault(m["ops"], m["xdr"])
    os.makedirs(args.out, exist_ok=True)
    manifest = {}
    if args.set != "v0":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        kinds_module = __import__("kinds_dev" if args.set == "dev" else "kinds_heldout")
        make_issue14(args, envelopes, kinds_module, manifest)
        with open(os.path.join(args.out, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
        print("wrote %d images to %s" % (len(manifest), args.out))
        return
    rng = np.random.default_rng(args.seed)
    for kind in KINDS:
        for ops, xdr in sorted(envelopes.items()):
            im = damage(kind, render(xdr), rng)
            ext = "jpg" if kind in ("jpeg15", "phone") else "png"
            name = "%s_%dops_v%d.%s" % (kind, ops, args.seed, ext)
            path = os.path.join(args.out, name)
            if ext == "jpg":
                im.save(path, "JPEG", quality=15 if kind == "jpeg15" else int(rng.integers(60, 85)))
            else:
                im.save(path)
            manifest[name] = {"xdr": xdr, "damage": kind, "ops": ops, "bytes": len(xdr)}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    print("wrote %d images to %s" % (len(manifest), args.out))


if __name__ == "__main__":
    main()
