"""Linear classifiers on raw arrays with explicit gradients: the multiclass SVM and softmax.

The score function is ``s = x W + b`` for a row x (D,), W (D, C) and b (C,). The loss functions
take ``W`` (D, C), a minibatch ``X`` (N, D), labels ``y`` (N,) and a regularisation strength and
return ``(loss, dW)``; a naive (looped) and a vectorised version of each, equal to each other.

The bias is handled by the bias trick inside the classifiers: a column of ones is appended to X,
so the last row of the (D + 1, C) weight matrix is b. The loss functions then get ``bias=True``,
which leaves that row out of the regularisation (penalising the bias buys nothing); called
directly with the default ``bias=False`` they regularise all of W, as the course's do.

Regularisation ``R(W)`` (``reg_type``): ``"l2"`` ``reg * sum(W**2)``, ``"l1"`` ``reg * sum|W|``,
``"elastic"`` ``reg * (l1_ratio * sum|W| + (1 - l1_ratio) * sum(W**2))``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "LinearClassifier",
    "LinearSVM",
    "Softmax",
    "LinearFit",
    "fit_linear_classifier",
    "regularization",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "svm_loss_naive",
    "svm_loss_vectorized",
    "plot_loss_history",
    "plot_templates",
]

REG_TYPES = ("l2", "l1", "elastic")


def regularization(W, reg: float, reg_type: str = "l2", l1_ratio: float = 0.5,
                   bias: bool = False):
    """``(R(W), dR/dW)`` for the penalty named by ``reg_type``; with ``bias`` the last row of W
    is the bias and is not penalised. The gradient of |w| at 0 is taken as 0."""
    if reg_type not in REG_TYPES:
        raise ValueError(f"regularization: reg_type must be one of {', '.join(REG_TYPES)}, "
                         f"got {reg_type!r}")
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"regularization: l1_ratio must be in [0, 1], got {l1_ratio}")
    Wr = W[:-1] if bias else W
    a1 = {"l2": 0.0, "l1": 1.0, "elastic": l1_ratio}[reg_type]
    a2 = 1.0 - a1
    loss = reg * (a1 * np.abs(Wr).sum() + a2 * np.sum(Wr * Wr))
    dR = np.zeros_like(W)
    # d|w|/dw = sign(w), d(w^2)/dw = 2w
    dR[: len(Wr)] = reg * (a1 * np.sign(Wr) + 2.0 * a2 * Wr)
    return float(loss), dR


def _check(W, X, y, who):
    W, X, y = np.asarray(W), np.asarray(X), np.asarray(y)
    if W.ndim != 2 or X.ndim != 2 or X.shape[1] != W.shape[0]:
        raise ValueError(f"{who}: expected W (D, C) and X (N, D) with the same D, got W "
                         f"{W.shape} and X {X.shape}")
    if y.shape != (X.shape[0],) or y.dtype.kind not in "iu":
        raise ValueError(f"{who}: y must be {X.shape[0]} integer labels, got shape {y.shape} "
                         f"dtype {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= W.shape[1]):
        raise ValueError(f"{who}: labels must be in 0..{W.shape[1] - 1}, "
                         f"found {y.min()}..{y.max()}")
    return W, X, y


def svm_loss_naive(W, X, y, reg: float, delta: float = 1.0, reg_type: str = "l2",
                   l1_ratio: float = 0.5, bias: bool = False):
    """Multiclass SVM loss with loops: ``mean_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta)``
    plus the regularisation. Returns ``(loss, dW)`` with dW of W's shape (D, C)."""
    W, X, y = _check(W, X, y, "svm_loss_naive")
    dW = np.zeros_like(W)
    loss = 0.0
    num_train, num_classes = X.shape[0], W.shape[1]
    for i in range(num_train):
        scores = X[i] @ W
        correct = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct + delta
            if margin > 0:
                loss += margin
                # the margin's gradient: +x_i for the wrong class, -x_i for the correct one
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss /= max(num_train, 1)
    dW /= max(num_train, 1)
    r, dR = regularization(W, reg, reg_type, l1_ratio, bias)
    return loss + r, dW + dR


