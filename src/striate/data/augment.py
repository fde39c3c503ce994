"""Data augmentation: random transforms applied per batch, each sample with its own draw.

Every transform here takes a batch (N, C, H, W) (or one image (C, H, W)) of floats, as a NumPy
array or a ``Tensor``, and is vectorised over the batch: the per-sample parameters (crop offsets,
flip decisions, angles, jitter factors) are drawn as arrays of length N and applied with one
gather or one broadcast, never with a Python loop over samples or pixels.

Randomness: ``t(x, rng)`` draws from the ``numpy.random.Generator`` it is given. The
``DataLoader`` gives each batch its own generator, derived from one seed drawn from striate's
global generator in ``iter(loader)`` (the caller's thread), so augmentations never touch the
global generator from the prefetch thread, and the augmented batches depend only on
``striate.manual_seed``, not on how the threads are timed. Called without ``rng`` (interactive
use, in the main thread), a transform draws from ``striate.backend.get_rng()``.

Geometric transforms sample the input at the source coordinates of each output pixel (inverse
mapping), with ``'nearest'`` or ``'bilinear'`` interpolation; points outside the image take
``fill``. They are serialisable like every ``Transform``: ``to_dict`` / ``transform_from_dict``.

Example:
    >>> import numpy as np
    >>> from striate.data.transforms import Compose
    >>> aug = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip()])
    >>> aug(np.zeros((8, 3, 32, 32), np.float32), np.random.default_rng(0)).shape
    (8, 3, 32, 32)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .transforms import Transform

__all__ = [
    "AUGMENTATIONS",
    "ColorJitter",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomTransform",
    "RandomVerticalFlip",
    "build_augmentation",
]


def _pair(v, name: str, who: str, low: float | None = None) -> tuple[float, float]:
    """``v`` as a (lo, hi) pair of floats: a number a means (-a, a) (or (low, ...) clipped)."""
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        if v < 0:
            raise ValueError(f"{who}: {name} must be >= 0 when given as one number, got {v}")
        return (-float(v), float(v))
    try:
        lo, hi = (float(a) for a in v)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a number or a pair (min, max), got {v!r}") from None
    if lo > hi or (low is not None and lo < low):
        bound = f" with min >= {low}" if low is not None else ""
        raise ValueError(f"{who}: {name} must be a pair (min, max) with min <= max{bound}, "
                         f"got {v!r}")
    return (lo, hi)


def _size(v, who: str) -> tuple[int, int]:
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        v = (v, v)
    try:
        h, w = (int(a) for a in v)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: size must be an int or a pair (H, W), got {v!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"{who}: size must be positive, got {v!r}")
    return h, w


def _interp(mode: str, who: str) -> str:
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"{who}: interpolation must be 'nearest' or 'bilinear', got {mode!r}")
    return mode


class RandomTransform(Transform):
    """Base class of the random transforms: ``t(x, rng=None)``; subclasses define
    ``apply(x, rng)`` on a float batch (N, C, H, W) and list their constructor arguments in
    ``self._args`` (what ``to_dict`` saves)."""

    needs_rng = True  # the DataLoader passes a per-batch generator to transforms that say so

    def __call__(self, x, rng: np.random.Generator | None = None):
        tensor = isinstance(x, Tensor)
        a = x.array if tensor else np.asarray(x)
        if a.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__}: expected an image (C, H, W) or a batch "
                             f"(N, C, H, W), got shape {a.shape}")
        if a.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}: expected floating-point images, got dtype "
                            f"{a.dtype}; apply ToTensor first")
        out = self.apply(a if a.ndim == 4 else a[None], backend.get_rng() if rng is None else rng)
        out = out if a.ndim == 4 else out[0]
        return Tensor(out) if tensor else out

    def apply(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.apply is not defined")

    def to_dict(self) -> dict:
        return {"type": type(self).__name__, **self._args}

    @classmethod
    def _from_dict(cls, d: dict) -> RandomTransform:
        return cls(**{k: v for k, v in d.items() if k != "type"})

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._args.items())
        return f"{type(self).__name__}({inner})"


# ---- flips and crops ----------------------------------------------------------------------------


class RandomHorizontalFlip(RandomTransform):
    """Mirror each sample left-right with probability ``p``: (N, C, H, W) -> (N, C, H, W)."""

    _axis = 3

    def __init__(self, p: float = 0.5):
        if not (isinstance(p, numbers.Real) and 0 <= p <= 1):
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self._args = {"p": self.p}

    def apply(self, x, rng=None):
        flip = rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = np.flip(x[flip], axis=self._axis)
        return out


class RandomVerticalFlip(RandomHorizontalFlip):
    """Flip each sample upside down with probability ``p``: (N, C, H, W) -> (N, C, H, W)."""

    _axis = 2


class RandomCrop(RandomTransform):
    """Pad each side by ``padding``, then cut a ``size`` window at a random place per sample.

    Args:
        size: output (H', W') (an int for square); at most the padded input's size.
        padding: pixels added on every side (the CIFAR recipe: 32x32, padding 4).
        fill: value of the added pixels with ``padding_mode='constant'``.
        padding_mode: ``'constant'``, ``'reflect'`` or ``'edge'`` (as ``numpy.pad``).

    Shapes: (N, C, H, W) -> (N, C, H', W').
    """

    def __init__(self, size, padding: int = 0, fill: float = 0.0, padding_mode: str = "constant"):
        self.size = _size(size, "RandomCrop")
        if not (isinstance(padding, numbers.Integral) and padding >= 0):
            raise ValueError(f"RandomCrop: padding must be an int >= 0, got {padding!r}")
        if padding_mode not in ("constant", "reflect", "edge"):
            raise ValueError(f"RandomCrop: padding_mode must be 'constant', 'reflect' or 'edge', "
                             f"got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = int(padding), float(fill), padding_mode
        self._args = {"size": list(self.size), "padding": self.padding, "fill": self.fill,
                      "padding_mode": padding_mode}

    def apply(self, x, rng=None):
        n, c, h, w = x.shape
        p = self.padding
        if p:
            if self.padding_mode == "constant":
                padded = np.full((n, c, h + 2 * p, w + 2 * p), self.fill, dtype=x.dtype)
                padded[:, :, p:p + h, p:p + w] = x
            else:
                padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode=self.padding_mode)
        else:
            padded = x
        ch, cw = self.size
        hp, wp = padded.shape[2:]
        if ch > hp or cw > wp:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the padded input "
                             f"({hp}, {wp}) (input shape {x.shape}, padding {p})")
        top = rng.integers(0, hp - ch + 1, size=n)
        left = rng.integers(0, wp - cw + 1, size=n)
        # every window as a view (N, C, hp-ch+1, wp-cw+1, ch, cw); one gather picks each sample's
        windows = np.lib.stride_tricks.sliding_window_view(padded, (ch, cw), axis=(2, 3))
        return np.ascontiguousarray(windows[np.arange(n), :, top, left])


# ---- resampling ---------------------------------------------------------------------------------


def _sample(x: np.ndarray, sy: np.ndarray, sx: np.ndarray, mode: str, fill: float) -> np.ndarray:
    """Read x (N, C, H, W) at source coordinates sy, sx (N, H', W') in pixel units (pixel
    centres at integers); points outside the image read ``fill``. Returns (N, C, H', W')."""
    n, c, h, w = x.shape
    # channels-last and flat: each gather reads one contiguous C-vector per point
    flat = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(n * h * w, c)
    base = (np.arange(n) * (h * w)).reshape(n, 1, 1)

    def gather(yi, xi):
        inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        idx = base + np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)
        return np.take(flat, idx, axis=0), inside  # (N, H', W', C), (N, H', W')

    if mode == "nearest":
        yi, xi = np.floor(sy + 0.5).astype(np.intp), np.floor(sx + 0.5).astype(np.intp)
        vals, inside = gather(yi, xi)
        out = vals * inside[..., None]
        if fill:
            out += (fill * ~inside)[..., None]
    else:
        y0, x0 = np.floor(sy), np.floor(sx)
        wy, wx = (sy - y0).astype(x.dtype), (sx - x0).astype(x.dtype)
        y0, x0 = y0.astype(np.intp), x0.astype(np.intp)
        out = np.zeros((*sy.shape, c), dtype=x.dtype)
        for dy, dx, wt in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx),
                           (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
            vals, inside = gather(y0 + dy, x0 + dx)
            # a corner outside the image contributes `fill` with its weight
            out += vals * (wt * inside)[..., None]
            if fill:
                out += (fill * wt * ~inside)[..., None]
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2), dtype=x.dtype)


def _warp(x: np.ndarray, inv: np.ndarray, shift: np.ndarray, mode: str, fill: float):
    """Inverse-map every output pixel p (centred coordinates, x right, y down) to the source
    ``inv @ p + shift`` and sample there. inv: (N, 2, 2), shift: (N, 2) in (x, y) order."""
    n, _, h, w = x.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    oy, ox = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")  # (H, W)
    inv = inv[:, :, :, None, None]
    sx = inv[:, 0, 0] * ox + inv[:, 0, 1] * oy + (shift[:, 0, None, None] + cx)
    sy = inv[:, 1, 0] * ox + inv[:, 1, 1] * oy + (shift[:, 1, None, None] + cy)
    return _sample(x, sy, sx, mode, fill)


class RandomAffine(RandomTransform):
    """A random rotation, shear, scale and translation per sample, about the image centre.

    Args:
        degrees: rotation angle range in degrees (a number a means (-a, a)); positive angles
            turn the image counter-clockwise as displayed (rows down), so 90 degrees equals
            ``np.rot90(x, 1, axes=(-2, -1))``.
        shear: shear angle range in degrees along x (a number a means (-a, a)), or None.
        translate: maximal shift as fractions (fx, fy) of the width and height, or None.
        scale: zoom factor range (lo, hi), or None.
        interpolation: ``'nearest'`` or ``'bilinear'``.
        fill: value of the pixels that come from outside the image.

    Shapes: (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, degrees=0.0, shear=None, translate=None, scale=None,
                 interpolation: str = "bilinear", fill: float = 0.0):
        who = type(self).__name__
        self.degrees = _pair(degrees, "degrees", who)
        self.shear = None if shear is None else _pair(shear, "shear", who)
        if translate is not None:
            try:
                translate = tuple(float(f) for f in translate)
            except (TypeError, ValueError):
                translate = ()
            if len(translate) != 2 or not all(0 <= f <= 1 for f in translate):
                raise ValueError(f"{who}: translate must be fractions (fx, fy) in [0, 1], got "
                                 f"{translate!r}")
        self.translate = translate
        self.scale = None if scale is None else _pair(scale, "scale", who, low=1e-6)
        self.interpolation = _interp(interpolation, who)
        self.fill = float(fill)
        self._args = {"degrees": list(self.degrees),
                      "shear": None if shear is None else list(self.shear),
                      "translate": None if translate is None else list(translate),
                      "scale": None if scale is None else list(self.scale),
                      "interpolation": interpolation, "fill": self.fill}

    def apply(self, x, rng=None):
        n, _, h, w = x.shape
        theta = np.deg2rad(rng.uniform(*self.degrees, size=n))
        shear = np.deg2rad(rng.uniform(*self.shear, size=n)) if self.shear else np.zeros(n)
        s = rng.uniform(*self.scale, size=n) if self.scale else np.ones(n)
        shift = np.zeros((n, 2))
        if self.translate:
            shift[:, 0] = rng.uniform(-1, 1, size=n) * self.translate[0] * w
            shift[:, 1] = rng.uniform(-1, 1, size=n) * self.translate[1] * h
        # forward map (x right, y down): p' = s * R(-theta) @ Shear @ p + t, where R(-theta) turns
        # counter-clockwise on screen; we sample with its inverse p = A^-1 (p' - t)
        cos, sin, k = np.cos(theta), np.sin(theta), np.tan(shear)
        rot = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], 1)  # (N, 2, 2)
        sh = np.zeros((n, 2, 2))
        sh[:, 0, 0] = sh[:, 1, 1] = 1.0
        sh[:, 0, 1] = k
        fwd = s[:, None, None] * (rot @ sh)
        inv = np.linalg.inv(fwd)
        return _warp(x, inv, -np.einsum("nij,nj->ni", inv, shift), self.interpolation, self.fill)


