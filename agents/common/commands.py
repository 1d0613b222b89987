"""What every agent's ``npi-gym train`` command shares (config flags, --out/--resume/--quiet, the resume policy),
and the per-length table its ``npi-gym eval`` prints."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any, Callable, TextIO

from agents.common.checkpoints import CheckpointError, CheckpointKind, require_training_state
from agents.common.flags import ENV_FLAG, add_config_flags, given
from agents.common.resume import resumed_config

Summary = Callable[[Any, dict[str, Any], Path], str]
"""(config, the trainer's summary, checkpoint path) -> the line printed when training ends"""


def add_train_command(
    subparsers: argparse._SubParsersAction, name: str, cls: type, kind: CheckpointKind, trainer: str, summary: Summary,
    help: str, description: str,
) -> None:
    """``train NAME``: ``cls``'s fields as flags (``env_id`` as ``--env``), and where to checkpoint (default runs/NAME-ENV.pt).

    ``trainer`` is the training function as ``"module:function"``, imported (with torch) only when the command runs.
    """
    parser = subparsers.add_parser(name, help=help, description=description)
    add_config_flags(parser, cls, rename=ENV_FLAG)
    parser.add_argument("--out", type=Path, help=f"checkpoint path (default runs/{name}-ENV.pt); a CSV log is written beside it")
    parser.add_argument(
        "--resume", action="store_true",
        help="continue the run saved at --out with its own settings; flags given change only the settings safe to change",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def run(args: argparse.Namespace, out: TextIO) -> int:
        cfg, path = training_config(args, cls, kind)
        module, _, function = trainer.partition(":")
        train = getattr(importlib.import_module(module), function)
        print(summary(cfg, train(cfg, path, resume=args.resume, progress=not args.quiet), path), file=out)
        return 0

    parser.set_defaults(run=run, command=f"train {name}", stem=name)


def print_evaluation(
    agent: Any, env_id: str, lengths: list[int | None], args: argparse.Namespace, out: TextIO, title: str, **kwargs: Any
) -> int:
    """``npi-gym eval``'s table: ``agent`` on ``env_id`` at ``lengths``, ``--episodes`` one count or one per length,
    ``--seed``; ``kwargs`` go to ``agents.base.evaluate`` (``batch_size``, make-time kwargs)."""
    from agents.base import evaluate, format_results

    episodes = args.episodes or [100]
    if len(episodes) not in (1, len(lengths)):
        raise ValueError(
            f"--episodes {','.join(map(str, episodes))} gives {len(episodes)} counts for the {len(lengths)} lengths "
            f"{','.join(map(str, lengths))}; give one count, or one per length"
        )
    results = evaluate(agent, env_id, lengths, episodes[0] if len(episodes) == 1 else episodes, seed=args.seed, **kwargs)
    print(format_results(results, title), file=out)
    return 0


def check_writable(out: Path, name: str) -> None:
    """Refuse (``ValueError``) a checkpoint path where no checkpoint or its CSV log beside it can be written."""
    for path in (out, out.with_suffix(".csv")):
        if path.is_dir():
            raise ValueError(f"--out {out}: {path} is a folder; give a checkpoint file path such as {out / name}")
    folder = next((p for p in out.parents if p.exists()), Path("."))
    if not folder.is_dir():
        raise ValueError(f"--out {out}: {folder} is not a folder; give a checkpoint path inside a folder")


def training_config(args: argparse.Namespace, cls: type, kind: CheckpointKind) -> tuple[Any, Path]:
    """The config to train with and the checkpoint path: the flags given, or with ``--resume`` the saved run's
    config with the flags given applied (refused where they change a setting not safe to change)."""
    changes = given(args, cls)
    env_id = changes.get("env_id", cls.env_id)
    default = Path("runs") / f"{args.stem}-{env_id.removesuffix('-v0').lower()}.pt"
    out = args.out or default
    check_writable(out, default.name)
    if not args.resume:
        return cls(**changes), out
    if not out.exists():
        raise CheckpointError(f"nothing to resume at {out}; train without --resume to start a run there")
    saved = kind.header(out)
    require_training_state(out, saved)
    return resumed_config(out, cls, saved["config"], changes), out