def svm_loss_vectorized(W, X, y, reg: float, delta: float = 1.0, reg_type: str = "l2",
                        l1_ratio: float = 0.5, bias: bool = False):
    """The SVM loss and gradient of ``svm_loss_naive`` without loops."""
    W, X, y = _check(W, X, y, "svm_loss_vectorized")
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W
    margins = scores - scores[rows, y][:, None] + delta
    margins[rows, y] = 0.0
    np.maximum(margins, 0.0, out=margins)
    loss = margins.sum() / max(n, 1)
    # each positive margin sends +x_i to its class and -x_i to the correct class
    coef = (margins > 0).astype(X.dtype)
    coef[rows, y] = -coef.sum(axis=1)
    dW = X.T @ coef / max(n, 1)
    r, dR = regularization(W, reg, reg_type, l1_ratio, bias)
    return float(loss) + r, dW + dR


def softmax_loss_naive(W, X, y, reg: float, reg_type: str = "l2", l1_ratio: float = 0.5,
                       bias: bool = False):
    """Softmax (cross-entropy) loss with loops: ``mean_i -log(e^{s_{y_i}} / sum_j e^{s_j})``
    plus the regularisation. Returns ``(loss, dW)``."""
    W, X, y = _check(W, X, y, "softmax_loss_naive")
    dW = np.zeros_like(W)
    loss = 0.0
    num_train, num_classes = X.shape[0], W.shape[1]
    for i in range(num_train):
        scores = X[i] @ W
        scores = scores - scores.max()  # e^s overflows otherwise; the ratio is unchanged
        log_sum = np.log(np.sum(np.exp(scores)))
        p = np.exp(scores - log_sum)
        loss += log_sum - scores[y[i]]  # -log p_y, without taking log of an underflowed p_y
        for j in range(num_classes):
            # dL_i/ds_j = p_j - 1[j == y_i]
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
    loss /= max(num_train, 1)
    dW /= max(num_train, 1)
    r, dR = regularization(W, reg, reg_type, l1_ratio, bias)
    return float(loss) + r, dW + dR


def softmax_loss_vectorized(W, X, y, reg: float, reg_type: str = "l2", l1_ratio: float = 0.5,
                            bias: bool = False):
    """The softmax loss and gradient of ``softmax_loss_naive`` without loops."""
    W, X, y = _check(W, X, y, "softmax_loss_vectorized")
    n = X.shape[0]
    rows = np.arange(n)
    scores = X @ W
    scores -= scores.max(axis=1, keepdims=True)
    log_p = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    loss = -log_p[rows, y].sum() / max(n, 1)
    dscores = np.exp(log_p)
    dscores[rows, y] -= 1.0
    dW = X.T @ dscores / max(n, 1)
    r, dR = regularization(W, reg, reg_type, l1_ratio, bias)
    return float(loss) + r, dW + dR


