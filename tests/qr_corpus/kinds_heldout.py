"""Issue-14 damage kinds HELD OUT from decoder development.

These models were written before the decoder work of issue 14 began and were not scored while it
went on; `bench/qr.py` scores them (with seeds never used elsewhere) once the decoder is done.
They are deliberately different from the development kinds (kinds_dev.py): other geometry
(height-field waves, lens distortion), other print processes (error diffusion, LCD screens,
ordered dither, fine-mode fax), other scenes.

  wave          paper with a wavy height field (crumpled, lying unevenly), 20-45 deg off normal
  tilt_lens     55-68 deg off normal through a wide lens: barrel distortion, far side out of focus
  fm_screen     stochastic (error-diffusion) screened print in tinted ink, photographed
  screen_photo  the code on an LCD (pixel grid, dark gaps between pixels, moire), 15-35 deg
  receipt_curl  faded thermal receipt curled towards the camera, with a fold across it
  dither_scan   1-bit scan by ordered (Bayer) dither of a soft grey scan
  fax_fine      fax with every scan line doubled (98 dpi shown at 196), skew, line jitter
  three_codes   the envelope's code among a URL and a Wi-Fi code on a poster with text
  night         a low-light hand-held photo: shake blur, blotchy noise, 3-5 megapixels
  glossy        a glossy print with a bright specular band across it, 30-50 deg off normal
"""
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from camera import (Plane, arr, blur, desk, fit_camera, jpeg, sensor, shoot, vignette)

KINDS = ["wave", "tilt_lens", "fm_screen", "screen_photo", "receipt_curl", "dither_scan", "fax_fine",
         "three_codes", "night", "glossy"]

OTHERS = [
    "https://shop.example.com/p/44120",
    "WIFI:T:WPA;S:Cafe Example;P:latte-2024;;",
    "https://example.edu/events/open-day",
    "mailto:desk@example.com",
]


def code_sheet(matrix, ppm, border=4, dark=0.0, light=255.0):
    m = np.pad(np.asarray(matrix, dtype=np.uint8), border)
    return np.where(np.kron(m, np.ones((ppm, ppm))) > 0, dark, light).astype(np.float64)


def on_paper(sheet, rng, margin=0.5, paper=240.0):
    h, w = sheet.shape
    H, W = int(h * (1 + margin)), int(w * (1 + margin))
    out = np.full((H, W), paper) + rng.normal(0, 1.5, (H, W))
    y, x = (H - h) // 2, (W - w) // 2
    out[y:y + h, x:x + w] = np.minimum(sheet, paper)
    return out


def finish(a, rng, sigma=(0.5, 1.0), quality=(75, 93), light=(0.8, 1.0), photons=(250, 800), read=(2, 5)):
    a = blur(a, rng.uniform(*sigma))
    a = sensor(a, rng, light=rng.uniform(*light), photons=rng.uniform(*photons), read_noise=rng.uniform(*read))
    return a, ("jpg", int(rng.integers(*quality)))


class Waves(Plane):
    """A height field: a few random plane waves, amplitude `amp` sheet pixels."""

    def __init__(self, rng, amp, wavelength):
        self.waves = [(rng.uniform(0, 2 * math.pi), rng.uniform(0.6, 1.4) * wavelength, rng.uniform(0, 2 * math.pi),
                       amp * rng.uniform(0.4, 1.0)) for _ in range(3)]

    def height(self, u, v):
        z = 0
        for ang, lam, ph, a in self.waves:
            z = z + a * np.sin((u * math.cos(ang) + v * math.sin(ang)) * 2 * math.pi / lam + ph)
        return z

    def lift(self, u, v):
        return np.stack([u, v, self.height(u, v)], axis=-1)

    def hit(self, C, d):
        t = -C[2] / d[..., 2]
        for _ in range(6):  # fixed point: where the ray is at the height of the sheet below it
            p = C + t[..., None] * d
            t = (self.height(p[..., 0], p[..., 1]) - C[2]) / d[..., 2]
        p = C + t[..., None] * d
        return p[..., 0], p[..., 1], t > 0


