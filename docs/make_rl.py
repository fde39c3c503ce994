"""Make the numbers and pictures of docs/rl.md (rerunnable by anyone; nothing is downloaded).

    PYTHONPATH=src python docs/make_rl.py [--only gridworld,qlearn,dqn,reinforce,a2c,ppo,ram]

Writes docs/img/rl/*.png and docs/img/rl/results.json (the numbers the page quotes). Each deep
method trains on CartPole-v1 with its defaults and seed 0, then its kept (best-evaluated)
weights play 100 greedy evaluation episodes (seeds 0..99, never seen in training).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

IMG = Path(__file__).resolve().parent / "img" / "rl"
ALL = ("gridworld", "qlearn", "dqn", "reinforce", "a2c", "ppo", "ram")


def gridworld(results: dict) -> None:
    from striate.rl import GridWorld, policy_evaluation, policy_iteration, value_iteration
    from striate.rl.plots import plot_gridworld

    world = GridWorld()
    mdp = world.mdp()
    V_vi, pi_vi, deltas = value_iteration(mdp)
    V_pi, pi_pi, steps = policy_iteration(mdp)
    exact = policy_evaluation(mdp, pi_pi)
    plot_gridworld(world, V_vi, pi_vi, str(IMG / "gridworld_value_iteration.png"),
                   f"value iteration: {len(deltas)} sweeps")
    plot_gridworld(world, V_pi, pi_pi, str(IMG / "gridworld_policy_iteration.png"),
                   f"policy iteration: {steps} improvement steps")
    results["gridworld"] = {"value_iteration_sweeps": len(deltas),
                            "policy_iteration_steps": steps,
                            "max_error_vi": float(np.abs(V_vi - exact).max()),
                            "max_error_pi": float(np.abs(V_pi - exact).max()),
                            "value_at_start": float(V_pi[world.start_state])}


def qlearn(results: dict) -> None:
    from striate.rl import policy_evaluation, q_learning, value_iteration
    from striate.rl.envs import make_env
    from striate.rl.plots import plot_gridworld, plot_returns

    env = make_env("GridWorld-v0")
    t = time.perf_counter()
    Q, returns = q_learning(env, episodes=3000, seed=0)
    wall = time.perf_counter() - t
    mdp, world = env.unwrapped.mdp, env.unwrapped.world
    V_star, _, _ = value_iteration(mdp)
    V_q = policy_evaluation(mdp, Q.argmax(axis=1))
    plot_returns({"Q-learning": (np.arange(1, len(returns) + 1), returns)},
                 str(IMG / "qlearn_returns.png"), "Q-learning on Grid World (slip 0.2)",
                 "episode", window=100)
    plot_gridworld(world, Q.max(axis=1), Q.argmax(axis=1), str(IMG / "qlearn_policy.png"),
                   "Q-learning: max_a Q(s, a) and its greedy policy")
    results["qlearn"] = {"episodes": 3000, "wall_s": round(wall, 2),
                         "start_value_of_greedy_policy": float(V_q[world.start_state]),
                         "optimal_start_value": float(V_star[world.start_state]),
                         "optimal_states": int(np.sum(np.abs(V_q - V_star) < 1e-8)),
                         "states": len(V_q)}


def deep(name: str, results: dict) -> None:
    from striate import rl

    agent = getattr(rl, name.upper())("CartPole-v1", seed=0)
    with tempfile.TemporaryDirectory() as out:
        agent.learn(out, progress=sys.stderr.isatty())
    agent.plot(str(IMG / f"{name}_returns.png"))
    if name == "ppo":  # one episode of the trained agent, as `striate rl play --record` writes
        from striate.rl.plots import write_gif

        _, frames = rl.evaluate(agent, 1, seed=0, render=True, max_frames=300)
        write_gif(frames, str(IMG / "ppo_cartpole.gif"), every=3, scale=3)
    t = time.perf_counter()
    returns = rl.evaluate(agent, 100, seed=0)
    results[name] = {"train_wall_s": round(agent.wall, 1), "env_steps": agent.steps,
                     "episodes": len(agent.episodes), "best_eval_step": agent.best["step"],
                     "eval100_mean": float(returns.mean()), "eval100_std": float(returns.std()),
                     "eval100_wall_s": round(time.perf_counter() - t, 1),
                     "evals": [(e["step"], e["mean"]) for e in agent.evals]}
    print(name, {k: v for k, v in results[name].items() if k != "evals"}, flush=True)


def curves(results: dict) -> None:
    from striate.rl.plots import figure

    fig = figure()
    ax = fig.add_subplot(1, 1, 1)
    for k, name in enumerate(n for n in ("dqn", "reinforce", "a2c", "ppo") if n in results):
        steps, means = zip(*results[name]["evals"])
        ax.plot(steps, means, marker="o", markersize=3, color=f"C{k}", label=name)
    ax.axhline(475, color="k", linestyle="--", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("greedy evaluation return (20 episodes)")
    ax.set_title("CartPole-v1, defaults, seed 0", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(str(IMG / "cartpole_evaluations.png"), format="png")


def ram(results: dict) -> None:
    from striate.rl.ram import plot_glimpses, train_ram

    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        r = train_ram(out, progress=sys.stderr.isatty())
        os.replace(os.path.join(out, "accuracy.png"), IMG / "ram_accuracy.png")
    plot_glimpses(r["model"], r["test_images"], r["test_labels"], str(IMG / "ram_glimpses.png"))
    results["ram"] = {k: v for k, v in r.items() if not k.endswith("history")
                      and k not in ("model", "test_images", "test_labels")}
    results["ram"]["wall_s"] = round(time.perf_counter() - t, 1)
    print("ram", results["ram"], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated parts")
    args = parser.parse_args()
    IMG.mkdir(parents=True, exist_ok=True)
    path = IMG / "results.json"
    for part in args.only.split(","):
        if part not in ALL:
            parser.error(f"unknown part {part!r}; parts: {', '.join(ALL)}")
    for part in args.only.split(","):
        results: dict = {}
        if part in ("dqn", "reinforce", "a2c", "ppo"):
            deep(part, results)
        else:
            globals()[part](results)
        # merge into the file as it is now: parts may run in separate processes
        merged = json.loads(path.read_text()) if path.exists() else {}
        merged.update(results)
        path.write_text(json.dumps(merged, indent=1) + "\n")
    curves(json.loads(path.read_text()))


if __name__ == "__main__":
    main()
