"""The env verbs of the ``npi-gym`` command: list envs, print expert traces, play an env by hand, the demo's expert part.

``add_env_verbs`` adds them to a command tree (``agents.cli`` owns the whole one); ``python -m npi_gym.cli``
runs them alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Callable, Sequence, TextIO

import gymnasium as gym

import npi_gym
from npi_gym.core import ProgramEnv
from npi_gym.registry import PROGRAM_CALL_IDS
from npi_gym.traces import rollout

DEMO_PROBLEMS = (("NPI-Addition-v0", (96, 125)), ("NPI-Sort-v0", (9, 2, 5)))


def parse_problem(text: str) -> tuple[str, ...]:
    """``"96,125"`` or ``"96+125"`` or ``"9 2 5"`` -> the items as strings, for ``options["problem"]``."""
    items = tuple(x for x in text.replace("+", ",").replace(" ", ",").split(",") if x)
    if not items:
        raise argparse.ArgumentTypeError(f"no problem in {text!r}; write e.g. 96,125 or 9,2,5")
    return items


def int_at_least(minimum: int, what: str = "an integer", example: str | None = None) -> Callable[[str], Any]:
    """An argparse type: ``what``, an integer >= ``minimum``; given an ``example`` such as ``"10,20,50"``,
    one or more comma-separated ones (a list)."""

    def parse(text: str) -> Any:
        try:
            values = [int(x) for x in (text.split(",") if example else [text])]
        except ValueError:
            values = []
        if not values or any(v < minimum for v in values):
            many = f" or comma-separated ones such as {example}" if example else ""
            raise argparse.ArgumentTypeError(f"expected {what} >= {minimum}{many}; got {text!r}")
        return values if example else values[0]

    return parse


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    for env_id in npi_gym.ENV_IDS:
        env = gym.make(env_id)
        base = env.unwrapped
        keys = ", ".join(env.observation_space.spaces)
        print(f"{env_id}\n  observation: {keys}", file=out)
        if isinstance(base, ProgramEnv):
            print("  programs:\n" + "\n".join("    " + line for line in base.programs.table().splitlines()), file=out)
        else:
            print(f"  action: {', '.join(env.action_space.spaces)}", file=out)
        env.close()
    return 0


def _program_env(env_id: str, **kwargs: Any) -> gym.Env:
    try:
        env = gym.make(env_id, **kwargs)
    except ImportError as e:  # gym.make imports the module named before a ':' in the id
        raise ValueError(f"{env_id!r} is not a registered env id ({e}); choose one of {list(PROGRAM_CALL_IDS)}") from None
    if not isinstance(env.unwrapped, ProgramEnv):
        raise ValueError(f"{env_id} is not a program-call env; choose one of {list(PROGRAM_CALL_IDS)}")
    return env


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.problem is not None:
        options["problem"] = args.problem
    if args.length is not None:
        options["length"] = args.length
    if getattr(args, "program", None):
        options["program"] = args.program
    return options


def cmd_trace(args: argparse.Namespace, out: TextIO) -> int:
    env = _program_env(args.env)
    trace = rollout(env, seed=args.seed, options=_options(args))
    print(trace.to_json() if args.json else trace.text(), file=out)
    if not args.json:
        print(f"-- {len(trace)} calls, reward {trace.reward}", file=out)
    return 0


PLAY_HELP = """Type a call by name (e.g. ADD1, ACT PTR INP1 LEFT, ACT WRITE OUT 7, RETURN),
'expert' for the expert's next call, 'calls' for the calls the running program may make,
'reset' for a new problem, 'quit' to leave."""


def cmd_play(args: argparse.Namespace, out: TextIO, inp: TextIO | None = None) -> int:
    """Read calls from ``inp`` (default: stdin) and step the env with them until 'quit' or the input ends."""
    env = _program_env(args.env, render_mode="ansi")
    base: ProgramEnv = env.unwrapped  # type: ignore[assignment]
    env.reset(seed=args.seed, options=_options(args))
    print(PLAY_HELP + "\n\n" + env.render(), file=out)
    over = None  # how the episode ended, once it has
    for line in sys.stdin if inp is None else inp:
        command = line.strip()
        if command in ("quit", "exit", "q"):
            break
        if not command:
            continue
        if command == "reset":
            env.reset()
            over = None
        elif over is not None:
            print(f"the episode is over ({over}); type 'reset' for a new problem or 'quit' to leave", file=out)
            continue
        elif command == "expert":
            action = base.expert_action()
            text = "(none: you left the expert's path)" if action is None else base.programs.text(base.action_to_call(action))
            print(f"expert: {text}", file=out)
            continue
        elif command == "calls":
            mask = base.flat_action_mask()
            print("  " + "\n  ".join(base.programs.text(c) for c, ok in zip(base.programs.calls, mask) if ok), file=out)
            continue
        else:
            try:
                action = base.call_to_action(command)
            except ValueError:
                print(f"unknown call {command!r}; type 'calls' for the calls the running program may make", file=out)
                continue
            _, reward, terminated, truncated, info = env.step(action)
            if "invalid_call" in info:
                print(f"invalid call (nothing changed): {info['invalid_call']}", file=out)
            if terminated or truncated:
                over = f"reward {reward}, {'returned' if terminated else 'out of budget'}"
                print(env.render(), file=out)
                print(f"episode over: {over}; 'reset' for a new one", file=out)
                continue
        print(env.render(), file=out)
    return 0


def expert_table(env_ids: Sequence[str], episodes: int = 20, seed: int = 0) -> str:
    """Markdown table: expert success rate and steps/s of each env (expert actions, gym.make)."""
    rows = ["| env | episodes | expert success | steps | steps/s |", "|---|---|---|---|---|"]
    for env_id in env_ids:
        env = gym.make(env_id)
        wins = steps = 0
        start = time.perf_counter()
        for episode in range(episodes):
            env.reset(seed=seed + episode)
            while True:
                _, reward, terminated, truncated, _ = env.step(env.unwrapped.expert_action())
                steps += 1
                if terminated or truncated:
                    wins += reward == 1.0
                    break
        elapsed = time.perf_counter() - start
        env.close()
        rows.append(f"| {env_id} | {episodes} | {100 * wins / episodes:.0f}% | {steps} | {steps / elapsed:,.0f} |")
    return "\n".join(rows)


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    for env_id, problem in DEMO_PROBLEMS:
        trace = rollout(gym.make(env_id), options={"problem": problem})
        print(f"== {env_id}, problem {problem}: expert trace (reward {trace.reward})\n{trace.text()}\n", file=out)
    print("== The expert on every env\n" + expert_table(npi_gym.ENV_IDS, episodes=args.episodes) + "\n", file=out)
    return 0


ENV_COMMANDS = {"list": cmd_list, "trace": cmd_trace, "play": cmd_play, "demo": cmd_demo}


def add_env_verbs(verbs: argparse._SubParsersAction) -> None:
    """Add ``list``, ``trace``, ``play`` and ``demo`` to a command tree; each parser's ``run`` is its command."""
    verbs.add_parser("list", help="every env id with its programs and observation keys")
    for name, help_ in (("trace", "print the expert's trace of one problem"), ("play", "make calls by hand")):
        p = verbs.add_parser(name, help=help_)
        p.add_argument("env", help="env id, e.g. NPI-Addition-v0")
        p.add_argument("--problem", type=parse_problem, help="e.g. 96,125 (addition) or 9,2,5 (sort)")
        p.add_argument("--length", type=int_at_least(1, "a problem size"), help="problem size when no --problem is given")
        p.add_argument("--seed", type=int_at_least(0, "a seed"), default=None)
        if name == "trace":
            p.add_argument("--program", help="start at a sub-program, e.g. BSTEP")
            p.add_argument("--json", action="store_true", help="print the trace as JSON")
    demo = verbs.add_parser("demo", help="expert traces, expert table and the shipped agents")
    demo.add_argument("--episodes", type=int_at_least(1, "an episode count"), default=20, help="episodes per env in the expert table")
    for name, command in ENV_COMMANDS.items():
        verbs.choices[name].set_defaults(run=command, command=name)


def run_command(parser: argparse.ArgumentParser, args: argparse.Namespace, errors: tuple[type[Exception], ...] = ()) -> int:
    """Run the parsed command; a user error goes to stderr as ``npi-gym VERB: error: ...`` with status 2."""
    try:
        return args.run(args, sys.stdout)
    except (ValueError, TypeError, gym.error.Error, *errors) as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The env verbs alone (``python -m npi_gym.cli``)."""
    parser = argparse.ArgumentParser(prog="npi-gym", description=__doc__.splitlines()[0])
    add_env_verbs(parser.add_subparsers(dest="verb", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    return run_command(parser, parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
