"""Images made by optimising pixels through a fixed feature extractor: Gram-matrix texture
synthesis, neural style transfer (Gatys et al.), DeepDream and feature inversion
(Mahendran & Vedaldi).

Images here are preprocessed batches (1, 3, H, W) (``images.preprocess``); the results come back
in the same space (``images.deprocess`` turns them into pictures). Each function returns the
image and the loss per iteration.
"""

from __future__ import annotations

import numpy as np

from .images import resize
from .style import content_loss, extract_features, gram_matrix, style_loss, tv_loss

__all__ = ["texture_synthesis", "style_transfer", "style_transfer_loss", "deep_dream",
           "invert_features",
           "optimize_image"]


def _t(a, requires_grad=False):
    import striate

    return striate.tensor(np.asarray(getattr(a, "array", a), dtype=np.float32),
                          requires_grad=requires_grad)


def _check_layers(feats, layers, what):
    for i in layers:
        if not isinstance(i, (int, np.integer)) or not -len(feats) <= i < len(feats):
            raise ValueError(f"{what}: layer index {i!r} is out of range: the extractor has "
                             f"{len(feats)} modules (0..{len(feats) - 1})")


def optimize_image(loss_fn, x0, num_iterations: int, optimizer: str = "lbfgs",
                   lr: float | None = None, progress: bool = False, desc: str = "optimizing"):
    """Minimise ``loss_fn(x)`` (a scalar Tensor) over the pixels of ``x``, from ``x0``.

    ``"lbfgs"``: ``striate.optim.LBFGS`` with the strong-Wolfe line search, all
    ``num_iterations`` iterations in one ``step`` (its curvature history intact); the line
    search's trial points may rise, the points it accepts never do. ``"adam"``: Adam steps.

    Returns:
        (x as an array, losses: every evaluation of the loss, in order; for L-BFGS their
        running minimum is the accepted path).
    """
    from tqdm.auto import tqdm

    import striate

    x = _t(x0, requires_grad=True)
    losses = []
    if optimizer == "lbfgs":
        opt = striate.optim.LBFGS([x], lr=1.0 if lr is None else lr, max_iter=num_iterations,
                                  max_eval=3 * num_iterations, history_size=20,
                                  line_search_fn="strong_wolfe", tolerance_change=0.0)
        total = 3 * num_iterations
    elif optimizer == "adam":
        opt = striate.optim.Adam([x], lr=0.05 if lr is None else lr)
        total = num_iterations
    else:
        raise ValueError(f"optimize_image: optimizer must be 'lbfgs' or 'adam', got "
                         f"{optimizer!r}")
    bar = tqdm(total=total, desc=desc, leave=False, disable=not progress)

    def closure():
        opt.zero_grad()
        loss = loss_fn(x)
        loss.backward()
        losses.append(float(loss))
        bar.update()
        bar.set_postfix(loss=f"{min(losses):.4g}")
        return loss

    if optimizer == "lbfgs":
        opt.step(closure)
    else:
        for _ in range(num_iterations):
            opt.step(closure)
    bar.close()
    with striate.no_grad():
        losses.append(float(loss_fn(x)))
    return x.detach().numpy().copy(), losses


def texture_synthesis(cnn, style, style_layers, style_weights, num_iterations: int = 50,
                      optimizer: str = "lbfgs", lr: float | None = None, seed: int = 0,
                      size=None, progress: bool = False):
    """Gram-matrix texture synthesis (Gatys et al. 2015): from noise, match the style image's
    Gram matrices at ``style_layers``.

    Args:
        cnn: an extractor (``nn.Sequential``); style: the texture (1, 3, H, W).
        size: (H, W) of the result (default: the texture's).
    """
    import striate

    with striate.no_grad():
        sf = extract_features(_t(style), cnn)
    _check_layers(sf, style_layers, "texture_synthesis")
    targets = [gram_matrix(sf[i]).detach() for i in style_layers]
    shape = (1, 3, *(size or style.shape[2:]))
    x0 = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * 0.5

    def loss_fn(x):
        return style_loss(extract_features(x, cnn), style_layers, targets, style_weights)

    return optimize_image(loss_fn, x0, num_iterations, optimizer, lr, progress, "texture")


def style_transfer(cnn, content, style, content_layer: int, content_weight: float,
                   style_layers, style_weights, tv_weight: float, num_iterations: int = 50,
                   optimizer: str = "lbfgs", lr: float | None = None, init: str = "content",
                   seed: int = 0, progress: bool = False):
    """Neural style transfer (Gatys et al. 2016): an image whose features at ``content_layer``
    match ``content``'s and whose Gram matrices at ``style_layers`` match ``style``'s, with
    total-variation smoothing: minimise content_loss + style_loss + tv_loss.

    Args:
        content, style: (1, 3, H, W) preprocessed images (sizes may differ).
        init: start from the ``"content"`` image or from ``"random"`` noise.

    Returns:
        (image (1, 3, H, W), losses per iteration).
    """
    loss_fn = style_transfer_loss(cnn, content, style, content_layer, content_weight,
                                  style_layers, style_weights, tv_weight)
    if init == "content":
        x0 = np.asarray(content, dtype=np.float32)
    elif init == "random":
        x0 = np.random.default_rng(seed).standard_normal(np.shape(content)).astype(np.float32)
    else:
        raise ValueError(f"style_transfer: init must be 'content' or 'random', got {init!r}")
    return optimize_image(loss_fn, x0, num_iterations, optimizer, lr, progress, "style")


