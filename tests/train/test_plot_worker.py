"""The run's plots drawn by a helper process (``start_plot_worker``), and drawn here instead when
the helper is gone."""

import pytest

from striate.train import history

pytest.importorskip("matplotlib")

HISTORY = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e, "train_acc": 0.5 + e / 10,
            "val_acc": 0.4 + e / 10, "lr": 0.1 / e, "update_ratios": {"w": 1e-3}}
           for e in range(1, 4)]
NAMES = ["loss.png", "accuracy.png", "lr.png"]


def _png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_helper_process_draws_the_plots(tmp_path):
    assert history.start_plot_worker()
    paths = history.plot_history(str(tmp_path), HISTORY, ["acc"])
    history.wait_for_plots()
    assert [p.rsplit("/", 1)[-1] for p in paths] == NAMES
    assert all(_png(tmp_path / n) for n in NAMES)
    assert not list(tmp_path.glob(".*.tmp*"))  # no temporary file left


def test_plots_drawn_here_when_the_helper_died(tmp_path):
    assert history.start_plot_worker()
    proc = history._worker[0]
    proc.kill()
    proc.wait()
    history.plot_history(str(tmp_path), HISTORY, ["acc"])
    history.wait_for_plots()
    assert all(_png(tmp_path / n) for n in NAMES)


def test_without_a_helper_plots_are_drawn_at_once(tmp_path):
    history.wait_for_plots()  # none is running
    history.plot_history(str(tmp_path), HISTORY, ["acc"])
    assert all(_png(tmp_path / n) for n in NAMES)
