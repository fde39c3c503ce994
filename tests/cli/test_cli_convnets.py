"""`striate train --augment/--ema`, `striate finetune` and `striate bench`, on the digits."""

import json

import numpy as np
import pytest

import striate
from striate.cli import main
from striate.data import datasets
from striate.train import load


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    rc = main(["train", "--epochs", "1", "--out", str(out), "--name", "aug", "--no-progress",
               "--augment", "crop,rotate=10", "--ema", "0.9"])
    assert rc == 0
    (folder,) = out.iterdir()
    return folder


def _digits5(path):
    """The digits 0-4 only: a new task with 5 classes for the transfer tests."""
    d = datasets.digits()
    keep = [s.y < 5 for s in (d.train, d.val, d.test)]
    splits = [datasets.Split(s.X[k], s.y[k]) for s, k in zip((d.train, d.val, d.test), keep)]
    return datasets.DatasetSplits("digits5", *splits, classes=d.classes[:5],
                                  input_shape=d.input_shape)


@pytest.fixture
def digits5(monkeypatch):
    monkeypatch.setitem(datasets.DATASETS, "digits5", _digits5)


def test_train_records_augment_and_ema(run):
    config = json.loads((run / "config.json").read_text())
    assert config["augment"] == "crop,rotate=10" and config["ema"] == 0.9
    ckpt = load(run / "checkpoint_last.npz")
    assert ckpt["ema"]["num_updates"] == len(ckpt["history"]) * 20  # 1258 images / 64 per batch
    shadow = ckpt["ema"]["shadow"]["head.weight"]
    assert not np.array_equal(shadow, ckpt["model"]["head.weight"].array)


def test_train_rejects_an_unknown_augmentation(tmp_path, capsys):
    rc = main(["train", "--epochs", "1", "--out", str(tmp_path), "--augment", "crop,warp"])
    assert rc == 2
    assert "unknown augmentation 'warp'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # rejected before the run folder exists


def test_finetune_with_frozen_backbone_on_new_classes(run, tmp_path, digits5, capsys):
    rc = main(["finetune", str(run), "--data", "digits5", "--epochs", "1", "--out",
               str(tmp_path), "--name", "ft", "--no-progress"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "new head 'head' (5 classes)" in out and "head.weight (excluded)" in out
    (folder,) = tmp_path.glob("*-ft")
    ckpt = load(folder / "checkpoint_last.npz")
    src = load(run / "checkpoint_best.npz")
    assert ckpt["model"]["head.weight"].shape == (5, 128)
    # the frozen backbone holds the pretrained (Polyak-averaged) weights, unchanged
    for key in ("features.0.weight", "features.4.weight", "features.1.bias"):
        np.testing.assert_array_equal(ckpt["model"][key].array, src["ema"]["shadow"][key])
    # and so do its BatchNorm running statistics: frozen layers stay in eval mode
    pretrained = {**src["model"], **src["ema"]["shadow"]}
    for key, value in ckpt["model"].items():
        if not key.startswith("head") and "running" in key:
            np.testing.assert_array_equal(value.array, np.asarray(pretrained[key]), err_msg=key)
    assert len(ckpt["optimizer"]["param_groups"]) == 1  # only the head trains
    config = json.loads((folder / "config.json").read_text())
    assert config["finetune"]["freeze"] == "backbone" and config["classes"] == list("01234")
    assert main(["eval", str(folder)]) == 0
    assert "accuracy" in capsys.readouterr().out


def test_finetune_everything_with_two_learning_rates(run, tmp_path, capsys):
    rc = main(["finetune", str(run), "--freeze", "none", "--head-lr", "0.01", "--backbone-lr",
               "0.001", "--epochs", "1", "--out", str(tmp_path), "--name", "all",
               "--no-progress", "--optimizer", "sgd"])
    assert rc == 0
    (folder,) = tmp_path.glob("*-all")
    ckpt = load(folder / "checkpoint_last.npz")
    groups = ckpt["optimizer"]["param_groups"]
    assert [g["initial_lr"] for g in groups] == pytest.approx([0.001, 0.01])
    assert groups[1]["lr"] == pytest.approx(10 * groups[0]["lr"])  # the schedule keeps the ratio
    src = load(run / "checkpoint_best.npz")
    assert not np.array_equal(ckpt["model"]["features.0.weight"].array,
                              src["ema"]["shadow"]["features.0.weight"])


def test_finetune_errors(run, tmp_path, capsys):
    rc = main(["finetune", str(run), "--freeze", "trunk", "--out", str(tmp_path)])
    assert rc == 2
    assert "--freeze: freeze: no parameter is named 'trunk'" in capsys.readouterr().err
    rc = main(["finetune", str(tmp_path / "nothing.npz"), "--out", str(tmp_path)])
    assert rc == 2


def test_bench_runs_one_round_on_a_tiny_batch(capsys):
    pytest.importorskip("torch")
    import torch

    from striate import parallel
    from striate.models import MODELS

    models = "fc,convnet" + (",resnet20" if "resnet20" in MODELS else "")
    threads_before = (parallel._num_threads, striate.get_num_threads(), torch.get_num_threads())
    rc = main(["bench", "--models", models, "--batch-size", "2", "--rounds", "1", "--steps",
               "1", "--warmup", "0", "--threads", "3"])
    assert rc == 0
    # the thread counts of both frameworks come back as they were
    assert (parallel._num_threads, striate.get_num_threads(),
            torch.get_num_threads()) == threads_before
    out = capsys.readouterr().out
    assert "| model | params | step | striate ms | PyTorch ms | striate/PyTorch |" in out
    rows = [line for line in out.splitlines() if line.startswith(("| fc", "| convnet",
                                                                   "| resnet20"))]
    assert len(rows) == 2 * len(models.split(","))
    assert "| fc | 338,610 | train |" in out  # 3072*100 + 3*100*100 + 100*10 + biases
    for line in rows:
        assert float(line.split("|")[-2]) > 0


def test_bench_rejects_unknown_models(capsys):
    pytest.importorskip("torch")
    assert main(["bench", "--models", "alexnet9", "--rounds", "1"]) == 2
    assert "unknown model 'alexnet9'" in capsys.readouterr().err
