"""``npi-gym train <algorithm>`` for every baseline, and ``npi-gym eval`` of an SB3 ``.zip`` or an agent named by path."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from agents.baselines.algorithms import ALGORITHMS, algorithm
from agents.common.commands import print_evaluation
from agents.common.flags import parse_json_object
from npi_gym.cli import int_at_least


def add_train_parsers(subparsers: argparse._SubParsersAction) -> None:
    """One ``train`` subcommand per entry of ``ALGORITHMS``."""
    for algo in ALGORITHMS:
        p = subparsers.add_parser(algo.name, help=f"RL baseline: {algo.doc}", description=f"Train {algo.doc} on FlatCalls (stable-baselines3).")
        p.add_argument("--env", required=True, help="env id")
        p.add_argument("--timesteps", type=int_at_least(1, "a step count"), help="env steps in all (default: n_timesteps of the hyperparams entry)")
        p.add_argument("--seed", type=int_at_least(0, "a seed"), default=0, help="(default: %(default)s)")
        p.add_argument("--out", type=Path, help=f"run folder (default: runs/{algo.name}/ENV/seed-SEED)")
        p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
        p.add_argument("--env-kwargs", type=parse_json_object, default={}, help="make-time kwargs as JSON, e.g. '{\"max_length\": 3}'")
        p.add_argument("--hyperparams", type=Path, help=f"rl-zoo3-style YAML keyed by env id (default: the shipped hyperparams/{algo.zoo}.yml)")
        p.add_argument("--eval-episodes", type=int_at_least(1, "an episode count"), default=20, help="episodes per evaluation (default: %(default)s)")
        p.add_argument("--progress-bar", action="store_true", help="SB3's progress bar")
        p.set_defaults(run=train_command, command=f"train {algo.name}", algorithm=algo.name)


def train_command(args: argparse.Namespace, out: TextIO) -> int:
    import torch

    from agents.baselines.train import train

    torch.set_num_threads(1)
    folder = args.out or Path("runs") / args.algorithm / args.env / f"seed-{args.seed}"
    result = train(
        algorithm(args.algorithm), args.env, folder, timesteps=args.timesteps, seed=args.seed, resume=args.resume,
        env_kwargs=args.env_kwargs, hyperparams=args.hyperparams, eval_episodes=args.eval_episodes, progress_bar=args.progress_bar,
    )
    print(
        f"trained {args.algorithm} on {args.env} to {result['timesteps']} timesteps; "
        f"model {result['model']}; learning curve {result['curve']}",
        file=out,
    )
    return 0


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``npi-gym eval`` flags of agents named by path."""
    parser.add_argument("--agent", help="an agent to construct with the env: module:Name or path/to/file.py:Name (no checkpoint then)")
    parser.add_argument("--env-kwargs", type=parse_json_object, help="--agent and SB3 models: make-time kwargs as JSON")


def evaluate_external(args: argparse.Namespace, out: TextIO) -> int:
    """``npi-gym eval --agent module:Name --env ID``: build the agent with the env and play it."""
    import gymnasium as gym

    from agents.baselines.external import build_agent

    if args.checkpoint is not None:
        raise ValueError(f"give a checkpoint or --agent, not both (got {args.checkpoint} and --agent {args.agent})")
    if not args.env:
        raise ValueError("--agent needs --env ID (the env to construct it with)")
    env_kwargs = args.env_kwargs or {}
    env = gym.make(args.env, **env_kwargs)
    try:
        agent = build_agent(args.agent, env)
        title = f"{args.env}, {args.agent}"
        return print_evaluation(agent, args.env, args.lengths or [None], args, out, title, batch_size=args.batch_size, **env_kwargs)
    finally:
        env.close()


def evaluate_sb3(args: argparse.Namespace, out: TextIO) -> int:
    """``npi-gym eval model.zip``: an SB3 model saved by ``npi-gym train``."""
    import torch

    from agents.baselines.sb3_agent import SB3Agent

    torch.set_num_threads(1)
    agent = SB3Agent.load(args.checkpoint, args.env)
    env_kwargs = agent.env_kwargs if args.env_kwargs is None else args.env_kwargs
    title = f"{agent.env_id}, {args.checkpoint}"
    return print_evaluation(agent, agent.env_id, args.lengths or [None], args, out, title, batch_size=args.batch_size, **env_kwargs)