class LinearClassifier:
    """Base class: ``train`` runs minibatch SGD on ``loss``; ``predict`` is argmax of the scores.

    Attributes after training: ``W`` (D, C), ``b`` (C,) (views into the (D + 1, C) matrix of
    the bias trick, ``W_aug``), ``loss_history``.
    """

    def __init__(self):
        self.W_aug: np.ndarray | None = None
        self.loss_history: list[float] = []

    @property
    def W(self) -> np.ndarray:
        self._require_trained("W")
        return self.W_aug[:-1]

    @property
    def b(self) -> np.ndarray:
        self._require_trained("b")
        return self.W_aug[-1]

    def _require_trained(self, who):
        if self.W_aug is None:
            raise RuntimeError(f"{type(self).__name__}.{who}: call train(X, y, ...) first")

    def loss(self, W, X, y, reg, reg_type="l2", l1_ratio=0.5):
        """(loss, dW) of a minibatch X (N, D + 1) with its ones column; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define a loss")

    def train(self, X, y, learning_rate: float = 1e-3, reg: float = 1e-5, num_iters: int = 1000,
              batch_size: int = 200, verbose: bool = False, reg_type: str = "l2",
              l1_ratio: float = 0.5, num_classes: int | None = None) -> list[float]:
        """Minibatch SGD from small random weights (or the current ones when already trained
        on the same shapes). Batches are drawn with replacement from ``striate``'s seeded
        generator.

        Args:
            X: (N, D) float features (images flattened first); y: (N,) labels in 0..C-1.
            num_classes: C (default: max(y) + 1, or the trained W's).
        Returns:
            the loss of every iteration (a list of num_iters floats; shorter when the loss
            became inf or nan, where training stops).
        """
        from ..backend import get_rng

        who = f"{type(self).__name__}.train"
        X = np.asarray(X)
        if X.ndim != 2 or X.dtype.kind != "f":
            raise ValueError(f"{who}: X must be a float (N, D) array (flatten images first), "
                             f"got shape {X.shape} dtype {X.dtype}")
        y = np.asarray(y)
        if y.shape != (len(X),) or y.dtype.kind not in "iu" or len(y) == 0:
            raise ValueError(f"{who}: y must be {len(X)} integer labels, got shape {y.shape} "
                             f"dtype {y.dtype}")
        for name, v in (("learning_rate", learning_rate), ("reg", reg)):
            if not isinstance(v, numbers.Real) or not 0 <= v < float("inf"):
                raise ValueError(f"{who}: {name} must be a finite number >= 0, got {v!r}")
        for name, v in (("num_iters", num_iters), ("batch_size", batch_size)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
                raise ValueError(f"{who}: {name} must be a positive int, got {v!r}")
        if reg_type not in REG_TYPES:
            raise ValueError(f"{who}: reg_type must be one of {', '.join(REG_TYPES)}, "
                             f"got {reg_type!r}")
        n, d = X.shape
        if num_classes is None:
            num_classes = self.W_aug.shape[1] if self.W_aug is not None else int(y.max()) + 1
        rng = get_rng()
        if self.W_aug is None or self.W_aug.shape != (d + 1, num_classes) \
                or self.W_aug.dtype != X.dtype:
            self.W_aug = np.zeros((d + 1, num_classes), dtype=X.dtype)
            self.W_aug[:-1] = 0.001 * rng.standard_normal((d, num_classes))
        ones = np.ones((batch_size, 1), dtype=X.dtype)
        history = []
        for it in range(num_iters):
            idx = rng.integers(0, n, size=batch_size)
            Xb = np.concatenate([X[idx], ones], axis=1)  # the bias trick, one batch at a time
            with np.errstate(over="ignore", invalid="ignore"):
                loss, grad = self.loss(self.W_aug, Xb, y[idx], reg, reg_type, l1_ratio)
                self.W_aug -= learning_rate * grad
            history.append(float(loss))
            if not np.isfinite(loss):  # diverged: no later step can recover
                if verbose:
                    print(f"iteration {it} / {num_iters}: loss {loss}, stopping")
                break
            if verbose and (it % 100 == 0 or it == num_iters - 1):
                print(f"iteration {it} / {num_iters}: loss {loss:.6f}")
        self.loss_history = history
        return history

    def scores(self, X) -> np.ndarray:
        """Class scores (N, C) = X W + b."""
        self._require_trained("scores")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.W_aug.shape[0] - 1:
            raise ValueError(f"{type(self).__name__}.predict: X must be (N, "
                             f"{self.W_aug.shape[0] - 1}), got shape {X.shape}")
        return X @ self.W + self.b

    def predict(self, X) -> np.ndarray:
        """Labels (N,) int64: the highest-scoring class of each row of X (N, D)."""
        return self.scores(X).argmax(axis=1).astype(np.int64)


class LinearSVM(LinearClassifier):
    """A linear classifier trained with the multiclass SVM (hinge) loss, margin ``delta``.

    Example:
        >>> import numpy as np, striate
        >>> _ = striate.manual_seed(0)
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0]] * 20)
        >>> y = np.array([0, 1] * 20)
        >>> svm = LinearSVM()
        >>> _ = svm.train(X, y, learning_rate=0.1, reg=0.0, num_iters=50, batch_size=8)
        >>> svm.predict(X[:2]).tolist()
        [0, 1]
    """

    def __init__(self, delta: float = 1.0):
        super().__init__()
        self.delta = float(delta)

    def loss(self, W, X, y, reg, reg_type="l2", l1_ratio=0.5):
        return svm_loss_vectorized(W, X, y, reg, self.delta, reg_type, l1_ratio, bias=True)


class Softmax(LinearClassifier):
    """A linear classifier trained with the softmax (cross-entropy) loss."""

    def loss(self, W, X, y, reg, reg_type="l2", l1_ratio=0.5):
        return softmax_loss_vectorized(W, X, y, reg, reg_type, l1_ratio, bias=True)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (N, C)."""
        s = self.scores(X)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


