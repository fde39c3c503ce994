"""``striate detect`` and ``striate segment`` on tiny settings: run folders, eval, predict on an
image file, and one-line errors."""

import json

import numpy as np
import pytest
from PIL import Image

from striate.cli import main

TINY = ["--n-train", "8", "--n-val", "4", "--n-test", "4", "--epochs", "1", "--image-size",
        "32", "--no-progress"]


def _run_folder(out):
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def _image(tmp_path):
    path = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((50, 70, 3)) * 255).astype(np.uint8)).save(path)
    return path


def test_detect_train_eval_predict(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["detect", "train", "--model", "yolo", "--out", str(out), *TINY]) == 0
    run = _run_folder(out)
    for name in ("config.json", "metrics.csv", "checkpoint_best.npz", "checkpoint_last.npz",
                 "test_metrics.json", "predictions.png"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "test_metrics.json").read_text())
    assert 0.0 <= metrics["coco_map"] <= metrics["map50"] <= 1.0
    capsys.readouterr()
    assert main(["detect", "eval", str(run), "--split", "val"]) == 0
    assert "val mAP@0.5" in capsys.readouterr().out
    assert main(["detect", "predict", str(run), str(_image(tmp_path)), "--threshold", "0",
                 "--output", str(tmp_path / "drawn")]) == 0
    assert "photo.png:" in capsys.readouterr().out
    assert Image.open(tmp_path / "drawn" / "photo.png").size[0] > 100
    # errors: one line, exit 2
    assert main(["detect", "predict", str(run), str(tmp_path / "nope.png")]) == 2
    assert "no such image" in capsys.readouterr().err
    assert main(["segment", "eval", str(run)]) == 2
    assert "is not a striate segment checkpoint" in capsys.readouterr().err


def test_segment_train_with_unpooling_and_predict(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["segment", "train", "--upsample", "unpool", "--out", str(out), *TINY]) == 0
    run = _run_folder(out)
    config = json.loads((run / "config.json").read_text())
    assert config["upsample"] == "unpool" and config["model"] == "fcn"
    metrics = json.loads((run / "test_metrics.json").read_text())
    assert 0.0 <= metrics["mean_iou"] <= 1.0
    capsys.readouterr()
    assert main(["segment", "predict", str(run), str(_image(tmp_path))]) == 0
    assert "background" in capsys.readouterr().out
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    assert main(["segment", "predict", str(run), str(bad)]) == 2
    assert "cannot read image" in capsys.readouterr().err


def test_detect_rejects_bad_image_size(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["detect", "train", "--model", "nope"])
    args = ["detect", "train", "--out", str(tmp_path), *TINY[:-3], "--image-size", "36"]
    assert main(args) == 2
    assert "multiple of 8" in capsys.readouterr().err
