"""``npi-gym train`` and ``npi-gym eval`` (forwarded here by npi_gym.cli), and the demo's table."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

PRETRAINED = Path(__file__).parent / "npi" / "pretrained"
DEMO = (
    ("NPI-Addition-v0", "addition (digits)", (10, 100, 1000), (20, 10, 5)),
    ("NPI-Sort-v0", "sort (elements)", (20, 60, 100), (10, 4, 2)),
)


def pretrained_path(env_id: str) -> Path:
    """Where the shipped checkpoint for ``env_id`` lives."""
    return PRETRAINED / f"{env_id.removesuffix('-v0').lower()}.pt"


def main(argv: list[str]) -> int:
    """Run ``train npi|neural-programmer ...`` or ``eval CHECKPOINT ...``; return the exit status."""
    if argv[:2] == ["train", "neural-programmer"]:
        from agents.neural_programmer.cli import train_main

        return train_main(argv[2:])
    if argv[:1] == ["eval"] and len(argv) > 1 and _is_neural_programmer(argv[1]):
        from agents.neural_programmer.cli import eval_main

        return eval_main(argv[1:])
    parser = argparse.ArgumentParser(prog="npi-gym", description="Train and evaluate agents on npi-gym environments.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    train = verbs.add_parser("train", help="train an agent on an environment's expert traces")
    algos = train.add_subparsers(dest="algo", required=True)
    npi = algos.add_parser("npi", help="Neural Programmer-Interpreter (behavioural cloning of the expert)")
    algos.add_parser("neural-programmer", help="Neural Programmer on NPI-Table (see npi-gym train neural-programmer --help)", add_help=False)
    _add_config_flags(npi)
    npi.add_argument("--out", type=Path, help="checkpoint path (default runs/npi-<env>.pt); a CSV log is written beside it")
    npi.add_argument("--resume", action="store_true", help="continue the run saved at --out from its update count")
    npi.add_argument("--quiet", action="store_true", help="no progress bar")
    ev = verbs.add_parser("eval", help="per-length accuracy of an NPI checkpoint through env.step (or a Neural Programmer one)")
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument("--env", help="env id (default: the one it was trained on)")
    ev.add_argument("--lengths", default="10,20,50", help="comma-separated problem sizes")
    ev.add_argument("--episodes", default="100", help="episodes per length: one number, or one per length")
    ev.add_argument("--batch-size", type=int, default=100, help="episodes run in lockstep")
    ev.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.verb == "train":
        return _train_npi(args)
    return _eval(args)


def _is_neural_programmer(path: str) -> bool:
    from agents.neural_programmer.checkpoint import is_checkpoint

    return Path(path).is_file() and is_checkpoint(path)


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    from agents.npi.config import NPIConfig

    for f in dataclasses.fields(NPIConfig):
        flag = "--" + ("env" if f.name == "env_id" else f.name.replace("_", "-"))
        kind = json.loads if f.name == "env_kwargs" else type(f.default)
        parser.add_argument(flag, dest=f.name, type=kind, default=None, help=f"{f.metadata['help']} (default: {_default(f)})")


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]


def _train_npi(args: argparse.Namespace) -> int:
    from agents.npi.config import NPIConfig
    from agents.npi.train import train

    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(NPIConfig) if getattr(args, f.name) is not None}
    cfg = NPIConfig(**given)
    out = args.out or Path("runs") / f"npi-{cfg.env_id.removesuffix('-v0').lower()}.pt"
    if args.resume and not out.exists():
        print(f"nothing to resume at {out}")
        return 2
    summary = train(cfg, out, resume=args.resume, progress=not args.quiet)
    print(
        f"trained {cfg.env_id} for {summary['updates']} updates in {summary['seconds']:.0f} s "
        f"({summary['frames']} frames, {summary['steps']} steps); held-out episodes solved: "
        f"{100 * summary['validation']:.1f}%; checkpoint {out}"
    )
    return 0


def _eval(args: argparse.Namespace) -> int:
    import torch

    from agents.base import evaluate, format_results
    from agents.npi.agent import NPIAgent
    from agents.npi.checkpoint import CheckpointError

    torch.set_num_threads(1)

    try:
        agent = NPIAgent.load(args.checkpoint, args.env)
    except CheckpointError as e:
        print(f"error: {e}")
        return 2
    lengths = [int(x) for x in args.lengths.split(",")]
    episodes = [int(x) for x in args.episodes.split(",")]
    results = evaluate(
        agent,
        agent.env_id,
        lengths,
        episodes[0] if len(episodes) == 1 else episodes,
        seed=args.seed,
        batch_size=args.batch_size,
        **agent.env_kwargs,
    )
    print(format_results(results, f"{agent.env_id}, {args.checkpoint}"))
    return 0


def demo_table() -> str:
    """Evaluate the shipped addition and sort agents far beyond their training lengths; the table as text."""
    import torch

    from agents.base import evaluate
    from agents.npi.agent import NPIAgent

    torch.set_num_threads(1)
    lines = [
        "Shipped NPI agents, trained on lengths up to 20, run greedily through env.step on fresh problems:",
        "",
        "| task | length | solved | mean steps | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for env_id, task, lengths, episodes in DEMO:
        agent = NPIAgent.load(pretrained_path(env_id))
        for r in evaluate(agent, env_id, lengths, list(episodes)):
            lines.append(f"| {task} | {r.length} | {r.solved}/{r.episodes} | {r.mean_steps:.0f} | {r.seconds:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
