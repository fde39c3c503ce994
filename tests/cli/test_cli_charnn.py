"""`striate charnn train` for a few steps on a small text file, then `striate charnn sample`."""

import json

import pytest

from striate.cli import main


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("charnn")
    text = tmp / "code.py"
    text.write_text("def add(a, b):\n    return a + b\n\n\n" * 60)
    out = tmp / "runs"
    rc = main(["charnn", "train", "--text", str(text), "--steps", "20", "--seq-len", "16",
               "--batch-size", "8", "--hidden", "16", "--embed", "8", "--sample-every", "10",
               "--sample-length", "20", "--out", str(out)])
    assert rc == 0
    (folder,) = out.iterdir()
    return folder


def test_train_writes_the_run_folder(run):
    for name in ("config.json", "metrics.csv", "loss.png", "samples.txt", "checkpoint_last.npz"):
        assert (run / name).exists(), name
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "charnn" and config["clip"] == 5.0 and config["hidden"] == 16
    assert (run / "samples.txt").read_text().startswith("=== step 10")


def test_sample_prints_text(run, capsys):
    assert main(["charnn", "sample", str(run), "--length", "30", "--seed-text", "def ",
                 "--temperature", "0.5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("def ") and len(out.rstrip("\n")) >= 34
    assert main(["charnn", "sample", str(run), "--length", "10", "--greedy"]) == 0


def test_sample_errors_are_one_line(run, tmp_path, capsys):
    assert main(["charnn", "sample", str(tmp_path), "--length", "5"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert main(["charnn", "sample", str(run), "--seed-text", "\u00e9"]) == 2
    assert "never saw" in capsys.readouterr().err
    assert main(["charnn", "train", "--text", str(tmp_path / "nope.txt"), "--steps", "1"]) == 2
    assert "no such file" in capsys.readouterr().err