class RandomRotation(RandomAffine):
    """Rotate each sample by a random angle in ``degrees`` about its centre (see RandomAffine).

    Shapes: (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, degrees, interpolation: str = "bilinear", fill: float = 0.0):
        super().__init__(degrees=degrees, interpolation=interpolation, fill=fill)
        self._args = {"degrees": list(self.degrees), "interpolation": interpolation,
                      "fill": self.fill}


class RandomResizedCrop(RandomTransform):
    """Cut a box of random area and aspect ratio per sample and resize it to ``size``.

    The box covers a fraction in ``scale`` of the image's area, with width/height ratio drawn
    log-uniformly from ``ratio``; a box that would not fit is shrunk to the image's sides (so its
    ratio may end up closer to the image's). Resizing samples the box at the output's pixel
    centres (bilinear or nearest).

    Shapes: (N, C, H, W) -> (N, C, H', W') with (H', W') = size.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                 interpolation: str = "bilinear"):
        who = "RandomResizedCrop"
        self.size = _size(size, who)
        self.scale = _pair(scale, "scale", who, low=0.0)
        self.ratio = _pair(ratio, "ratio", who, low=1e-6)
        if self.scale[1] > 1 or self.scale[1] <= 0:
            raise ValueError(f"{who}: scale must lie in (0, 1], got {scale!r}")
        self.interpolation = _interp(interpolation, who)
        self._args = {"size": list(self.size), "scale": list(self.scale),
                      "ratio": list(self.ratio), "interpolation": interpolation}

    def apply(self, x, rng=None):
        n, _, h, w = x.shape
        area = h * w * rng.uniform(*self.scale, size=n)
        r = np.exp(rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]), size=n))
        bw = np.clip(np.sqrt(area * r), 1.0, w)
        bh = np.clip(np.sqrt(area / r), 1.0, h)
        left = rng.uniform(0, 1, size=n) * (w - bw)
        top = rng.uniform(0, 1, size=n) * (h - bh)
        oh, ow = self.size
        # output pixel centre i + 0.5 of oh maps to top + (i + 0.5) * bh / oh in the source
        ys = (np.arange(oh) + 0.5) / oh
        xs = (np.arange(ow) + 0.5) / ow
        sy = top[:, None, None] + ys[None, :, None] * bh[:, None, None] - 0.5
        sx = left[:, None, None] + xs[None, None, :] * bw[:, None, None] - 0.5
        sy = np.broadcast_to(np.clip(sy, 0, h - 1), (n, oh, ow))
        sx = np.broadcast_to(np.clip(sx, 0, w - 1), (n, oh, ow))
        return _sample(x, sy, sx, self.interpolation, 0.0)


