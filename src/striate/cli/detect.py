"""``striate detect train|eval|predict`` and ``striate segment train|eval|predict``.

A run folder holds ``config.json`` (the model and the synthetic data's seed and sizes),
``metrics.csv``, ``loss.png``, ``checkpoint_best.npz`` / ``checkpoint_last.npz``,
``test_metrics.json`` and ``predictions.png`` (test images with the model's output drawn on
them). The data are rebuilt from the config. ``predict`` runs a trained model on the user's image
files (resized to the training size; boxes and masks are drawn back on the original image).
"""

from __future__ import annotations

import time
from pathlib import Path

from . import CommandError, non_negative_float, positive_int, run_dir
from .train import checkpoint_path


def _splits(config: dict) -> dict:
    from ..detect.scenes import make_splits

    return make_splits(config["n_train"], config["n_val"], config["n_test"],
                       config["image_size"], config["data_seed"])


def _load(run, kind: str):
    from ..train import load

    path = checkpoint_path(run)
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("config", {}).get("kind") != kind:
        raise CommandError(f"{path} is not a striate {kind} checkpoint")
    config = ckpt["config"]
    model = _build(kind, config)
    model.load_state_dict(ckpt["model"])
    model.eval()
    return path, config, model


def _build(kind: str, config: dict):
    if kind == "detect":
        from ..detect.zoo import build_detector

        return build_detector(config)
    from ..segment.zoo import build_segmenter

    return build_segmenter(config)


def _evaluate(kind: str, model, split, coco: bool = True) -> dict:
    if kind == "detect":
        from ..detect.zoo import evaluate_detector

        return evaluate_detector(model, split, coco)
    from ..segment.zoo import evaluate_segmenter

    return evaluate_segmenter(model, split)


def _score_key(kind: str) -> str:
    return "map50" if kind == "detect" else "mean_iou"


def _draw_split(kind: str, model, split, path: Path, n: int = 12) -> Path:
    from ..detect.draw import save_grid

    images = split.images[:n]
    if kind == "detect":
        preds = model.predict(images)
        titles = None
    else:
        preds = [{"semantic": s} for s in model.predict(images)]
        titles = None
    return save_grid(path, images, preds, split.classes, titles, ncols=6,
                     score_threshold=0.5 if kind == "detect" else 0.0)


