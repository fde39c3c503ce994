"""`striate rl ...`: gridworld and qlearn, a tiny PPO run with eval, play --record and resume,
the recurrent attention model on a tiny budget, and one-line errors."""

import importlib.util
import json

import pytest

from striate.cli import main

pytest.importorskip("gymnasium")


def _folder(out):
    (folder,) = out.iterdir()
    return folder


def test_gridworld_matches_the_exact_solution(tmp_path, capsys):
    assert main(["rl", "gridworld", "train", "--out", str(tmp_path)]) == 0
    run = _folder(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["max_error_value_iteration"] < 1e-8
    assert summary["max_error_policy_iteration"] < 1e-8 and summary["same_policy"]
    assert (run / "value_iteration.png").is_file() and (run / "policy_iteration.png").is_file()
    assert "policy iteration" in capsys.readouterr().out


def test_qlearn_on_gridworld(tmp_path, capsys):
    assert main(["rl", "qlearn", "train", "--episodes", "200", "--out", str(tmp_path)]) == 0
    run = _folder(tmp_path)
    for name in ("q_table.npy", "episodes.csv", "returns.png", "q_policy.png"):
        assert (run / name).is_file(), name
    assert "optimal in" in capsys.readouterr().out


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rl")
    rc = main(["rl", "ppo", "train", "--steps", "128", "--num-envs", "2", "--hidden", "8",
               "--eval-every", "128", "--set", "n_steps=32", "--set", "eval_episodes=1",
               "--set", "batch_size=32", "--set", "n_epochs=1", "--no-progress",
               "--out", str(out)])
    assert rc == 0
    return _folder(out)


def test_deep_train_eval_play_and_resume(ppo_run, tmp_path, capsys):
    for name in ("config.json", "episodes.csv", "evals.csv", "returns.png", "checkpoint.npz"):
        assert (ppo_run / name).is_file(), name
    assert json.loads((ppo_run / "config.json").read_text())["n_steps"] == 32
    capsys.readouterr()
    assert main(["rl", "eval", str(ppo_run), "--episodes", "2"]) == 0
    assert "over 2 greedy episodes" in capsys.readouterr().out
    if importlib.util.find_spec("pygame") is not None:  # CartPole's rgb_array render
        gif = tmp_path / "play.gif"
        assert main(["rl", "play", str(ppo_run), "--record", str(gif), "--max-frames", "8"]) == 0
        assert gif.read_bytes()[:6] == b"GIF89a"
    assert main(["rl", "ppo", "train", "--resume", str(ppo_run), "--steps", "192",
                 "--no-progress"]) == 0
    assert "192 environment steps" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["rl", "dqn", "train", "--env", "NoSuchEnv-v0"], "unknown environment id 'NoSuchEnv-v0'"),
    (["rl", "dqn", "train", "--env", "Pendulum-v1"], "supports Discrete action spaces"),
    (["rl", "eval", "no/such/run"], "no checkpoint at"),
    (["rl", "a2c", "train", "--set", "nope"], "--set: expected KEY=VALUE"),
])
def test_errors_are_one_line(argv, message, tmp_path, capsys):
    assert main(argv + (["--out", str(tmp_path)] if "train" in argv else [])) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_ram_tiny(tmp_path, capsys):
    assert main(["rl", "ram", "train", "--epochs", "1", "--glimpses", "2", "--no-progress",
                 "--out", str(tmp_path)]) == 0
    run = _folder(tmp_path)
    summary = json.loads((run / "summary.json").read_text())
    assert 0 <= summary["test_accuracy"] <= 1 and 0 <= summary["random_glimpse_accuracy"] <= 1
    assert (run / "accuracy.png").is_file() and "random glimpses" in capsys.readouterr().out
