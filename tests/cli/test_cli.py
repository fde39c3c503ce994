"""The `striate` command, end to end on the bundled digits."""

import json
import subprocess
import sys

import numpy as np
import pytest

from striate.cli import main
from striate.train import load, save


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    rc = main(["train", "--epochs", "2", "--out", str(out), "--name", "t", "--no-progress"])
    assert rc == 0
    (folder,) = out.iterdir()
    return folder


def test_train_writes_the_run_folder(run, capsys):
    for name in ("config.json", "metrics.csv", "checkpoint_best.npz", "checkpoint_last.npz",
                 "loss.png", "accuracy.png", "test_metrics.json"):
        assert (run / name).exists(), name
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "convnet" and config["data"] == "digits"
    lines = (run / "metrics.csv").read_text().strip().splitlines()
    assert len(lines) == 3  # header + 2 epochs
    test = json.loads((run / "test_metrics.json").read_text())
    assert 0.5 < test["accuracy"] <= 1.0


def test_train_can_test_the_last_weights(tmp_path, capsys):
    rc = main(["train", "--epochs", "2", "--out", str(tmp_path), "--name", "t", "--no-progress",
               "--test-with", "last", "--model", "twolayer"])
    assert rc == 0
    (folder,) = tmp_path.iterdir()
    test = json.loads((folder / "test_metrics.json").read_text())
    assert test["checkpoint"] == "last"
    assert "last checkpoint" in capsys.readouterr().out
    assert main(["eval", str(folder / "checkpoint_last.npz")]) == 0
    assert f"{100 * test['accuracy']:.2f}%" in capsys.readouterr().out


def test_eval_prints_test_metrics(run, capsys):
    assert main(["eval", str(run)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out
    test = json.loads((run / "test_metrics.json").read_text())
    assert f"{100 * test['accuracy']:.2f}%" in out


def test_predict_classifies_image_files(run, tmp_path, capsys):
    from PIL import Image

    from striate.data import digits

    data = digits()
    paths = []
    for i in range(3):
        img = (255 * data.test.X[i, 0]).astype(np.uint8)
        p = tmp_path / f"digit{i}.png"
        Image.fromarray(img).resize((32, 32), Image.NEAREST).save(p)
        paths.append(str(p))
    assert main(["predict", str(run / "checkpoint_best.npz"), *paths, "--invert", "no"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 3 and all("%" in line for line in out)


def _error(argv, capsys):
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_bad_input_is_one_line_and_nonzero(run, tmp_path, capsys):
    assert "no such run folder or checkpoint" in _error(["eval", str(tmp_path / "nope")], capsys)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert "cannot read image" in _error(
        ["predict", str(run / "checkpoint_best.npz"), str(bad)], capsys)
    assert "no such image" in _error(
        ["predict", str(run / "checkpoint_best.npz"), str(tmp_path / "x.png")], capsys)
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"garbage")
    assert "corrupt.npz" in _error(["eval", str(corrupt)], capsys)


def test_checkpoint_of_another_model_is_refused(run, tmp_path, capsys):
    ckpt = load(run / "checkpoint_best.npz")
    ckpt["config"]["model"] = "mlp"
    other = tmp_path / "other.npz"
    save(ckpt, other)
    assert "does not fit model 'mlp'" in _error(["eval", str(other)], capsys)


def test_unknown_model_and_bad_numbers_are_usage_errors(capsys):
    for argv in (["train", "--model", "nope"], ["train", "--epochs", "0"],
                 ["train", "--lr", "-1"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
    capsys.readouterr()


def test_help_of_every_command():
    for argv in ([], ["train"], ["eval"], ["predict"]):
        r = subprocess.run([sys.executable, "-m", "striate.cli", *argv, "--help"],
                           capture_output=True, text=True)
        assert r.returncode == 0 and "usage: striate" in r.stdout


def test_resume_continues_the_run(run, capsys):
    assert main(["train", "--resume", str(run / "checkpoint_last.npz"), "--epochs", "3",
                 "--no-progress"]) == 0
    lines = (run / "metrics.csv").read_text().strip().splitlines()
    assert len(lines) == 4  # header + 3 epochs
