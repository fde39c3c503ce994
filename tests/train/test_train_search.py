"""Hyper-parameter search: log-uniform sampling, grids, coarse-to-fine narrowing, k folds,
early abandonment, worker processes, and the one look at the test set."""

import csv
import json
import math

import numpy as np
import pytest

from striate.classic import run_trial  # every kind: the classic ones, and models via train
from striate.data import digits
from striate.train import search_trials
from striate.train.search import (
    Choice,
    LogUniform,
    SearchResult,
    TrialData,
    Uniform,
    cross_validate,
    grid_configs,
    kfold_indices,
    load_space,
    narrow,
    parse_range,
    sample_configs,
    search,
)


@pytest.fixture(scope="module")
def data():
    return digits()


def test_log_uniform_sampling_stays_in_range_and_spreads_over_decades():
    rng = np.random.default_rng(0)
    space = {"lr": LogUniform(1e-4, 1e-1), "momentum": Uniform(0.5, 0.9),
             "batch_size": Choice([32, 64]), "epochs": 3}
    configs = sample_configs(space, 3000, rng)
    lr = np.array([c["lr"] for c in configs])
    assert lr.min() >= 1e-4 and lr.max() <= 1e-1
    # each of the three decades gets a third; a linear uniform would put 90% in the top one
    decades = np.histogram(np.log10(lr), bins=[-4, -3, -2, -1])[0] / len(lr)
    np.testing.assert_allclose(decades, 1 / 3, atol=0.04)
    mom = np.array([c["momentum"] for c in configs])
    assert 0.5 <= mom.min() and mom.max() <= 0.9 and abs(mom.mean() - 0.7) < 0.02
    assert {c["batch_size"] for c in configs} == {32, 64}
    assert all(c["epochs"] == 3 and isinstance(c["batch_size"], int) for c in configs)
    # the same generator seed gives the same configs
    assert sample_configs(space, 5, np.random.default_rng(1)) == \
        sample_configs(space, 5, np.random.default_rng(1))


def test_grid_configs_are_log_spaced():
    grid = grid_configs({"lr": LogUniform(1e-3, 1e-1), "reg": LogUniform(1e-6, 1e-2)}, 9)
    assert len(grid) == 9
    np.testing.assert_allclose(sorted({c["lr"] for c in grid}), [1e-3, 1e-2, 1e-1])
    np.testing.assert_allclose(sorted({c["reg"] for c in grid}), [1e-6, 1e-4, 1e-2])


