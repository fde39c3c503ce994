"""`striate knn` and `striate linear` end to end, and real-format data in `striate train`."""

import gzip
import json
import pickle
import struct

import numpy as np
import pytest

from striate.cli import main


def _only_run(out):
    (folder,) = out.iterdir()
    return folder


def test_knn_command_on_digits(tmp_path, capsys):
    assert main(["knn", "--k", "1,3,5", "--folds", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "best k = " in out and "val accuracy" in out and "test accuracy" in out
    run = _only_run(tmp_path)
    for name in ("config.json", "metrics.json", "cross_validation.csv",
                 "knn_cross_validation.png"):
        assert (run / name).exists(), name
    m = json.loads((run / "metrics.json").read_text())
    assert m["best_k"] in (1, 3, 5) and len(m["accuracies"]) == 3 and len(m["accuracies"][0]) == 3
    assert m["test_accuracy"] >= 0.97
    assert f"{100 * m['test_accuracy']:.2f}%" in out


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_linear_command_on_digits(tmp_path, capsys, loss):
    assert main(["linear", "--loss", loss, "--iters", "300", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    run = _only_run(tmp_path)
    for name in ("config.json", "metrics.json", "loss_history.csv", "loss.png", "templates.png",
                 "weights.npz"):
        assert (run / name).exists(), name
    m = json.loads((run / "metrics.json").read_text())
    assert m["test_accuracy"] > 0.9 and f"{100 * m['test_accuracy']:.2f}%" in out
    assert len((run / "loss_history.csv").read_text().splitlines()) == 301
    w = np.load(run / "weights.npz")
    assert w["W"].shape == (64, 10) and w["b"].shape == (10,)


def test_linear_command_reports_divergence_and_bad_data(tmp_path, capsys):
    assert main(["linear", "--lr", "1e30", "--iters", "20", "--out", str(tmp_path)]) == 2
    assert "diverged" in capsys.readouterr().err
    assert main(["knn", "--data", "cifar10", "--out", str(tmp_path)]) == 2
    assert "needs a path" in capsys.readouterr().err
    assert main(["knn", "--data", f"mnist:{tmp_path / 'nowhere'}", "--out", str(tmp_path)]) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err


def _write_tiny_cifar10(root, n=20):
    rng = np.random.default_rng(0)
    root.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [int(v) for v in np.arange(n) % 10]
        data = rng.integers(0, 10, (n, 3072), dtype=np.uint8)
        data[:, :1024] = (np.array(labels) * 25)[:, None]  # the red plane tells the class
        (root / name).write_bytes(pickle.dumps({b"data": data, b"labels": labels}, protocol=2))


def _write_tiny_mnist(root, n=40):
    rng = np.random.default_rng(0)
    root.mkdir()
    for prefix in ("train", "t10k"):
        y = (np.arange(n) % 10).astype(np.uint8)
        X = rng.integers(0, 50, (n, 28, 28), dtype=np.uint8)
        X[np.arange(n), 2 * y + 2, :] = 255
        for kind, magic, arr in (("images-idx3", 2051, X), ("labels-idx1", 2049, y)):
            head = struct.pack(">I", magic) + b"".join(struct.pack(">I", s) for s in arr.shape)
            (root / f"{prefix}-{kind}-ubyte.gz").write_bytes(gzip.compress(head + arr.tobytes()))


def test_commands_read_real_formats(tmp_path, capsys):
    _write_tiny_cifar10(tmp_path / "cifar")
    out = tmp_path / "runs"
    assert main(["knn", "--data", f"cifar10:{tmp_path / 'cifar'}", "--k", "1,3", "--folds", "2",
                 "--num-train", "60", "--out", str(out), "--name", "c"]) == 0
    m = json.loads((out / _only_run(out).name / "metrics.json").read_text())
    assert m["test_accuracy"] == 1.0  # the red plane separates the classes exactly
    _write_tiny_mnist(tmp_path / "mnist")
    assert main(["linear", "--data", f"mnist:{tmp_path / 'mnist'}", "--iters", "50",
                 "--out", str(tmp_path / "runs2")]) == 0
    capsys.readouterr()
    assert main(["train", "--data", f"mnist:{tmp_path / 'mnist'}", "--model", "mlp",
                 "--epochs", "1", "--out", str(tmp_path / "runs3"), "--no-progress"]) == 0
    assert "test accuracy" in capsys.readouterr().out
