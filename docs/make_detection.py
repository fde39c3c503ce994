"""Make the numbers and pictures of docs/detection.md: train every detector and segmenter with the
defaults of ``striate detect train`` / ``striate segment train`` on the synthetic scenes, then
evaluate on the test split.

    PYTHONPATH=src python docs/make_detection.py                 # everything (an hour or more)
    PYTHONPATH=src python docs/make_detection.py --only yolo fcn # some rows

Each model's row is merged into ``docs/img/detection/results.json`` (so rows can be made in
separate runs, or in parallel), and the table between the markers in ``docs/detection.md`` is
rewritten from that file. Pictures: ``docs/img/detection/<model>.png`` (test images with the
predictions) and ``scenes.png`` (the data with their ground truth).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import striate
from striate.cli.detect import model_defaults
from striate.detect.draw import save_grid, save_keypoints
from striate.detect.metrics import coco_map, mean_average_precision
from striate.detect.scenes import CLASSES, make_scenes, make_splits
from striate.detect.training import fit
from striate.detect.zoo import build_detector, evaluate_detector
from striate.segment.zoo import SEGMENTERS, build_segmenter, evaluate_segmenter

ROOT = Path(__file__).resolve().parent
IMG = ROOT / "img" / "detection"
RESULTS = IMG / "results.json"
PAGE = ROOT / "detection.md"
N_TRAIN, N_VAL, N_TEST, SIZE, SEED = 1000, 200, 200, 64, 0  # the commands' defaults
ORDER = ["fcn", "sliding-window", "yolo", "faster-rcnn", "ssd", "mask-rcnn", "fast-rcnn", "rcnn",
         "sliding-window-detector", "classify-localize", "keypoints"]
NAMES = {"fcn": "FCN (transpose-conv upsampling, skips)", "sliding-window":
         "sliding-window segmenter (15x15 windows)", "yolo": "YOLO (8x8 grid, B=2)",
         "faster-rcnn": "Faster R-CNN (RPN + RoI Align)", "ssd": "SSD (3 scales)",
         "mask-rcnn": "Mask R-CNN", "fast-rcnn": "Fast R-CNN (selective search + RoI pool)",
         "rcnn": "R-CNN (selective search, warped crops)",
         "sliding-window-detector": "sliding-window detector (dense windows, warped crops)",
         "classify-localize": "classification + localization (one object per image)",
         "keypoints": "keypoint regression (stick figures; PCK@0.2 in the mAP column)"}


def run_single(name: str) -> dict:
    """The one-object tasks: classification + localization on scenes of one object, and joint
    regression on stick figures (the defaults of ``striate detect train --model NAME``: 10
    epochs; 1000 training images)."""
    from striate.detect.localize import (
        BONES,
        ClassifyLocalize,
        KeypointNet,
        make_stick_figures,
        pck,
    )
    from striate.detect.zoo import targets_of

    striate.manual_seed(0)
    config = dict(model_defaults("detect", name))
    start = time.perf_counter()
    if name == "classify-localize":
        train, test = (make_scenes(n, SIZE, seed, max_objects=1) for n, seed in
                       ((N_TRAIN, 11), (N_TEST, 12)))
        model = ClassifyLocalize(3)
        fit(model, train, config, progress=False, log=lambda line: print(name, line, flush=True))
        seconds = time.perf_counter() - start
        t0 = time.perf_counter()
        preds = model.predict(test.images)
        result = {"map50": mean_average_precision(preds, targets_of(test)),
                  "coco_map": coco_map(preds, targets_of(test)),
                  "accuracy": float(np.mean([p["labels"][0] == t[0]
                                             for p, t in zip(preds, test.labels)]))}
        save_grid(IMG / f"{name}.png", test.images[:4], preds[:4], CLASSES, ncols=4, scale=1.5)
    else:
        train, test = make_stick_figures(N_TRAIN, SIZE, 11), make_stick_figures(N_TEST, SIZE, 12)
        model = KeypointNet()
        fit(model, train, config, progress=False,
            log=lambda line: print(name, line, flush=True))
        seconds = time.perf_counter() - start
        t0 = time.perf_counter()
        joints = model.predict(test.images)
        result = {"map50": pck(joints, test.joints, 0.2), "pck_0.1": pck(joints, test.joints, 0.1)}
        save_keypoints(IMG / f"{name}.png", test.images[:4], joints[:4], BONES, ncols=4,
                       scale=1.5)
    result.update(seconds_per_image=(time.perf_counter() - t0) / N_TEST, train_seconds=seconds,
                  epochs=config["epochs"], n_train=N_TRAIN, kind="single")
    return result


def run(name: str, data: dict) -> dict:
    if name in ("classify-localize", "keypoints"):
        return run_single(name)
    kind = "segment" if name in SEGMENTERS else "detect"
    model_name = "sliding-window" if name == "sliding-window-detector" else name
    settings = model_defaults(kind, model_name)
    config = {"model": model_name, "num_classes": 3 if kind == "detect" else 4, "image_size": SIZE,
              **settings}
    striate.manual_seed(0)
    model = build_segmenter(config) if kind == "segment" else build_detector(config)
    val = data["val"]
    key = "mean_iou" if kind == "segment" else "map50"
    evaluate = evaluate_segmenter if kind == "segment" else evaluate_detector

    def on_val(m):
        r = evaluate(m, val) if kind == "segment" else evaluate(m, val, coco=False)
        return {"score": r[key]}

    start = time.perf_counter()
    history = fit(model, data["train"], config, on_val, progress=False,
                  log=lambda line: print(f"{name}: {line}", flush=True))
    seconds = time.perf_counter() - start
    best = max(range(len(history)), key=lambda i: history[i]["score"])
    result = evaluate(model, data["test"])  # the last epoch's weights (cosine decay ends low)
    result.update(train_seconds=seconds, epochs=config["epochs"], n_train=len(data["train"]),
                  best_val_epoch=best + 1, kind=kind)
    images = data["test"].images[:4]
    if kind == "detect":
        preds = model.predict(images)
    else:
        preds = [{"semantic": s} for s in model.predict(images)]
    save_grid(IMG / f"{name}.png", images, preds, CLASSES, ncols=4, scale=1.5,
              score_threshold=0.5)
    return result


def scaling() -> str:
    """Where the time of R-CNN and Fast R-CNN goes, per image: selective search, and the network
    on cached proposals as their number grows (the same backbone and head in both; R-CNN runs the
    backbone once per proposal, Fast R-CNN once per image). Weights are untrained: the cost of a
    forward pass does not depend on them."""
    from striate.detect.proposals import selective_search
    from striate.detect.rcnn import RCNN, FastRCNN

    images = make_scenes(16, SIZE, 21).images
    selective_search(images[0])  # imports scikit-image's segmentation
    start = time.perf_counter()
    props = [selective_search(img) for img in images]
    search_ms = (time.perf_counter() - start) / len(images) * 1000
    pool = np.concatenate(props)
    rng = np.random.default_rng(0)
    striate.manual_seed(0)
    models = {"R-CNN": RCNN(3), "Fast R-CNN": FastRCNN(3)}
    counts = (10, 40, 160, 640)
    times = {name: [] for name in models}
    x = striate.Tensor(images)
    for n in counts:
        rois = np.concatenate([np.concatenate([np.full((n, 1), i), pool[rng.integers(
            0, len(pool), n)]], 1) for i in range(len(images))])
        for name, model in models.items():
            model.eval()
            with striate.no_grad():
                model.roi_head(model.backbone(x), rois)  # warm up
                start = time.perf_counter()
                for _ in range(2):
                    model.roi_head(model.backbone(x), rois)
            times[name].append((time.perf_counter() - start) / 2 / len(images) * 1000)
    rows = ["| proposals per image | " + " | ".join(str(n) for n in counts) + " |",
            "|---|" + "---|" * len(counts)]
    for name in models:
        rows.append(f"| {name}: network (ms / image) | "
                    + " | ".join(f"{v:.1f}" for v in times[name]) + " |")
    rows.append("| R-CNN / Fast R-CNN | " + " | ".join(
        f"{a / b:.1f}x" for a, b in zip(times["R-CNN"], times["Fast R-CNN"])) + " |")
    mean = np.mean([len(q) for q in props])
    return "\n".join(rows) + (f"\n\nSelective search: {search_ms:.0f} ms per image "
                              f"({mean:.0f} proposals on average), the same for both.")


def shrink_pictures() -> None:
    """Store the PNGs with a 128-colour palette: a third of the size, the same to the eye."""
    from PIL import Image

    for path in IMG.glob("*.png"):
        with Image.open(path) as im:
            small = im.convert("RGB").quantize(128)
        small.save(path, optimize=True)


def table(results: dict) -> str:
    rows = ["| model | mAP@0.5 | mAP@[.5:.95] | mask mAP@0.5 | mean IoU | pixel acc. | "
            "training (s) | inference (ms / image) |", "|---|---|---|---|---|---|---|---|"]

    def f(r, k, scale=1.0, fmt=".3f"):
        return format(r[k] * scale, fmt) if k in r else ""

    for name in ORDER:
        if name not in results:
            continue
        r = results[name]
        rows.append(f"| {NAMES[name]} | {f(r, 'map50')} | {f(r, 'coco_map')} | "
                    f"{f(r, 'mask_map50')} | {f(r, 'mean_iou')} | {f(r, 'pixel_accuracy')} | "
                    f"{r['train_seconds']:.0f} ({r['epochs']} epochs) | "
                    f"{f(r, 'seconds_per_image', 1000, '.1f')} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=ORDER, default=None)
    parser.add_argument("--scaling", action="store_true",
                        help="only the R-CNN / Fast R-CNN timing against the number of proposals")
    args = parser.parse_args()
    if args.scaling:
        text = scaling()
        print(text)
        _replace_between(PAGE, "<!-- scaling -->", "<!-- /scaling -->", text)
        return
    IMG.mkdir(parents=True, exist_ok=True)
    data = make_splits(N_TRAIN, N_VAL, N_TEST, SIZE, SEED)
    s = data["test"]
    save_grid(IMG / "scenes.png", s.images[:6],
              [{"boxes": b, "labels": lab, "masks": m} for b, lab, m in
               zip(s.boxes[:6], s.labels[:6], s.instance_masks[:6])], CLASSES, ncols=6,
              scale=1.6)
    for name in args.only if args.only is not None else ORDER:
        result = run(name, data)
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results[name] = {**result, "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
        RESULTS.write_text(json.dumps(results, indent=1, default=float) + "\n")
        print(f"{name}: {json.dumps(result, default=float)}", flush=True)
    shrink_pictures()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    _replace_between(PAGE, "<!-- table -->", "<!-- /table -->", table(results))
    print(table(results))


def _replace_between(page: Path, a: str, b: str, text: str) -> None:
    """Rewrite the part of ``page`` between the markers ``a`` and ``b`` (if both are there)."""
    if not page.exists():
        return
    old = page.read_text()
    if a in old and b in old:
        head, rest = old.split(a, 1)
        page.write_text(head + a + "\n" + text + "\n" + b + rest.split(b, 1)[1])


if __name__ == "__main__":
    np.seterr(over="ignore")
    main()