# ---- colour ----------------------------------------------------------------------------------

_LUMA = np.array([0.299, 0.587, 0.114])
# RGB <-> YIQ: hue is the angle of the (I, Q) chroma vector, so a hue shift is a rotation there
_RGB2YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ2RGB = np.linalg.inv(_RGB2YIQ)


class ColorJitter(RandomTransform):
    """Random brightness, contrast, saturation and hue per sample, in that order.

    Args:
        brightness: b; each sample is multiplied by a factor in [max(0, 1-b), 1+b].
        contrast: c; blend with the sample's mean grey level by a factor in [max(0, 1-c), 1+c].
        saturation: s; blend with the grey image by a factor in [max(0, 1-s), 1+s] (RGB only).
        hue: h in [0, 0.5]; rotate the chroma by an angle in [-h, h] turns, a linear
            approximation of an HSV hue shift (in YIQ space; RGB only).
        clip: (lo, hi) the output is clipped to (images in [0, 1]: the default), or None.

    Shapes: (N, C, H, W) -> (N, C, H, W), C = 1 or 3 (saturation and hue need C = 3).
    """

    def __init__(self, brightness: float = 0.0, contrast: float = 0.0, saturation: float = 0.0,
                 hue: float = 0.0, clip=(0.0, 1.0)):
        for name, v in (("brightness", brightness), ("contrast", contrast),
                        ("saturation", saturation), ("hue", hue)):
            if not (isinstance(v, numbers.Real) and v >= 0):
                raise ValueError(f"ColorJitter: {name} must be a number >= 0, got {v!r}")
        if hue > 0.5:
            raise ValueError(f"ColorJitter: hue must be in [0, 0.5] turns, got {hue}")
        self.brightness, self.contrast = float(brightness), float(contrast)
        self.saturation, self.hue = float(saturation), float(hue)
        self.clip = None if clip is None else _pair(clip, "clip", "ColorJitter")
        self._args = {"brightness": self.brightness, "contrast": self.contrast,
                      "saturation": self.saturation, "hue": self.hue,
                      "clip": None if clip is None else list(self.clip)}

    @staticmethod
    def _factor(rng, amount: float, n: int) -> np.ndarray:
        return rng.uniform(max(0.0, 1 - amount), 1 + amount, size=n).reshape(n, 1, 1, 1)

    def apply(self, x, rng=None):
        n, c = x.shape[:2]
        if (self.saturation or self.hue) and c != 3:
            raise ValueError(f"ColorJitter: saturation and hue need RGB images (C = 3), got "
                             f"{c} channel(s) (input shape {x.shape})")
        if c not in (1, 3):
            raise ValueError(f"ColorJitter: expected 1 or 3 channels, got {c} (shape {x.shape})")
        dt = x.dtype
        out = x.astype(dt, copy=True)

        def grey(a):  # (N, 1, H, W)
            return a if c == 1 else np.einsum("nchw,c->nhw", a, _LUMA.astype(dt))[:, None]

        if self.brightness:
            out *= self._factor(rng, self.brightness, n).astype(dt)
        if self.contrast:
            f = self._factor(rng, self.contrast, n).astype(dt)
            mean = grey(out).mean(axis=(1, 2, 3), keepdims=True)
            out = mean + f * (out - mean)
        if self.saturation:
            f = self._factor(rng, self.saturation, n).astype(dt)
            g = grey(out)
            out = g + f * (out - g)
        if self.hue:
            angle = 2 * np.pi * rng.uniform(-self.hue, self.hue, size=n)
            rot = np.zeros((n, 3, 3))
            rot[:, 0, 0] = 1.0
            rot[:, 1, 1] = rot[:, 2, 2] = np.cos(angle)
            rot[:, 1, 2], rot[:, 2, 1] = -np.sin(angle), np.sin(angle)
            m = (_YIQ2RGB @ rot @ _RGB2YIQ).astype(dt)  # (N, 3, 3), one linear map per sample
            out = np.einsum("nij,njhw->nihw", m, out)
        if self.clip is not None:
            np.clip(out, self.clip[0], self.clip[1], out=out)
        return np.ascontiguousarray(out, dtype=dt)


