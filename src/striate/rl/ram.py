"""The recurrent attention model (Mnih, Heess, Graves, Kavukcuoglu 2014) on translated digits.

Each digit (8x8) is placed at a random position on a larger blank canvas, so that where the
model looks matters. At every step the model takes a *glimpse*: a retina of ``scales`` square
patches centred on a location l in [-1, 1]^2, each twice as wide as the last and average-pooled
to the same ``size x size`` (sharp in the centre, coarse around it). A glimpse network combines
what it saw with where, a recurrent core (``nn.RNNCell``) accumulates the glimpses, a location
network picks the next location (a Gaussian policy around ``tanh(W h)``), and after the last
glimpse a classifier names the digit.

Choosing where to look is not differentiable, so the paper's *hybrid loss* trains the parts
differently: the classifier, core and glimpse network by backprop through the cross-entropy; the
location policy by REINFORCE with reward 1 for a correct answer and 0 otherwise, minus a learned
baseline b_t (regressed to the reward) to reduce variance.
"""

from __future__ import annotations

import os

import numpy as np

from .. import backend, nn, optim
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..distributions import Independent, Normal
from ..ops import cross_entropy, mse_loss

__all__ = ["glimpse", "translate", "RecurrentAttention", "train_ram"]


def translate(images: np.ndarray, canvas: int, rng: np.random.Generator) -> np.ndarray:
    """Place each image (N, h, w) at a uniformly random position on a zero canvas (N, c, c)."""
    N, h, w = images.shape
    if canvas < max(h, w):
        raise ValueError(f"translate: canvas {canvas} is smaller than the images ({h}x{w})")
    out = np.zeros((N, canvas, canvas), dtype=np.float32)
    rows = rng.integers(0, canvas - h + 1, size=N)
    cols = rng.integers(0, canvas - w + 1, size=N)
    for n in range(N):
        out[n, rows[n]:rows[n] + h, cols[n]:cols[n] + w] = images[n]
    return out


def glimpse(images: np.ndarray, loc: np.ndarray, size: int, scales: int) -> np.ndarray:
    """The retina: for each image (N, H, W) and location (N, 2) in [-1, 1]^2 (row, col; -1 is
    the top/left edge), ``scales`` patches of side ``size * 2^k`` centred there, each averaged
    down to ``size x size``; outside the image is 0. Returns (N, scales * size * size).

    Raises:
        ValueError: loc not of shape (N, 2).
    """
    N, H, W = images.shape
    loc = np.asarray(loc, dtype=np.float64)
    if loc.shape != (N, 2):
        raise ValueError(f"glimpse: loc must have shape ({N}, 2), got {loc.shape}")
    pad = size * 2 ** (scales - 1)
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    centre = (np.round((np.clip(loc, -1, 1) + 1) / 2 * np.array([H - 1, W - 1]))
              .astype(np.int64) + pad)
    n = np.arange(N)[:, None, None]
    out = []
    for k in range(scales):
        s, f = size * 2 ** k, 2 ** k
        off = np.arange(s) - s // 2
        rows, cols = centre[:, :1] + off, centre[:, 1:] + off
        patch = padded[n, rows[:, :, None], cols[:, None, :]]
        out.append(patch.reshape(N, size, f, size, f).mean(axis=(2, 4)).reshape(N, -1))
    return np.concatenate(out, axis=1).astype(np.float32)


