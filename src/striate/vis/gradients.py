"""Gradients with respect to the image: saliency maps, guided backpropagation, fooling images
and class visualisation by gradient ascent (the "Visualizing and Understanding" lecture).

Every function takes images in the range the data comes in ([0, 1] for the digits and for
photographs) and an optional ``norm`` (the run's fitted ``Normalize``), applied inside the graph,
so gradients, steps and clipping are all in pixel units.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .. import nn

__all__ = ["scores", "saliency", "guided_backprop", "guided_relus", "fooling_images",
           "class_visualization", "stroke_ratio", "check_class"]


def _tensor(a, requires_grad=False):
    import striate

    return striate.tensor(np.asarray(getattr(a, "array", a), dtype=np.float32),
                          requires_grad=requires_grad)


def scores(model, x, norm=None):
    """The model's class scores for images ``x`` (a Tensor, kept in the graph), normalised by
    ``norm`` first when given."""
    import striate

    if norm is not None:
        dt = x.dtype
        x = (x - striate.tensor(np.asarray(norm.mean, dt))) / striate.tensor(
            np.asarray(norm.std, dt))
    return model(x)


def check_class(model_classes: int, c, what: str = "class") -> int:
    """``c`` as an int in 0..model_classes-1, else a ValueError naming it."""
    if not isinstance(c, (int, np.integer)) or not 0 <= int(c) < model_classes:
        raise ValueError(f"{what} {c!r} is out of range: the model has {model_classes} classes "
                         f"(0..{model_classes - 1})")
    return int(c)


def _grad_of_scores(model, X, y, norm):
    """d score[n, y[n]] / d X[n] for each image of the batch, as an array."""
    x = _tensor(X, requires_grad=True)
    s = scores(model, x, norm)
    y = np.asarray(y, dtype=np.int64)
    for c in y:
        check_class(s.shape[1], int(c))
    picked = s.gather(1, _tensor(y[:, None]).long()).sum()
    picked.backward()
    return x.grad.numpy()


def saliency(model, X, y, norm=None) -> np.ndarray:
    """Saliency maps (Simonyan et al. 2014): max over channels of |d score_y / d x|.

    Args:
        model: a classifier (put in eval mode by the caller, so batch norm and dropout are
            fixed).
        X: images (N, C, H, W); y: the class whose score is differentiated, (N,).

    Returns:
        (N, H, W) array.
    """
    return np.abs(_grad_of_scores(model, X, y, norm)).max(axis=1)


@contextmanager
def guided_relus(model):
    """Make every ``nn.ReLU`` of ``model`` pass back only positive gradients while the block
    runs: a forward hook registers, on each ReLU's output, a tensor hook clamping the incoming
    gradient at 0; ReLU's own backward then also zeroes it where the input was negative. Both
    rules together are guided backpropagation (Springenberg et al. 2015). The model itself is
    unchanged; the hooks are removed on exit.

    Raises:
        ValueError: the model has no ``nn.ReLU`` module (a ReLU called as a function cannot be
            hooked).
    """
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError(f"guided backpropagation: {type(model).__name__} has no nn.ReLU module")

    def forward_hook(module, args, out):
        if out.requires_grad:
            out.register_hook(lambda g: g.clamp(min=0))

    handles = [m.register_forward_hook(forward_hook) for m in relus]
    try:
        yield model
    finally:
        for h in handles:
            h.remove()


def guided_backprop(model, X, y, norm=None) -> np.ndarray:
    """Guided backpropagation of class ``y``'s score to the image: (N, C, H, W) array."""
    with guided_relus(model):
        return _grad_of_scores(model, X, y, norm)


def stroke_ratio(maps, images, threshold: float = 0.5) -> float:
    """Mean |map| on the stroke (pixels of ``images`` > ``threshold``) over the mean off it:
    > 1 when a map puts more mass on the digit than on the background. ``maps`` (N, H, W) or
    (N, C, H, W) (reduced by max |.| over channels); ``images`` (N, 1, H, W) or (N, H, W)."""
    m = np.abs(np.asarray(maps))
    if m.ndim == 4:
        m = m.max(axis=1)
    img = np.asarray(images)
    if img.ndim == 4:
        img = img.max(axis=1)
    on = img > threshold
    if not on.any() or on.all():
        raise ValueError("stroke_ratio: the images need pixels both above and below threshold")
    return float(m[on].mean() / m[~on].mean())


