"""``npi-gym train neural-programmer`` and the Neural Programmer part of ``npi-gym eval``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from agents.common.commands import add_train_command
from agents.neural_programmer.checkpoint import KIND
from agents.neural_programmer.config import NPConfig

NAME = "neural-programmer"


def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    """``train neural-programmer``: every NPConfig field as a flag (``--grad-noise false``, ``--epochs 40``, ...)."""
    add_train_command(
        subparsers, NAME, NPConfig, KIND, "agents.neural_programmer.train:train", summary,
        help="Neural Programmer on table questions (weak supervision: the answer alone)",
        description="Train the Neural Programmer on a table-question env's questions from their answers alone.",
    )


def summary(cfg: NPConfig, result: dict[str, Any], path: Path) -> str:
    return (
        f"{cfg.env_id}: {result['updates']} updates ({result['epochs']:g} epochs) in {result['seconds'] / 60:.1f} min "
        f"(+{result['data_seconds']:.0f} s data); held-out test-split accuracy {100 * result['accuracy']:.2f}%; "
        f"checkpoint {path}"
    )


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``npi-gym eval`` flags only this agent's checkpoints take."""
    parser.add_argument("--split", choices=("train", "test"), help="Neural Programmer: question split (default test)")


def evaluate_command(args: argparse.Namespace, out: TextIO) -> int:
    """Accuracy of a Neural Programmer checkpoint over real env episodes."""
    from agents.base import evaluate, format_results
    from agents.neural_programmer.agent import NeuralProgrammerAgent

    episodes = args.episodes or [1000]
    if len(episodes) != 1:
        raise ValueError(
            f"--episodes {','.join(map(str, episodes))}: a Neural Programmer checkpoint takes one count (its questions have no lengths)"
        )
    agent = NeuralProgrammerAgent.load(args.checkpoint, args.env)
    split = args.split or "test"
    results = evaluate(agent, agent.env_id, episodes=episodes[0], seed=args.seed, batch_size=args.batch_size, split=split)
    print(format_results(results, f"Neural Programmer {args.checkpoint} on {agent.env_id} ({split} split)"), file=out)
    return 0
