"""Train on COCO and VOC files through the command, on the synthetic data of docs/detection.md's
table: the default splits (1,000 / 200 / 200 scenes of 64x64, seed 0) are written in COCO format
(PNG images, compressed-RLE masks; one instances file per split) and in the VOCdevkit layout
(JPEG images, ImageSets/Main lists), then

    striate detect train --model M --data coco:train.json --images DIR --val-data coco:val.json
    striate detect eval RUN --data coco:test.json --images DIR
    striate detect train --model M --data voc:ROOT          # its test.txt is the test split
    striate detect train --model M                          # the same scenes, never on disk

with the defaults. The same images as the table's rows, read from disk: the numbers should land
where the synthetic rows are (the COCO images are rounded to 8 bits, the VOC ones are JPEG).

    PYTHONPATH=src python docs/make_detection_files.py                  # all three, YOLO
    PYTHONPATH=src python docs/make_detection_files.py --formats voc --model ssd

Each result is merged into ``docs/img/detection/files.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from striate.cli import main as striate
from striate.detect.datasets import save_coco, save_voc
from striate.detect.scenes import make_splits

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "img" / "detection" / "files.json"
N_TRAIN, N_VAL, N_TEST, SIZE, SEED = 1000, 200, 200, 64, 0  # the commands' defaults


def _run_folder(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def run(fmt: str, model: str, work: Path, sizes=(N_TRAIN, N_VAL, N_TEST), extra=()) -> dict:
    splits = make_splits(*sizes, SIZE, SEED)
    out = work / f"runs-{fmt}-{model}"
    common = ["--model", model, "--out", str(out), "--no-progress", *extra]
    if fmt == "coco":
        images = work / "coco" / "images"
        files = {}
        start = 1
        for name, scenes in splits.items():
            files[name] = save_coco(scenes, work / "coco" / f"{name}.json", images, start)
            start += len(scenes)
        assert striate(["detect", "train", "--data", f"coco:{files['train']}", "--images",
                        str(images), "--val-data", f"coco:{files['val']}", *common]) == 0
        run_dir = _run_folder(out)
        result_file = work / f"{fmt}-{model}-test.json"
        assert striate(["detect", "eval", str(run_dir), "--data", f"coco:{files['test']}",
                        "--images", str(images), "--output", str(result_file),
                        "--no-progress"]) == 0
        result = json.loads(result_file.read_text())
        result["split"] = "test"
    elif fmt == "scenes":  # the control: the command's own synthetic data
        assert striate(["detect", "train", "--n-train", str(sizes[0]), "--n-val", str(sizes[1]),
                        "--n-test", str(sizes[2]), *common]) == 0
        run_dir = _run_folder(out)
        result = json.loads((run_dir / "test_metrics.json").read_text())
    else:
        root = save_voc(splits, work / "VOCdevkit" / "VOC2007")
        assert striate(["detect", "train", "--data", f"voc:{root}", *common]) == 0
        run_dir = _run_folder(out)
        result = json.loads((run_dir / "test_metrics.json").read_text())
    trained = json.loads((run_dir / "test_metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    result.update(train_seconds=trained["train_seconds"], epochs=config["epochs"],
                  sizes=list(sizes))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--formats", nargs="+", choices=["coco", "voc", "scenes"],
                        default=["coco", "voc", "scenes"])
    parser.add_argument("--model", default="yolo")
    parser.add_argument("--work", default=None, help="folder for the files and runs (default: "
                        "a temporary one)")
    parser.add_argument("--smoke", action="store_true", help="16/8/8 scenes and one epoch, to "
                        "check the script; writes nothing into docs/")
    args = parser.parse_args()
    sizes, extra = ((16, 8, 8), ["--epochs", "1"]) if args.smoke else ((N_TRAIN, N_VAL, N_TEST),
                                                                        [])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        for fmt in args.formats:
            result = run(fmt, args.model, work, sizes, extra)
            print(f"{fmt} {args.model}: {json.dumps(result, default=float)}", flush=True)
            if args.smoke:
                continue
            results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
            results[f"{fmt}-{args.model}"] = result
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=1, default=float) + "\n")


if __name__ == "__main__":
    np.seterr(over="ignore")
    main()
