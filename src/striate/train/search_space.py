"""Search spaces for :mod:`striate.train.search`: ranges, sampling, grids, coarse-to-fine
narrowing and k-fold indices.

A space is a dict ``{name: LogUniform(lo, hi) | Uniform(lo, hi) | Choice([...]) | value}``. On
the command line a range is ``lo:hi`` (log-uniform), a list ``a,b,c`` (a choice), a number a
fixed value; in a TOML or JSON file a two-number list ``[lo, hi]`` is log-uniform, a table
``{low, high, log}`` a range, ``{choice = [...]}`` a choice, anything else a fixed value.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Choice", "LogUniform", "Uniform", "grid_configs", "kfold_indices", "load_space",
           "narrow", "parse_range", "sample_configs"]

# hyper-parameters that are counts: a value sampled from a range is rounded
INT_PARAMS = {"batch_size", "epochs", "num_iters", "hidden", "k"}


def _number(v, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{what} must be a finite number, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class LogUniform:
    """Sampled as ``10 ** uniform(log10 low, log10 high)``: every decade equally likely."""

    low: float
    high: float

    def __post_init__(self):
        lo, hi = _number(self.low, "LogUniform: low"), _number(self.high, "LogUniform: high")
        if not 0 < lo <= hi:
            raise ValueError(f"LogUniform: need 0 < low <= high, got low={lo:g}, high={hi:g}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return 10 ** rng.uniform(math.log10(self.low), math.log10(self.high), size=n)

    def grid(self, n: int) -> np.ndarray:
        return np.logspace(math.log10(self.low), math.log10(self.high), n)

    def to_unit(self, v):  # where v lies on the sampling axis
        return np.log10(v)

    def from_unit(self, lo, hi) -> LogUniform:
        return LogUniform(float(10**lo), float(10**hi))


@dataclass(frozen=True)
class Uniform:
    """Sampled uniformly in [low, high] (for parameters without a natural scale: momentum,
    dropout)."""

    low: float
    high: float

    def __post_init__(self):
        lo, hi = _number(self.low, "Uniform: low"), _number(self.high, "Uniform: high")
        if not lo <= hi:
            raise ValueError(f"Uniform: need low <= high, got low={lo:g}, high={hi:g}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)

    def grid(self, n: int) -> np.ndarray:
        return np.linspace(self.low, self.high, n)

    def to_unit(self, v):
        return np.asarray(v, dtype=float)

    def from_unit(self, lo, hi) -> Uniform:
        return Uniform(float(lo), float(hi))


@dataclass(frozen=True)
class Choice:
    """One of a list of values, each equally likely."""

    values: tuple

    def __post_init__(self):
        if not isinstance(self.values, (list, tuple)) or not self.values:
            raise ValueError(f"Choice: values must be a non-empty list, got {self.values!r}")
        object.__setattr__(self, "values", tuple(self.values))

    def sample(self, rng: np.random.Generator, n: int) -> list:
        return [self.values[i] for i in rng.integers(len(self.values), size=n)]

    def grid(self, n: int) -> list:
        return list(self.values)


_RANGES = (LogUniform, Uniform)


def _value(name: str, v):
    """A Python scalar of the right type for ``name`` (ints for counts)."""
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return int(round(v)) if name in INT_PARAMS else v
    if isinstance(v, np.integer):
        return int(v)
    return v


def parse_range(text: str):
    """A command-line range: ``"1e-4:1e-1"`` -> LogUniform, ``"32,64"`` -> Choice, ``"0.9"``
    -> 0.9, ``"lin:0.5:0.99"`` -> Uniform; anything else stays a string."""
    text = str(text).strip()
    parts = text.split(":")
    try:
        if len(parts) == 2:
            return LogUniform(float(parts[0]), float(parts[1]))
        if len(parts) == 3 and parts[0] in ("lin", "log"):
            cls = Uniform if parts[0] == "lin" else LogUniform
            return cls(float(parts[1]), float(parts[2]))
    except ValueError as e:
        raise ValueError(f"parse_range: {text!r} is not a range 'lo:hi' of two positive "
                         f"numbers with lo <= hi ({e})") from None
    if len(parts) > 1:
        raise ValueError(f"parse_range: expected 'lo:hi', 'lin:lo:hi' or 'log:lo:hi', got "
                         f"{text!r}")
    if "," in text:
        return Choice(tuple(_scalar(t) for t in text.split(",") if t.strip()))
    return _scalar(text)


def _scalar(text: str):
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _from_file_entry(name: str, v):
    if isinstance(v, dict):
        if "choice" in v:
            return Choice(tuple(v["choice"]))
        if "low" in v and "high" in v:
            return (LogUniform if v.get("log", True) else Uniform)(v["low"], v["high"])
        raise ValueError(f"load_space: {name!r} must be a table with low/high (and log) or "
                         f"choice, got {v!r}")
    if isinstance(v, list):
        if len(v) == 2 and all(isinstance(x, numbers.Real) for x in v):
            return LogUniform(v[0], v[1])
        return Choice(tuple(v))
    if isinstance(v, str) and ":" in v:
        return parse_range(v)
    return v


def load_space(path) -> tuple[dict, dict]:
    """Read ranges from a ``.toml`` or ``.json`` file.

    Returns:
        ``(space, fixed)``: the ranges and choices to search, and the fixed values (``epochs``,
        ``model``, ...) that go into every trial's config.

    Raises:
        FileNotFoundError / ValueError: a missing file, or one that does not parse.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_space: no such file: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            raw = tomllib.loads(text)
        elif path.suffix.lower() == ".json":
            raw = json.loads(text)
        else:
            raise ValueError(f"load_space: {path} must be a .toml or .json file")
    except (ValueError, json.JSONDecodeError) as e:
        raise ValueError(f"load_space: cannot parse {path}: {e}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"load_space: {path} must hold a table of ranges, got "
                         f"{type(raw).__name__}")
    space, fixed = {}, {}
    for name, v in raw.items():
        entry = _from_file_entry(name, v)
        (space if isinstance(entry, (*_RANGES, Choice)) else fixed)[name] = entry
    return space, fixed


