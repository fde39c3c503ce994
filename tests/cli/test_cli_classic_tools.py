"""`striate features` and `striate search`, end to end on the bundled digits (quick settings)."""

import csv
import json

import pytest

from striate.cli import main


def _folder(out):
    (folder,) = out.iterdir()
    return folder


def test_features_hog_svm(tmp_path, capsys):
    assert main(["features", "--out", str(tmp_path), "--iters", "500"]) == 0
    out = capsys.readouterr().out
    assert "144 features per image" in out and "test accuracy" in out
    run = _folder(tmp_path)
    for name in ("config.json", "metrics.json", "features_model.npz", "loss.png"):
        assert (run / name).exists(), name
    m = json.loads((run / "metrics.json").read_text())
    assert m["n_features"] == 144 and m["options"]["cell"] == 2
    assert 0.85 < m["val_accuracy"] <= 1 and 0.85 < m["test_accuracy"] <= 1
    assert f"{100 * m['test_accuracy']:.2f}%" in out
    from striate.classic.pipeline import FeaturePipeline
    from striate.data import digits
    from striate.train import load

    state = load(run / "features_model.npz")
    pipe = FeaturePipeline.from_state_dict(state["pipeline"])
    X = digits().test.X
    pred = (pipe.transform(X) @ state["W"] + state["b"]).argmax(1)
    assert abs((pred == digits().test.y).mean() - m["test_accuracy"]) < 1e-9


def test_features_color_on_grey_data_says_it_is_degenerate(tmp_path, capsys):
    argv = ["features", "--features", "hog,color", "--classifier", "softmax", "--pca", "30",
            "--iters", "300", "--lr", "0.1", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "degenerate on grayscale" in out
    assert "30 features per image, PCA to 30" in out


def test_features_bow_mlp(tmp_path, capsys):
    argv = ["features", "--features", "bow", "--classifier", "mlp", "--epochs", "2",
            "--words", "20", "--patches", "2000", "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    run = _folder(tmp_path)
    assert (run / "checkpoint_best.npz").exists() and (run / "metrics.csv").exists()
    assert json.loads((run / "metrics.json").read_text())["n_features"] == 20


def test_search_linear_writes_table_and_plot(tmp_path, capsys):
    argv = ["search", "--model", "softmax", "--trials", "4", "--stages", "2", "--iters", "150",
            "--lr", "1e-2:1", "--reg", "1e-5:1e-2", "--out", str(tmp_path), "--folds", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "stage 2/2" in out and "best config" in out and "measured once" in out
    run = _folder(tmp_path)
    with open(run / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and {r["stage"] for r in rows} == {"1", "2"}
    assert all(float(r["val_acc_std"]) >= 0 for r in rows)  # judged by 2-fold CV
    assert all(1e-2 <= float(r["lr"]) <= 1 for r in rows if r["stage"] == "1")
    best = json.loads((run / "best.json").read_text())
    assert best["config"]["kind"] == "softmax" and 0.8 < best["test_accuracy"] <= 1
    assert (run / "search.png").read_bytes()[:4] == b"\x89PNG"


def test_search_model_from_a_toml_file_with_workers(tmp_path, capsys):
    ranges = tmp_path / "ranges.toml"
    ranges.write_text('lr = "1e-3:1e-2"\nreg = [1e-5, 1e-3]\nbatch_size = 128\n')
    argv = ["search", "--model", "mlp", "--config", str(ranges), "--trials", "2",
            "--stages", "1", "--epochs", "1", "--workers", "2", "--out", str(tmp_path / "r")]
    assert main(argv) == 0
    run = _folder(tmp_path / "r")
    best = json.loads((run / "best.json").read_text())
    assert best["config"]["model"] == "mlp" and best["config"]["batch_size"] == 128
    assert 1e-3 <= best["config"]["lr"] <= 1e-2


@pytest.mark.parametrize("argv, message", [
    (["search", "--model", "tree"], "--model must be linear-svm, softmax or one of"),
    (["search", "--lr", "1:0.1"], "--lr: parse_range"),
    (["search", "--reg", "abc"], "--reg: expected a range LO:HI"),
    (["search", "--config", "missing.toml"], "no such file"),
])
def test_search_errors(argv, message, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_features_rejects_unknown_features(capsys):
    with pytest.raises(SystemExit):
        main(["features", "--features", "sift"])
    assert "expected a comma-separated list from hog,color,bow" in capsys.readouterr().err