def test_parse_range_and_space_files(tmp_path):
    assert parse_range("1e-4:1e-1") == LogUniform(1e-4, 1e-1)
    assert parse_range("lin:0.5:0.99") == Uniform(0.5, 0.99)
    assert parse_range("32,64,128") == Choice((32, 64, 128))
    assert parse_range("0.9") == 0.9 and parse_range("sgd") == "sgd"
    with pytest.raises(ValueError, match="lo <= hi"):
        parse_range("1e-1:1e-4")
    with pytest.raises(ValueError, match="0 < low"):
        parse_range("0:1")
    toml = tmp_path / "ranges.toml"
    toml.write_text('lr = [1e-4, 1e-1]\nreg = "1e-6:1e-2"\nepochs = 3\n'
                    'momentum = {low = 0.5, high = 0.9, log = false}\n'
                    'batch_size = {choice = [32, 64]}\n')
    space, fixed = load_space(toml)
    assert space == {"lr": LogUniform(1e-4, 1e-1), "reg": LogUniform(1e-6, 1e-2),
                     "momentum": Uniform(0.5, 0.9), "batch_size": Choice((32, 64))}
    assert fixed == {"epochs": 3}
    js = tmp_path / "ranges.json"
    js.write_text(json.dumps({"lr": {"low": 1e-3, "high": 1e-2}, "model": "mlp"}))
    assert load_space(js) == ({"lr": LogUniform(1e-3, 1e-2)}, {"model": "mlp"})
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = [1e-4,")
    with pytest.raises(ValueError, match="cannot parse"):
        load_space(bad)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_space(tmp_path / "missing.json")


def test_narrow_shrinks_around_the_best_trials():
    space = {"lr": LogUniform(1e-5, 1e-1), "reg": LogUniform(1e-6, 1e-2), "opt": "sgd"}
    rows = [{"lr": 1e-3, "reg": 1e-4, "val_acc": 0.9, "status": "ok"},
            {"lr": 2e-3, "reg": 3e-4, "val_acc": 0.8, "status": "ok"},
            {"lr": 1e-5, "reg": 1e-2, "val_acc": 0.1, "status": "ok"},
            {"lr": 1e-1, "reg": 1e-6, "val_acc": math.nan, "status": "abandoned"}]
    new = narrow(space, rows, keep=2)
    assert new["opt"] == "sgd"
    for name in ("lr", "reg"):
        old_w = np.log10(space[name].high / space[name].low)
        new_w = np.log10(new[name].high / new[name].low)
        assert new_w < 0.5 * old_w + 1e-12
        assert new[name].low <= rows[0][name] <= new[name].high
        assert new[name].low <= rows[1][name] <= new[name].high
    # best at the upper edge: the finer range may step past it
    edge = narrow({"lr": LogUniform(1e-4, 1e-1)},
                  [{"lr": 1e-1, "val_acc": 1.0}, {"lr": 9e-2, "val_acc": 0.9}], keep=2)
    assert edge["lr"].high > 1e-1


def _bowl(config, data):
    """A cheap stand-in trial: accuracy peaks at lr = 1e-2, reg = 1e-4."""
    d = (np.log10(config["lr"]) + 2) ** 2 + (np.log10(config["reg"]) + 4) ** 2
    return {"val_acc": float(np.exp(-d)), "train_acc": 1.0}


def test_coarse_to_fine_narrows_and_closes_in(data):
    space = {"lr": LogUniform(1e-5, 1e0), "reg": LogUniform(1e-7, 1e-1)}
    result = search(space, data, trials=16, stages=3, seed=0, trial_fn=_bowl)
    assert len(result.rows) == 48 and len(result.spaces) == 3
    for a, b in zip(result.spaces, result.spaces[1:]):
        for name in space:
            assert np.log10(b[name].high / b[name].low) < np.log10(a[name].high / a[name].low)
    for stage_space in result.spaces:
        assert stage_space["lr"].low < 1e-2 < stage_space["lr"].high
    best_per_stage = [max(r["val_acc"] for r in result.rows if r["stage"] == s)
                      for s in (1, 2, 3)]
    assert best_per_stage[2] > best_per_stage[0]
    assert result.best["val_acc"] == max(best_per_stage)
    grid = search(space, data, trials=16, method="grid", trial_fn=_bowl)
    assert len(grid.rows) == 16


def test_early_abandonment_of_a_diverging_trial(data):
    d = TrialData.of(data)
    row = run_trial({"kind": "linear-svm", "lr": 1e3, "reg": 10.0, "num_iters": 1000}, d)
    assert row["status"] == "abandoned" and row["steps"] < 1000 and math.isnan(row["val_acc"])
    row = run_trial({"kind": "model", "model": "softmax", "optimizer": "sgd", "lr": 100.0,
                     "epochs": 3}, d)
    assert row["status"] == "abandoned" and row["steps"] < 5
    ok = run_trial({"kind": "linear-svm", "lr": 0.1, "reg": 1e-3, "num_iters": 200}, d)
    assert ok["status"] == "ok" and ok["steps"] == 200 and ok["val_acc"] > 0.9
    # a search reports it, and never picks it
    result = search({"lr": Choice([0.1, 1e4]), "reg": Choice([1e-3])}, data,
                    {"kind": "linear-svm", "num_iters": 300}, trials=4, seed=1,
                    trial_fn=run_trial)
    bad = [r for r in result.rows if r["lr"] == 1e4]
    assert bad and all(r["status"] == "abandoned" for r in bad)
    assert result.best["lr"] == 0.1


def test_workers_give_the_same_table_as_inline(data):
    space = {"lr": LogUniform(1e-2, 1e0), "reg": LogUniform(1e-5, 1e-1)}
    base = {"kind": "softmax", "num_iters": 100}
    one = search(space, data, base, trials=4, stages=2, seed=3, workers=1, trial_fn=run_trial)
    two = search(space, data, base, trials=4, stages=2, seed=3, workers=2, trial_fn=run_trial)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in one.rows]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in two.rows]