def fooling_images(model, X, target, norm=None, lr: float = 0.1, max_iter: int = 200,
                   clip: tuple | None = None, progress: bool = False):
    """Fooling images: ascend the target class's score with normalised steps
    ``x += lr * g / ||g||`` until the model predicts the target (the course's recipe).

    Args:
        X: correctly classified images (N, C, H, W); target: the wrong classes, (N,).
        lr: the L2 length of one step, in pixel units.
        max_iter: give up after this many steps.
        clip: (low, high) to keep pixels in a range after every step, or None.

    Returns:
        (X_fooling, steps): the images and, per image, the steps it took (-1: not fooled).
    """
    from tqdm.auto import tqdm

    import striate

    X = np.array(X, dtype=np.float32)
    target = np.asarray(target, dtype=np.int64)
    steps = np.full(len(X), -1)
    it = tqdm(range(max_iter + 1), desc="fooling", leave=False, disable=not progress)
    for t in it:
        with striate.no_grad():
            pred = scores(model, _tensor(X), norm).numpy().argmax(1)
        newly = (pred == target) & (steps < 0)
        steps[newly] = t
        todo = np.flatnonzero(steps < 0)
        if todo.size == 0 or t == max_iter:
            break
        g = _grad_of_scores(model, X[todo], target[todo], norm)
        norms = np.sqrt((g.reshape(len(todo), -1) ** 2).sum(1)).reshape(-1, 1, 1, 1)
        X[todo] += lr * g / np.maximum(norms, 1e-12)
        if clip is not None:
            np.clip(X, clip[0], clip[1], out=X)
    return X, steps


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(img, sigma=(0,) * (img.ndim - 2) + (sigma, sigma))


def class_visualization(model, target: int, shape, norm=None, num_iterations: int = 100,
                        lr: float = 0.5, l2_reg: float = 1e-3, blur_every: int = 20,
                        blur_sigma: float = 0.3, max_jitter: int = 1,
                        clip_pixels: float = 0.0, clip_grad: float = 0.0,
                        value_range: tuple = (0.0, 1.0), init=None, seed: int = 0,
                        progress: bool = False) -> np.ndarray:
    """An image the model scores highly as class ``target`` (Simonyan et al. 2014, with the
    regularisers of Yosinski et al. 2015): gradient ascent on ``score_target - l2_reg ||x||^2``.

    Every step jitters the image by up to ``max_jitter`` pixels (undone after the step), takes a
    normalised step ``lr * g / ||g||``, zeroes gradient entries below the ``clip_grad``
    quantile of |g| and pixels below the ``clip_pixels`` quantile of |x| (0 turns either off),
    clips to ``value_range``; every ``blur_every`` steps a Gaussian blur of ``blur_sigma``
    pixels. These priors keep the image near natural images' statistics: without them the
    ascent finds high-frequency patterns.

    Args:
        shape: (C, H, W) of one image. init: a starting image (default: small noise).

    Returns:
        (C, H, W) array.
    """
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    x = (np.array(init, dtype=np.float32).reshape(1, *shape) if init is not None
         else (0.05 * rng.random((1, *shape))).astype(np.float32))
    n_classes = None
    for t in tqdm(range(num_iterations), desc="class visualization", leave=False,
                  disable=not progress):
        ox, oy = rng.integers(-max_jitter, max_jitter + 1, size=2) if max_jitter else (0, 0)
        x = np.roll(x, (ox, oy), axis=(2, 3))
        xt = _tensor(x, requires_grad=True)
        s = scores(model, xt, norm)
        if n_classes is None:
            n_classes = s.shape[1]
            check_class(n_classes, target, "target class")
        obj = s[0, target] - l2_reg * (xt * xt).sum()
        obj.backward()
        g = xt.grad.numpy()
        if clip_grad > 0:
            g = np.where(np.abs(g) >= np.quantile(np.abs(g), clip_grad), g, 0)
        x = x + lr * g / max(float(np.sqrt((g ** 2).sum())), 1e-12)
        x = np.roll(x, (-ox, -oy), axis=(2, 3))
        if clip_pixels > 0:
            x = np.where(np.abs(x) >= np.quantile(np.abs(x), clip_pixels), x, 0)
        x = np.clip(x, value_range[0], value_range[1]).astype(np.float32)
        if blur_every and (t + 1) % blur_every == 0:
            x = _blur(x, blur_sigma).astype(np.float32)
    return x[0]
