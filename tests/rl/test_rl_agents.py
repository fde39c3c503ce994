"""The deep methods' mechanics on tiny budgets: replay buffer, TD targets (DQN and Double DQN),
the dueling head, target-network sync, seeding, checkpoints and resuming, errors, and that a
short PPO run improves. Never the full training (docs/make_rl.py does that)."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("gymnasium")

import striate  # noqa: E402
from striate.rl.agent import evaluate, load_agent  # noqa: E402
from striate.rl.dqn import DQN, ReplayBuffer, td_targets  # noqa: E402
from striate.rl.envs import make_env, make_vector_env  # noqa: E402
from striate.rl.nets import QNetwork  # noqa: E402
from striate.rl.policy_gradient import A2C, PPO, REINFORCE  # noqa: E402

TINY = {"eval_every": 10**9, "eval_episodes": 2, "stop_return": None}


def test_replay_buffer_wraps_and_samples():
    buf = ReplayBuffer(3, 2)
    for k in range(5):
        buf.add([k, k], k % 2, float(k), [k + 1, k + 1], k == 4)
    assert len(buf) == 3
    np.testing.assert_array_equal(buf.rewards, [3.0, 4.0, 2.0])  # 3 and 4 overwrote 0 and 1
    o, a, r, o2, d = buf.sample(8, np.random.default_rng(0))
    assert o.shape == (8, 2) and a.shape == (8,) and set(r) <= {2.0, 3.0, 4.0}
    np.testing.assert_array_equal(o2[:, 0], o[:, 0] + 1)
    np.testing.assert_array_equal(d, r == 4.0)


def test_td_targets_dqn_and_double_by_hand():
    r = np.array([1.0, 0.5])
    term = np.array([0.0, 1.0])
    q_target = np.array([[2.0, 3.0], [7.0, 1.0]])
    q_online = np.array([[5.0, 0.0], [0.0, 9.0]])
    # DQN: max of the target network; the terminal row does not bootstrap
    np.testing.assert_allclose(td_targets(r, term, q_target, 0.9), [1 + 0.9 * 3, 0.5],
                               atol=1e-12, rtol=0)
    # Double DQN: the online network picks action 0 in row 0, the target network values it
    np.testing.assert_allclose(td_targets(r, term, q_target, 0.9, q_online), [1 + 0.9 * 2, 0.5],
                               atol=1e-12, rtol=0)


def test_dueling_head_is_value_plus_centred_advantage():
    q = QNetwork(3, 4, hidden=(8,), dueling=True)
    x = striate.randn(5, 3)
    h = q.torso(x)
    v, a = q.value(h).detach().numpy(), q.advantage(h).detach().numpy()
    np.testing.assert_allclose(q(x).detach().numpy(), v + a - a.mean(1, keepdims=True), atol=1e-6,
                               rtol=1e-6)


def test_dqn_update_uses_huber_and_syncs_the_target_every_n_updates():
    agent = DQN("CartPole-v1", seed=0, hidden=[16], target_update=3, learning_starts=1,
                batch_size=8, **TINY)
    rng = np.random.default_rng(0)
    for _ in range(32):
        agent.buffer.add(rng.normal(size=4), rng.integers(2), 100.0, rng.normal(size=4), False)

    def same():
        return all(np.array_equal(p.detach().numpy(), t.detach().numpy()) for p, t in
                   zip(agent.q.parameters(), agent.q_target.parameters()))

    assert same()
    losses = [agent.update() for _ in range(2)]
    assert not same()  # the online network moved, the target did not
    agent.update()
    assert same()  # the third update copied it
    # rewards of 100 make |error| >> delta: the Huber loss is linear there, |error| - 0.5
    assert losses[0] > 50 and losses[0] < 0.5 * 100**2 / 10


@pytest.mark.parametrize("cls,options", [
    (DQN, {"total_steps": 300, "learning_starts": 100, "train_freq": 50, "gradient_steps": 4,
           "hidden": [16], "double": True, "dueling": True}),
    (REINFORCE, {"total_steps": 200, "episodes_per_update": 2, "hidden": [16]}),
    (A2C, {"total_steps": 200, "num_envs": 2, "hidden": [16], "advantage": "gae"}),
    (PPO, {"total_steps": 256, "num_envs": 2, "n_steps": 32, "batch_size": 32, "n_epochs": 2,
           "hidden": [16]}),
])
def test_a_seed_repeats_a_run_exactly(cls, options):
    runs = []
    for _ in range(2):
        agent = cls("CartPole-v1", seed=7, **options, **TINY).learn(progress=False)
        runs.append(agent)
    a, b = runs
    assert [e["return"] for e in a.episodes] == [e["return"] for e in b.episodes]
    assert len(a.episodes) > 0 and a.steps == b.steps >= options["total_steps"]
    for (k, p), (_, q) in zip(a.policy_params(), b.policy_params()):
        np.testing.assert_array_equal(p, q, err_msg=k)


def test_checkpoint_resume_and_eval(tmp_path):
    options = {"num_envs": 2, "n_steps": 16, "batch_size": 32, "n_epochs": 1, "hidden": [16],
               "eval_every": 64, "eval_episodes": 1, "stop_return": None}
    agent = PPO("CartPole-v1", seed=1, total_steps=64, **options).learn(str(tmp_path),
                                                                        progress=False)
    assert (tmp_path / "checkpoint.npz").is_file() and (tmp_path / "episodes.csv").is_file()
    assert (tmp_path / "returns.png").is_file()
    again = load_agent(str(tmp_path), best=False)
    assert again.steps == 64 and len(again.episodes) == len(agent.episodes)
    again.config["total_steps"] = 128
    again.learn(str(tmp_path), progress=False)
    assert again.steps == 128 and len(again.evals) == 2
    best = load_agent(str(tmp_path))
    r1 = evaluate(best, 2, seed=5)
    np.testing.assert_array_equal(r1, evaluate(best, 2, seed=5))  # an evaluation repeats
    assert r1.shape == (2,) and np.all(r1 >= 1)


def test_short_ppo_run_improves():
    agent = PPO("CartPole-v1", seed=0, total_steps=4096, **TINY).learn(progress=False)
    returns = [e["return"] for e in agent.episodes]  # the sampling policy's episodes
    first, last = np.mean(returns[:20]), np.mean(returns[-10:])
    assert last > 2 * first, (first, last)


def test_errors_name_what_is_supported():
    with pytest.raises(ValueError, match="unknown environment id 'CartPoel-v1'.*CartPole-v1"):
        make_env("CartPoel-v1")
    with pytest.raises(ValueError, match="dqn: Pendulum-v1 has action space Box.*supports "
                       "Discrete action spaces"):
        DQN("Pendulum-v1")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['lr_rate'\]"):
        PPO("CartPole-v1", lr_rate=0.1)
    with pytest.raises(ValueError, match="unknown environment id"):
        make_vector_env("NoSuchEnv-v0", 2)


def test_policy_methods_take_continuous_actions():
    agent = A2C("Pendulum-v1", seed=0, total_steps=40, num_envs=2, hidden=[8], **TINY)
    agent.learn(progress=False)
    a = agent.act(np.zeros((3, 3), dtype=np.float32))
    assert a.shape == (3, 1) and np.all(np.abs(a) <= 2.0)


def test_missing_gymnasium_is_one_line_naming_the_extra():
    # one interpreter: the MDP side works without gymnasium, the environments say what to install
    code = ("import sys; sys.modules['gymnasium'] = None\nimport striate.rl as rl\n"
            "print(rl.value_iteration(rl.GridWorld().mdp())[0].shape)\n"
            "try:\n    rl.PPO\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()
    assert out == ["(11,)", 'striate.rl environments need gymnasium: pip install "striate[rl]"']


@pytest.mark.parametrize("env_id,needs", [("Acrobot-v1", None), ("LunarLander-v3", "Box2D")])
def test_other_gymnasium_environments_run(env_id, needs):
    if needs is not None:
        pytest.importorskip(needs)
    agent = PPO(env_id, seed=0, total_steps=64, num_envs=2, n_steps=32, batch_size=32,
                n_epochs=1, hidden=[8], **TINY)
    assert agent.learn(progress=False).steps == 64


def test_dqn_checkpoint_keeps_the_replay_buffer(tmp_path):
    agent = DQN("CartPole-v1", seed=2, total_steps=200, learning_starts=100, train_freq=50,
                gradient_steps=2, hidden=[8], **TINY).learn(str(tmp_path), progress=False)
    again = load_agent(str(tmp_path), best=False)
    assert len(again.buffer) == len(agent.buffer) == 200
    np.testing.assert_array_equal(again.buffer.obs[:200], agent.buffer.obs[:200])
    # rounds of 2 updates at steps 100, 150 and 200
    assert again.updates == agent.updates == 6 and again.buffer.pos == agent.buffer.pos
    np.testing.assert_array_equal(again.rng.random(3), agent.rng.random(3))