# ---- named recipes, for the command line ---------------------------------------------------

AUGMENTATIONS = {
    "crop": "RandomCrop to the input size after padding each side by VALUE pixels "
            "(default H/8, at least 1)",
    "flip": "RandomHorizontalFlip with probability VALUE (default 0.5)",
    "vflip": "RandomVerticalFlip with probability VALUE (default 0.5)",
    "scale": "RandomResizedCrop back to the input size, area fraction in [VALUE, 1] "
             "(default 0.5)",
    "jitter": "ColorJitter with brightness = contrast (= saturation, hue/4 for RGB) = VALUE "
              "(default 0.2)",
    "rotate": "RandomRotation by up to VALUE degrees (default 15)",
    "shear": "RandomAffine shear by up to VALUE degrees (default 10)",
    "translate": "RandomAffine shift by up to VALUE of the width and height (default 0.1)",
}


def build_augmentation(spec: str, input_shape) -> list[RandomTransform]:
    """Turn ``"crop,flip,rotate=10"`` into transforms for images of shape (C, H, W).

    Each comma-separated item is ``NAME`` or ``NAME=VALUE`` with a name of
    :data:`AUGMENTATIONS`; the transforms run in the order given. Returns [] for an empty spec.

    Raises:
        ValueError: an unknown name or a value that is not a number (naming the item).
    """
    c, h, w = (int(s) for s in input_shape)
    out = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in AUGMENTATIONS:
            raise ValueError(f"augment: unknown augmentation {name!r} in {spec!r}; choose from "
                             f"{', '.join(AUGMENTATIONS)}")
        try:
            v = float(value) if value.strip() else None
        except ValueError:
            raise ValueError(f"augment: {item!r} needs a number after '=', got {value!r}") from None
        if name == "crop":
            out.append(RandomCrop((h, w), padding=int(v) if v is not None else max(1, h // 8)))
        elif name in ("flip", "vflip"):
            cls = RandomHorizontalFlip if name == "flip" else RandomVerticalFlip
            out.append(cls(0.5 if v is None else v))
        elif name == "scale":
            out.append(RandomResizedCrop((h, w), scale=(0.5 if v is None else v, 1.0)))
        elif name == "jitter":
            a = 0.2 if v is None else v
            rgb = c == 3
            out.append(ColorJitter(a, a, a if rgb else 0.0, min(a / 4, 0.5) if rgb else 0.0))
        elif name == "rotate":
            out.append(RandomRotation(15.0 if v is None else v))
        elif name == "shear":
            out.append(RandomAffine(0.0, shear=10.0 if v is None else v))
        else:  # translate
            f = 0.1 if v is None else v
            out.append(RandomAffine(0.0, translate=(f, f)))
    return out
