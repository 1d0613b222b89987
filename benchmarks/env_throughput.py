"""Steps/s of every env through gym.make with random masked actions, beside CartPole-v1 in the same run.

The timer covers env.step and env.reset (the env's own cost); drawing the random action is outside
it. Cost per step is compared with CartPole's as a ratio, so the figure does not depend on how fast
or busy the machine is. Writes benchmarks/results/env_throughput.md and .csv.

    python benchmarks/env_throughput.py [--seconds 2] [--ids NPI-Sort-v0 ...]
"""

from __future__ import annotations

import argparse
import platform

import gymnasium as gym

import npi_gym  # noqa: F401  (registers the ids)
from common import car_rows, command_line, steps_per_second, write_csv, write_markdown
from npi_gym.registry import FAMILY_IDS

REFERENCE = "CartPole-v1"
TARGET_RATIO = 3.0


def env_rate(env_id: str, seconds: float) -> tuple[float, int, int]:
    """(steps/s of env time, steps, episodes) of ``env_id`` over about ``seconds`` of wall time."""
    env = gym.make(env_id)
    rate = steps_per_second(env, seconds=seconds)
    env.close()
    return rate


def scratch_pad_ids() -> list[str]:
    return [*FAMILY_IDS["addition"], *FAMILY_IDS["sort"]]


def table_ids() -> list[str]:
    return list(FAMILY_IDS["table"])


def table_rows(seconds: float) -> list[tuple[str, float, float]]:
    """(env id, episodes/s, steps/s) of every NPI-Table id, env time only."""
    rows = []
    for env_id in table_ids():
        rate, steps, episodes = env_rate(env_id, seconds)
        rows.append((env_id, rate * episodes / steps, rate))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="wall time per env")
    parser.add_argument("--ids", nargs="*", default=None, help="env ids (default: the scratch-pad envs)")
    parser.add_argument("--skip-tables", action="store_true", help="leave out the NPI-Table section")
    parser.add_argument("--skip-car", action="store_true", help="leave out the NPI-Canonicalize-v0 section")
    args = parser.parse_args()
    ids = args.ids or scratch_pad_ids()

    reference = [env_rate(REFERENCE, args.seconds)[0]]
    rows = []
    for env_id in ids:
        rate, steps, episodes = env_rate(env_id, args.seconds)
        rows.append((env_id, rate, steps, episodes))
    tables = [] if args.skip_tables else table_rows(args.seconds)
    car = [] if args.skip_car else car_rows()
    reference.append(env_rate(REFERENCE, args.seconds)[0])
    cartpole = sum(reference) / len(reference)

    header = f"| env | steps/s | episodes | cost per step vs {REFERENCE} | within {TARGET_RATIO:g}x |"
    lines = [
        "# Env throughput",
        "",
        f"Random masked actions through `gym.make`; env time only (step + reset). "
        f"{REFERENCE}: {cartpole:,.0f} steps/s in the same run (mean of a measurement before and after).",
        f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"gymnasium {gym.__version__}. Command: `{command_line(__file__, args)}`.",
        "",
        header,
        "|---|---|---|---|---|",
        f"| {REFERENCE} | {cartpole:,.0f} | | 1.00x | |",
    ]
    for env_id, rate, _, episodes in rows:
        ratio = cartpole / rate
        lines.append(f"| {env_id} | {rate:,.0f} | {episodes} | {ratio:.2f}x | {'yes' if ratio <= TARGET_RATIO else 'NO'} |")
    if tables:
        lines += [
            "",
            "## NPI-Table envs",
            "",
            "Four steps per episode and a freshly drawn table and question at every reset, which dominates.",
            "",
            f"| env | episodes/s | steps/s | cost per step vs {REFERENCE} |",
            "|---|---|---|---|",
        ]
        lines += [f"| {i} | {eps:,.0f} | {rate:,.0f} | {cartpole / rate:.2f}x |" for i, eps, rate in tables]
    if car:
        lines += [
            "",
            "## NPI-Canonicalize-v0 (view cache)",
            "",
            "The same seeded random actions with a cold cache (each model rendered on first use), from the disk "
            "cache in a fresh env, and warm (in memory), beside the raw TinyRenderer time per frame, all measured "
            "in this run (details: `benchmarks/car_throughput.py`).",
            "",
            "| what | steps/s | note |",
            "|---|---|---|",
        ]
        lines += [f"| {name} | {rate:,.0f} | {note} |" for name, rate, note in car]
    write_markdown("env_throughput.md", lines, echo=True)
    write_csv("env_throughput.csv", ["env", "steps_per_s", "steps", "episodes", "cost_ratio_vs_cartpole"], [
        [REFERENCE, f"{cartpole:.1f}", "", "", "1.0"],
        *([env_id, f"{rate:.1f}", steps, episodes, f"{cartpole / rate:.3f}"] for env_id, rate, steps, episodes in rows),
    ])


if __name__ == "__main__":
    main()
