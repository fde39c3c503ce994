"""`striate export RUN --format onnx` and `striate graph RUN`."""

import numpy as np
import pytest

from striate.cli import main


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    assert main(["train", "--model", "twolayer", "--epochs", "1", "--no-progress", "--out",
                 str(out), "--name", "r"]) == 0
    (folder,) = out.iterdir()
    return folder


def test_export_writes_an_onnx_file_that_takes_raw_images(run, capsys):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    assert main(["export", str(run), "--format", "onnx"]) == 0
    text = capsys.readouterr().out
    assert "model.onnx" in text and "same prediction for 100.0%" in text
    proto = onnx.load(str(run / "model.onnx"))
    onnx.checker.check_model(proto)
    # the run's normalisation is inside: raw digits in, class scores out, any batch size
    from striate.data import load_dataset

    test = load_dataset("digits").test
    sess = ort.InferenceSession(str(run / "model.onnx"), providers=["CPUExecutionProvider"])
    scores = sess.run(["scores"], {"images": test.X[:5].astype(np.float32)})[0]
    assert scores.shape == (5, 10)
    assert np.mean(scores.argmax(1) == test.y[:5]) >= 0.6


def test_graph_writes_forward_optimised_and_backward_dot(run, capsys):
    assert main(["graph", str(run), "--backward", "--optimized", "--format", "dot"]) == 0
    text = capsys.readouterr().out
    assert "twolayer:" in text and "linear 2" in text
    forward = (run / "graph_forward.dot").read_text()
    assert "linear" in forward and "relu" in forward
    assert "linear_relu" in (run / "graph_optimized.dot").read_text()
    backward = (run / "graph_backward.dot").read_text()
    assert "CrossEntropyBackward" in backward and "LinearBackward" in backward


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope")]) == 2
    assert "no such run folder or checkpoint" in capsys.readouterr().err
    assert main(["graph", str(tmp_path)]) == 2
    assert "without checkpoint_best.npz" in capsys.readouterr().err
