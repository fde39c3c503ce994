"""The runnable scripts in examples/ run to the end and show what they claim."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(name: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_every_example_is_tested():
    assert {p.name for p in EXAMPLES.glob("*.py")} == {
        "autograd_tour.py", "training_loop.py", "custom_op.py", "custom_dataset.py"}


def test_autograd_tour():
    out = _run("autograd_tour.py")
    assert "x.grad          [2. 4. 6.]" in out
    assert "accumulated     [5. 7. 9.]" in out
    assert "gradcheck       True" in out and "dW1 matches     True" in out


def test_training_loop_learns_the_digits():
    out = _run("training_loop.py", "--epochs", "3")
    assert float(re.search(r"test accuracy ([0-9.]+)", out).group(1)) > 0.85


def test_custom_op_checks_its_gradient_and_matches_torch():
    out = _run("custom_op.py")
    assert "gradcheck True" in out
    assert "module output shape (2, 3)" in out
    if "PyTorch not installed" not in out:
        assert "equal to PyTorch True" in out


def test_custom_dataset_learns_the_bars():
    out = _run("custom_dataset.py")
    assert float(re.search(r"test accuracy ([0-9.]+)", out).group(1)) > 0.9