def wave(codes, rng):
    m = codes[0][1]
    sheet = on_paper(code_sheet(m, 6), rng)
    h, w = sheet.shape
    code_w = (len(m) + 8) * 6
    surf = Waves(rng, code_w * rng.uniform(0.02, 0.05), code_w * rng.uniform(0.5, 1.0))
    target = (len(m) + 8) * rng.uniform(4.5, 7.0) * 1.5
    size = (int(target * 1.4), int(target * 1.25))
    cam = fit_camera(rng.uniform(20, 45), rng.uniform(0, 360), rng.uniform(-30, 30), (w / 2, h / 2), target, size,
                     rng, dist_factor=rng.uniform(2.0, 3.5), surface=surf)
    return finish(shoot(sheet, cam, desk((size[1], size[0]), rng), surface=surf), rng)


def tilt_lens(codes, rng):
    m = codes[0][1]
    sheet = on_paper(code_sheet(m, 6), rng)
    h, w = sheet.shape
    target = (len(m) + 8) * rng.uniform(5.0, 8.0) * 1.5
    size = (int(target * 1.5), int(target * 1.2))
    cam = fit_camera(rng.uniform(55, 68), rng.uniform(0, 360), rng.uniform(-20, 20), (w / 2, h / 2), target, size,
                     rng, dist_factor=rng.uniform(1.0, 2.0))
    shot = shoot(sheet, cam, desk((size[1], size[0]), rng))
    # depth of field: blend a sharp and a blurred copy along the tilt's depth gradient
    W, H = size
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    ang = rng.uniform(0, 2 * math.pi)
    t = (xx - W / 2) * math.cos(ang) + (yy - H / 2) * math.sin(ang)
    t = (t - t.min()) / (t.max() - t.min())
    shot = shot * (1 - t) + blur(shot, rng.uniform(1.2, 2.2)) * t
    # barrel distortion about the frame centre
    k1 = rng.uniform(0.05, 0.15)
    r2 = (((xx - W / 2) / W) ** 2 + ((yy - H / 2) / W) ** 2)
    f = 1 + k1 * r2 * 4
    from camera import bilinear
    shot = bilinear(shot, (xx - W / 2) * f + W / 2, (yy - H / 2) * f + H / 2, 128)
    return finish(shot, rng, sigma=(0.3, 0.7))


def fm_screen(codes, rng):
    m = codes[0][1]
    dots_per_module = rng.uniform(3.0, 5.0)
    n = len(m) + 8
    N = int(n * dots_per_module)
    # tone per printer dot: modules sampled at dot resolution
    idx = np.minimum((np.arange(N) / dots_per_module).astype(int), n - 1)
    mm = np.pad(np.asarray(m, dtype=np.float64), 4)[idx][:, idx]
    tone = rng.uniform(0.05, 0.2) + (rng.uniform(0.6, 0.85) - 0.1) * mm
    tone = blur(tone, 0.6)
    # Floyd-Steinberg error diffusion, row by row (serpentine)
    ink = np.zeros_like(tone)
    err = tone.copy()
    for y in range(N):
        xs = range(N) if y % 2 == 0 else range(N - 1, -1, -1)
        s = 1 if y % 2 == 0 else -1
        for x in xs:
            v = 1.0 if err[y, x] >= 0.5 else 0.0
            ink[y, x] = v
            e = err[y, x] - v
            if 0 <= x + s < N:
                err[y, x + s] += e * 7 / 16
            if y + 1 < N:
                if 0 <= x - s < N:
                    err[y + 1, x - s] += e * 3 / 16
                err[y + 1, x] += e * 5 / 16
                if 0 <= x + s < N:
                    err[y + 1, x + s] += e * 1 / 16
    k = 3
    big = blur(np.kron(ink, np.ones((k, k))), 0.8)
    paper, black = rng.uniform(225, 245), rng.uniform(30, 70)
    sheet = paper - (paper - black) * np.clip(big * 1.1, 0, 1)
    sheet = np.pad(sheet, k * 10, constant_values=paper)
    h, w = sheet.shape
    target = N * rng.uniform(1.2, 2.5)
    size = (int(target * 1.3), int(target * 1.3))
    cam = fit_camera(rng.uniform(0, 25), rng.uniform(0, 360), rng.uniform(-15, 15), (w / 2, h / 2), target, size,
                     rng, dist_factor=rng.uniform(3.0, 5.0))
    return finish(shoot(sheet, cam, paper), rng, sigma=(0.3, 0.8))