def sample_configs(space: dict, n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` random configs: each range sampled independently (log-uniformly for LogUniform)."""
    columns = {}
    for name, dist in space.items():
        if isinstance(dist, (*_RANGES, Choice)):
            columns[name] = list(dist.sample(rng, n))
        else:
            columns[name] = [dist] * n
    return [{k: _value(k, columns[k][i]) for k in space} for i in range(n)]


def grid_configs(space: dict, n: int) -> list[dict]:
    """A grid of about ``n`` configs: ``round(n ** (1/d))`` points (at least 2) per range,
    log-spaced for LogUniform, every value of a Choice."""
    ranged = [k for k, d in space.items() if isinstance(d, _RANGES)]
    per_axis = max(2, int(round(n ** (1.0 / max(len(ranged), 1)))))
    axes = []
    for dist in space.values():
        if isinstance(dist, _RANGES):
            axes.append(list(dist.grid(per_axis)))
        elif isinstance(dist, Choice):
            axes.append(list(dist.values))
        else:
            axes.append([dist])
    mesh = np.meshgrid(*[np.arange(len(a)) for a in axes], indexing="ij")
    idx = np.stack([m.ravel() for m in mesh], axis=1)
    names = list(space)
    return [{names[j]: _value(names[j], axes[j][i]) for j, i in enumerate(row)} for row in idx]


def narrow(space: dict, rows: list[dict], keep: int | None = None, pad: float = 0.1,
           max_fraction: float = 0.5) -> dict:
    """The next, finer stage's space: each range shrinks to span the best ``keep`` finished
    trials (default: the best quarter, at least 2), padded by ``pad`` of the old width on each
    side (on the log axis for LogUniform, so the range may step past an edge when the best
    trials sit there, as the notes advise), and at most ``max_fraction`` of the old width
    (then centred on the best trial). Choices and fixed values are kept. With no finished
    trial the space is returned unchanged."""
    done = [r for r in rows if r.get("status", "ok") == "ok" and math.isfinite(r["val_acc"])]
    if not done:
        return dict(space)
    keep = keep or max(2, int(math.ceil(len(done) / 4)))
    top = sorted(done, key=lambda r: -r["val_acc"])[:keep]
    out = {}
    for name, dist in space.items():
        if not isinstance(dist, _RANGES):
            out[name] = dist
            continue
        old_lo, old_hi = dist.to_unit(dist.low), dist.to_unit(dist.high)
        width = old_hi - old_lo
        vals = np.array([dist.to_unit(r[name]) for r in top], dtype=float)
        lo, hi = vals.min() - pad * width, vals.max() + pad * width
        if hi - lo > max_fraction * width:
            centre = float(dist.to_unit(top[0][name]))
            lo, hi = centre - 0.5 * max_fraction * width, centre + 0.5 * max_fraction * width
        if isinstance(dist, Uniform):  # a linear range stays where it makes sense
            lo, hi = max(lo, old_lo), min(hi, old_hi)
        out[name] = dist.from_unit(lo, hi)
    return out


def kfold_indices(n: int, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds of ``range(n)``: ``[(train_idx, val_idx), ...]``, each index in exactly one
    val fold, fold sizes differing by at most one, the order shuffled by ``seed`` (its own
    generator; the global one is not touched). Indices are sorted int64 arrays."""
    for name, v in (("n", n), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise ValueError(f"kfold_indices: {name} must be an int, got {v!r}")
    if not 2 <= k <= n:
        raise ValueError(f"kfold_indices: k must be between 2 and n={n}, got {k}")
    perm = np.random.default_rng(seed).permutation(n)
    folds = np.array_split(perm, k)
    out = []
    for i in range(k):
        val = np.sort(folds[i])
        train = np.sort(np.concatenate([f for j, f in enumerate(folds) if j != i]))
        out.append((train.astype(np.int64), val.astype(np.int64)))
    return out