def _train(kind: str, args) -> int:
    import striate

    from ..detect.training import fit
    from ..train.history import write_json

    defaults = model_defaults(kind, args.model)
    config = {"kind": kind, "model": args.model, "num_classes": 3 if kind == "detect" else 4,
              "epochs": args.epochs or defaults["epochs"],
              "batch_size": args.batch_size or defaults["batch_size"],
              "lr": args.lr or defaults["lr"], "seed": args.seed, "n_train": args.n_train,
              "n_val": args.n_val, "n_test": args.n_test, "image_size": args.image_size,
              "data_seed": args.data_seed}
    if kind == "segment":
        config["upsample"] = args.upsample
    elif args.image_size % 8:
        raise CommandError(f"--image-size must be a multiple of 8 for the detectors' strides, "
                           f"got {args.image_size}")
    striate.manual_seed(args.seed)
    data = _splits(config)
    model = _build(kind, config)
    out = run_dir(args.out, args.name or f"{kind}-{args.model}")
    write_json(str(out / "config.json"), config)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"striate {kind} train: {args.model} ({n_params:,} parameters) on {data['train']!r}")
    print(f"run folder: {out}")
    key = _score_key(kind)
    val = data["val"]

    def evaluate(m):
        r = _evaluate(kind, m, val, coco=False)
        return {f"val_{key}": r[key], "score": r[key]}

    start = time.perf_counter()
    fit(model, data["train"], config, evaluate, out, log=print, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    _, _, model = _load(out, kind)  # the best epoch
    result = _evaluate(kind, model, data["test"])
    result.update(split="test", train_seconds=seconds)
    write_json(str(out / "test_metrics.json"), result)
    pic = _draw_split(kind, model, data["test"], out / "predictions.png")
    print(_report(kind, result) + f"  (trained in {seconds:.0f} s)")
    print(f"predictions: {pic}")
    return 0


def model_defaults(kind: str, model: str) -> dict:
    if kind == "detect":
        from ..detect.zoo import DETECTORS

        return DETECTORS[model]
    from ..segment.zoo import SEGMENTERS

    return SEGMENTERS[model]


def _report(kind: str, r: dict) -> str:
    ms = 1000 * r["seconds_per_image"]
    if kind == "segment":
        return (f"{r.get('split', '')} mean IoU {r['mean_iou']:.3f}, pixel accuracy "
                f"{r['pixel_accuracy']:.3f}, {ms:.1f} ms per image")
    text = f"{r.get('split', '')} mAP@0.5 {r['map50']:.3f}"
    if "coco_map" in r:
        text += f", mAP@[.5:.95] {r['coco_map']:.3f}"
    if "mask_map50" in r:
        text += f", mask mAP@0.5 {r['mask_map50']:.3f}"
    return text + f", {ms:.1f} ms per image"


def _eval(kind: str, args) -> int:
    from ..train.history import write_json

    path, config, model = _load(args.run, kind)
    split = _splits(config)[args.split]
    result = _evaluate(kind, model, split)
    result["split"] = args.split
    print(f"{path}: {args.split} split, {len(split)} images")
    print(_report(kind, result))
    if args.output:
        write_json(args.output, result)
    return 0


def _read_image(path: Path, size: int):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            rgb = im.convert("RGB")
            original = np.asarray(rgb, np.float32) / 255.0
            small = np.asarray(rgb.resize((size, size), Image.BILINEAR), np.float32) / 255.0
    except (OSError, UnidentifiedImageError) as e:
        raise CommandError(f"cannot read image {path}: {e}") from None
    return original, small.transpose(2, 0, 1)


def _predict(kind: str, args) -> int:
    import numpy as np

    from ..detect.draw import save_grid
    from ..detect.scenes import CLASSES

    path, config, model = _load(args.run, kind)
    size = config["image_size"]
    out = Path(args.output) if args.output else Path(path).parent / "predict"
    out.mkdir(parents=True, exist_ok=True)
    for name in args.images:
        file = Path(name)
        if not file.is_file():
            raise CommandError(f"no such image: {file}")
        original, x = _read_image(file, size)
        H, W = original.shape[:2]
        if kind == "detect":
            p = model.predict(x[None])[0]
            keep = p["scores"] >= args.threshold
            boxes = p["boxes"][keep] * np.array([W / size, H / size] * 2, np.float32)
            pred = {"boxes": boxes, "scores": p["scores"][keep], "labels": p["labels"][keep]}
            if "masks" in p:
                pred["masks"] = _resize_masks(p["masks"][keep], H, W)
            lines = [f"  {CLASSES[lab]} {s:.2f} at ({b[0]:.0f}, {b[1]:.0f}, {b[2]:.0f}, "
                     f"{b[3]:.0f})" for b, s, lab in zip(boxes, pred["scores"], pred["labels"])]
            print(f"{file}: {len(boxes)} objects\n" + "\n".join(lines))
        else:
            sem = model.predict(x[None])[0]
            rows = (np.arange(H) * size // H)[:, None]
            cols = (np.arange(W) * size // W)[None, :]
            pred = {"semantic": sem[rows, cols]}
            counts = np.bincount(sem.ravel(), minlength=len(CLASSES)) / sem.size
            print(f"{file}: " + ", ".join(f"{CLASSES[c]} {100 * v:.1f}%"
                                          for c, v in enumerate(counts)))
        target = out / f"{file.stem}.png"
        save_grid(target, [original], [pred], CLASSES, ncols=1,
                  scale=max(3.0, min(8.0, W / 80)))
        print(f"  drawn: {target}")
    return 0


def _resize_masks(masks, H: int, W: int):
    import numpy as np

    h, w = masks.shape[1:] if masks.ndim == 3 else (1, 1)
    rows = (np.arange(H) * h // H)[:, None]
    cols = (np.arange(W) * w // W)[None, :]
    return masks[:, rows, cols]


def _common_train(p, models, default_model, n_train: int) -> None:
    p.add_argument("--model", choices=models, default=default_model,
                   help="default: %(default)s")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="default: the model's own (see the docs)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="default: per model")
    p.add_argument("--lr", type=non_negative_float, default=None, help="default: per model")
    p.add_argument("--n-train", type=positive_int, default=n_train,
                   help="synthetic training scenes (default: %(default)s)")
    p.add_argument("--n-val", type=positive_int, default=200, help="default: %(default)s")
    p.add_argument("--n-test", type=positive_int, default=200, help="default: %(default)s")
    p.add_argument("--image-size", type=positive_int, default=64,
                   help="scene side in pixels (default: %(default)s)")
    p.add_argument("--data-seed", type=int, default=0, help="default: %(default)s")
    p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    p.add_argument("--out", default="runs", help="default: %(default)s")
    p.add_argument("--name", default=None, help="run name")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _family(sub, kind: str, help_text: str, models, default_model, n_train) -> None:
    c = sub.add_parser(kind, help=help_text, description=help_text + " on synthetic scenes.")
    csub = c.add_subparsers(dest=f"{kind}_command", metavar="SUBCOMMAND", required=True)
    t = csub.add_parser("train", help="train on synthetic scenes and write a run folder")
    _common_train(t, models, default_model, n_train)
    if kind == "segment":
        from ..segment.fcn import UPSAMPLE_MODES

        t.add_argument("--upsample", choices=UPSAMPLE_MODES, default="transpose",
                       help="the FCN's in-network upsampling (default: %(default)s)")
    t.set_defaults(handler=lambda a: _train(kind, a))
    e = csub.add_parser("eval", help="metrics of a trained run on a split")
    e.add_argument("run", metavar="RUN", help="run folder or checkpoint")
    e.add_argument("--split", choices=["train", "val", "test"], default="test")
    e.add_argument("--output", default=None, help="also write the metrics to this JSON file")
    e.set_defaults(handler=lambda a: _eval(kind, a))
    p = csub.add_parser("predict", help="draw a trained model's output on image files")
    p.add_argument("run", metavar="RUN", help="run folder or checkpoint")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files (PNG, JPEG, ...)")
    p.add_argument("--output", default=None, help="folder for the pictures (default: "
                   "RUN/predict)")
    if kind == "detect":
        p.add_argument("--threshold", type=non_negative_float, default=0.5,
                       help="lowest score drawn (default: %(default)s)")
    p.set_defaults(handler=lambda a: _predict(kind, a))


def add_parsers(sub) -> None:
    """``striate detect ...`` and ``striate segment ...``."""
    from ..detect.zoo import DETECTORS
    from ..segment.zoo import SEGMENTERS

    _family(sub, "detect", "object detection (YOLO, Faster/Fast/Mask R-CNN)", sorted(DETECTORS),
            "faster-rcnn", 1000)
    _family(sub, "segment", "semantic segmentation (FCN, sliding window)", sorted(SEGMENTERS),
            "fcn", 1000)