def screen_photo(codes, rng):
    m = codes[0][1]
    px = int(rng.integers(3, 6))  # screen pixels per module
    n = len(m) + 8
    k = 5  # sheet pixels per screen pixel: 4 lit, 1 gap
    mm = np.pad(np.asarray(m, dtype=np.uint8), 4)
    lum = np.where(np.kron(mm, np.ones((px, px))) > 0, rng.uniform(5, 30), rng.uniform(190, 250))
    sheet = np.kron(lum, np.ones((k, k)))
    mask = np.ones((k, k))
    mask[-1, :] = 0.15
    mask[:, -1] = 0.15
    mask[:, 1] *= 0.8  # sub-pixel stripes differ in brightness once in grey
    sheet = sheet * np.tile(mask, (lum.shape[0], lum.shape[1]))
    sheet = np.pad(sheet, ((k * 40, k * 40), (k * 60, k * 60)), constant_values=12.0)  # the bezel
    h, w = sheet.shape
    pitch_out = rng.uniform(0.7, 1.6)  # output px per screen pixel
    target = w / k * pitch_out
    size = (int(target * 1.15), int(target * 0.9))
    cam = fit_camera(rng.uniform(15, 35), rng.uniform(0, 360), rng.uniform(-15, 15), (w / 2, h / 2), target, size,
                     rng, dist_factor=rng.uniform(2.0, 4.0))
    shot = shoot(sheet, cam, desk((size[1], size[0]), rng, mean=80))
    W, H = size
    yy, xx = np.mgrid[0:H, 0:W]
    cx, cy = rng.uniform(0.2, 0.8) * W, rng.uniform(0.2, 0.8) * H
    r = rng.uniform(0.1, 0.25) * W
    shot = shot + rng.uniform(40, 90) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    return finish(shot, rng, sigma=(0.4, 1.0))


