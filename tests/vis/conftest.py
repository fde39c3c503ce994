"""One small ConvNet trained on the digits by ``striate train``, shared by the vis tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """The run folder of a 3-epoch ConvNet (channels as the zoo's default) on the digits."""
    from striate.cli import main

    out = tmp_path_factory.mktemp("vis-runs")
    assert main(["train", "--epochs", "3", "--out", str(out), "--name", "convnet",
                 "--no-progress"]) == 0
    (folder,) = out.iterdir()
    return folder


@pytest.fixture(scope="session")
def trained(digits_run):
    from striate.train.runs import load_run

    return load_run(digits_run)