class RecurrentAttention(nn.Module):
    """The glimpse network, core, location network, baseline and classifier.

    ``forward(images, random_glimpses=False, sample=True)`` runs ``glimpses`` steps from the
    centre and returns ``(logits, log_probs (N, glimpses - 1), baselines (N, glimpses - 1))``.
    """

    def __init__(self, size: int = 4, scales: int = 3, glimpses: int = 4, hidden: int = 128,
                 num_classes: int = 10, std: float = 0.2):
        super().__init__()
        self.size, self.scales, self.glimpses, self.std = size, scales, glimpses, std
        # the paper's glimpse network: g = ReLU(W1 ReLU(W0 rho) + W3 ReLU(W2 l))
        self.what = nn.Sequential(nn.Linear(scales * size * size, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden))
        self.where = nn.Sequential(nn.Linear(2, hidden // 2), nn.ReLU(),
                                   nn.Linear(hidden // 2, hidden))
        self.core = nn.RNNCell(hidden, hidden, nonlinearity="relu")
        self.locator = nn.Linear(hidden, 2)
        self.baseline = nn.Linear(hidden, 1)
        self.classifier = nn.Linear(hidden, num_classes)
        self.relu = nn.ReLU()

    def forward(self, images: np.ndarray, random_glimpses: bool = False, sample: bool = True,
                rng: np.random.Generator | None = None):
        N = images.shape[0]
        loc = np.zeros((N, 2))
        h = None
        log_probs, baselines = [], []
        for t in range(self.glimpses):
            rho = Tensor(glimpse(images, loc, self.size, self.scales))
            g = self.relu(self.what(rho) + self.where(Tensor(loc.astype(np.float32))))
            h = self.core(g, h)
            if t == self.glimpses - 1:
                break
            if random_glimpses:
                loc = (rng or backend.get_rng()).uniform(-1, 1, size=(N, 2))
                continue
            # the policy sees the core's state but does not train it: its gradient is
            # REINFORCE's, which would only add noise to the classifier's features
            hd = h.detach()
            mu = self.locator(hd).tanh()
            policy = Independent(Normal(mu, self.std), 1)
            loc_t = policy.sample() if sample else mu.detach()
            log_probs.append(policy.log_prob(loc_t))
            baselines.append(self.baseline(hd).squeeze(1))
            loc = np.clip(loc_t.array.astype(np.float64), -1, 1)
        logits = self.classifier(h)
        if not log_probs:
            return logits, None, None
        from ..ops import stack

        return logits, stack(log_probs, dim=1), stack(baselines, dim=1)


def hybrid_loss(logits, log_probs, baselines, y: np.ndarray):
    """Cross-entropy (backprop) + REINFORCE for the locations with reward 1 for a correct
    answer, advantage R - b_t + the baseline's squared error. Returns (loss, accuracy)."""
    yt = Tensor(y)
    loss = cross_entropy(logits, yt)
    reward = (logits.array.argmax(axis=1) == y).astype(np.float32)
    if log_probs is not None:
        R = Tensor(np.repeat(reward[:, None], log_probs.shape[1], axis=1))
        advantage = R - baselines.detach()
        loss = loss - (log_probs * advantage).sum(dim=1).mean() + mse_loss(baselines, R)
    return loss, float(reward.mean())


def _accuracy(model, X, y, random_glimpses: bool, seed: int) -> float:
    rng = np.random.default_rng(seed)
    with no_grad():
        logits, _, _ = model(X, random_glimpses=random_glimpses, sample=False, rng=rng)
    return float((logits.array.argmax(axis=1) == y).mean())


def _fit(model, splits, epochs: int, random_glimpses: bool, canvas: int, seed: int,
         batch_size: int, lr: float, bar=None) -> list[dict]:
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    Xtr = splits.train.X[:, 0]
    Xva = translate(splits.val.X[:, 0], canvas, np.random.default_rng(seed + 1))
    history = []
    for epoch in range(1, epochs + 1):
        X = translate(Xtr, canvas, rng)  # a new placement every epoch
        order = rng.permutation(len(X))
        accs = []
        for k in range(0, len(X), batch_size):
            idx = order[k:k + batch_size]
            logits, lp, b = model(X[idx], random_glimpses=random_glimpses, rng=rng)
            loss, acc = hybrid_loss(logits, lp, b, splits.train.y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            accs.append(acc)
        val = _accuracy(model, Xva, splits.val.y, random_glimpses, seed + 2)
        history.append({"epoch": epoch, "train_accuracy": float(np.mean(accs)),
                        "val_accuracy": val})
        if bar is not None:
            bar.update(1)
            bar.set_postfix(val=f"{val:.3f}", refresh=False)
    return history


def train_ram(out_dir: str | None = None, epochs: int = 100, glimpses: int = 4,
              canvas: int = 16, size: int = 4, scales: int = 3, hidden: int = 128,
              batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
              progress: bool = False) -> dict:
    """Train the recurrent attention model and, as the control, the same network with glimpses
    at uniformly random locations; report both test accuracies (the same translated test set).

    Returns a dict with ``test_accuracy``, ``random_glimpse_accuracy`` and both histories; with
    ``out_dir``, writes ``summary.json``, ``metrics.csv`` (both runs) and ``accuracy.png``.
    """
    from ..data import digits
    from ..parallel import num_threads

    splits = digits(split_seed=seed)
    Xte = translate(splits.test.X[:, 0], canvas, np.random.default_rng(seed + 3))
    results, models = {}, {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=2 * epochs, desc="ram (learned, then random glimpses)", leave=False)
    with num_threads(1):
        for name, random_glimpses in (("learned", False), ("random", True)):
            backend.manual_seed(seed)
            model = RecurrentAttention(size, scales, glimpses, hidden)
            hist = _fit(model, splits, epochs, random_glimpses, canvas, seed, batch_size, lr, bar)
            results[name] = (_accuracy(model, Xte, splits.test.y, random_glimpses, seed + 4),
                             hist)
            models[name] = model
    if bar is not None:
        bar.close()
    summary = {"test_accuracy": results["learned"][0],
               "random_glimpse_accuracy": results["random"][0],
               "epochs": epochs, "glimpses": glimpses, "canvas": canvas, "size": size,
               "scales": scales, "seed": seed}
    if out_dir is not None:
        _write(out_dir, summary, results)
    return {**summary, "history": results["learned"][1],
            "random_history": results["random"][1], "model": models["learned"],
            "test_images": Xte, "test_labels": splits.test.y}


def glimpse_path(model: RecurrentAttention, images: np.ndarray) -> np.ndarray:
    """The locations (N, glimpses, 2) the trained policy looks at (its means, no sampling)."""
    N = images.shape[0]
    loc = np.zeros((N, 2))
    h = None
    path = [loc]
    with no_grad():
        for _ in range(model.glimpses - 1):
            rho = Tensor(glimpse(images, loc, model.size, model.scales))
            g = model.relu(model.what(rho) + model.where(Tensor(loc.astype(np.float32))))
            h = model.core(g, h)
            loc = np.clip(model.locator(h).tanh().array.astype(np.float64), -1, 1)
            path.append(loc)
    return np.stack(path, axis=1)


def plot_glimpses(model: RecurrentAttention, images: np.ndarray, labels, path: str,
                  count: int = 8) -> bool:
    """Draw ``count`` canvases with the learned glimpse path: the finest patch of each glimpse
    as a square, numbered in order. False where matplotlib is missing."""
    from .plots import figure

    fig = figure()
    if fig is None:
        return False
    fig.set_size_inches(2 * count / 2, 4.4)
    locs = glimpse_path(model, images[:count])
    with no_grad():
        logits, _, _ = model(images[:count], sample=False)
    pred = logits.array.argmax(axis=1)
    H, W = images.shape[1:]
    for k in range(count):
        ax = fig.add_subplot(2, (count + 1) // 2, k + 1)
        ax.imshow(images[k], cmap="gray_r", vmin=0, vmax=1)
        for t, (r, c) in enumerate(locs[k]):
            cy, cx = np.round((np.array([r, c]) + 1) / 2 * np.array([H - 1, W - 1]))
            for s, alpha in ((model.size, 1.0), (2 * model.size, 0.35)):
                ax.add_patch(_square(cx, cy, s, f"C{t}", alpha))
            ax.text(cx, cy, str(t + 1), color=f"C{t}", ha="center", va="center", fontsize=8,
                    weight="bold")
        ax.set_title(f"{labels[k]} -> {pred[k]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("learned glimpses (numbered; inner square: the sharp patch)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return True


def _square(cx, cy, side, color, alpha):
    from matplotlib.patches import Rectangle

    half = side / 2
    return Rectangle((cx - half - 0.5, cy - half - 0.5), side, side, fill=False, color=color,
                     alpha=alpha, linewidth=1.2)


def _write(out_dir: str, summary: dict, results: dict) -> None:
    from ..train.history import write_csv, write_json
    from .plots import figure

    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "summary.json"), summary)
    rows = [{"policy": name, **rec} for name in results for rec in results[name][1]]
    write_csv(os.path.join(out_dir, "metrics.csv"), rows)
    fig = figure()
    if fig is None:
        return
    ax = fig.add_subplot(1, 1, 1)
    for k, name in enumerate(results):
        hist = results[name][1]
        ax.plot([r["epoch"] for r in hist], [r["val_accuracy"] for r in hist], color=f"C{k}",
                label=f"{name} glimpses (test {results[name][0]:.3f})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"recurrent attention model, {summary['glimpses']} glimpses, digits on a "
                 f"{summary['canvas']}x{summary['canvas']} canvas", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "accuracy.png"), format="png")