def receipt_curl(codes, rng):
    from camera import Cylinder
    m = codes[0][1]
    dots = int(rng.integers(2, 4))
    n = len(m) + 8
    k = 3
    code = np.kron(np.pad(np.asarray(m, dtype=np.float64), 4), np.ones((dots * k, dots * k)))
    h, w = code.shape
    fade = np.exp(-np.linspace(0, rng.uniform(0.3, 1.0), h))[:, None]  # darker where printed first
    paper = rng.uniform(225, 240)
    ink = rng.uniform(70, 130)
    sheet = paper - (paper - ink) * code * fade * rng.uniform(0.85, 1.0, code.shape)
    sheet = blur(sheet, 0.8)
    sheet = np.pad(sheet, ((h // 2, h // 2), (w // 8, w // 8)), constant_values=paper)
    # a fold across the receipt: a dark line and a brightness step
    H0, W0 = sheet.shape
    fy = int(rng.uniform(0.35, 0.65) * H0)
    sheet[fy:fy + 2, :] *= 0.8
    sheet[fy + 2:, :] *= rng.uniform(0.88, 0.97)
    surf = Cylinder(-w * rng.uniform(0.6, 1.2), rng.uniform(-15, 15))
    target = n * dots * rng.uniform(1.7, 3.0) * 1.2
    size = (int(target * 1.4), int(target * 1.4))
    cam = fit_camera(rng.uniform(0, 30), rng.uniform(0, 360), rng.uniform(-20, 20), (sheet.shape[1] / 2, sheet.shape[0] / 2), target, size,
                     rng, dist_factor=rng.uniform(2.0, 4.0), surface=surf)
    return finish(shoot(sheet, cam, desk((size[1], size[0]), rng, mean=100), surface=surf), rng)


BAYER4 = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]) / 16 + 1 / 32


def dither_scan(codes, rng):
    m = codes[0][1]
    mod = rng.uniform(2.5, 4.0)
    n = len(m) + 8
    N = int(n * mod) + 30
    yy, xx = np.mgrid[0:N, 0:N].astype(np.float64)
    rot = math.radians(rng.uniform(-2, 2))
    u = ((xx - 15) * math.cos(rot) + (yy - 15) * math.sin(rot)) / mod
    v = (-(xx - 15) * math.sin(rot) + (yy - 15) * math.cos(rot)) / mod
    mm = np.pad(np.asarray(m, dtype=np.float64), 4)
    ui, vi = np.floor(u).astype(int), np.floor(v).astype(int)
    ok = (ui >= 0) & (ui < n) & (vi >= 0) & (vi < n)
    dark = np.zeros_like(u)
    dark[ok] = mm[vi[ok], ui[ok]]
    grey = blur(1 - dark * rng.uniform(0.7, 0.9), rng.uniform(0.8, 1.4)) + rng.normal(0, 0.04, dark.shape)
    grey = grey * rng.uniform(0.8, 1.0)  # a grey scan: white is not white
    thr = np.tile(BAYER4, (N // 4 + 1, N // 4 + 1))[:N, :N]
    return np.where(grey > thr, 255.0, 0.0), "png1"


def fax_fine(codes, rng):
    m = codes[0][1]
    mx = rng.uniform(2.5, 4.0)
    my = mx * 98 / 204
    n = len(m) + 8
    W, Hh = int(n * mx) + 40, int(n * my) + 20
    skew = math.radians(rng.uniform(-4, 4))
    mm = np.pad(np.asarray(m, dtype=np.float64), 4)
    yy, xx = np.mgrid[0:Hh, 0:W].astype(np.float64)
    jitter = rng.normal(0, 0.3, (Hh, 1))  # each scan line shifted a little
    x = xx - 20 + jitter
    y = (yy - 10) * mx / my  # in horizontal-pixel units
    u = (x * math.cos(skew) + y * math.sin(skew)) / mx
    v = (-x * math.sin(skew) + y * math.cos(skew)) / mx
    ui, vi = np.floor(u).astype(int), np.floor(v).astype(int)
    ok = (ui >= 0) & (ui < n) & (vi >= 0) & (vi < n)
    dark = np.zeros_like(u)
    dark[ok] = mm[vi[ok], ui[ok]]
    grey = blur(235 - 200 * dark, 0.5) + rng.normal(0, 10, dark.shape)
    bits = grey > rng.uniform(110, 150)
    bits = np.repeat(bits, 2, axis=0)  # the receiving machine doubles every line
    return np.where(bits, 255.0, 0.0), "png1"


def three_codes(codes, rng):
    W, H = 1800, 1300
    poster = np.full((H, W), rng.uniform(200, 240))
    im = Image.fromarray(poster.astype(np.uint8), "L")
    d = ImageDraw.Draw(im)
    for _ in range(14):
        d.text((rng.uniform(0, W * 0.85), rng.uniform(0, H * 0.95)),
               rng.choice(["OPEN DAY", "Scan to pay", "Guest Wi-Fi", "Menu", "Tickets 12:30", "Room 4B"]),
               fill=int(rng.integers(10, 90)), font=ImageFont.load_default(size=int(rng.integers(18, 60))))
    poster = arr(im)
    cells = [(0, 0), (1, 0), (0, 1), (1, 1)]
    rng.shuffle(cells)
    for (cx, cy), (text, m) in zip(cells, codes):
        n = len(m) + 8
        ppm = max(2, int(round(rng.uniform(3.5, 6.0))))
        tile = code_sheet(m, ppm)
        th, tw = tile.shape
        if th > H // 2 - 20 or tw > W // 2 - 20:
            ppm = max(2, min((H // 2 - 20) // n, (W // 2 - 20) // n))
            tile = code_sheet(m, ppm)
            th, tw = tile.shape
        x0 = int(cx * W / 2 + rng.uniform(5, W / 2 - tw - 5))
        y0 = int(cy * H / 2 + rng.uniform(5, H / 2 - th - 5))
        poster[y0:y0 + th, x0:x0 + tw] = tile
    h, w = poster.shape
    target = rng.uniform(1400, 1900)
    size = (2000, 1500)
    cam = fit_camera(rng.uniform(5, 30), rng.uniform(0, 360), rng.uniform(-10, 10), (w / 2, h / 2), target, size, rng,
                     dist_factor=rng.uniform(2.0, 3.5))
    return finish(shoot(poster, cam, desk((size[1], size[0]), rng), supersample=False), rng)


def night(codes, rng):
    m = codes[0][1]
    sheet = on_paper(code_sheet(m, 6), rng)
    h, w = sheet.shape
    mp = rng.uniform(3, 5)
    W = int(math.sqrt(mp * 1e6 * 4 / 3))
    H = int(W * 3 / 4)
    target = (len(m) + 8) * rng.uniform(5, 10) * 1.5
    cam = fit_camera(rng.uniform(0, 25), rng.uniform(0, 360), rng.uniform(-10, 10), (w / 2, h / 2), target, (W, H), rng,
                     dist_factor=rng.uniform(2, 4))
    scene = shoot(sheet, cam, desk((H, W), rng, mean=50), supersample=False)
    # hand shake: a short random walk of the image
    acc = np.zeros_like(scene)
    x = y = 0.0
    steps = int(rng.integers(4, 9))
    for _ in range(steps):
        acc += np.roll(np.roll(scene, int(round(y)), 0), int(round(x)), 1)
        x += rng.normal(0, 0.8)
        y += rng.normal(0, 0.8)
    scene = acc / steps
    a = sensor(scene * vignette(scene.shape, rng, 0.4), rng, light=rng.uniform(0.12, 0.3),
               photons=rng.uniform(20, 80), read_noise=rng.uniform(2, 5))
    blot = np.kron(rng.normal(0, rng.uniform(3, 8), (H // 2 + 1, W // 2 + 1)), np.ones((2, 2)))[:H, :W]
    a = (a + blur(blot, 0.7)) * rng.uniform(1.5, 3.0)
    return a, ("jpg", int(rng.integers(75, 91)))


def glossy(codes, rng):
    m = codes[0][1]
    sheet = on_paper(code_sheet(m, 6), rng)
    h, w = sheet.shape
    target = (len(m) + 8) * rng.uniform(4.5, 7.0) * 1.5
    size = (int(target * 1.4), int(target * 1.25))
    cam = fit_camera(rng.uniform(30, 50), rng.uniform(0, 360), rng.uniform(-25, 25), (w / 2, h / 2), target, size,
                     rng, dist_factor=rng.uniform(2.0, 3.5))
    shot = shoot(sheet, cam, desk((size[1], size[0]), rng))
    W, H = size
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    ang = rng.uniform(0, math.pi)
    dist = (xx - rng.uniform(0.3, 0.7) * W) * math.cos(ang) + (yy - rng.uniform(0.3, 0.7) * H) * math.sin(ang)
    width = rng.uniform(0.03, 0.08) * W
    band = np.exp(-dist ** 2 / (2 * width ** 2))
    shot = shot + (255 - shot) * band * rng.uniform(0.7, 0.95)
    return finish(shot, rng)


def make(kind, codes, rng):
    return {
        "wave": wave, "tilt_lens": tilt_lens, "fm_screen": fm_screen, "screen_photo": screen_photo,
        "receipt_curl": receipt_curl, "dither_scan": dither_scan, "fax_fine": fax_fine,
        "three_codes": three_codes, "night": night, "glossy": glossy,
    }[kind](codes, rng)


def codes_for(kind, envelope, other_envelope, rng, matrix):
    if kind == "three_codes":
        picks = rng.choice(len(OTHERS), size=2, replace=False)
        return [(envelope, True)] + [(OTHERS[int(i)], False) for i in picks]
    return [(envelope, True)]
