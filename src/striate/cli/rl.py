"""``striate rl ...``: the reinforcement-learning lecture's methods.

- ``gridworld train``: value iteration and policy iteration on Grid World, checked against the
  exact linear solve; pictures of the value function and greedy policy.
- ``qlearn train``: tabular Q-learning on a Discrete environment (default Grid World).
- ``dqn|reinforce|a2c|ppo train``: the deep methods on a gymnasium environment (default
  CartPole-v1); ``--resume RUN`` continues a run.
- ``ram train``: the recurrent attention model on the digits.
- ``eval RUN`` (mean and std of the greedy return), ``play RUN --record out.gif``.

Every ``train`` writes a run folder ``<out>/<date>-<method>/``.
"""

from __future__ import annotations

import json
import os

from . import CommandError, non_negative_float, positive_int, run_dir

DEEP = ("dqn", "reinforce", "a2c", "ppo")


def _option_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_sets(pairs) -> dict:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--set: expected KEY=VALUE, got {pair!r}")
        out[key.replace("-", "_")] = _option_value(value)
    return out


def _gridworld(args) -> int:
    import numpy as np

    from ..rl import GridWorld, policy_evaluation, policy_iteration, value_iteration
    from ..rl.plots import plot_gridworld
    from ..train.history import write_json

    world = GridWorld(args.layout, living_reward=args.living_reward, slip=args.slip,
                      gamma=args.gamma)
    mdp = world.mdp()
    V_vi, pi_vi, deltas = value_iteration(mdp)
    V_pi, pi_pi, iterations = policy_iteration(mdp)
    exact = policy_evaluation(mdp, pi_pi)
    out = run_dir(args.out, args.name)
    summary = {"value_iteration_sweeps": len(deltas), "policy_iteration_steps": iterations,
               "max_error_value_iteration": float(np.abs(V_vi - exact).max()),
               "max_error_policy_iteration": float(np.abs(V_pi - exact).max()),
               "same_policy": bool(np.array_equal(pi_vi, pi_pi)),
               "values": [float(v) for v in V_pi], "policy": [int(a) for a in pi_pi]}
    write_json(os.path.join(out, "summary.json"), summary)
    plot_gridworld(world, V_vi, pi_vi, os.path.join(out, "value_iteration.png"),
                   f"value iteration ({len(deltas)} sweeps)")
    plot_gridworld(world, V_pi, pi_pi, os.path.join(out, "policy_iteration.png"),
                   f"policy iteration ({iterations} steps)")
    print(world.grid(V_pi).round(4))
    print(f"value iteration: {len(deltas)} sweeps, max |V - V_exact| = "
          f"{summary['max_error_value_iteration']:.2e}; policy iteration: {iterations} steps, "
          f"max |V - V_exact| = {summary['max_error_policy_iteration']:.2e}")
    print(f"run folder: {out}")
    return 0


def _qlearn(args) -> int:
    import numpy as np
    from tqdm import tqdm

    from ..rl import q_learning
    from ..rl.envs import make_env
    from ..rl.plots import plot_gridworld, plot_returns
    from ..train.history import write_csv

    env = make_env(args.env, seed=args.seed)
    out = run_dir(args.out, args.name)
    with tqdm(total=args.episodes, desc=f"qlearn {args.env}", leave=False) as bar:
        Q, returns = q_learning(env, args.episodes, alpha=args.alpha, gamma=args.gamma,
                                seed=args.seed, progress=lambda ep, r: bar.update(1))
    np.save(os.path.join(out, "q_table.npy"), Q)
    write_csv(os.path.join(out, "episodes.csv"),
              [{"episode": k + 1, "return": r} for k, r in enumerate(returns)])
    plot_returns({"Q-learning": (np.arange(1, len(returns) + 1), returns)},
                 os.path.join(out, "returns.png"), f"Q-learning on {args.env}", "episode",
                 window=50)
    mdp = getattr(env.unwrapped, "mdp", None)
    if mdp is not None:  # Grid World: compare with the exact optimum
        from ..rl import policy_evaluation, value_iteration

        V_star, _, _ = value_iteration(mdp)
        pi = Q.argmax(axis=1)
        V_q = policy_evaluation(mdp, pi)
        plot_gridworld(env.unwrapped.world, Q.max(axis=1), pi, os.path.join(out, "q_policy.png"),
                       "Q-learning: max_a Q and greedy policy")
        print(f"greedy policy of Q: value at start {V_q[env.unwrapped.world.start_state]:.4f} "
              f"(optimal {V_star[env.unwrapped.world.start_state]:.4f}); "
              f"optimal in {int(np.sum(np.abs(V_q - V_star) < 1e-8))}/{len(V_q)} states")
    print(f"mean return of the last 100 episodes: {np.mean(returns[-100:]):.3f}")
    print(f"run folder: {out}")
    return 0


