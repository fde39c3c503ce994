"""MDPs and dynamic programming: value and policy iteration against the exact linear solve of
the Bellman equations and against brute force over every deterministic policy; Grid World's
dynamics; tabular Q-learning."""

import itertools

import numpy as np
import pytest

from striate.rl import (
    MDP,
    GridWorld,
    greedy_policy,
    policy_evaluation,
    policy_iteration,
    q_from_v,
    q_learning,
    value_iteration,
)

SMALL = ("..G", ".#X", "S..")


@pytest.mark.parametrize("slip,gamma", [(0.0, 0.9), (0.2, 0.99), (0.5, 0.95), (0.2, 1.0)])
def test_value_and_policy_iteration_match_the_linear_solve(slip, gamma):
    world = GridWorld(slip=slip, gamma=gamma)
    mdp = world.mdp()
    V_vi, pi_vi, deltas = value_iteration(mdp)
    V_pi, pi_pi, _ = policy_iteration(mdp)
    exact_vi = policy_evaluation(mdp, pi_vi)  # (I - gamma P_pi) V = R_pi, solved
    exact_pi = policy_evaluation(mdp, pi_pi)
    np.testing.assert_allclose(V_vi, exact_vi, atol=1e-8, rtol=0)
    np.testing.assert_allclose(V_pi, exact_pi, atol=1e-8, rtol=0)
    np.testing.assert_allclose(V_vi, V_pi, atol=1e-8, rtol=0)
    # the solution satisfies the Bellman optimality equation
    np.testing.assert_allclose(mdp.bellman_backup(V_pi), V_pi, atol=1e-8, rtol=0)
    assert deltas[-1] < 1e-12 and deltas[0] > deltas[-1]


def test_policy_iteration_is_optimal_by_brute_force():
    world = GridWorld(SMALL, slip=0.2, gamma=0.9)
    mdp = world.mdp()
    live = np.flatnonzero(~mdp.terminal)
    best = np.full(mdp.num_states, -np.inf)
    for choice in itertools.product(range(4), repeat=len(live)):
        pi = np.zeros(mdp.num_states, dtype=np.int64)
        pi[live] = choice
        best = np.maximum(best, policy_evaluation(mdp, pi))
    V, _, _ = policy_iteration(mdp)
    np.testing.assert_allclose(V, best, atol=1e-10, rtol=0)


def test_policy_evaluation_by_hand_two_state_chain():
    # s0 -a-> s1 (reward 1), s1 -a-> s1 (reward 2): V1 = 2 / (1 - g), V0 = 1 + g V1
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = P[1, 0, 1] = 1.0
    R = np.array([[1.0], [2.0]])
    g = 0.5
    V = policy_evaluation(MDP(P, R, g), np.array([0, 0]))
    np.testing.assert_allclose(V, [1 + g * 2 / (1 - g), 2 / (1 - g)], atol=1e-12, rtol=0)
    np.testing.assert_allclose(q_from_v(MDP(P, R, g), V)[:, 0], V, atol=1e-12, rtol=0)


def test_gridworld_dynamics_slip_and_walls():
    world = GridWorld(SMALL, slip=0.2, living_reward=-0.1)
    mdp = world.mdp()
    s = world.state_of[(2, 0)]  # the start, bottom left
    up = mdp.P[s, 0]
    # up: 0.8 up to (1, 0); 0.1 right to (2, 1); 0.1 left into the edge, so stays
    assert up[world.state_of[(1, 0)]] == pytest.approx(0.8)
    assert up[world.state_of[(2, 1)]] == pytest.approx(0.1)
    assert up[s] == pytest.approx(0.1)
    # right from (1, 0) runs into the wall at (1, 1)
    s = world.state_of[(1, 0)]
    assert mdp.P[s, 1, s] == pytest.approx(0.8)
    # arriving at G pays +1, at X -1, elsewhere the living reward
    g = world.state_of[(0, 1)]
    assert mdp.R[g, 1] == pytest.approx(0.8 * 1.0 + 0.1 * -0.1 + 0.1 * -0.1)
    assert mdp.terminal.sum() == 2 and np.all(mdp.R[mdp.terminal] == 0)


@pytest.mark.parametrize("kwargs,match", [
    ({"layout": ("..", "...")}, "equal-length"),
    ({"layout": ("S.Z",)}, "unknown cell letters"),
    ({"layout": ("..G",)}, "exactly one start"),
    ({"slip": 1.5}, "slip must be"),
])
def test_gridworld_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GridWorld(**kwargs)


def test_mdp_bad_input():
    with pytest.raises(ValueError, match="probability vector"):
        MDP(np.full((2, 1, 2), 0.7), np.zeros((2, 1)), 0.9)
    with pytest.raises(ValueError, match=r"R must have shape \(S, A\)"):
        MDP(np.full((2, 1, 2), 0.5), np.zeros(3), 0.9)
    with pytest.raises(ValueError, match="needs terminal"):
        MDP(np.full((2, 1, 2), 0.5), np.zeros((2, 1)), 1.0)


def test_greedy_policy_breaks_ties_to_lowest_action():
    P = np.zeros((1, 3, 1))
    P[...] = 1.0
    mdp = MDP(P, np.array([[0.0, 1.0, 1.0]]), 0.5)
    assert greedy_policy(mdp, np.zeros(1))[0] == 1


def test_q_learning_finds_the_optimal_policy_on_a_deterministic_grid():
    pytest.importorskip("gymnasium")
    from striate.rl.envs import GridWorldEnv

    env = GridWorldEnv(layout=SMALL, slip=0.0, gamma=0.9)
    Q, returns = q_learning(env, episodes=300, alpha=0.5, seed=3)
    mdp = env.mdp
    V_star, _, _ = value_iteration(mdp)
    pi_q = np.argmax(Q, axis=1)
    # the greedy policy of the learned table is optimal: its exact value is V*
    np.testing.assert_allclose(policy_evaluation(mdp, pi_q), V_star, atol=1e-8, rtol=0)
    assert np.mean(returns[-50:]) > np.mean(returns[:50])
    Q2, returns2 = q_learning(env, episodes=300, alpha=0.5, seed=3)
    np.testing.assert_array_equal(Q, Q2)
