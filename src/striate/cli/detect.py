"""``striate detect train|eval|predict`` and ``striate segment train|eval|predict``.

A run folder holds ``config.json`` (the model, the class list, and the data: the synthetic data's
seed and sizes, or the COCO / VOC source on disk), ``metrics.csv``, ``loss.png``,
``checkpoint_best.npz`` / ``checkpoint_last.npz``, ``test_metrics.json`` and ``predictions.png``
(test images with the model's output drawn on them). The data are rebuilt from the config.
``predict`` runs a trained model on the user's image files (resized to the training size; boxes,
masks and joints are drawn back on the original image).

``detect --model classify-localize`` and ``--model keypoints`` are the lecture's one-object
localization tasks in the same family: one box per image (scored like the detectors, by mAP,
plus the class accuracy) and 7 joints per stick figure (scored by PCK).
"""

from __future__ import annotations

import time
from pathlib import Path

from . import CommandError, non_negative_float, positive_int, run_dir
from .train import checkpoint_path


def _needs_masks(kind: str, config: dict) -> bool:
    return kind == "segment" or config["model"] == "mask-rcnn"


def _splits(config: dict, kind: str = "detect", progress: bool = False, log=None) -> dict:
    """The run's train, val and test data: synthetic (from the seed and sizes) or read again
    from the files its ``data`` names, with its classes."""
    model, size = config["model"], config["image_size"]
    data = config.get("data")
    if data is not None:
        from ..detect.datasets import load_splits

        splits, _, _ = load_splits(data["train"], size, config["classes"][1:],
                                   _needs_masks(kind, config), data.get("val"),
                                   data.get("max_images"), data["seed"], progress, log)
        return _one_object(splits) if model == "classify-localize" else splits
    if model == "keypoints":
        from ..detect.localize import make_stick_figure_splits

        return make_stick_figure_splits(config["n_train"], config["n_val"], config["n_test"],
                                        size, config["data_seed"])
    from ..detect.scenes import make_splits

    return make_splits(config["n_train"], config["n_val"], config["n_test"], size,
                       config["data_seed"], max_objects=1 if model == "classify-localize" else 4)


def _one_object(splits: dict) -> dict:
    from ..detect.datasets import one_object

    out = {name: one_object(s) for name, s in splits.items()}
    for name, s in out.items():
        if len(s) == 0:
            raise CommandError(f"classify-localize trains on images of exactly one object; the "
                               f"{name} split has none (of {len(splits[name])} images)")
    return out


def _classes(config: dict) -> tuple:
    from ..detect.scenes import CLASSES

    return tuple(config.get("classes") or CLASSES)


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


def _evaluate(kind: str, config: dict, model, split, coco: bool = True) -> dict:
    if config["model"] == "keypoints":
        from ..detect.zoo import evaluate_keypoints

        return evaluate_keypoints(model, split)
    if kind == "detect":
        from ..detect.zoo import evaluate_detector

        return evaluate_detector(model, split, coco)
    from ..segment.zoo import evaluate_segmenter

    return evaluate_segmenter(model, split, int(config.get("num_classes", 4)))


def _score_key(kind: str, config: dict) -> str:
    if config["model"] == "keypoints":
        return "pck"
    return "map50" if kind == "detect" else "mean_iou"


def _draw_split(kind: str, config: dict, model, split, path: Path, n: int = 12) -> Path:
    from ..detect.draw import save_grid, save_keypoints

    images = split.images[:n]
    if config["model"] == "keypoints":
        from ..detect.localize import BONES

        return save_keypoints(path, images, model.predict(images), BONES, ncols=6)
    if kind == "detect":
        preds = model.predict(images)
    else:
        preds = [{"semantic": s} for s in model.predict(images)]
    return save_grid(path, images, preds, _classes(config), None, ncols=6,
                     score_threshold=0.5 if kind == "detect" else 0.0)


def _data_config(kind: str, args, config: dict, log) -> dict:
    """Read ``--data`` (and ``--val-data``) for training: the splits, and the source, classes
    and class count recorded in ``config``."""
    from ..detect.datasets import load_splits, parse_source

    if args.model == "keypoints":
        raise CommandError("--model keypoints trains on synthetic stick figures; --data (COCO or "
                           "VOC boxes and masks) is for the other models")
    try:
        source = parse_source(args.data, args.images)
        val = None if args.val_data is None else parse_source(args.val_data,
                                                              args.val_images or args.images)
    except ValueError as e:
        raise CommandError(f"--data: {e}") from None
    splits, classes, how = load_splits(source, args.image_size, None,
                                       _needs_masks(kind, config), val, args.max_images,
                                       args.data_seed, not args.no_progress, log)
    if args.model == "classify-localize":
        splits = _one_object(splits)
    config.update(data={"train": source, "val": val, "max_images": args.max_images,
                        "seed": args.data_seed},
                  classes=["background", *classes],
                  num_classes=len(classes) + (1 if kind == "segment" else 0))
    for key in ("n_train", "n_val", "n_test", "data_seed"):
        config.pop(key)
    log(f"data: {', '.join(f'{n} {len(s)}' for n, s in splits.items())} images of "
        f"{len(classes)} classes ({how})")
    return splits