@dataclass
class LinearFit:
    """What ``fit_linear_classifier`` returns."""

    classifier: LinearClassifier
    train_accuracy: float
    val_accuracy: float
    loss_history: list[float] = field(repr=False)


def fit_linear_classifier(Xtr, ytr, Xval, yval, loss: str = "softmax", **hparams) -> LinearFit:
    """Train ``LinearSVM`` (``loss="svm"``) or ``Softmax`` on (Xtr (N, D), ytr) and measure it.

    ``hparams`` go to ``train`` (learning_rate, reg, num_iters, batch_size, reg_type, l1_ratio,
    verbose, num_classes); ``delta`` goes to the SVM. Inputs are used as given: preprocess
    (centre, scale) before calling.
    """
    if loss not in ("svm", "softmax"):
        raise ValueError(f"fit_linear_classifier: loss must be 'svm' or 'softmax', got {loss!r}")
    delta = hparams.pop("delta", 1.0)
    clf = LinearSVM(delta) if loss == "svm" else Softmax()
    history = clf.train(Xtr, ytr, **hparams)
    return LinearFit(clf, float(np.mean(clf.predict(Xtr) == ytr)),
                     float(np.mean(clf.predict(Xval) == yval)), history)


def plot_templates(W, image_shape, classes, path) -> bool:
    """The learned weights as one picture per class: column c of W (D, C) reshaped to
    ``image_shape`` (C_in, H, W), each rescaled to [0, 1] on its own, as PNG.

    Returns False (writing nothing) when matplotlib is not installed.
    """
    from ._plot import figure, save

    W = np.asarray(W)
    image_shape = tuple(image_shape)
    if W.ndim != 2 or W.shape[0] != int(np.prod(image_shape)) or W.shape[1] != len(classes):
        raise ValueError(f"plot_templates: W must be ({int(np.prod(image_shape))}, "
                         f"{len(classes)}) for images {image_shape} and {len(classes)} classes, "
                         f"got {W.shape}")
    c = W.shape[1]
    cols = min(c, 10)
    rows = -(-c // cols)
    fig = figure(figsize=(1.3 * cols, 1.5 * rows))
    if fig is None:
        return False
    for j in range(c):
        t = W[:, j].reshape(image_shape).transpose(1, 2, 0)
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-12)
        ax = fig.add_subplot(rows, cols, j + 1)
        if t.shape[2] == 1:
            ax.imshow(t[:, :, 0], cmap="gray", interpolation="nearest")
        else:
            ax.imshow(t[:, :, :3], interpolation="nearest")
        ax.set_title(str(classes[j])[:12], fontsize=8)
        ax.axis("off")
    save(fig, path)
    return True


def plot_loss_history(history, path, title: str = "training loss") -> bool:
    """The loss of every SGD iteration (light) and its running mean over 50 (dark), as PNG.

    Returns False (writing nothing) when matplotlib is not installed.
    """
    from ._plot import figure, save

    h = np.asarray(history, dtype=np.float64)
    if h.ndim != 1 or len(h) == 0:
        raise ValueError(f"plot_loss_history: history must be a non-empty list of losses, "
                         f"got shape {h.shape}")
    fig = figure()
    if fig is None:
        return False
    ax = fig.add_subplot(1, 1, 1)
    it = np.arange(1, len(h) + 1)
    ax.plot(it, h, color="C0", alpha=0.35, linewidth=0.8, label="per iteration")
    w = min(50, len(h))
    smooth = np.convolve(h, np.ones(w) / w, mode="valid")
    ax.plot(it[w - 1:], smooth, color="C0", label=f"mean of {w}")
    if h.min() > 0 and h.max() > 20 * h.min():  # the drop from the start hides the rest
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    save(fig, path)
    return True
