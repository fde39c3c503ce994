"""``striate search --storage``: the notes' search on Optuna (the ``search`` extra), on SQLite
and on a throwaway PostgreSQL server shared by two worker processes, one of them killed."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import striate

optuna = pytest.importorskip("optuna", reason="the search extra (optuna) is needed")

from striate.train.search import Choice, LogUniform, Uniform  # noqa: E402
from striate.train.study import open_study, optuna_search, study_report  # noqa: E402


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    src = str(Path(striate.__file__).parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _fake_trial(losses_by_lr):
    """A trial function that trains nothing: it reports the losses and accuracies a real run of
    that learning rate would, so the pruning rules can be checked in milliseconds."""

    def trial_fn(config, data, on_epoch=None):
        losses = losses_by_lr(config["lr"])
        for epoch, loss in enumerate(losses, 1):
            on_epoch(epoch, {"train_loss": loss, "val_acc": 1.0 / (1.0 + loss),
                             "initial_loss": losses[0]})
        return {"status": "ok", "val_acc": 1.0 / (1.0 + losses[-1])}

    return trial_fn


def test_the_notes_ranges_map_onto_optuna_and_runaway_trials_are_pruned(tmp_path):
    from striate.data import digits

    space = {"lr": LogUniform(1e-4, 1.0), "mom": Uniform(0.5, 0.99), "opt": Choice(["a", "b"])}
    # a learning rate above 0.1 makes the loss run away (4x the first within 3 epochs)
    fn = _fake_trial(lambda lr: [2.0, 5.0, 8.0] if lr > 0.1 else [2.0, 1.0, 0.5])
    study = optuna_search(space, digits(), {"kind": "model"}, trials=8,
                          storage=f"sqlite:///{tmp_path / 's.db'}", study_name="x", seed=1,
                          trial_fn=fn, startup_trials=8)
    trials = study.get_trials()
    assert len(trials) == 8
    for t in trials:
        assert 1e-4 <= t.params["lr"] <= 1.0 and 0.5 <= t.params["mom"] <= 0.99
        assert t.params["opt"] in ("a", "b")
        assert t.distributions["lr"].log and not t.distributions["mom"].log
        runaway = t.params["lr"] > 0.1
        expected = optuna.trial.TrialState.PRUNED if runaway else optuna.trial.TrialState.COMPLETE
        assert t.state == expected, (t.params, t.state)
        if runaway:  # pruned at the epoch the loss passed 3x its start, not later
            assert max(t.intermediate_values) == 2
    assert {t.user_attrs["seed"] for t in trials} == set(range(1, 9))
    lines = study_report(study, tmp_path)
    assert lines[0].startswith("study x: 8 trials")
    assert (tmp_path / "study.csv").read_text().count("\n") == 9
    assert (tmp_path / "study.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="no study 'y'"):
        open_study(f"sqlite:///{tmp_path / 's.db'}", "y", create=False)


# ---- a throwaway PostgreSQL server ------------------------------------------------------------

def _pg_bin(name):
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                   reverse=True)), None)
    if found is None:
        pytest.skip("PostgreSQL's server programs are not installed (.ci/run installs them)")
    return found


@pytest.fixture
def postgres():
    pytest.importorskip("psycopg", reason="the search extra (psycopg) is needed")
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    as_user = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as its own user
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user")
        as_user = ["runuser", "-u", "postgres", "--"]
    # a folder the server's user can reach (pytest's tmp_path is private to root)
    tmp_path = Path(tempfile.mkdtemp(prefix="striate-pg-"))
    os.chmod(tmp_path, 0o777)
    data = tmp_path / "pgdata"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(as_user + [initdb, "-D", str(data), "-U", "striate", "--auth=trust"],
                   check=True, capture_output=True, timeout=120)
    opts = f"-p {port} -k {tmp_path} -c listen_addresses=127.0.0.1"
    subprocess.run(as_user + [pg_ctl, "-D", str(data), "-o", opts, "-l",
                              str(tmp_path / "pg.log"), "-w", "start"],
                   check=True, capture_output=True, timeout=60)
    try:
        yield f"postgresql+psycopg://striate@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(tmp_path, ignore_errors=True)


def _worker(url, out, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "striate.cli", "search", "--storage", url, "--study", "shared",
         "--model", "mlp", "--num-train", "300", "--out", str(out), *extra],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_workers_share_a_postgresql_study_and_a_killed_one_leaves_it_usable(postgres,
                                                                                tmp_path):
    a = _worker(postgres, tmp_path, "--trials", "3", "--epochs", "1")
    b = _worker(postgres, tmp_path, "--trials", "3", "--epochs", "1")
    outs = [p.communicate(timeout=240) for p in (a, b)]
    for p, (_out, err) in zip((a, b), outs):
        assert p.returncode == 0, err[-2000:]
    study = optuna.load_study(study_name="shared", storage=postgres)
    trials = study.get_trials()
    numbers = sorted(t.number for t in trials)
    assert numbers == list(range(6))  # every trial of both workers, none lost or duplicated
    reported = [int(line.split()[1].rstrip(":")) for out, _ in outs
                for line in out.splitlines() if line.startswith("trial ")]
    assert sorted(reported) == numbers
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    assert all(t.state in finished for t in trials), [t.state for t in trials]

    # a worker killed in the middle of a long trial
    c = _worker(postgres, tmp_path, "--trials", "1", "--epochs", "500")
    deadline = time.time() + 120
    while time.time() < deadline:
        running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
        if running and running[0].user_attrs.get("pid") == c.pid:
            break
        time.sleep(0.2)
    else:
        c.kill()
        pytest.fail("the third worker never started its trial")
    os.kill(c.pid, signal.SIGKILL)
    c.wait(timeout=30)
    from striate.train.study import GRACE_S

    time.sleep(GRACE_S + 1)
    r = subprocess.run([sys.executable, "-m", "striate.cli", "search", "--storage", postgres,
                        "--study", "shared", "--report", "--out", str(tmp_path)], env=_env(),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "study shared: 7 trials (" in r.stdout and "1 fail" in r.stdout, r.stdout
    states = {t.number: t.state for t in study.get_trials()}
    assert states[6] == optuna.trial.TrialState.FAIL
    # and the study goes on: one more worker adds trial 7
    d = _worker(postgres, tmp_path, "--trials", "1", "--epochs", "1")
    out, err = d.communicate(timeout=240)
    assert d.returncode == 0, err[-2000:]
    assert len(study.get_trials()) == 8
