"""``npi-gym train seq2seq`` and the seq2seq part of ``npi-gym eval`` (torch is imported when a command runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from agents.baselines.seq2seq_config import KIND, Seq2SeqConfig
from agents.common.commands import add_train_command, print_evaluation

NAME = "seq2seq"
READS = ("lengths",)
"""``eval`` flags another agent adds that this one reads too"""
LENGTHS = [10, 20, 50]
"""the problem sizes ``eval`` plays when no --lengths are given"""


def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    """``train seq2seq``: every Seq2SeqConfig field as a flag."""
    add_train_command(
        subparsers, NAME, Seq2SeqConfig, KIND, "agents.baselines.seq2seq_train:train", summary,
        help="seq2seq LSTM baseline of the NPI paper (sort, addition: stacked or aligned)",
        description="Train the NPI paper's sequence-to-sequence LSTM on the NPI's training problems.",
    )


def summary(cfg: Seq2SeqConfig, result: dict[str, Any], path: Path) -> str:
    return (
        f"trained seq2seq ({cfg.layout}) on {result['problems']} {cfg.env_id} problems for {result['updates']} updates "
        f"in {result['seconds']:.0f} s; held-out answers right: {100 * result['validation']:.1f}%; checkpoint {path}"
    )


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """No flags of its own: ``--lengths`` is shared with the NPI's."""


def evaluate_command(args: argparse.Namespace, out: TextIO) -> int:
    """Per-length accuracy of a seq2seq checkpoint through env.step (it reads the input and writes its answer)."""
    import torch

    from agents.baselines.seq2seq_agent import Seq2SeqAgent

    torch.set_num_threads(1)
    agent = Seq2SeqAgent.load(args.checkpoint, args.env)
    title = f"{agent.env_id}, seq2seq {args.checkpoint}"
    return print_evaluation(agent, agent.env_id, args.shared.get("lengths") or LENGTHS, args, out, title, **agent.env_kwargs)
