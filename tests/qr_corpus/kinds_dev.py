"""Issue-14 damage kinds the decoder was DEVELOPED on (looked at, tuned against).

Each function takes (codes, rng) and returns (grey float array, file extension, save mode):
`codes` is a list of (text, module_matrix) to place in the picture, the first being the one the
test is about. The held-out kinds (kinds_heldout.py) are different models, written before the
decoder work started and only scored at the end.

  tilt55    phone photo of paper seen 50-60 deg off its normal, any direction
  tilt65    the same at 60-70 deg (one module side shrinks to a third)
  curved    paper bent around a cylinder (radius 0.5-1x the code), 0-35 deg off normal
  halftone  the code printed as an AM (newspaper) halftone: round dots on a 45 deg screen,
            2-3 cells per module, tinted light modules, then scanned or photographed
  thermal   thermal-receipt print: faded, uneven density, dead heater dots (white lines along the
            feed), then photographed
  bilevel   1-bit scan: thresholded scanner image, 2.2-4.5 px per module, skew, speckle
  fax       1-bit fax, standard mode (204 x 98 dpi: pixels twice as tall as wide, so the image
            is squashed to half height), with scan-line dropouts
  two_url   the envelope's code and a URL code (a menu, a website) in one photo of a desk
  two_env   two envelopes' codes in one photo
  dark      a dark, noisy 8-12 megapixel phone photo (the worst case for time)
"""
import math

import numpy as np

from camera import (Cylinder, arr, blur, desk, fit_camera, jpeg, sensor, shoot, vignette)

KINDS = ["tilt55", "tilt65", "curved", "halftone", "thermal", "bilevel", "fax", "two_url", "two_env", "dark"]

OTHER_TEXTS = [
    "https://example.com/menu?table=12",
    "https://www.example.org/",
    "WIFI:T:WPA;S:office-guest;P:correct horse battery;;",
    "https://tickets.example.net/e/8812-ab7?utm_source=poster",
    "BEGIN:VCARD\nVERSION:3.0\nFN:Ann Example\nTEL:+15555550100\nEND:VCARD",
]


def sheet_of(matrix, ppm, border=4, dark=0.0, light=255.0):
    """The code as a sheet: `ppm` sheet pixels per module, `border` modules of quiet zone."""
    m = np.pad(np.asarray(matrix, dtype=np.uint8), border)
    a = np.kron(m, np.ones((ppm, ppm)))
    return np.where(a > 0, dark, light).astype(np.float64)


def paper_on_desk(sheet, rng, margin=0.6, paper=245.0):
    """Put the code sheet on a larger sheet of paper (so the code has paper around it)."""
    h, w = sheet.shape
    H, W = int(h * (1 + margin)), int(w * (1 + margin))
    out = np.full((H, W), paper) + rng.normal(0, 2, (H, W))
    y, x = (H - h) // 2, (W - w) // 2
    out[y:y + h, x:x + w] = np.minimum(sheet, paper)
    return out


def phone_finish(a, rng, blur_sigma=(0.5, 1.1), noise=(2.0, 5.0), quality=(70, 92)):
    a = a * vignette(a.shape, rng, rng.uniform(0.1, 0.35))
    a = blur(a, rng.uniform(*blur_sigma))
    a = sensor(a, rng, light=rng.uniform(0.85, 1.0), photons=rng.uniform(300, 900), read_noise=rng.uniform(*noise))
    return a, ("jpg", int(rng.integers(*quality)))


def tilted(codes, rng, lo, hi):
    text, m = codes[0]
    ppm = 6
    sheet = paper_on_desk(sheet_of(m, ppm), rng)
    h, w = sheet.shape
    tilt = rng.uniform(lo, hi)
    # the un-shrunk side gets 4.5-8 px per module
    n = len(m) + 8
    target = n * rng.uniform(4.5, 8.0) * (1 + 0.6) * rng.uniform(0.95, 1.05)
    size = (int(target * 1.5), int(target * 1.3))
    cam = fit_camera(tilt, rng.uniform(0, 360), rng.uniform(-30, 30), (w / 2, h / 2), target, size, rng,
                     dist_factor=rng.uniform(1.2, 3.0))
    bg = desk((size[1], size[0]), rng)
    return phone_finish(shoot(sheet, cam, bg), rng)


def curved(codes, rng):
    text, m = codes[0]
    ppm = 6
    sheet = paper_on_desk(sheet_of(m, ppm), rng, margin=0.4)
    h, w = sheet.shape
    code_w = (len(m) + 8) * ppm
    radius = code_w * rng.uniform(0.5, 1.0) * rng.choice([-1, 1])
    surface = Cylinder(radius, rng.uniform(0, 180))
    n = len(m) + 8
    target = n * rng.uniform(4.5, 7.0) * 1.4
    size = (int(target * 1.4), int(target * 1.3))
    cam = fit_camera(rng.uniform(0, 35), rng.uniform(0, 360), rng.uniform(-20, 20), (w / 2, h / 2), target, size,
                     rng, dist_factor=rng.uniform(2.0, 4.0), surface=surface)
    bg = desk((size[1], size[0]), rng)
    return phone_finish(shoot(sheet, cam, bg, surface=surface), rng)


