"""``npi-gym train table-lstm`` and the table-LSTM part of ``npi-gym eval`` (torch is imported when a command runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from agents.baselines.table_config import KIND, TableLSTMConfig
from agents.common.commands import add_train_command

NAME = "table-lstm"


def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    """``train table-lstm``: every TableLSTMConfig field as a flag (``--heads 5`` for attention)."""
    add_train_command(
        subparsers, NAME, TableLSTMConfig, KIND, "agents.baselines.table_train:train", summary,
        help="seq2seq LSTM / LSTM with attention baseline of the Neural Programmer paper (scalar answers)",
        description="Train the Neural Programmer paper's LSTM baseline over the flattened table and question.",
    )


def summary(cfg: TableLSTMConfig, result: dict[str, Any], path: Path) -> str:
    model = f"attention, {cfg.heads} heads" if cfg.heads else "no attention"
    return (
        f"trained table LSTM ({model}, task {cfg.task}) on {cfg.env_id} for {result['updates']} updates in "
        f"{result['seconds']:.0f} s; held-out answers right: {100 * result['validation']:.1f}%; checkpoint {path}"
    )


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """No flags of its own."""


def evaluate_command(args: argparse.Namespace, out: TextIO) -> int:
    """Accuracy of a table-LSTM checkpoint on fresh questions, checked with the env's answer check."""
    import torch

    from agents.baselines.table_train import load, test_accuracy

    if args.env is not None:
        raise ValueError(f"--env: a table LSTM checkpoint is scored on the env it was trained on; {args.checkpoint} takes no --env")
    episodes = args.episodes or [1000]
    if len(episodes) != 1:
        raise ValueError("--episodes: a table LSTM checkpoint takes one count (its questions have no lengths)")
    torch.set_num_threads(1)
    model, cfg = load(args.checkpoint)
    lines = [f"table LSTM {args.checkpoint} on {cfg.env_id} (task {cfg.task}), {episodes[0]} questions each:"]
    for purpose in ("test-in-range", "test"):
        lines.append(f"  {purpose}: {100 * test_accuracy(model, cfg, episodes[0], purpose):.1f}%")
    print("\n".join(lines), file=out)
    return 0
