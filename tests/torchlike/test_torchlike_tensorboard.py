"""SummaryWriter and the Trainer's tensorboard option write event files TensorBoard reads."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

import striate
from striate.data import DataLoader, TensorDataset
from striate.train import Trainer

pytest.importorskip("tensorboardX", reason="needs the tensorboard extra (tensorboardX)")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="reading event files needs the tensorboard package (tensorboard extra)")

from striate.utils.tensorboard import SummaryWriter  # noqa: E402


def _read(folder):
    acc = event_accumulator.EventAccumulator(
        str(folder), size_guidance={event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0,
                                    event_accumulator.HISTOGRAMS: 0, event_accumulator.TENSORS: 0})
    acc.Reload()
    return acc


def test_summary_writer_methods_are_read_back(tmp_path):
    with SummaryWriter(tmp_path) as w:
        assert w.log_dir == str(tmp_path)
        for step in range(3):
            w.add_scalar("loss/train", striate.tensor(1.0 / (step + 1)), step)
        w.add_scalars("acc", {"train": 0.5, "val": np.float32(0.25)}, 1)
        w.add_histogram("fc.weight", striate.randn(100), 0)
        w.add_image("sample", striate.rand(3, 8, 8), 0)
        w.add_image("gray", np.zeros((8, 8, 1), np.uint8), 0, dataformats="HWC")
        w.add_text("config", "lr = 0.1", 0)
        w.add_hparams({"lr": 0.1, "optimizer": "sgd"}, {"hparam/accuracy": 0.9}, run_name="hp")
    acc = _read(tmp_path)
    tags = acc.Tags()
    assert [e.value for e in acc.Scalars("loss/train")] == pytest.approx([1.0, 0.5, 1 / 3])
    assert [e.step for e in acc.Scalars("loss/train")] == [0, 1, 2]
    assert "fc.weight" in tags["histograms"]
    assert acc.Histograms("fc.weight")[0].histogram_value.num == 100
    assert {"sample", "gray"} <= set(tags["images"])
    img = acc.Images("sample")[0]
    assert (img.width, img.height) == (8, 8)
    assert any(t.startswith("config") for t in tags["tensors"])
    # add_scalars writes one sub-run per curve
    val = _read(tmp_path / "acc" / "val")
    assert val.Scalars("acc")[0].value == pytest.approx(0.25)
    # add_hparams writes its own sub-run holding the metric
    hp = _read(tmp_path / "hp")
    assert hp.Scalars("hparam/accuracy")[0].value == pytest.approx(0.9)


def test_summary_writer_errors(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="single number"):
            w.add_scalar("x", striate.ones(2), 0)
        with pytest.raises(TypeError, match="a number or a one-element Tensor"):
            w.add_scalar("x", "high", 0)
        with pytest.raises(ValueError, match="needs 3 dims"):
            w.add_image("im", striate.rand(8, 8), 0)
        with pytest.raises(ValueError, match="non-empty and finite"):
            w.add_histogram("h", np.array([1.0, np.nan]), 0)
        with pytest.raises(TypeError, match="hparam 'layers'"):
            w.add_hparams({"layers": [1, 2]}, {"acc": 1.0})


def _tiny_run(tmp_path, **kw):
    striate.manual_seed(0)
    x = striate.randn(64, 5)
    y = striate.tensor((x.array[:, 0] > 0).astype(np.int64))
    model = striate.nn.Linear(5, 2)
    opt = striate.optim.SGD(model.parameters(), lr=0.5)
    trainer = Trainer(model, opt, progress=False, checks=False, log=False, **kw)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    trainer.fit(loader, loader, epochs=3)
    return trainer


def test_trainer_writes_epoch_scalars(tmp_path):
    trainer = _tiny_run(tmp_path, out_dir=tmp_path / "run", tensorboard=True)
    acc = _read(tmp_path / "run" / "tensorboard")
    scalars = set(acc.Tags()["scalars"])
    assert {"loss/train", "loss/val", "acc/train", "acc/val", "lr"} <= scalars
    losses = [e.value for e in acc.Scalars("loss/train")]
    assert [e.step for e in acc.Scalars("loss/train")] == [1, 2, 3]
    assert losses == pytest.approx([h["train_loss"] for h in trainer.history], rel=1e-6)
    assert acc.Scalars("lr")[0].value == pytest.approx(0.5)


def test_trainer_tensorboard_folder_and_errors(tmp_path):
    _tiny_run(tmp_path, tensorboard=tmp_path / "tb")
    assert glob.glob(os.path.join(tmp_path, "tb", "events.out.tfevents.*"))
    with pytest.raises(ValueError, match="out_dir is None"):
        Trainer(striate.nn.Linear(2, 2), None, tensorboard=True)
    with pytest.raises(TypeError, match="bool or a folder"):
        Trainer(striate.nn.Linear(2, 2), None, tensorboard=3)


def test_cli_train_tensorboard_flag(tmp_path, capsys):
    from striate.cli import main

    rc = main(["train", "--model", "mlp", "--epochs", "1", "--out", str(tmp_path), "--name", "tb",
               "--no-progress", "--tensorboard"])
    assert rc == 0
    (run,) = glob.glob(os.path.join(tmp_path, "*-tb"))
    acc = _read(os.path.join(run, "tensorboard"))
    assert {"loss/train", "loss/val", "acc/val", "lr"} <= set(acc.Tags()["scalars"])


def test_missing_tensorboardx_names_the_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import now raises ImportError
    with pytest.raises(ImportError, match=r"striate\[tensorboard\]"):
        SummaryWriter(tmp_path)
    with pytest.raises(ImportError, match=r"striate\[tensorboard\]"):
        Trainer(striate.nn.Linear(2, 2), None, out_dir=tmp_path, tensorboard=True)
