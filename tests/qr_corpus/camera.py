"""Shared pieces of the issue-14 damage models: a pinhole camera looking at paper that may be
tilted steeply or bent, and what a phone sensor then does to the picture (defocus, low light,
noise, JPEG). Used by kinds_dev.py and kinds_heldout.py; numpy and Pillow only.

Coordinates: the paper is a grey image ("sheet"), one sheet pixel = one paper unit. The camera
looks at the sheet's centre from distance `dist` (in sheet pixels), `tilt` degrees away from the
sheet's normal, from in-plane direction `azimuth`, with an extra roll about its own axis. The
output image is made by tracing a ray through every output pixel (2 x 2 rays per pixel when
`supersample`) to the sheet and sampling it bilinearly, so steep angles alias as a real camera
would, not as a resize does.
"""
import io
import math

import numpy as np
from PIL import Image


def arr(im):
    return np.asarray(im).astype(np.float64)


def img(a):
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")


def bilinear(src, x, y, fill):
    """Sample `src` (2-D float array) at float coordinates x, y (pixel centres at integers)."""
    h, w = src.shape
    x0 = np.floor(x)
    y0 = np.floor(y)
    fx, fy = x - x0, y - y0
    x0 = x0.astype(np.int64)
    y0 = y0.astype(np.int64)
    out = np.zeros(x.shape)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xi, yi = x0 + dx, y0 + dy
            ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            v = np.full(x.shape, float(fill))
            v[ok] = src[yi[ok], xi[ok]]
            out += wx * wy * v
    return out


