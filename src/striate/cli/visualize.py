"""``striate visualize TOOL RUN_OR_CHECKPOINT [IMAGE...]``: the tools of ``striate.vis`` on a
model trained with ``striate train`` (filters, activations, neighbors, tsne, patches, occlusion,
saliency, guided, classviz, fool) or, for the image-synthesis tools (dream, invert, texture,
style, faststyle), on a feature extractor: ``random`` (a shallow network with random filters), a
run folder or checkpoint of a model on colour images, or ``vgg16:PATH`` (a torchvision VGG
state dict on disk). Each writes PNGs and ``numbers.json`` into a new run folder.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from . import CommandError, non_negative_float, positive_int, run_dir

MODEL_TOOLS = ("filters", "activations", "neighbors", "tsne", "patches", "occlusion",
               "saliency", "guided", "classviz", "fool")
SYNTH_TOOLS = ("dream", "invert", "texture", "style", "faststyle")
SCALE = 16  # an 8x8 digit is drawn 128x128


# ---- shared pieces ---------------------------------------------------------------------------

def _run(args):
    from ..train.runs import load_run

    try:
        return load_run(args.run)
    except FileNotFoundError as e:
        raise CommandError(str(e)) from None


def _folder(args, tool: str) -> Path:
    out = run_dir(args.out, args.name or f"vis-{tool}")
    print(f"run folder: {out}")
    return out


def _finish(out: Path, numbers: dict) -> int:
    (out / "numbers.json").write_text(json.dumps(numbers, indent=2) + "\n")
    for k, v in numbers.items():
        if not isinstance(v, (list, dict)):
            print(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}")
    sys.stdout.flush()
    return 0


def _user_images(args, run) -> np.ndarray:
    """The IMAGE arguments in the model's channels and size (ink bright as in the digits)."""
    from ..vis import load_image

    c, h, w = run.config.get("input_shape", run.data.input_shape)
    imgs = []
    for p in args.images:
        try:
            a = load_image(p, size=(h, w), channels=c)
        except (FileNotFoundError, ValueError) as e:
            raise CommandError(str(e)) from None
        if c == 1 and a.mean() > 0.5:  # a dark digit on white paper: invert like the data
            a = 1.0 - a
        imgs.append(a)
    return np.stack(imgs).astype(np.float32)


def _predict(run, X) -> np.ndarray:
    import striate

    from ..vis import scores

    with striate.no_grad():
        return scores(run.model, striate.tensor(np.asarray(X, np.float32)), run.norm).numpy()


def _examples(args, run, count: int):
    """(images, labels): the IMAGE arguments labelled by the model, else the first ``count``
    test images the model classifies correctly."""
    if args.images:
        X = _user_images(args, run)
        return X, _predict(run, X).argmax(1)
    X, y = run.data.test.X.astype(np.float32), run.data.test.y
    ok = np.flatnonzero(_predict(run, X).argmax(1) == y)[:count]
    return X[ok], y[ok]


def _layer_arg(run, name):
    from ..vis import get_layer

    try:
        get_layer(run.model, name)
    except KeyError as e:
        raise CommandError(e.args[0]) from None
    return name