def style_transfer_loss(cnn, content, style, content_layer, content_weight, style_layers,
                        style_weights, tv_weight):
    """The style-transfer objective as a function of a batch of images (its targets computed
    once): content loss + style loss + TV loss, summed over the batch (the fast style network
    trains on it)."""
    import striate

    with striate.no_grad():
        cf = extract_features(_t(content), cnn)
        sf = extract_features(_t(style), cnn)
    _check_layers(cf, [content_layer, *style_layers], "style_transfer")
    c_target = cf[content_layer].detach()
    s_targets = [gram_matrix(sf[i]).detach() for i in style_layers]

    def loss_fn(x, c_target=c_target):
        f = extract_features(x, cnn)
        return (content_loss(content_weight, f[content_layer], c_target)
                + style_loss(f, style_layers, s_targets, style_weights)
                + tv_loss(x, tv_weight))

    return loss_fn


def deep_dream(cnn, image, layer: int, num_octaves: int = 3, octave_scale: float = 1.4,
               iterations: int = 10, lr: float = 0.05, max_jitter: int = 4, seed: int = 0,
               progress: bool = False):
    """DeepDream (Mordvintsev et al. 2015): gradient ascent on ``sum(a**2) / 2`` of layer
    ``layer``'s activations ``a``, so whatever the layer sees a little of it sees more of.

    Multi-scale: the image is shrunk ``num_octaves - 1`` times by ``octave_scale``; starting at
    the smallest, each octave ascends, then the detail it added is enlarged onto the next size.
    Each step rolls the image by a random jitter (undone after), takes a step of ``lr`` times
    the gradient over its mean magnitude, and clips the pixels to the image range.

    Returns:
        (image (1, 3, H, W), the objective at each step).
    """
    from tqdm.auto import tqdm

    from .images import IMAGENET_MEAN, IMAGENET_STD

    rng = np.random.default_rng(seed)
    base = np.asarray(image, dtype=np.float32)[0]
    # keep pixels inside [0, 1] once deprocessed
    low = (-IMAGENET_MEAN / IMAGENET_STD)[:, None, None]
    high = ((1 - IMAGENET_MEAN) / IMAGENET_STD)[:, None, None]
    h, w = base.shape[1:]
    sizes = [(max(8, round(h / octave_scale ** k)), max(8, round(w / octave_scale ** k)))
             for k in reversed(range(num_octaves))]
    objective = []
    detail = np.zeros((3, *sizes[0]), np.float32)
    bar = tqdm(total=num_octaves * iterations, desc="dream", leave=False, disable=not progress)
    for size in sizes:
        octave_base = resize(base, size)
        detail = resize(detail, size)
        x = octave_base + detail
        for _ in range(iterations):
            oy, ox = rng.integers(-max_jitter, max_jitter + 1, size=2)
            x = np.roll(x, (oy, ox), axis=(1, 2))
            xt = _t(x[None], requires_grad=True)
            feats = extract_features(xt, cnn)
            _check_layers(feats, [layer], "deep_dream")
            a = feats[layer]
            obj = (a * a).sum() / 2
            obj.backward()
            g = xt.grad.numpy()[0]
            x = x + lr * g / max(float(np.abs(g).mean()), 1e-8)
            x = np.roll(x, (-oy, -ox), axis=(1, 2))
            x = np.clip(x, low, high)
            objective.append(float(obj))
            bar.update()
        detail = x - octave_base
    bar.close()
    return x[None].astype(np.float32), objective


def invert_features(cnn, image, layer: int, tv_weight: float = 1e-5,
                    num_iterations: int = 100, optimizer: str = "lbfgs",
                    lr: float | None = None, seed: int = 0, progress: bool = False):
    """Feature inversion (Mahendran & Vedaldi 2015): from noise, an image whose features at
    ``layer`` match ``image``'s, with total-variation regularisation; what survives shows what
    the layer keeps of the image. The feature term is normalised by the target's squared norm.

    Returns:
        (image (1, 3, H, W), losses per iteration).
    """
    import striate

    with striate.no_grad():
        f = extract_features(_t(image), cnn)
    _check_layers(f, [layer], "invert_features")
    target = f[layer].detach()
    scale = 1.0 / max(float((target * target).sum()), 1e-12)
    x0 = np.random.default_rng(seed).standard_normal(np.shape(image)).astype(np.float32) * 0.1

    def loss_fn(x):
        d = extract_features(x, cnn)[layer] - target
        return scale * (d * d).sum() + tv_loss(x, tv_weight)

    return optimize_image(loss_fn, x0, num_iterations, optimizer, lr, progress, "invert")
