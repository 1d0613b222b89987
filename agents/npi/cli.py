"""``npi-gym train npi`` and the NPI part of ``npi-gym eval`` (torch is imported when a command runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from agents.common.commands import add_train_command, print_evaluation
from agents.npi.checkpoint import KIND
from agents.npi.config import NPIConfig
from npi_gym.cli import int_at_least

NAME = "npi"
LENGTHS = [10, 20, 50]
"""the problem sizes ``eval`` plays when no --lengths are given"""


def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    """``train npi``: every NPIConfig field as a flag."""
    add_train_command(
        subparsers, NAME, NPIConfig, KIND, "agents.npi.train:train", summary,
        help="Neural Programmer-Interpreter (behavioural cloning of the expert)",
        description="Train an NPI on a program-call env's expert traces.",
    )


def summary(cfg: NPIConfig, result: dict[str, Any], path: Path) -> str:
    return (
        f"trained {cfg.env_id} for {result['updates']} updates in {result['seconds']:.0f} s "
        f"({result['frames']} frames, {result['steps']} steps); held-out episodes solved: "
        f"{100 * result['validation']:.1f}%; checkpoint {path}"
    )


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``npi-gym eval`` flags only this agent's checkpoints take."""
    parser.add_argument(
        "--lengths", type=int_at_least(1, "a problem size", example="10,20,50"),
        help=f"NPI: comma-separated problem sizes (default {','.join(map(str, LENGTHS))})",
    )


def evaluate_command(args: argparse.Namespace, out: TextIO) -> int:
    """Per-length accuracy of an NPI checkpoint through env.step."""
    import torch

    from agents.npi.agent import NPIAgent

    torch.set_num_threads(1)
    agent = NPIAgent.load(args.checkpoint, args.env)
    title = f"{agent.env_id}, {args.checkpoint}"
    return print_evaluation(agent, agent.env_id, args.lengths or LENGTHS, args, out, title, batch_size=args.batch_size, **agent.env_kwargs)