def _rows(*columns, pad=1) -> np.ndarray:
    """Images side by side, one row per example: each column a (N, C, H, W) array in [0, 1]."""
    from ..vis import make_grid

    cols = [np.asarray(c, np.float32) for c in columns]
    cmax = max(c.shape[1] for c in cols)
    cols = [np.repeat(c, cmax // c.shape[1], axis=1) if c.shape[1] != cmax else c for c in cols]
    tiles = np.stack(cols, axis=1).reshape(-1, *cols[0].shape[1:])
    return make_grid(tiles, nrow=len(cols), pad=pad)


def _columns(*rows, pad=1) -> np.ndarray:
    """Examples side by side, one row per kind (image, map, ...): each row (N, C, H, W)."""
    from ..vis import make_grid

    rows = [np.asarray(r, np.float32) for r in rows]
    cmax = max(r.shape[1] for r in rows)
    rows = [np.repeat(r, cmax // r.shape[1], axis=1) if r.shape[1] != cmax else r for r in rows]
    return make_grid(np.concatenate(rows), nrow=len(rows[0]), pad=pad)


def _unit(maps) -> np.ndarray:
    """Each map scaled to [0, 1] by its own maximum |value|, with a channel axis."""
    m = np.abs(np.asarray(maps, np.float32))
    if m.ndim == 3:
        m = m[:, None]
    return m / np.maximum(m.max(axis=(1, 2, 3), keepdims=True), 1e-12)


# ---- looking at the network --------------------------------------------------------------------

def filters(args) -> int:
    from ..vis import filter_grid, first_conv, save_png

    run = _run(args)
    try:
        name, conv = first_conv(run.model)
    except ValueError as e:
        raise CommandError(str(e)) from None
    grid = filter_grid(run.model)
    out = _folder(args, "filters")
    save_png(out / "filters.png", grid, scale=SCALE // 2)
    return _finish(out, {"layer": name, "filters": list(conv.weight.shape)})


def activations_cmd(args) -> int:
    from ..vis import activation_grid, save_png

    run = _run(args)
    layer = _layer_arg(run, args.layer)
    X, y = _examples(args, run, 1)
    out = _folder(args, "activations")
    try:
        grid = activation_grid(run.model, X[0], layer, run.norm)
    except ValueError as e:
        raise CommandError(str(e)) from None
    save_png(out / "input.png", X[0], scale=SCALE)
    save_png(out / "activations.png", grid, scale=SCALE // 2)
    return _finish(out, {"layer": layer, "image_label": int(y[0])})


def neighbors(args) -> int:
    from ..vis import hidden_features, nearest_neighbors, save_png

    run = _run(args)
    Xq, yq = run.data.test.X[:args.count].astype(np.float32), run.data.test.y[:args.count]
    Xd, yd = run.data.train.X.astype(np.float32), run.data.train.y
    fq = hidden_features(run.model, Xq, run.norm)
    fd = hidden_features(run.model, Xd, run.norm)
    idx = nearest_neighbors(fq, fd, args.k)
    pix = nearest_neighbors(Xq.reshape(len(Xq), -1), Xd.reshape(len(Xd), -1), args.k)
    out = _folder(args, "neighbors")
    save_png(out / "neighbors.png", _rows(Xq, *[Xd[idx[:, j]] for j in range(args.k)]),
             scale=SCALE // 2)
    save_png(out / "neighbors_pixels.png", _rows(Xq, *[Xd[pix[:, j]] for j in range(args.k)]),
             scale=SCALE // 2)
    return _finish(out, {
        "queries": len(Xq), "k": args.k,
        "same_label_features": float((yd[idx] == yq[:, None]).mean()),
        "same_label_pixels": float((yd[pix] == yq[:, None]).mean()),
    })


def _thumbnail_scatter(path, points, images, labels, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    fig, ax = plt.subplots(figsize=(6, 6), dpi=80)
    cmap = plt.get_cmap("tab10")
    ax.scatter(points[:, 0], points[:, 1], s=2, c=[cmap(int(c) % 10) for c in labels])
    for p, img, c in zip(points, images, labels):
        im = img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0)
        box = OffsetImage(im, zoom=1.5, cmap="gray")
        ax.add_artist(AnnotationBbox(box, p, frameon=True, pad=0.05,
                                     bboxprops={"edgecolor": cmap(int(c) % 10), "lw": 1}))
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def tsne(args) -> int:
    from ..vis import embed, hidden_features, knn_accuracy

    run = _run(args)
    X = run.data.test.X.astype(np.float32)[:args.count]
    y = run.data.test.y[:args.count]
    f = hidden_features(run.model, X, run.norm)
    out = _folder(args, "tsne")
    numbers = {"images": len(X), "features": int(f.shape[1]),
               "knn5_accuracy_features": knn_accuracy(f, y, 5)}
    for method in ("pca", "tsne") if args.method == "both" else (args.method,):
        pts = embed(f, method, seed=args.seed)
        acc = knn_accuracy(pts, y, 5)
        numbers[f"knn5_accuracy_{method}_2d"] = acc
        _thumbnail_scatter(out / f"{method}.png", pts, X, y,
                           f"{method.upper()} of the last hidden layer; 5-NN accuracy in 2-D "
                           f"{100 * acc:.1f}%")
    return _finish(out, numbers)


def patches(args) -> int:
    from ..vis import make_grid, max_activating_patches, receptive_field, save_png

    run = _run(args)
    layer = _layer_arg(run, args.layer)
    try:
        P, vals, idx, pos = max_activating_patches(run.model, run.data.train.X, layer,
                                                   args.channel, args.count, run.norm)
        rf = receptive_field(run.model, layer)
    except ValueError as e:
        raise CommandError(str(e)) from None
    out = _folder(args, "patches")
    save_png(out / "patches.png", make_grid(P, nrow=8, pad=1), scale=SCALE)
    return _finish(out, {"layer": layer, "channel": args.channel,
                         "receptive_field": list(rf.size), "jump": list(rf.jump),
                         "start": list(rf.start), "top_activation": float(vals[0])})


def occlusion(args) -> int:
    from ..vis import occlusion_map, save_png

    run = _run(args)
    X, y = _examples(args, run, args.count)
    out = _folder(args, "occlusion")
    maps = [occlusion_map(run.model, x, int(c), run.norm, patch=args.patch, fill=args.fill)
            for x, c in zip(X, y)]
    h, w = X.shape[2:]
    # each map enlarged to the image's size (a map of (H - p + 1) positions, centred)
    big = []
    for m in maps:
        canvas = np.ones((h, w), np.float32)
        o = args.patch // 2
        canvas[o:o + m.shape[0], o:o + m.shape[1]] = m
        big.append(canvas[None])
    save_png(out / "occlusion.png", _columns(X, np.stack(big)), scale=SCALE // 2)
    return _finish(out, {"images": len(X), "patch": args.patch,
                         "min_probability": [float(m.min()) for m in maps]})


# ---- gradients with respect to the image -------------------------------------------------------

def _gradient_map(args, tool):
    from ..vis import guided_backprop, saliency, save_png, stroke_ratio

    run = _run(args)
    X, y = _examples(args, run, args.count)
    fn = saliency if tool == "saliency" else guided_backprop
    try:
        maps = fn(run.model, X, y, run.norm)
    except ValueError as e:
        raise CommandError(str(e)) from None
    out = _folder(args, tool)
    save_png(out / f"{tool}.png", _columns(X, _unit(maps if maps.ndim == 3 else
                                                     np.abs(maps).max(axis=1))),
             scale=SCALE // 2)
    numbers = {"images": len(X)}
    if X.shape[1] == 1:
        numbers["stroke_ratio"] = stroke_ratio(maps, X)
    return _finish(out, numbers)


def saliency_cmd(args) -> int:
    return _gradient_map(args, "saliency")


def guided(args) -> int:
    return _gradient_map(args, "guided")


def classviz(args) -> int:
    from ..vis import check_class, class_visualization, make_grid, save_png

    run = _run(args)
    n = len(run.classes)
    targets = list(range(n)) if args.target is None else [args.target]
    for t in targets:
        try:
            check_class(n, t, "--class")
        except ValueError as e:
            raise CommandError(str(e)) from None
    shape = tuple(run.config.get("input_shape", run.data.input_shape))
    out = _folder(args, "classviz")
    imgs = [class_visualization(run.model, t, shape, run.norm,
                                num_iterations=args.iterations, lr=args.lr,
                                l2_reg=args.l2_reg, blur_every=args.blur_every,
                                max_jitter=args.jitter, clip_pixels=args.clip_pixels,
                                clip_grad=args.clip_grad, seed=args.seed,
                                progress=not args.no_progress) for t in targets]
    imgs = np.stack(imgs)
    probs = _softmax(_predict(run, imgs))
    save_png(out / "classviz.png", make_grid(imgs, nrow=10, pad=1), scale=SCALE)
    p_target = [float(probs[i, t]) for i, t in enumerate(targets)]
    return _finish(out, {"classes": targets, "probability_of_target": p_target,
                         "mean_probability_of_target": float(np.mean(p_target))})


def _softmax(s):
    e = np.exp(s - s.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def fool(args) -> int:
    from ..vis import fooling_images, save_png

    run = _run(args)
    X, y = _examples(args, run, args.count)
    n = len(run.classes)
    target = (y + 1) % n
    Xf, steps = fooling_images(run.model, X, target, run.norm, lr=args.lr,
                               max_iter=args.iterations, progress=not args.no_progress)
    pred = _predict(run, Xf).argmax(1)
    d = (Xf - X).reshape(len(X), -1)
    out = _folder(args, "fool")
    diff = np.clip(0.5 + args.magnify * (Xf - X), 0, 1)
    save_png(out / "fool.png", _columns(X, np.clip(Xf, 0, 1), diff), scale=SCALE // 2)
    return _finish(out, {
        "images": len(X), "fooled": int((pred == target).sum()),
        "mean_l2": float(np.sqrt((d ** 2).sum(1)).mean()),
        "max_abs_delta": float(np.abs(d).max()),
        "mean_steps": float(steps[steps >= 0].mean()) if (steps >= 0).any() else -1.0,
    })


# ---- synthesis on a feature extractor -------------------------------------------------------

def _extractor(spec: str, seed: int):
    """``random``, ``vgg11|13|16|19:PATH`` or a run folder / checkpoint of a colour model."""
    from ..vis import checkpoint_features, first_conv, random_features, vgg_features

    if spec == "random":
        return random_features(seed=seed), "random shallow network"
    kind, _, path = spec.partition(":")
    if kind in ("vgg11", "vgg13", "vgg16", "vgg19") and path:
        if not Path(path).is_file():
            raise CommandError(f"no such VGG state dict: {path}")
        return vgg_features(path, kind), f"{kind} from {path}"
    from ..train.runs import load_run

    try:
        run = load_run(spec)
    except FileNotFoundError as e:
        raise CommandError(f"{e} (or give 'random' or vgg16:PATH)") from None
    try:
        cnn = checkpoint_features(run.model)
        channels = first_conv(cnn)[1].in_channels
    except ValueError as e:
        raise CommandError(str(e)) from None
    if channels != 3:
        raise CommandError(f"{spec}: the model takes {channels}-channel images; image synthesis "
                           "needs a model of colour images, 'random' or vgg16:PATH")
    return cnn, f"{run.config['model']} from {run.path}"


def _photo(path, size):
    from ..vis import load_image, preprocess

    try:
        return preprocess(load_image(path, size=size))
    except (FileNotFoundError, ValueError, ImportError) as e:
        raise CommandError(str(e)) from None


def _layers(args, cnn):
    from ..vis import default_layers

    content, style = default_layers(cnn)
    if args.content_layer is not None:
        content = args.content_layer
    if args.style_layers:
        style = tuple(int(s) for s in args.style_layers.split(","))
    for i in (content, *style):
        if not 0 <= i < len(cnn):
            raise CommandError(f"layer index {i} is out of range: the extractor has "
                               f"{len(cnn)} modules (0..{len(cnn) - 1})")
    return content, style


def _need_images(args, n, what):
    if len(args.images) != n:
        raise CommandError(f"{args.tool} needs {what}, got {len(args.images)} image(s)")


def _loss_plot(path, losses, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
    ax.semilogy(losses, ".-", ms=3, lw=0.8, label="each evaluation")
    ax.semilogy(np.minimum.accumulate(losses), lw=1.5, label="best so far")
    ax.set_xlabel("loss evaluation")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _side_by_side(*imgs):
    """(C, H, W) images of possibly different sizes in one row, aligned at the top."""
    h = max(i.shape[1] for i in imgs)
    w = sum(i.shape[2] for i in imgs) + 2 * (len(imgs) - 1)
    out = np.ones((3, h, w), np.float32)
    x = 0
    for i in imgs:
        out[:, :i.shape[1], x:x + i.shape[2]] = i
        x += i.shape[2] + 2
    return out


def synth(args) -> int:
    from .. import vis

    tool = args.tool
    cnn, described = _extractor(args.run, args.seed)
    content_layer, style_layers = _layers(args, cnn)
    progress = not args.no_progress
    weights = [args.style_weight] * len(style_layers)
    numbers: dict = {"extractor": described, "content_layer": content_layer,
                     "style_layers": list(style_layers)}
    if tool in ("dream", "invert"):
        _need_images(args, 1, "one image")
        x = _photo(args.images[0], args.size)
        layer = args.layer if args.layer is not None else content_layer
        if not 0 <= layer < len(cnn):
            raise CommandError(f"--layer {layer} is out of range: the extractor has {len(cnn)} "
                               f"modules (0..{len(cnn) - 1})")
        out = _folder(args, tool)
        if tool == "dream":
            y, obj = vis.deep_dream(cnn, x, layer, num_octaves=args.octaves,
                                    iterations=args.iterations, lr=args.lr or 0.05,
                                    seed=args.seed, progress=progress)
            numbers.update(layer=layer, objective_first=obj[0], objective_last=obj[-1])
        else:
            y, losses = vis.invert_features(cnn, x, layer, args.tv_weight, args.iterations,
                                            args.optimizer, args.lr, args.seed, progress)
            numbers.update(layer=layer, loss_first=losses[0], loss_last=losses[-1])
            _loss_plot(out / "loss.png", losses, f"feature inversion, layer {layer}")
        vis.save_png(out / f"{tool}.png", _side_by_side(vis.deprocess(x), vis.deprocess(y)))
        return _finish(out, numbers)
    if tool == "texture":
        _need_images(args, 1, "one texture image")
        s = _photo(args.images[0], args.size)
        out = _folder(args, tool)
        y, losses = vis.texture_synthesis(cnn, s, style_layers, weights, args.iterations,
                                          args.optimizer, args.lr, args.seed,
                                          progress=progress)
        vis.save_png(out / "texture.png", _side_by_side(vis.deprocess(s), vis.deprocess(y)))
        _loss_plot(out / "loss.png", losses, "texture synthesis")
        numbers.update(loss_first=losses[0], loss_last=losses[-1], evaluations=len(losses) - 1)
        return _finish(out, numbers)
    if tool == "style":
        _need_images(args, 2, "a content and a style image")
        c, s = _photo(args.images[0], args.size), _photo(args.images[1], args.size)
        out = _folder(args, tool)
        y, losses = vis.style_transfer(cnn, c, s, content_layer, args.content_weight,
                                       style_layers, weights, args.tv_weight, args.iterations,
                                       args.optimizer, args.lr, args.init, args.seed, progress)
        vis.save_png(out / "style.png", _side_by_side(vis.deprocess(c), vis.deprocess(s),
                                                      vis.deprocess(y)))
        _loss_plot(out / "loss.png", losses, f"style transfer ({args.optimizer})")
        np.savetxt(out / "losses.txt", losses)
        # trial points of the line search may rise; the iterate it ends on is the lowest seen
        numbers.update(loss_first=losses[0], loss_last=losses[-1],
                       evaluations=len(losses) - 1,
                       evaluations_above_previous=int((np.diff(losses) > 0).sum()),
                       final_is_lowest=bool(losses[-1] <= min(losses)))
        return _finish(out, numbers)
    # faststyle: STYLE [CONTENT]
    if not 1 <= len(args.images) <= 2:
        raise CommandError(f"faststyle needs a style image and optionally a content image, got "
                           f"{len(args.images)} image(s)")
    s = _photo(args.images[0], args.size)
    content = args.images[1] if len(args.images) == 2 else "chelsea"
    photos = [_photo(p, max(args.crop, 128))[0] for p in args.train_images.split(",")]
    out = _folder(args, tool)
    net, losses = vis.train_fast_style(cnn, s, photos, content_layer, args.content_weight,
                                       style_layers, weights, args.tv_weight, steps=args.steps,
                                       crop=args.crop, seed=args.seed, progress=progress)
    import striate

    striate.save(net.state_dict(), out / "faststyle.npz")
    x = _photo(content, (256, 256))
    vis.stylize(net, x)  # the first call pays for one-time setup (compiled loops)
    t0 = time.perf_counter()
    y = vis.stylize(net, x)
    seconds = time.perf_counter() - t0
    loss_fn = vis.style_transfer_loss(cnn, x, s, content_layer, args.content_weight,
                                      style_layers, weights, args.tv_weight)
    with striate.no_grad():
        fast_loss = float(loss_fn(striate.tensor(y)))
    opt_img, opt_losses = vis.style_transfer(cnn, x, s, content_layer, args.content_weight,
                                             style_layers, weights, args.tv_weight,
                                             args.iterations, progress=progress)
    vis.save_png(out / "faststyle.png", _side_by_side(vis.deprocess(x), vis.deprocess(s),
                                                      vis.deprocess(y), vis.deprocess(opt_img)))
    _loss_plot(out / "loss.png", losses, "fast style network, training loss per step")
    numbers.update(train_steps=args.steps, train_loss_first=losses[0], train_loss_last=losses[-1],
                   stylize_seconds_256=seconds, fast_loss=fast_loss,
                   content_image_loss=opt_losses[0], optimized_loss=opt_losses[-1],
                   fast_over_optimized=fast_loss / opt_losses[-1])
    return _finish(out, numbers)


# ---- the parser -----------------------------------------------------------------------------

HELP = {
    "filters": "the first convolution's filters as an image grid",
    "activations": "activation maps of a named layer for an image",
    "neighbors": "nearest training images in the last hidden layer's feature space",
    "tsne": "PCA / t-SNE of the last hidden layer, as a scatter of thumbnails",
    "patches": "maximally activating patches (receptive fields) of a channel",
    "occlusion": "occlusion maps: probability of the true class under a sliding grey patch",
    "saliency": "saliency maps: max over channels of |d score / d image|",
    "guided": "guided backpropagation",
    "classviz": "class visualization by regularised gradient ascent",
    "fool": "fooling images: the smallest push to the next class",
    "dream": "DeepDream: amplify a layer's activations over octaves",
    "invert": "feature inversion with total-variation regularisation",
    "texture": "Gram-matrix texture synthesis",
    "style": "neural style transfer (L-BFGS or Adam)",
    "faststyle": "train a feed-forward style network; time it and compare its loss",
}


def visualize(args) -> int:
    handler = {"filters": filters, "activations": activations_cmd, "neighbors": neighbors,
               "tsne": tsne, "patches": patches, "occlusion": occlusion,
               "saliency": saliency_cmd, "guided": guided, "classviz": classviz,
               "fool": fool}.get(args.tool, synth)
    return handler(args)


def add_parsers(sub) -> None:
    """``striate visualize TOOL ...``."""
    v = sub.add_parser("visualize", help="see inside a trained ConvNet; texture and style",
                       description=__doc__)
    tools = v.add_subparsers(dest="tool", metavar="TOOL", required=True)
    for tool in MODEL_TOOLS + SYNTH_TOOLS:
        p = tools.add_parser(tool, help=HELP[tool], description=HELP[tool])
        what = ("RUN_OR_CHECKPOINT" if tool in MODEL_TOOLS else "EXTRACTOR")
        p.add_argument("run", metavar=what,
                       help="a run folder of `striate train` or a checkpoint .npz" +
                       ("" if tool in MODEL_TOOLS else
                        "; or 'random' (a shallow net of random filters) or vgg16:PATH "
                        "(a torchvision VGG state dict; also vgg11, vgg13, vgg19)"))
        p.add_argument("images", metavar="IMAGE", nargs="*",
                       help="image files (or samples: astronaut, chelsea, coffee, china, "
                       "flower); model tools default to correctly classified test images")
        p.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
        p.add_argument("--name", default=None, help="run name (default: vis-TOOL)")
        p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
        p.add_argument("--no-progress", action="store_true", help="no progress bars")
        if tool in ("activations", "patches"):
            p.add_argument("--layer", required=True,
                           help="a layer name, e.g. features.2 (a wrong one lists them)")
        if tool == "patches":
            p.add_argument("--channel", type=int, default=0, help="default: %(default)s")
        if tool in ("neighbors", "tsne", "patches", "occlusion", "saliency", "guided", "fool"):
            default = {"neighbors": 8, "tsne": 300, "patches": 16, "occlusion": 4,
                       "fool": 20}.get(tool, 10)
            p.add_argument("--count", type=positive_int, default=default,
                           help="images (default: %(default)s)")
        if tool == "neighbors":
            p.add_argument("--k", type=positive_int, default=5, help="default: %(default)s")
        if tool == "tsne":
            p.add_argument("--method", choices=("tsne", "pca", "both"), default="both",
                           help="default: %(default)s")
        if tool == "occlusion":
            p.add_argument("--patch", type=positive_int, default=2, help="default: 2 pixels")
            p.add_argument("--fill", type=float, default=0.5, help="grey level (default 0.5)")
        if tool == "classviz":
            p.add_argument("--class", dest="target", type=int, default=None,
                           help="class index (default: every class)")
            p.add_argument("--l2-reg", type=non_negative_float, default=1e-3)
            p.add_argument("--blur-every", type=int, default=20)
            p.add_argument("--jitter", type=int, default=1, help="max jitter in pixels")
            p.add_argument("--clip-pixels", type=non_negative_float, default=0.0,
                           help="zero pixels below this quantile of |x| (default: off)")
            p.add_argument("--clip-grad", type=non_negative_float, default=0.0,
                           help="zero gradients below this quantile of |g| (default: off)")
        if tool in ("classviz", "fool"):
            p.add_argument("--iterations", type=positive_int,
                           default=100 if tool == "classviz" else 200)
            p.add_argument("--lr", type=non_negative_float,
                           default=0.5 if tool == "classviz" else 0.1,
                           help="L2 length of a step (default: %(default)s)")
        if tool == "fool":
            p.add_argument("--magnify", type=non_negative_float, default=5.0,
                           help="the difference is drawn magnified (default: %(default)s)")
        if tool in SYNTH_TOOLS:
            p.add_argument("--size", type=positive_int, default=128,
                           help="shorter side of the images in pixels (default: %(default)s)")
            p.add_argument("--iterations", type=positive_int,
                           default={"dream": 10, "invert": 100}.get(tool, 50))
            p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
            p.add_argument("--lr", type=non_negative_float, default=None,
                           help="step size (default: 1 for L-BFGS, 0.05 for Adam and dream)")
            p.add_argument("--layer", type=int, default=None,
                           help="dream / invert: the extractor's module index (default: the "
                           "content layer)")
            p.add_argument("--content-layer", type=int, default=None)
            p.add_argument("--style-layers", default=None, help="comma-separated indices")
            p.add_argument("--content-weight", type=non_negative_float, default=1e-2)
            p.add_argument("--style-weight", type=non_negative_float, default=1e5)
            p.add_argument("--tv-weight", type=non_negative_float,
                           default=1e-5 if tool == "invert" else 1e-3,
                           help="total-variation weight (default: %(default)s)")
            p.add_argument("--init", choices=("content", "random"), default="content")
            p.add_argument("--octaves", type=positive_int, default=3)
        if tool == "faststyle":
            p.add_argument("--steps", type=positive_int, default=200,
                           help="training steps (default: %(default)s)")
            p.add_argument("--crop", type=positive_int, default=64,
                           help="training crop size, a multiple of 4 (default: %(default)s)")
            p.add_argument("--train-images", default="china,flower",
                           help="comma-separated training photographs (default: %(default)s)")
        p.set_defaults(handler=visualize)
