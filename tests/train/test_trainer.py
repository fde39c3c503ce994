"""striate.train.Trainer: the fit loop, its files, exact resume and the babysitting checks."""

import csv
import gc
import json
import logging
import os
import sys
import threading
import warnings

import numpy as np
import pytest

import striate
import striate.data
import striate.optim
from striate import nn
from striate.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from striate.train import Trainer, TrainingDiverged, accuracy, load

N_CLASSES = 3


def _blobs(n=96, d=6, seed=0):
    """Three well separated Gaussian blobs: a linearly separable 3-class problem."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((N_CLASSES, d)) * 4.0
    y = np.arange(n) % N_CLASSES
    x = (centers[y] + rng.standard_normal((n, d))).astype(np.float32)
    return x, y.astype(np.int64)


def _loaders(batch_size=16, n=96):
    x, y = _blobs(n)
    cut = n * 3 // 4
    train = striate.data.DataLoader(striate.data.TensorDataset(x[:cut], y[:cut]),
                                    batch_size=batch_size, shuffle=True)
    val = striate.data.DataLoader(striate.data.TensorDataset(x[cut:], y[cut:]), batch_size=32)
    return train, val


def _model(scale=1.0, p=0.25):
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(p), nn.Linear(16, N_CLASSES))
    if scale != 1.0:
        with striate.no_grad():
            model[3].weight.mul_(scale)
            model[3].bias.zero_()
    return model


def _trainer(model, lr=0.05, **kw):
    opt = striate.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    kw.setdefault("progress", False)
    kw.setdefault("log", False)
    return Trainer(model, opt, **kw)


def test_fit_reduces_the_loss_on_a_separable_problem():
    striate.manual_seed(0)
    train, val = _loaders()
    trainer = _trainer(_model(scale=0.1))
    history = trainer.fit(train, val, epochs=6)
    assert [h["epoch"] for h in history] == list(range(1, 7))
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert history[-1]["val_acc"] >= 0.9
    assert trainer.epoch == 6 and trainer.best == max(h["val_acc"] for h in history)
    result = trainer.evaluate(val)
    assert set(result) == {"loss", "accuracy"}
    assert result["loss"] == pytest.approx(history[-1]["val_loss"], rel=1e-6)
    for h in history:
        assert set(h) >= {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "time",
                          "update_ratio", "update_ratios"}
        assert set(h["update_ratios"]) == {"0.weight", "0.bias", "3.weight", "3.bias"}
        assert 1e-6 < h["update_ratio"] < 1.0


def test_run_folder_holds_config_csv_checkpoints_and_plots(tmp_path):
    striate.manual_seed(1)
    train, val = _loaders()
    model = _model(scale=0.1)
    config = {"lr": 0.05, "model": "mlp", "sizes": (6, 16, 3)}
    trainer = _trainer(model, out_dir=tmp_path / "run", config=config)
    history = trainer.fit(train, val, epochs=3)
    run = tmp_path / "run"
    assert json.loads((run / "config.json").read_text()) == {**config, "sizes": [6, 16, 3]}
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert list(rows[0])[:5] == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
    assert {"lr", "time", "update_ratio"} <= set(rows[0]) and "update_ratios" not in rows[0]
    assert [float(r["val_loss"]) for r in rows] == [h["val_loss"] for h in history]
    for name in ("loss.png", "accuracy.png", "lr.png"):
        assert (run / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    last = load(run / "checkpoint_last.npz")
    assert last["epoch"] == 3 and last["config"]["model"] == "mlp"
    assert [h["val_acc"] for h in last["history"]] == [h["val_acc"] for h in history]
    for k, v in model.state_dict().items():
        assert np.array_equal(last["model"][k].array, v.array)
    best = load(run / "checkpoint_best.npz")
    assert best["best"]["value"] == trainer.best and best["epoch"] == trainer.best_epoch
    assert set(best) >= {"model", "optimizer", "scheduler", "rng_state", "history", "config"}
    fresh = _model()
    fresh.load_state_dict(best["model"])  # a best checkpoint reloads into a new model
    assert not any(n.startswith(".") for n in os.listdir(run))  # no temporary files left


def _run(tmp_path, name, epochs, resume=None, seed=0):
    striate.manual_seed(seed)
    train, val = _loaders()
    model = _model(scale=0.1)
    opt = striate.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    trainer = Trainer(model, opt, scheduler=sched, out_dir=tmp_path / name, progress=False,
                      log=False)
    trainer.fit(train, val, epochs=epochs, resume=resume)
    return trainer


def test_resume_continues_bit_for_bit(tmp_path):
    whole = _run(tmp_path, "whole", epochs=2)
    _run(tmp_path, "half", epochs=1)
    # another seed: the model is initialised differently and the generator is elsewhere, so only
    # the checkpoint can make the resumed run equal
    resumed = _run(tmp_path, "half", epochs=2, resume=tmp_path / "half" / "checkpoint_last.npz",
                   seed=123)
    a, b = whole.model.state_dict(), resumed.model.state_dict()
    assert list(a) == list(b)
    for k in a:
        assert np.array_equal(a[k].array, b[k].array), k
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in whole.history]
    assert resumed.optimizer.param_groups[0]["lr"] == whole.optimizer.param_groups[0]["lr"]
    assert resumed.scheduler.last_epoch == whole.scheduler.last_epoch == 2
    for p, q in zip(whole.model.parameters(), resumed.model.parameters()):
        assert np.array_equal(whole.optimizer.state[p]["momentum_buffer"],
                              resumed.optimizer.state[q]["momentum_buffer"])
    # the same draws follow both runs
    half_rng = load(tmp_path / "half" / "checkpoint_last.npz")["rng_state"]
    assert half_rng == load(tmp_path / "whole" / "checkpoint_last.npz")["rng_state"]


def test_resume_without_the_rng_state_would_differ(tmp_path, monkeypatch):
    # dropout and shuffling really draw from the generator: restoring it is what makes resume exact
    whole = _run(tmp_path, "whole", epochs=2)
    _run(tmp_path, "half", epochs=1)
    monkeypatch.setattr(striate.backend, "set_rng_state", lambda state: None)
    resumed = _run(tmp_path, "half", epochs=2, resume=True, seed=123)
    a, b = whole.model.state_dict(), resumed.model.state_dict()
    assert not np.array_equal(a["0.weight"].array, b["0.weight"].array)


def test_resume_true_and_nothing_left_to_do(tmp_path):
    _run(tmp_path, "r", epochs=1)
    trainer = _run(tmp_path, "r", epochs=1, resume=True, seed=5)
    assert trainer.epoch == 1 and len(trainer.history) == 1


def test_huge_learning_rate_stops_with_a_clear_message(tmp_path):
    striate.manual_seed(0)
    train, val = _loaders()
    trainer = _trainer(_model(scale=0.1), lr=1e4, out_dir=tmp_path)

    def prefetch_threads():
        # an iterator another test abandoned may still await garbage collection: count only ours
        return {t for t in threading.enumerate()
                if t.name == striate.data.loader.WORKER_THREAD_NAME}

    gc.collect()
    before = prefetch_threads()
    with pytest.raises(TrainingDiverged, match="training diverged at epoch 1") as info:
        trainer.fit(train, val, epochs=3)
    assert "lower the learning rate" in str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert trainer.history == []  # no epoch finished
    assert not prefetch_threads() - before  # the prefetch thread of this fit was stopped
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "checkpoint_last.npz")


def test_initial_loss_warning_for_badly_scaled_logits_only():
    striate.manual_seed(0)
    train, _ = _loaders()
    messages = []
    trainer = _trainer(_model(scale=50.0, p=0.0), lr=1e-4, log=messages.append)
    with pytest.warns(UserWarning, match=r"initial loss .* far from log\(C\) = log\(3\)"):
        trainer.fit(train, epochs=1)
    assert any(m.startswith("WARNING: initial loss") for m in messages)

    striate.manual_seed(0)
    messages.clear()
    trainer = _trainer(_model(scale=0.01, p=0.0), lr=1e-4, log=messages.append)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.fit(train, epochs=1)
    assert any("as expected at initialisation" in m for m in messages)


def test_checks_off_skips_the_warning():
    striate.manual_seed(0)
    train, _ = _loaders()
    trainer = _trainer(_model(scale=50.0, p=0.0), lr=1e-4, checks=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = trainer.fit(train, epochs=1)
    assert "update_ratio" not in history[0]


def test_evaluate_restores_the_mode_and_records_no_graph():
    striate.manual_seed(0)
    _, val = _loaders()
    model = _model()
    trainer = _trainer(model)
    model.train()
    first = trainer.evaluate(val)
    assert model.training and model[2].training
    model.eval()
    second = trainer.evaluate(val)
    assert not model.training and not model[2].training
    assert first == second  # dropout was off in both
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="no batches"):
        trainer.evaluate([])


def test_grad_clip_shrinks_updates_and_the_ratio_check_flags_it(caplog):
    striate.manual_seed(0)
    train, _ = _loaders()
    logger = logging.getLogger("striate-test-trainer")
    trainer = _trainer(_model(scale=0.1, p=0.0), lr=0.05, grad_clip=1e-7, log=logger)
    with caplog.at_level(logging.INFO, logger=logger.name):
        history = trainer.fit(train, epochs=1)
    assert history[0]["update_ratio"] < 1e-5
    assert history[0]["update_ratios"]["3.weight"] < 1e-5
    flagged = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("too small" in r.getMessage() for r in flagged)
    assert any("epoch 1/1" in r.getMessage() for r in caplog.records)


def test_reduce_on_plateau_gets_the_validation_loss_and_monitor_loss(tmp_path):
    striate.manual_seed(0)
    train, val = _loaders()
    model = _model(p=0.0)
    opt = striate.optim.SGD(model.parameters(), lr=1e-6)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0.5)
    trainer = Trainer(model, opt, scheduler=sched, monitor="val_loss", progress=False, log=False,
                      checks=False)
    history = trainer.fit(train, val, epochs=3)
    assert sched.best == pytest.approx(history[0]["val_loss"])
    assert [h["lr"] for h in history] == [1e-6, 1e-6, 5e-7]  # the lr each epoch ran with
    assert trainer.best == min(h["val_loss"] for h in history)


def test_progress_bar_goes_to_stderr(capsys):
    striate.manual_seed(0)
    train, _ = _loaders()
    trainer = _trainer(_model(scale=0.1), progress=True, log=print)
    trainer.fit(train, epochs=1)
    out, err = capsys.readouterr()
    assert "epoch 1/1" in err and "batch" in err  # the bar
    assert "train_loss" in out and "train_loss" not in err  # the summary, through log


def test_custom_metrics_and_no_validation():
    striate.manual_seed(0)
    train, val = _loaders()

    def top2(logits, targets):
        return accuracy(logits, targets, topk=2)

    trainer = _trainer(_model(scale=0.1), metrics={"accuracy": "accuracy", "top2": top2})
    history = trainer.fit(train, epochs=2)
    assert {"train_acc", "train_top2"} <= set(history[0]) and "val_loss" not in history[0]
    assert all(h["train_top2"] >= h["train_acc"] for h in history)
    assert trainer.best == max(h["train_acc"] for h in history)  # val_acc falls back to train_acc
    assert set(trainer.evaluate(val)) == {"loss", "accuracy", "top2"}


def test_without_matplotlib_plots_are_skipped_with_one_warning(tmp_path, monkeypatch):
    from striate.train import history

    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it -> ImportError
    monkeypatch.setattr(history, "_warned_no_matplotlib", False)
    striate.manual_seed(0)
    train, _ = _loaders()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(2):
            _trainer(_model(scale=0.1), out_dir=tmp_path).fit(train, epochs=1)
    assert sum("matplotlib is not installed" in str(w.message) for w in record) == 1
    assert (tmp_path / "metrics.csv").exists() and not (tmp_path / "loss.png").exists()


def test_bad_arguments():
    model = _model()
    opt = striate.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="monitor must be one of"):
        Trainer(model, opt, monitor="val_f1")
    with pytest.raises(ValueError, match="grad_clip must be a positive number"):
        Trainer(model, opt, grad_clip=-1)
    with pytest.raises(TypeError, match="optimizer must be a striate.optim.Optimizer"):
        Trainer(model, object())
    with pytest.raises(ValueError, match=r"each batch must be an \(inputs, targets\) pair"):
        Trainer(model, opt, progress=False, log=False).fit([(striate.ones(2, 6),)], epochs=1)
    with pytest.raises(ValueError, match="resume=True needs out_dir"):
        Trainer(model, opt, log=False).fit([], epochs=1, resume=True)