def halftone(codes, rng):
    text, m = codes[0]
    cell = 8  # halftone period in sheet pixels
    cells_per_module = rng.uniform(1.8, 3.0)
    ppm = int(round(cell * cells_per_module))
    code = sheet_of(m, ppm, dark=1.0, light=0.0)  # ink coverage
    ink_dark, ink_light = rng.uniform(0.7, 0.95), rng.uniform(0.0, 0.25)
    cover = ink_light + (ink_dark - ink_light) * code
    cover = blur(cover, ppm * 0.15)  # prepress resampling softens module edges
    h, w = cover.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    ang = math.radians(rng.choice([45.0, 15.0, 75.0]) + rng.uniform(-2, 2))
    xr = (xx * math.cos(ang) + yy * math.sin(ang)) * 2 * math.pi / cell
    yr = (-xx * math.sin(ang) + yy * math.cos(ang)) * 2 * math.pi / cell
    spot = (np.cos(xr) + np.cos(yr)) / 4 + 0.5  # 0..1; round dots
    ink = (cover > spot).astype(np.float64)
    ink = blur(ink, cell * 0.12) > 0.45  # dot gain
    paper, black = rng.uniform(215, 240), rng.uniform(20, 55)
    sheet = np.where(ink, black, paper) + rng.normal(0, 3, ink.shape)
    # capture: 2.5-6 output px per halftone period, mostly square-on (a scan or a careful photo)
    period_out = rng.uniform(2.5, 6.0)
    target = w / cell * period_out
    size = (int(target * 1.25), int(target * 1.25))
    cam = fit_camera(rng.uniform(0, 20), rng.uniform(0, 360), rng.uniform(-10, 10), (w / 2, h / 2), target, size,
                     rng, dist_factor=rng.uniform(3.0, 6.0))
    shot = shoot(sheet, cam, paper)
    return phone_finish(shot, rng, blur_sigma=(0.3, 0.7), noise=(1.5, 4.0), quality=(80, 95))


def thermal(codes, rng):
    text, m = codes[0]
    dots = int(rng.integers(2, 5))  # printer dots per module (203 dpi)
    code = sheet_of(m, dots, dark=1.0, light=0.0)
    h, w = code.shape
    # density: faded overall, uneven along the feed (rows) and across the head
    along = 0.45 + 0.35 * np.cumsum(rng.normal(0, 0.08, h)).clip(-2, 2) / 4
    across = 1 - 0.15 * np.linspace(0, 1, w) ** 2 * rng.uniform(0, 1)
    density = np.clip(along[:, None] * across[None, :] * rng.uniform(0.8, 1.2), 0.2, 0.95)
    fire = rng.uniform(0.6, 1.0, code.shape)  # dot to dot variation
    dead = rng.choice(w, size=int(rng.integers(1, 5)), replace=False)  # dead heater elements
    fire[:, dead] = 0
    # weak rows: the head's voltage sags when many dots fire at once
    busy = code.mean(axis=1)
    fire *= (1 - 0.4 * (busy > 0.6))[:, None]
    ink = code * density * fire
    # one dot = 4 sheet pixels, printed dots round and slightly spread
    k = 4
    big = np.kron(ink, np.ones((k, k)))
    big = blur(big, 1.2)
    paper = rng.uniform(232, 250)
    sheet = paper * (1 - 0.85 * big) + rng.normal(0, 2.5, big.shape)
    sheet = np.pad(sheet, ((k * 30, k * 30), (k * 10, k * 10)), constant_values=paper)
    H, W = sheet.shape
    target = (len(m) + 8) * dots * rng.uniform(1.6, 3.0)
    size = (int(target * 1.5), int(target * 1.4))
    cam = fit_camera(rng.uniform(0, 25), rng.uniform(0, 360), rng.uniform(-15, 15), (W / 2, H / 2), target, size,
                     rng, dist_factor=rng.uniform(2.5, 5.0))
    bg = desk((size[1], size[0]), rng, mean=90)
    return phone_finish(shoot(sheet, cam, bg), rng)


