"""Run folders: resuming, extending and creating them never loses or mixes a run's records."""

import csv
import shutil
import threading

import pytest

from striate.cli import main, run_dir
from striate.train import load


def _train(argv):
    assert main(["train", "--model", "twolayer", "--no-progress", *argv]) == 0


def _rows(folder):
    with open(folder / "metrics.csv") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def run_best_before_last(tmp_path):
    """A 2-epoch run whose checkpoint_best is epoch 1 and checkpoint_last epoch 2."""
    _train(["--epochs", "1", "--out", str(tmp_path / "runs"), "--name", "r"])
    (folder,) = (tmp_path / "runs").iterdir()
    shutil.copy(folder / "checkpoint_best.npz", tmp_path / "epoch1.npz")
    _train(["--resume", str(folder), "--epochs", "2"])
    shutil.copy(tmp_path / "epoch1.npz", folder / "checkpoint_best.npz")
    assert load(folder / "checkpoint_best.npz")["epoch"] == 1
    assert load(folder / "checkpoint_last.npz")["epoch"] == 2
    return folder


def test_resume_from_a_run_folder_continues_from_the_last_checkpoint(run_best_before_last,
                                                                      capsys):
    folder = run_best_before_last
    before = _rows(folder)
    _train(["--resume", str(folder), "--epochs", "3"])
    rows = _rows(folder)
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert rows[:2] == before  # epochs 1 and 2 were not retrained
    assert load(folder / "checkpoint_last.npz")["epoch"] == 3
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]


def test_resume_from_an_earlier_checkpoint_branches_into_a_new_folder(run_best_before_last,
                                                                      capsys):
    folder = run_best_before_last
    before = _rows(folder)
    _train(["--resume", str(folder / "checkpoint_best.npz"), "--epochs", "2"])
    assert "writes to" in capsys.readouterr().out
    # the later epoch's records are kept where they were
    assert _rows(folder) == before
    assert load(folder / "checkpoint_last.npz")["epoch"] == 2
    branch = folder.parent / f"{folder.name}-from-epoch1"
    assert [r["epoch"] for r in _rows(branch)] == ["1", "2"]
    assert load(branch / "checkpoint_last.npz")["epoch"] == 2


def test_extending_a_cosine_run_never_raises_the_learning_rate(tmp_path):
    _train(["--epochs", "2", "--out", str(tmp_path), "--name", "c", "--schedule", "cosine"])
    (folder,) = tmp_path.iterdir()
    final = load(folder / "checkpoint_last.npz")["optimizer"]["param_groups"][0]["lr"]
    _train(["--resume", str(folder), "--epochs", "5"])
    lrs = [float(r["lr"]) for r in _rows(folder)]
    assert len(lrs) == 5
    assert all(b <= a for a, b in zip(lrs, lrs[1:])), lrs
    # the rule: the planned schedule ends at lr/100; the added epochs continue there
    assert final == pytest.approx(3e-5)
    assert lrs[2:] == pytest.approx([3e-5] * 3)


def test_run_folders_started_together_are_distinct(tmp_path):
    n = 8
    barrier = threading.Barrier(n)
    made = []

    def start():
        barrier.wait()
        made.append(run_dir(tmp_path, "same"))

    threads = [threading.Thread(target=start) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == n and len(set(made)) == n
    assert all(p.is_dir() for p in made)
    assert len(list(tmp_path.iterdir())) == n
