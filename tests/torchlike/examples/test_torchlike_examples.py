"""Each example runs under striate and, with the same file, under PyTorch (``TORCHLIKE_LIB``).

The programs pick their library with one line, ``torch = importlib.import_module(
os.environ.get("TORCHLIKE_LIB", "striate"))``; nothing else differs. Random numbers differ
between the libraries (different generators), so the two runs are compared on the final metric
within the tolerance stated per program, and each run must reach the stated bar on its own.
"""

from __future__ import annotations

import importlib.util
import pathlib
import runpy
import sys

import pytest

HERE = pathlib.Path(__file__).parent

# program -> (metric, what each run must reach, how far the two runs may differ)
EXAMPLES = {
    # small data and 3 epochs: the initialisations differ (He-normal vs kaiming-uniform)
    "mnist_convnet": ("accuracy", lambda v: v > 0.5, 0.35),
    "regression": ("weight_error", lambda v: v < 0.2, 0.15),
    "vae": ("test_loss", lambda v: 15 < v < 35, 5.0),  # nats per 64-pixel image
    "reinforce": ("mean_length", lambda v: v < 9, 4.0),  # random policy: ~15; optimum ~5.5
    "actor_critic": ("mean_length", lambda v: v < 9, 4.0),
    "time_sequence_prediction": ("test_loss", lambda v: v < 0.05, 0.05),  # sine variance: 0.5
    "siamese_network": ("accuracy", lambda v: v > 0.75, 0.1),  # chance: 0.5
    # generated digits as bright as real ones on average (an untrained G: gap ~0.2)
    "dcgan": ("intensity_gap", lambda v: v < 0.12, 0.1),
    # layer-local training only; chance is 0.1, a backprop MLP of the same size ~0.95
    "forward_forward": ("accuracy", lambda v: v > 0.7, 0.12),
    # dB over nearest-neighbour upsampling of the same low-resolution patches
    "super_resolution": ("psnr_gain", lambda v: v > 0.05, 0.3),
    "mnist_rnn": ("accuracy", lambda v: v > 0.7, 0.1),
}


def _run(name: str, lib: str, monkeypatch) -> dict:
    monkeypatch.setenv("TORCHLIKE_LIB", lib)
    monkeypatch.syspath_prepend(str(HERE))
    for mod in ("_digits", "_corridor"):
        sys.modules.pop(mod, None)
    namespace = runpy.run_path(str(HERE / f"{name}.py"), run_name="example")
    return namespace["main"]()


def test_only_the_library_line_names_a_framework():
    for name in EXAMPLES:
        lines = (HERE / f"{name}.py").read_text().splitlines()
        naming = [ln for ln in lines if "striate" in ln or "import torch" in ln.split("#")[0]]
        assert naming == ['torch = importlib.import_module(os.environ.get("TORCHLIKE_LIB", '
                          '"striate"))  # import torch'], (name, naming)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_runs_on_striate_and_torch(name, monkeypatch):
    digits = ("mnist_convnet", "vae", "siamese_network", "dcgan", "forward_forward", "mnist_rnn")
    if name in digits and importlib.util.find_spec("sklearn") is None:
        pytest.skip("the digits come from scikit-learn")
    if name == "super_resolution" and importlib.util.find_spec("skimage") is None:
        pytest.skip('the photographs come from scikit-image: pip install "striate[images]"')
    metric, good_enough, tolerance = EXAMPLES[name]
    ours = _run(name, "striate", monkeypatch)[metric]
    assert good_enough(ours), (name, metric, ours)
    if importlib.util.find_spec("torch") is None:
        return
    theirs = _run(name, "torch", monkeypatch)[metric]
    assert good_enough(theirs), (name, "torch", metric, theirs)
    assert abs(ours - theirs) <= tolerance, (name, metric, ours, theirs)