def scan_1bit(matrix, rng, mx, my, dropouts=0.0):
    """A 1-bit scan: `mx` x `my` output pixels per module, skew, scanner blur, threshold, speckle."""
    border = 4
    n = len(matrix) + 2 * border
    W, H = int(n * mx + 40), int(n * my + 40)
    skew = math.radians(rng.uniform(-3, 3))
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    ss = 3  # supersample the scanner's sensor cells
    acc = np.zeros((H, W))
    m = np.pad(np.asarray(matrix, dtype=np.uint8), border)
    for sy in range(ss):
        for sx in range(ss):
            x = xx + (sx + 0.5) / ss - 20
            y = yy + (sy + 0.5) / ss - 20
            # module coordinates (skewed)
            u = (x * math.cos(skew) + y * mx / my * math.sin(skew)) / mx
            v = (-x * my / mx * math.sin(skew) + y * math.cos(skew)) / my
            ui, vi = np.floor(u).astype(int), np.floor(v).astype(int)
            ok = (ui >= 0) & (ui < n) & (vi >= 0) & (vi < n)
            val = np.zeros_like(u)
            val[ok] = m[vi[ok], ui[ok]]
            acc += val
    dark = acc / (ss * ss)
    grey = 235 - 205 * dark
    grey = blur(grey, rng.uniform(0.4, 0.8)) + rng.normal(0, rng.uniform(4, 12), grey.shape)
    bits = grey > rng.uniform(100, 165)
    flip = rng.random(bits.shape) < rng.uniform(0.0, 0.006)
    bits ^= flip
    if dropouts:
        rows = np.arange(H)
        bad = rng.random(H) < dropouts
        for r in rows[bad]:
            if r > 0:
                bits[r] = bits[r - 1] if rng.random() < 0.5 else True
    return np.where(bits, 255.0, 0.0)


def bilevel(codes, rng):
    text, m = codes[0]
    mod = rng.uniform(2.2, 4.5)
    return scan_1bit(m, rng, mod, mod), "png1"


def fax(codes, rng):
    text, m = codes[0]
    mx = rng.uniform(3.0, 5.0)
    return scan_1bit(m, rng, mx, mx * 98 / 204, dropouts=rng.uniform(0.0, 0.02)), "png1"


def several(codes, rng):
    """Every code on its own piece of paper on a desk, each at its own angle, in one photo."""
    W, H = 1600, 1200
    scene = desk((H, W), rng)
    placed = []
    sizes = []
    for i, (text, m) in enumerate(codes):
        n = len(m) + 8
        # the envelope code big enough to read; others vary
        px = n * (rng.uniform(4.0, 6.0) if i == 0 else rng.uniform(3.5, 8.0))
        sizes.append(min(px, 0.6 * min(W, H)))
    # place side by side in random order, left to right, no overlap
    order = rng.permutation(len(codes))
    slots = np.linspace(0, W, len(codes) + 1)
    for slot, i in enumerate(order):
        text, m = codes[i]
        ppm = 6
        sheet = paper_on_desk(sheet_of(m, ppm), rng, margin=0.3)
        h, w = sheet.shape
        target = sizes[i] * 1.3
        cam = fit_camera(rng.uniform(0, 35), rng.uniform(0, 360), rng.uniform(-40, 40), (w / 2, h / 2), target,
                         (int(slots[slot + 1] - slots[slot]), H), rng, dist_factor=rng.uniform(2.5, 5.0))
        cam.size = (W, H)
        cam.centre = (cam.centre[0] + slots[slot], cam.centre[1])
        placed.append((sheet, cam))
    for sheet, cam in placed:
        scene = shoot(sheet, cam, scene)
    return phone_finish(scene, rng)


def dark(codes, rng):
    text, m = codes[0]
    ppm = 6
    sheet = paper_on_desk(sheet_of(m, ppm), rng)
    h, w = sheet.shape
    mp = rng.uniform(8, 12)
    W = int(math.sqrt(mp * 1e6 * 4 / 3))
    H = int(W * 3 / 4)
    target = (len(m) + 8) * rng.uniform(5, 12) * 1.6
    cam = fit_camera(rng.uniform(0, 30), rng.uniform(0, 360), rng.uniform(-20, 20), (w / 2, h / 2), target, (W, H),
                     rng, dist_factor=rng.uniform(2.0, 4.0))
    bg = desk((H, W), rng, mean=60)
    scene = shoot(sheet, cam, bg, supersample=False)
    scene = blur(scene * vignette(scene.shape, rng, 0.5), rng.uniform(0.8, 1.8))
    a = sensor(scene, rng, light=rng.uniform(0.08, 0.2), photons=rng.uniform(15, 60), read_noise=rng.uniform(2, 6))
    a = a * rng.uniform(1.0, 2.5)  # the phone's gain, partly
    return a, ("jpg", int(rng.integers(85, 96)))


def make(kind, codes, rng):
    if kind == "tilt55":
        return tilted(codes, rng, 50, 60)
    if kind == "tilt65":
        return tilted(codes, rng, 60, 70)
    if kind == "curved":
        return curved(codes, rng)
    if kind == "halftone":
        return halftone(codes, rng)
    if kind == "thermal":
        return thermal(codes, rng)
    if kind == "bilevel":
        return bilevel(codes, rng)
    if kind == "fax":
        return fax(codes, rng)
    if kind in ("two_url", "two_env"):
        return several(codes, rng)
    if kind == "dark":
        return dark(codes, rng)
    raise ValueError(kind)


def codes_for(kind, envelope, other_envelope, rng, matrix):
    """The texts one picture of `kind` holds: [(text, expected?)]."""
    if kind == "two_url":
        return [(envelope, True), (OTHER_TEXTS[int(rng.integers(len(OTHER_TEXTS)))], False)]
    if kind == "two_env":
        return [(envelope, True), (other_envelope, True)]
    return [(envelope, True)]