def _deep_train(args) -> int:
    from ..rl.agent import AGENTS, load_agent

    config = _parse_sets(args.set)
    for key in ("lr", "gamma", "num_envs", "hidden", "eval_every", "stop_return"):
        value = getattr(args, key, None)
        if value is not None:
            config[key] = value
    if args.steps is not None:
        config["total_steps"] = args.steps
    if args.method == "reinforce" and "num_envs" in config:  # one episode per environment
        config["episodes_per_update"] = config.pop("num_envs")
    if args.method == "dqn":
        config.update({k: True for k in ("double", "dueling") if getattr(args, k)})
    if args.resume:
        try:
            agent = load_agent(args.resume, best=False)
        except FileNotFoundError as e:
            raise CommandError(str(e)) from None
        if agent.name != args.method:
            raise CommandError(f"--resume: {args.resume} is a {agent.name} run, not {args.method}")
        agent.config.update(config)
        out = args.resume if os.path.isdir(args.resume) else os.path.dirname(args.resume)
    else:
        from .. import rl  # noqa: F401 - loads the methods
        from ..rl import dqn, policy_gradient  # noqa: F401

        agent = AGENTS[args.method](args.env, args.seed, **config)
        out = str(run_dir(args.out, args.name or args.method))
    agent.learn(out, progress=not args.no_progress)
    best = agent.best or {}
    print(f"{agent.steps} environment steps in {agent.wall:.1f} s; best greedy evaluation "
          f"{best.get('mean', float('nan')):.1f} at step {best.get('step')}")
    print(f"run folder: {out}")
    return 0


def _load(run):
    from ..rl.agent import load_agent

    try:
        return load_agent(run)
    except FileNotFoundError as e:
        raise CommandError(str(e)) from None


def _eval(args) -> int:
    from ..rl.agent import evaluate

    agent = _load(args.run)
    returns = evaluate(agent, args.episodes, seed=args.seed)
    print(f"{agent.name} on {agent.config['env_id']}: mean return {returns.mean():.2f} "
          f"± {returns.std():.2f} over {args.episodes} greedy episodes (seeds {args.seed}.."
          f"{args.seed + args.episodes - 1})")
    return 0


def _play(args) -> int:
    from ..rl.agent import evaluate

    agent = _load(args.run)
    if args.record:
        returns, frames = evaluate(agent, args.episodes, seed=args.seed, render=True,
                                   max_frames=args.max_frames)
    else:
        returns = evaluate(agent, args.episodes, seed=args.seed)
    for k, r in enumerate(returns):
        print(f"episode {k + 1}: return {r:.1f}")
    if args.record:
        from ..rl.plots import write_gif

        try:
            write_gif(frames, args.record)
        except ImportError as e:
            raise CommandError(str(e)) from None
        print(f"wrote {args.record} ({len(frames)} frames)")
    return 0


def _ram(args) -> int:
    from ..rl.ram import train_ram

    out = run_dir(args.out, args.name)
    result = train_ram(out, epochs=args.epochs, glimpses=args.glimpses, seed=args.seed,
                       progress=not args.no_progress)
    print(f"test accuracy: learned glimpses {result['test_accuracy']:.4f}, random glimpses "
          f"{result['random_glimpse_accuracy']:.4f}")
    print(f"run folder: {out}")
    return 0


def _common(t, name: str) -> None:
    t.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    t.add_argument("--out", default="runs", help="folder for run folders (default: %(default)s)")
    t.add_argument("--name", default=name, help="run folder name (default: %(default)s)")