def _train(kind: str, args) -> int:
    import striate

    from ..detect.training import fit
    from ..train.history import write_json

    defaults = model_defaults(kind, args.model)
    config = {"kind": kind, "model": args.model, "num_classes": 3 if kind == "detect" else 4,
              "epochs": args.epochs or defaults["epochs"],
              "batch_size": args.batch_size or defaults["batch_size"],
              "lr": args.lr or defaults["lr"], "seed": args.seed, "image_size": args.image_size,
              "data_seed": args.data_seed}
    given = [f"--{k.replace('_', '-')}" for k in ("n_train", "n_val", "n_test")
             if getattr(args, k) is not None]
    if args.data != "scenes" and given:
        raise CommandError(f"{', '.join(given)}: the number of synthetic scenes; with --data the "
                           "files decide (--max-images limits them)")
    for k, default in zip(("n_train", "n_val", "n_test"), args.synthetic_sizes):
        config[k] = default if getattr(args, k) is None else getattr(args, k)
    if "flip" in defaults:
        config["flip"] = defaults["flip"]
    if kind == "segment":
        config["upsample"] = args.upsample
    elif args.image_size % 8:
        raise CommandError(f"--image-size must be a multiple of 8 for the detectors' strides, "
                           f"got {args.image_size}")
    striate.manual_seed(args.seed)
    if args.data == "scenes":
        given = [o for o, v in (("--images", args.images), ("--val-data", args.val_data),
                                ("--val-images", args.val_images),
                                ("--max-images", args.max_images)) if v is not None]
        if given:
            raise CommandError(f"{', '.join(given)} read files: give --data coco:FILE.json or "
                               "--data voc:ROOT too (without it the data are synthetic scenes)")
        data = _splits(config)
    else:
        data = _data_config(kind, args, config, print)
    model = _build(kind, config)
    out = run_dir(args.out, args.name or f"{kind}-{args.model}")
    write_json(str(out / "config.json"), config)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"striate {kind} train: {args.model} ({n_params:,} parameters) on {data['train']!r}")
    print(f"run folder: {out}")
    key = _score_key(kind, config)
    val = data["val"]

    def evaluate(m):
        r = _evaluate(kind, config, m, val, coco=False)
        return {f"val_{key}": r[key], "score": r[key]}

    start = time.perf_counter()
    fit(model, data["train"], config, evaluate, out, log=print, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    _, _, model = _load(out, kind)  # the best epoch
    result = _evaluate(kind, config, model, data["test"])
    result.update(split="test", train_seconds=seconds)
    write_json(str(out / "test_metrics.json"), result)
    pic = _draw_split(kind, config, model, data["test"], out / "predictions.png")
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
    if "pck" in r:
        return (f"{r.get('split', '')} PCK@0.2 {r['pck']:.3f}, PCK@0.1 {r['pck_0.1']:.3f}, "
                f"{ms:.1f} ms per image")
    if kind == "segment":
        return (f"{r.get('split', '')} mean IoU {r['mean_iou']:.3f}, pixel accuracy "
                f"{r['pixel_accuracy']:.3f}, {ms:.1f} ms per image")
    text = f"{r.get('split', '')} mAP@0.5 {r['map50']:.3f}"
    if "coco_map" in r:
        text += f", mAP@[.5:.95] {r['coco_map']:.3f}"
    if "mask_map50" in r:
        text += f", mask mAP@0.5 {r['mask_map50']:.3f}"
    if "accuracy" in r:
        text += f", class accuracy {r['accuracy']:.3f}"
    return text + f", {ms:.1f} ms per image"


def _eval(kind: str, args) -> int:
    from ..train.history import write_json

    path, config, model = _load(args.run, kind)
    if args.images is not None and args.data is None:
        raise CommandError("--images is the image folder of --data coco:FILE.json; give --data")
    if args.data is not None:
        split, where = _other_data(kind, config, args), args.data
    else:
        progress = not args.no_progress
        split, where = _splits(config, kind, progress)[args.split], f"{args.split} split"
    result = _evaluate(kind, config, model, split)
    result["split"] = args.split if args.data is None else args.data
    print(f"{path}: {where}, {len(split)} images")
    print(_report(kind, result))
    if args.output:
        write_json(args.output, result)
    return 0


def _other_data(kind: str, config: dict, args):
    """All of ``eval --data``'s images, read with the run's classes and input size."""
    from ..detect.datasets import parse_source, read_source

    if config["model"] == "keypoints":
        raise CommandError("--model keypoints runs are evaluated on stick figures; --data is "
                           "for the other models")
    try:
        source = parse_source(args.data, args.images)
    except ValueError as e:
        raise CommandError(f"--data: {e}") from None
    scenes = read_source(source, config["image_size"], _classes(config)[1:],
                         _needs_masks(kind, config), progress=not args.no_progress, log=print)
    if config["model"] == "classify-localize":
        scenes = _one_object({"--data": scenes})["--data"]
    return scenes


def _read_image(path: Path, size: int):
    from ..detect.datasets import read_image

    try:
        return read_image(path, size)
    except (FileNotFoundError, ValueError) as e:
        raise CommandError(str(e)) from None


def _predict(kind: str, args) -> int:
    import numpy as np

    from ..detect.draw import save_grid, save_keypoints

    path, config, model = _load(args.run, kind)
    size = config["image_size"]
    CLASSES = _classes(config)  # noqa: N806 (the scenes' constant's name, the run's names)
    out = Path(args.output) if args.output else Path(path).parent / "predict"
    out.mkdir(parents=True, exist_ok=True)
    for name in args.images:
        file = Path(name)
        original, x = _read_image(file, size)
        H, W = original.shape[:2]
        target = out / f"{file.stem}.png"
        if config["model"] == "keypoints":
            from ..detect.localize import BONES, JOINTS

            joints = model.predict(x[None])[0] * np.array([W / size, H / size], np.float32)
            print(f"{file}: " + ", ".join(f"{j} ({p[0]:.0f}, {p[1]:.0f})"
                                          for j, p in zip(JOINTS, joints)))
            save_keypoints(target, [original], [joints], BONES, ncols=1,
                           scale=max(3.0, min(8.0, W / 80)))
            print(f"  drawn: {target}")
            continue
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
    # None by default, so that giving one with --data (where the files decide) is refused
    p.add_argument("--n-train", type=positive_int, default=None,
                   help=f"synthetic training scenes (default: {n_train}; --n-val and "
                   "--n-test too are for synthetic data)")
    p.add_argument("--n-val", type=positive_int, default=None, help="default: 200")
    p.add_argument("--n-test", type=positive_int, default=None, help="default: 200")
    p.set_defaults(synthetic_sizes=(n_train, 200, 200))
    p.add_argument("--image-size", type=positive_int, default=64,
                   help="side of the square input: the scenes' size, or what --data images "
                   "are resized to (default: %(default)s)")
    p.add_argument("--data-seed", type=int, default=0,
                   help="seed of the synthetic data, or of the train/val/test split of files "
                   "that name none (default: %(default)s)")
    p.add_argument("--data", default="scenes", metavar="SOURCE",
                   help="'scenes' (synthetic, default), 'coco:ANNOTATIONS.json' (with --images) "
                   "or 'voc:ROOT' (the folder of Annotations/ and JPEGImages/)")
    p.add_argument("--images", default=None, metavar="DIR",
                   help="the image folder of COCO annotations (file_name is relative to it)")
    p.add_argument("--val-data", default=None, metavar="SOURCE",
                   help="validation (and test) data from other files, as --data; default: the "
                   "files' own split (VOC's ImageSets/Main) or a seeded 80/10/10 split")
    p.add_argument("--val-images", default=None, metavar="DIR",
                   help="the image folder of --val-data (default: --images)")
    p.add_argument("--max-images", type=positive_int, default=None,
                   help="read at most this many images of each file or image set")
    p.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    p.add_argument("--out", default="runs", help="default: %(default)s")
    p.add_argument("--name", default=None, help="run name")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _family(sub, kind: str, help_text: str, models, default_model, n_train) -> None:
    c = sub.add_parser(kind, help=help_text, description=help_text + " on synthetic scenes, "
                       "or COCO / VOC data on disk.")
    csub = c.add_subparsers(dest=f"{kind}_command", metavar="SUBCOMMAND", required=True)
    t = csub.add_parser("train", help="train on synthetic scenes (or --data) and write a run "
                        "folder")
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
    e.add_argument("--data", default=None, metavar="SOURCE",
                   help="evaluate on all of these files instead ('coco:ANNOTATIONS.json' with "
                   "--images, or 'voc:ROOT'), with the run's classes")
    e.add_argument("--images", default=None, metavar="DIR", help="the image folder of --data")
    e.add_argument("--no-progress", action="store_true", help="no progress bar while reading")
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

    _family(sub, "detect", "object detection (YOLO, SSD, R-CNN to Mask R-CNN), classification + "
            "localization, keypoints", sorted(DETECTORS),
            "faster-rcnn", 1000)
    _family(sub, "segment", "semantic segmentation (FCN, sliding window)", sorted(SEGMENTERS),
            "fcn", 1000)
