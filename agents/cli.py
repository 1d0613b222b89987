"""The ``npi-gym`` command: the env verbs of ``npi_gym.cli`` and every agent's ``train`` and ``eval``.

Each agent package contributes ``cli.add_train_parser`` (its ``train`` subcommand),
``cli.add_eval_arguments`` and ``cli.evaluate_command`` (its part of ``eval``); ``eval`` tells the
checkpoint kinds apart by their header. torch is imported only when a command needs it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType
from typing import Sequence, TextIO

from agents.baselines import cli as baselines_cli
from agents.baselines import seq2seq_cli, table_cli
from agents.common.checkpoints import CheckpointError, kind_of
from agents.neural_programmer import cli as neural_programmer_cli
from agents.npi import cli as npi_cli
from agents.npi.shipped import demo_table, pretrained_path
from npi_gym import cli as env_cli

__all__ = ["AGENTS", "build_parser", "demo_table", "main", "pretrained_path"]

EPISODE_COUNTS = env_cli.int_at_least(1, "an episode count", example="100 or 20,10,5")
AGENTS: tuple[ModuleType, ...] = (npi_cli, neural_programmer_cli, seq2seq_cli, table_cli)
"""the agent packages' command modules, each with NAME, KIND, add_train_parser, add_eval_arguments, evaluate_command"""


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(
        prog="npi-gym", description="Gymnasium environments for neural program induction, and agents that learn them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    env_cli.add_env_verbs(verbs)
    verbs.choices["demo"].set_defaults(run=cmd_demo)

    train = verbs.add_parser("train", help="train an agent (one subcommand per agent)", description="Train an agent.")
    agents = train.add_subparsers(dest="agent", required=True, metavar="AGENT")
    for agent in AGENTS:
        agent.add_train_parser(agents)
    baselines_cli.add_train_parsers(agents)

    ev = verbs.add_parser("eval", help="accuracy of a checkpoint of any agent through env.step",
                          description="Play a checkpoint (of any agent; told apart by its header) through real env episodes.")
    ev.add_argument("checkpoint", type=Path, nargs="?", help="a checkpoint of any agent, or an SB3 model .zip saved by npi-gym train")
    ev.add_argument("--env", help="env id (default: the one it was trained on)")
    ev.add_argument("--episodes", type=EPISODE_COUNTS, help="episodes: one count, or one per length (default: NPI 100, Neural Programmer 1000)")
    ev.add_argument("--batch-size", type=env_cli.int_at_least(1, "a batch size"), default=100, help="episodes run in lockstep (default: %(default)s)")
    ev.add_argument("--seed", type=env_cli.int_at_least(0, "a seed"), default=0, help="evaluation seed (default: %(default)s)")
    owned = {}
    for agent in AGENTS:
        before = {a.dest for a in ev._actions}
        agent.add_eval_arguments(ev)
        owned[agent.NAME] = sorted({a.dest for a in ev._actions} - before)
    baselines_cli.add_eval_arguments(ev)
    ev.set_defaults(run=cmd_eval, command="eval", owned=owned)

    parser.epilog = "agent commands:\n" + "\n".join(
        f"  npi-gym train {a.dest:<20} {a.help}" for a in agents._choices_actions
    ) + "\n\n'npi-gym COMMAND --help' lists each command's flags."
    return parser


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    env_cli.cmd_demo(args, out)
    print("== Shipped NPI agents, acting through env.step\n" + demo_table(), file=out)
    return 0


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    """Evaluate with the agent whose checkpoint kind the file's header names."""
    external = _eval_baseline(args, out)
    if external is not None:
        return external
    kind = kind_of(args.checkpoint)
    agent = next(a for a in AGENTS if a.KIND == kind)
    args.shared = {dest: getattr(args, dest) for dest in getattr(agent, "READS", ())}  # flags it shares with another agent
    vars(args).update(dict.fromkeys(args.shared))
    for other in AGENTS:
        for dest in args.owned[other.NAME] if other is not agent else ():
            if getattr(args, dest) is not None:
                raise ValueError(f"--{dest.replace('_', '-')} applies to {other.KIND.name}s; {args.checkpoint} is {kind.called}")
    return agent.evaluate_command(args, out)


def _eval_baseline(args: argparse.Namespace, out: TextIO) -> int | None:
    """``eval --agent module:Name`` or ``eval model.zip`` (an SB3 model); None for the other checkpoints."""
    from agents.baselines.sb3_agent import is_sb3_model

    if args.agent is not None:
        return baselines_cli.evaluate_external(args, out)
    if args.checkpoint is None:
        raise ValueError("give a checkpoint (or an SB3 model .zip) or --agent module:Name with --env ID")
    if is_sb3_model(args.checkpoint):
        return baselines_cli.evaluate_sb3(args, out)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``npi-gym`` with ``argv`` (default: the process's); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    return env_cli.run_command(parser, args, errors=(CheckpointError, OSError, ImportError))


if __name__ == "__main__":
    raise SystemExit(main())