def add_parsers(sub) -> None:
    """``striate rl ...``."""
    p = sub.add_parser("rl", help="reinforcement learning: MDPs, Q-learning, DQN, policy "
                       "gradients, A2C, PPO, recurrent attention",
                       description="Reinforcement learning on Grid World and gymnasium "
                       "environments (the rl extra: pip install \"striate[rl]\").")
    p.set_defaults(handler=lambda a: p.print_help() or 0)
    cmds = p.add_subparsers(dest="rl_command", metavar="{gridworld,qlearn,dqn,reinforce,a2c,ppo,"
                            "ram,eval,play}")

    g = cmds.add_parser("gridworld", help="value and policy iteration on Grid World")
    gt = g.add_subparsers(dest="rl_action", metavar="{train}").add_parser(
        "train", help="solve Grid World; pictures of the values and the greedy policy")
    gt.add_argument("--layout", nargs="+", default=["...G", ".#.X", "S..."],
                    help="rows: . free, # wall, S start, G +1, X -1 (default: the 3x4 world)")
    gt.add_argument("--slip", type=non_negative_float, default=0.2,
                    help="probability of moving to a side instead (default: %(default)s)")
    gt.add_argument("--living-reward", type=float, default=-0.04, help="default: %(default)s")
    gt.add_argument("--gamma", type=non_negative_float, default=0.99, help="default: %(default)s")
    _common(gt, "gridworld")
    gt.set_defaults(handler=_gridworld)

    q = cmds.add_parser("qlearn", help="tabular Q-learning")
    qt = q.add_subparsers(dest="rl_action", metavar="{train}").add_parser(
        "train", help="Q-learning with epsilon-greedy exploration")
    qt.add_argument("--env", default="GridWorld-v0", help="a gymnasium id with Discrete states "
                    "and actions (default: %(default)s)")
    qt.add_argument("--episodes", type=positive_int, default=3000, help="default: %(default)s")
    qt.add_argument("--alpha", type=non_negative_float, default=0.1, help="default: %(default)s")
    qt.add_argument("--gamma", type=non_negative_float, default=None,
                    help="default: the environment's (Grid World) or 0.99")
    _common(qt, "qlearn")
    qt.set_defaults(handler=_qlearn)

    for method in DEEP:
        m = cmds.add_parser(method, help=f"{method.upper()} on a gymnasium environment")
        t = m.add_subparsers(dest="rl_action", metavar="{train}").add_parser(
            "train", help=f"train {method} and write a run folder")
        t.add_argument("--env", default="CartPole-v1", help="gymnasium id (default: %(default)s)")
        t.add_argument("--steps", type=positive_int, default=None,
                       help="environment steps (default: the method's)")
        t.add_argument("--lr", type=non_negative_float, default=None,
                       help="learning rate (default: the method's)")
        t.add_argument("--gamma", type=non_negative_float, default=None,
                       help="discount (default: the method's)")
        t.add_argument("--hidden", type=positive_int, nargs="+", default=None,
                       help="hidden layer widths")
        t.add_argument("--eval-every", type=positive_int, default=None,
                       help="environment steps between greedy evaluations")
        t.add_argument("--stop-return", type=float, default=None,
                       help="stop when a greedy evaluation averages this (default: the "
                       "environment's reward_threshold; --set stop_return=null: never)")
        if method != "dqn":
            t.add_argument("--num-envs", type=positive_int, default=None,
                           help="parallel environments (SyncVectorEnv)")
        else:
            t.add_argument("--double", action="store_true", help="Double DQN targets")
            t.add_argument("--dueling", action="store_true", help="dueling head")
        t.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="any other option of the method (JSON values), e.g. ent_coef=0.01")
        t.add_argument("--resume", default=None, metavar="RUN",
                       help="continue the run in this folder (to --steps)")
        t.add_argument("--no-progress", action="store_true", help="no progress bar")
        _common(t, method)
        t.set_defaults(handler=_deep_train, method=method)

    r = cmds.add_parser("ram", help="recurrent attention model on the digits")
    rt = r.add_subparsers(dest="rl_action", metavar="{train}").add_parser(
        "train", help="train the glimpse policy (REINFORCE) and classifier (backprop)")
    rt.add_argument("--epochs", type=positive_int, default=100, help="default: %(default)s")
    rt.add_argument("--glimpses", type=positive_int, default=4, help="default: %(default)s")
    rt.add_argument("--no-progress", action="store_true", help="no progress bar")
    _common(rt, "ram")
    rt.set_defaults(handler=_ram)

    e = cmds.add_parser("eval", help="mean and std of a trained run's greedy return")
    e.add_argument("run", help="a run folder of `striate rl dqn|reinforce|a2c|ppo train`")
    e.add_argument("--episodes", type=positive_int, default=100, help="default: %(default)s")
    e.add_argument("--seed", type=int, default=0, help="first episode's seed (default: 0)")
    e.set_defaults(handler=_eval)

    pl = cmds.add_parser("play", help="play a trained run; record a GIF")
    pl.add_argument("run", help="a run folder of `striate rl dqn|reinforce|a2c|ppo train`")
    pl.add_argument("--record", default=None, metavar="OUT.gif",
                    help="write the frames (gymnasium's rgb_array render) as a GIF")
    pl.add_argument("--episodes", type=positive_int, default=1, help="default: %(default)s")
    pl.add_argument("--max-frames", type=positive_int, default=500, help="default: %(default)s")
    pl.add_argument("--seed", type=int, default=0, help="first episode's seed (default: 0)")
    pl.set_defaults(handler=_play)
