"""A synthetic captioning set: small RGB images of one or two coloured shapes, with sentences
that describe them, generated deterministically from a seed.

The COCO images are not bundled, so this set stands in for them: it has what makes captioning
hard (colour, shape, size and a spatial relation all have to be read from pixels and put in the
right order) and is small enough to train on a laptop CPU in minutes. Every image of two shapes
has two reference captions, one naming each shape first::

    a small red circle above a large blue square
    a large blue square below a small red circle

Example:
    >>> from striate.caption.shapes import make_shapes
    >>> data = make_shapes(n_train=8, n_val=2, n_test=2, seed=0)
    >>> data.train.images.shape
    (8, 3, 32, 32)
    >>> ids = data.vocab.encode(data.train.captions[0][0])
    >>> data.vocab.decode(ids) == data.train.captions[0][0]
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "COLOURS",
    "SHAPES",
    "SIZES",
    "RELATIONS",
    "NULL",
    "START",
    "END",
    "UNK",
    "Vocabulary",
    "CaptionSplit",
    "CaptionData",
    "make_shapes",
    "render_scene",
    "sample_scene",
    "describe",
]

COLOURS = {
    "red": (0.90, 0.15, 0.15),
    "green": (0.15, 0.75, 0.25),
    "blue": (0.20, 0.35, 0.95),
    "yellow": (0.95, 0.85, 0.15),
}
SHAPES = ("circle", "square", "triangle")
# half-width of a shape as a fraction of the image side
SIZES = {"small": 0.12, "large": 0.22}
# relation of the first shape to the second -> the inverse relation
RELATIONS = {
    "above": "below",
    "below": "above",
    "to the left of": "to the right of",
    "to the right of": "to the left of",
}

NULL, START, END, UNK = "<NULL>", "<START>", "<END>", "<UNK>"
SPECIALS = (NULL, START, END, UNK)


class Vocabulary:
    """Words <-> integer ids, with ``<NULL>`` = 0 (padding), ``<START>`` = 1, ``<END>`` = 2 and
    ``<UNK>`` = 3 (any word not in the vocabulary) first.

    Args:
        words: the ordinary words, in id order (the special tokens are added in front).
    """

    def __init__(self, words):
        words = [w for w in words if w not in SPECIALS]
        if len(set(words)) != len(words):
            raise ValueError("Vocabulary: words must be unique")
        self.itos = list(SPECIALS) + list(words)
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def from_captions(cls, captions, min_count: int = 1) -> Vocabulary:
        """Every word seen at least ``min_count`` times in ``captions`` (strings), sorted."""
        counts: dict[str, int] = {}
        for c in captions:
            for w in tokenize(c):
                counts[w] = counts.get(w, 0) + 1
        return cls(sorted(w for w, n in counts.items() if n >= min_count))

    null_id = property(lambda self: 0)
    start_id = property(lambda self: 1)
    end_id = property(lambda self: 2)
    unk_id = property(lambda self: 3)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word) -> bool:
        return word in self.stoi

    def encode(self, sentence, max_length: int | None = None) -> np.ndarray:
        """``<START> w1 .. wn <END>`` as int64 ids, padded with ``<NULL>`` to ``max_length + 2``
        (a longer sentence is cut to ``max_length`` words). Unknown words become ``<UNK>``."""
        words = tokenize(sentence) if isinstance(sentence, str) else list(sentence)
        if max_length is not None:
            words = words[:max_length]
        ids = [self.start_id] + [self.stoi.get(w, self.unk_id) for w in words] + [self.end_id]
        if max_length is not None:
            ids += [self.null_id] * (max_length + 2 - len(ids))
        return np.asarray(ids, dtype=np.int64)

    def encode_batch(self, sentences, max_length: int) -> np.ndarray:
        """(N, max_length + 2) int64 ids of N sentences (see :meth:`encode`)."""
        return np.stack([self.encode(s, max_length) for s in sentences])

    def decode_words(self, ids) -> list[str]:
        """The words of one id sequence, up to the first ``<END>``; ``<START>``/``<NULL>`` are
        dropped."""
        out = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if i == self.end_id:
                break
            if i in (self.start_id, self.null_id):
                continue
            out.append(self.itos[i] if 0 <= i < len(self.itos) else UNK)
        return out

    def decode(self, ids) -> str:
        """One id sequence as a sentence (see :meth:`decode_words`)."""
        return " ".join(self.decode_words(ids))

    def to_dict(self) -> dict:
        return {"words": self.itos[len(SPECIALS):]}

    @classmethod
    def from_dict(cls, d: dict) -> Vocabulary:
        return cls(d["words"])


def tokenize(sentence: str) -> list[str]:
    """Lower-cased words of a sentence, punctuation dropped: ``"A dog."`` -> ``["a", "dog"]``."""
    cleaned = "".join(ch if ch.isalnum() or ch in "'" else " " for ch in sentence.lower())
    return cleaned.split()


@dataclass
class CaptionSplit:
    """Images (N, 3, H, W) float32 in [0, 1], a list of reference captions per image, and for the
    synthetic set the scene behind each image (the objects with their boxes)."""

    images: np.ndarray
    captions: list
    scenes: list | None = None
    ids: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    def pairs(self, vocab: Vocabulary, max_length: int) -> tuple[np.ndarray, np.ndarray]:
        """Every (image, caption) pair: image indices (M,) and encoded captions
        (M, max_length + 2)."""
        idx, caps = [], []
        for i, refs in enumerate(self.captions):
            for c in refs:
                idx.append(i)
                caps.append(c)
        return np.asarray(idx, dtype=np.int64), vocab.encode_batch(caps, max_length)


@dataclass
class CaptionData:
    """A captioning data set: train/val/test splits and the vocabulary of the training split."""

    train: CaptionSplit
    val: CaptionSplit
    test: CaptionSplit
    vocab: Vocabulary
    max_length: int
    name: str = "shapes"

    @property
    def image_shape(self) -> tuple:
        return tuple(self.train.images.shape[1:])

    def __repr__(self) -> str:
        return (f"CaptionData({self.name!r}, train={len(self.train)}, val={len(self.val)}, "
                f"test={len(self.test)}, images {self.image_shape}, vocabulary {len(self.vocab)})")


def sample_scene(rng: np.random.Generator, size: int = 32) -> list[dict]:
    """One or two objects, each a dict with ``colour``, ``shape``, ``size`` (words), centre
    ``cx``, ``cy`` and half-width ``r`` in pixels; two objects also carry ``relation`` (of the
    first to the second). Two objects never share both colour and shape."""
    n = 1 if rng.random() < 0.25 else 2
    colours, shapes, sizes = list(COLOURS), list(SHAPES), list(SIZES)
    objs = []
    while len(objs) < n:
        o = {"colour": colours[rng.integers(4)], "shape": shapes[rng.integers(3)],
             "size": sizes[rng.integers(2)]}
        if any(o["colour"] == p["colour"] and o["shape"] == p["shape"] for p in objs):
            continue
        o["r"] = SIZES[o["size"]] * size
        objs.append(o)
    if n == 1:
        o = objs[0]
        lo, hi = o["r"] + 1, size - o["r"] - 1
        o["cx"], o["cy"] = float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi))
        return objs
    relation = list(RELATIONS)[rng.integers(4)]
    # along the relation's axis the two objects are ordered, with at least 1 pixel of margin at
    # the borders and between them; the free space is spread at random over the three gaps
    first_low = relation in ("above", "to the left of")
    lo_obj, hi_obj = (objs[0], objs[1]) if first_low else (objs[1], objs[0])
    free = size - 3 - 2 * lo_obj["r"] - 2 * hi_obj["r"]
    gaps = rng.dirichlet((1.0, 1.0, 1.0)) * free
    lo = 1 + gaps[0] + lo_obj["r"]
    hi = lo + lo_obj["r"] + 1 + gaps[1] + hi_obj["r"]
    for o, along in ((lo_obj, lo), (hi_obj, hi)):
        across = rng.uniform(o["r"] + 1, size - o["r"] - 1)
        if relation in ("above", "below"):
            o["cx"], o["cy"] = float(across), float(along)
        else:
            o["cx"], o["cy"] = float(along), float(across)
    objs[0]["relation"] = relation
    return objs


def _mask(o: dict, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    dx, dy, r = xx - o["cx"], yy - o["cy"], o["r"]
    if o["shape"] == "circle":
        return dx * dx + dy * dy <= r * r
    if o["shape"] == "square":
        s = 0.85 * r  # a square of the same area feel as the circle
        return (np.abs(dx) <= s) & (np.abs(dy) <= s)
    # an upward triangle: apex at the top, base at the bottom, width growing downwards
    t = (dy + r) / (2 * r)
    return (t >= 0) & (t <= 1) & (np.abs(dx) <= t * r)


def render_scene(objs: list[dict], size: int = 32, rng: np.random.Generator | None = None,
                 noise: float = 0.03) -> np.ndarray:
    """The image (3, size, size) float32 in [0, 1] of a scene: a dark background with a little
    noise, shapes drawn with 2x2 supersampling (soft edges)."""
    ss = 2
    coords = (np.arange(size * ss) + 0.5) / ss - 0.5
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    img = np.full((3, size * ss, size * ss), 0.08, dtype=np.float32)
    for o in objs:
        m = _mask(o, yy, xx)
        img[:, m] = np.asarray(COLOURS[o["colour"]], dtype=np.float32)[:, None]
    img = img.reshape(3, size, ss, size, ss).mean(axis=(2, 4))
    if rng is not None and noise > 0:
        img = img + noise * rng.standard_normal(img.shape).astype(np.float32)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def _phrase(o: dict) -> str:
    return f"a {o['size']} {o['colour']} {o['shape']}"


def describe(objs: list[dict]) -> list[str]:
    """The reference captions of a scene: one for one object, two (either object first) for
    two."""
    if len(objs) == 1:
        return [_phrase(objs[0])]
    a, b = objs
    rel = a["relation"]
    return [f"{_phrase(a)} {rel} {_phrase(b)}", f"{_phrase(b)} {RELATIONS[rel]} {_phrase(a)}"]


def _split(n: int, rng: np.random.Generator, size: int, offset: int) -> CaptionSplit:
    images = np.empty((n, 3, size, size), dtype=np.float32)
    captions, scenes = [], []
    for i in range(n):
        objs = sample_scene(rng, size)
        images[i] = render_scene(objs, size, rng)
        captions.append(describe(objs))
        scenes.append(objs)
    return CaptionSplit(images, captions, scenes, list(range(offset, offset + n)))


def make_shapes(n_train: int = 4000, n_val: int = 500, n_test: int = 500, size: int = 32,
                seed: int = 0) -> CaptionData:
    """Generate the synthetic shapes captioning set; the same arguments give the same data.

    Args:
        n_train, n_val, n_test: images per split.
        size: image side in pixels (at least 16).
        seed: seed of the generator's own NumPy ``Generator`` (striate's global one is untouched).
    Returns:
        a :class:`CaptionData` with images (N, 3, size, size) and the vocabulary of all words the
        generator can produce.
    """
    for name, v in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if int(v) < 1:
            raise ValueError(f"make_shapes: {name} must be a positive integer, got {v}")
    if int(size) < 16:
        raise ValueError(f"make_shapes: size must be at least 16 pixels, got {size}")
    rng = np.random.default_rng(seed)
    train = _split(int(n_train), rng, int(size), 0)
    val = _split(int(n_val), rng, int(size), int(n_train))
    test = _split(int(n_test), rng, int(size), int(n_train) + int(n_val))
    words = set()
    for rel in RELATIONS:
        words.update(rel.split())
    words.update(COLOURS)
    words.update(SHAPES)
    words.update(SIZES)
    words.add("a")
    # the longest sentence the generator can write: "a small red circle to the left of a ..."
    return CaptionData(train, val, test, Vocabulary(sorted(words)), 12, "shapes")