def test_model_trials_through_the_trainer(data):
    result = search({"lr": LogUniform(1e-3, 1e-2), "reg": LogUniform(1e-5, 1e-3)}, data,
                    {"kind": "model", "model": "softmax", "epochs": 1, "batch_size": 128},
                    trials=2, seed=0)
    assert all(r["status"] == "ok" and 0.3 < r["val_acc"] <= 1 for r in result.rows)
    assert 0.3 < result.evaluate_test(data) <= 1


def test_test_set_is_used_once_and_results_are_written(data, tmp_path):
    result = search({"lr": LogUniform(1e-2, 1e0), "reg": LogUniform(1e-5, 1e-2)}, data,
                    {"kind": "linear-svm", "num_iters": 200}, trials=3, seed=0,
                    trial_fn=run_trial)
    best = result.best_config
    assert best["kind"] == "linear-svm" and best["seed"] == result.best["seed"]
    acc = result.evaluate_test(data)
    assert 0.8 < acc <= 1
    with pytest.raises(RuntimeError, match="already used once"):
        result.evaluate_test(data)
    result.to_csv(tmp_path / "trials.csv")
    with open(tmp_path / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    assert list(rows[0])[:5] == ["trial", "stage", "status", "lr", "reg"]
    assert float(rows[0]["val_acc"]) == pytest.approx(result.rows[0]["val_acc"], rel=1e-5)
    assert result.plot(tmp_path / "search.png")
    assert (tmp_path / "search.png").read_bytes()[:4] == b"\x89PNG"
    assert "3 trials" in repr(result)


def test_kfold_indices_partition():
    folds = kfold_indices(23, 5, seed=0)
    assert len(folds) == 5
    vals = np.concatenate([v for _, v in folds])
    np.testing.assert_array_equal(np.sort(vals), np.arange(23))
    assert sorted(len(v) for _, v in folds) == [4, 4, 5, 5, 5]
    for tr, va in folds:
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == 23
    again = kfold_indices(23, 5, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    assert not np.array_equal(folds[0][1], kfold_indices(23, 5, seed=1)[0][1])
    with pytest.raises(ValueError, match="between 2 and n=3"):
        kfold_indices(3, 4)


def test_cross_validate_a_config(data):
    cv = cross_validate({"kind": "softmax", "lr": 0.5, "reg": 1e-4, "num_iters": 100}, data,
                        k=3, trial_fn=run_trial)
    assert len(cv["fold_acc"]) == 3 and 0.85 < cv["val_acc"] <= 1
    assert cv["val_acc_std"] == pytest.approx(np.std(cv["fold_acc"]))


def test_errors(data):
    d = TrialData.of(data)
    with pytest.raises(ValueError, match="kind must be"):
        run_trial({"kind": "tree", "lr": 0.1}, d)
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['epochs'\]"):
        run_trial({"kind": "softmax", "lr": 0.1, "epochs": 3}, d)
    with pytest.raises(ValueError, match="needs a learning rate"):
        run_trial({"kind": "softmax"}, d)
    with pytest.raises(ValueError, match="classic classifier.*striate.classic.search.run_trial"):
        search_trials.run_trial({"kind": "softmax", "lr": 0.1}, d)
    with pytest.raises(ValueError, match="method must be"):
        search({"lr": 0.1}, data, method="bayes")
    with pytest.raises(ValueError, match="trials must be a positive int"):
        search({"lr": 0.1}, data, trials=0)
    with pytest.raises(RuntimeError, match="no trial finished"):
        _ = SearchResult([], [{}], {}, [], run_trial).best_config


def test_search_by_cross_validation(data):
    space = {"lr": LogUniform(1e-2, 1e0), "reg": LogUniform(1e-5, 1e-2)}
    base = {"kind": "softmax", "num_iters": 100}
    result = search(space, data, base, trials=2, seed=0, folds=3, trial_fn=run_trial)
    assert all("val_acc_std" in r for r in result.rows)
    again = cross_validate({**base, "lr": result.rows[1]["lr"], "reg": result.rows[1]["reg"],
                            "seed": result.rows[1]["seed"]}, data, k=3, seed=0,
                           trial_fn=run_trial)
    assert result.rows[1]["val_acc"] == pytest.approx(again["val_acc"])
    assert "folds" not in result.best_config
    with pytest.raises(ValueError, match="k must be between 2"):
        search(space, data, base, trials=1, folds=1)