def rotation(tilt, azimuth, roll):
    """Rows are the camera's right, down and forward axes in sheet coordinates."""
    t, a, r = math.radians(tilt), math.radians(azimuth), math.radians(roll)
    # direction from the sheet centre to the camera: the sheet's x runs right and y down, so a
    # camera that sees it the right way round (not mirrored) is on the -z side
    n = np.array([math.sin(t) * math.cos(a), math.sin(t) * math.sin(a), -math.cos(t)])
    fwd = -n
    # the camera's down follows the sheet's y as far as the tilt allows
    helper = np.array([0.0, 1.0, 0.0]) if abs(fwd[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    right = np.cross(helper, fwd)
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    c, s = math.cos(r), math.sin(r)
    right, down = c * right + s * down, -s * right + c * down
    return np.array([right, down, fwd]), n


class Camera:
    """A pinhole camera `dist` sheet pixels from the sheet centre, focal length `focal` output pixels."""

    def __init__(self, tilt, azimuth, roll, dist, focal, centre, size):
        self.R, n = rotation(tilt, azimuth, roll)
        self.C = n * dist
        self.focal = focal
        self.centre = centre  # output pixel where the sheet centre appears
        self.size = size  # (W, H)

    def project(self, pts):
        """3-D sheet-frame points (N x 3) to output pixels (N x 2)."""
        c = (pts - self.C) @ self.R.T
        return np.stack([c[:, 0] / c[:, 2] * self.focal + self.centre[0],
                         c[:, 1] / c[:, 2] * self.focal + self.centre[1]], axis=1)

    def rays(self, supersample):
        W, H = self.size
        offs = [(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)] if supersample else [(0.0, 0.0)]
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
        for ox, oy in offs:
            d = np.stack([(xx + ox - self.centre[0]) / self.focal, (yy + oy - self.centre[1]) / self.focal,
                          np.ones_like(xx)], axis=-1)
            yield d @ self.R  # camera -> sheet frame (R is orthonormal: R^T applied to row vectors)


def fit_camera(tilt, azimuth, roll, sheet_extent, target_px, out_size, rng, dist_factor=3.0, surface=None):
    """A camera whose view of the sheet region `sheet_extent` (half-width, half-height around the
    centre) spans about `target_px` output pixels, placed at a random spot of an `out_size` frame."""
    hw, hh = sheet_extent
    dist = dist_factor * max(hw, hh) * 2
    cam = Camera(tilt, azimuth, roll, dist, 1.0, (0.0, 0.0), out_size)
    corners = np.array([[-hw, -hh, 0], [hw, -hh, 0], [hw, hh, 0], [-hw, hh, 0]], dtype=np.float64)
    if surface is not None:
        corners = surface.lift(corners[:, 0], corners[:, 1])
    p = cam.project(corners)
    span = max(p[:, 0].max() - p[:, 0].min(), p[:, 1].max() - p[:, 1].min())
    cam.focal = target_px / span
    p = p * cam.focal
    W, H = out_size
    lo, hi = p.min(axis=0), p.max(axis=0)
    # place the projected region at random inside the frame (centred when it does not fit)
    cx = rng.uniform(-lo[0] + 10, W - hi[0] - 10) if W - (hi[0] - lo[0]) > 20 else W / 2 - (lo[0] + hi[0]) / 2
    cy = rng.uniform(-lo[1] + 10, H - hi[1] - 10) if H - (hi[1] - lo[1]) > 20 else H / 2 - (lo[1] + hi[1]) / 2
    cam.centre = (cx, cy)
    return cam


class Plane:
    def lift(self, u, v):
        return np.stack([u, v, np.zeros_like(u)], axis=-1)

    def hit(self, C, d):
        t = -C[2] / d[..., 2]
        p = C + t[..., None] * d
        return p[..., 0], p[..., 1], t > 0


class Cylinder:
    """The sheet bent around an axis lying in it at angle `axis_deg`; `radius` > 0 bends the sides
    away from the camera (a page lying open), < 0 towards it (a curled receipt)."""

    def __init__(self, radius, axis_deg):
        self.r = radius
        a = math.radians(axis_deg)
        self.axis = np.array([math.cos(a), math.sin(a), 0.0])
        self.across = np.array([-math.sin(a), math.cos(a), 0.0])

    def lift(self, u, v):
        pts = np.stack([u, v], axis=-1)
        s = pts @ self.across[:2]
        along = pts @ self.axis[:2]
        r = self.r
        x = r * np.sin(s / r)
        z = -r * (1 - np.cos(s / r))
        return along[..., None] * self.axis + x[..., None] * self.across + z[..., None] * np.array([0, 0, 1.0])

    def hit(self, C, d):
        # p = along*axis + x*across + z*e_z lies on the circle x^2 + (z + r)^2 = r^2; the sheet is
        # the half of it where sign(r) * (z + r) > 0 (within a quarter turn of the axis line)
        r = self.r
        cx, cz = C @ self.across, C[2] + r
        dx, dz = d @ self.across, d[..., 2]
        a = dx * dx + dz * dz
        b = 2 * (cx * dx + cz * dz)
        c = cx * cx + cz * cz - r * r
        disc = b * b - 4 * a * c
        ok = disc >= 0
        sq = np.sqrt(np.where(ok, disc, 0))
        best = np.full(dx.shape, np.inf)
        for t in ((-b - sq) / (2 * a), (-b + sq) / (2 * a)):
            zr = cz + t * dz
            good = ok & (t > 0) & (np.sign(r) * zr > 0) & (t < best)
            best = np.where(good, t, best)
        hit = np.isfinite(best)
        t = np.where(hit, best, 0)
        x = cx + t * dx
        zr = cz + t * dz
        s = abs(r) * np.arctan2(x, np.sign(r) * zr)
        along = (C @ self.axis) + t * (d @ self.axis)
        u = along * self.axis[0] + s * self.across[0]
        v = along * self.axis[1] + s * self.across[1]
        return u, v, hit


def shoot(sheet, cam, background, surface=None, supersample=True, fill=None):
    """The camera's picture of `sheet` (2-D float array, centred at the sheet centre) lying on
    `background` (2-D float array of the output size, or a number)."""
    surface = surface or Plane()
    h, w = sheet.shape
    W, H = cam.size
    bg = np.broadcast_to(np.asarray(background, dtype=np.float64), (H, W))
    acc = np.zeros((H, W))
    n = 0
    for d in cam.rays(supersample):
        u, v, hit = surface.hit(cam.C, d)
        x = u + (w - 1) / 2
        y = v + (h - 1) / 2
        inside = hit & (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
        s = bilinear(sheet, np.where(inside, x, 0), np.where(inside, y, 0), 255 if fill is None else fill)
        acc += np.where(inside, s, bg)
        n += 1
    return acc / n


def gaussian_kernel(sigma):
    r = max(1, int(math.ceil(3 * sigma)))
    k = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma * sigma))
    return k / k.sum()


def blur(a, sigma):
    """Separable Gaussian blur with edge replication."""
    if sigma <= 0.05:
        return a
    k = gaussian_kernel(sigma)
    r = len(k) // 2
    p = np.pad(a, ((0, 0), (r, r)), mode="edge")
    a = sum(k[i] * p[:, i:i + a.shape[1]] for i in range(len(k)))
    p = np.pad(a, ((r, r), (0, 0)), mode="edge")
    return sum(k[i] * p[i:i + a.shape[0], :] for i in range(len(k)))


def jpeg(a, quality):
    b = io.BytesIO()
    img(a).save(b, "JPEG", quality=int(quality))
    b.seek(0)
    return arr(Image.open(b).convert("L"))


def sensor(a, rng, light=1.0, photons=400.0, read_noise=2.0):
    """Exposure and noise: `a` (0..255 scene radiance) scaled by `light`, photon (Poisson) noise
    for `photons` electrons at full white, read noise in 8-bit units, then gain back so white
    is near `light * 255` (a dark photo stays dark, as a phone's auto-exposure often leaves it)."""
    e = np.clip(a, 0, 255) / 255 * light * photons
    e = rng.poisson(np.maximum(e, 0)).astype(np.float64)
    return e / photons * 255 + rng.normal(0, read_noise, a.shape)


def vignette(shape, rng, strength):
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    r2 = ((xx - cx) / w) ** 2 + ((yy - cy) / h) ** 2
    return 1 - strength * r2 / r2.max()


def desk(shape, rng, mean=120, sd=35):
    """A cluttered background: blotches of grey at a few scales, some straight edges."""
    h, w = shape
    out = np.full((h, w), float(mean))
    for cell in (max(8, w // 6), max(4, w // 25), max(2, w // 90)):
        g = rng.normal(0, sd / 2, (h // cell + 2, w // cell + 2))
        out += np.kron(g, np.ones((cell, cell)))[:h, :w]
    out = blur(out, 2.0)
    for _ in range(int(rng.integers(3, 7))):  # objects: dark or light rectangles
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        x1, y1 = x0 + rng.uniform(0.05, 0.4) * w, y0 + rng.uniform(0.05, 0.4) * h
        out[int(y0):int(y1), int(x0):int(x1)] = rng.uniform(20, 230)
    return np.clip(out, 0, 255)
