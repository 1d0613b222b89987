"""``npi-gym train neural-programmer ...`` and ``npi-gym eval CHECKPOINT`` for Neural Programmer checkpoints."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from typing import Any, Sequence

from agents.neural_programmer.config import NPConfig

_BOOLEAN = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _boolean(text: str) -> bool:
    if text.lower() not in _BOOLEAN:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return _BOOLEAN[text.lower()]


def train_parser() -> argparse.ArgumentParser:
    """Every NPConfig field as an option (``--grad-noise false``, ``--epochs 40``, ...)."""
    parser = argparse.ArgumentParser(
        prog="npi-gym train neural-programmer",
        description="Train the Neural Programmer on an NPI-Table env's questions from their answers alone.",
    )
    defaults = NPConfig()
    parser.add_argument("--env", dest="env_id", default=defaults.env_id, help="an NPI-Table id (default %(default)s)")
    parser.add_argument("--out", default=None, help="checkpoint path (default: runs/neural-programmer-ENV.pt)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out (same settings)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    for f in fields(NPConfig):
        if f.name == "env_id":
            continue
        value = getattr(defaults, f.name)
        kind: Any = _boolean if isinstance(value, bool) else type(value)
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=kind, default=value, help=f"default {value}")
    return parser


def train_main(argv: Sequence[str]) -> int:
    """``npi-gym train neural-programmer [options]``: train, checkpoint, print the summary."""
    from agents.neural_programmer.checkpoint import CheckpointError
    from agents.neural_programmer.train import train

    args = vars(train_parser().parse_args(list(argv)))
    out = args.pop("out") or f"runs/neural-programmer-{args['env_id'].removesuffix('-v0').lower()}.pt"
    resume, quiet = args.pop("resume"), args.pop("quiet")
    try:
        cfg = NPConfig.from_dict(args)
        summary = train(cfg, out, resume=resume, progress=not quiet)
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"{cfg.env_id}: {summary['updates']} updates ({summary['epochs']:g} epochs) in {summary['seconds'] / 60:.1f} min "
        f"(+{summary['data_seconds']:.0f} s data); held-out test-split accuracy {100 * summary['accuracy']:.2f}%; "
        f"checkpoint {out}"
    )
    return 0


def eval_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="npi-gym eval", description="Play a Neural Programmer checkpoint through real env episodes."
    )
    parser.add_argument("checkpoint")
    parser.add_argument("--env", default=None, help="NPI-Table id (default: the one it was trained on)")
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--split", choices=("train", "test"), default="test")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def eval_main(argv: Sequence[str]) -> int:
    """``npi-gym eval CHECKPOINT [--env ID] [--episodes N] [--split test]``: accuracy through env.step."""
    from agents.base import evaluate, format_results
    from agents.neural_programmer.agent import NeuralProgrammerAgent
    from agents.neural_programmer.checkpoint import CheckpointError

    args = eval_parser().parse_args(list(argv))
    try:
        agent = NeuralProgrammerAgent.load(args.checkpoint, args.env)
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    results = evaluate(agent, agent.env_id, episodes=args.episodes, seed=args.seed, split=args.split)
    print(format_results(results, f"Neural Programmer {args.checkpoint} on {agent.env_id} ({args.split} split)"))
    return 0
