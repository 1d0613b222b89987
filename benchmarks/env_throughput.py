"""Steps/s of every env through gym.make with random masked actions, beside CartPole-v1 in the same run.

The timer covers env.step and env.reset (the env's own cost); drawing the random action is outside
it. Cost per step is compared with CartPole's as a ratio, so the figure does not depend on how fast
or busy the machine is. Writes benchmarks/results/env_throughput.md and .csv.

    python benchmarks/env_throughput.py [--seconds 2] [--ids NPI-Sort-v0 ...]
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from pathlib import Path

import gymnasium as gym

import npi_gym
from car_throughput import car_rows

RESULTS = Path(__file__).parent / "results"
REFERENCE = "CartPole-v1"
TARGET_RATIO = 3.0


def steps_per_second(env_id: str, seconds: float, seed: int = 0, **kwargs: object) -> tuple[float, int, int]:
    """(steps/s of env time, steps, episodes) over about ``seconds`` of wall time."""
    env = gym.make(env_id, **kwargs)
    env.action_space.seed(seed)
    _, info = env.reset(seed=seed)
    timed = 0.0
    steps = episodes = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            action = env.action_space.sample(mask=info.get("action_mask"))
            start = time.perf_counter()
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                _, info = env.reset()
                episodes += 1
            timed += time.perf_counter() - start
            steps += 1
    env.close()
    return steps / timed, steps, episodes


def scratch_pad_ids() -> list[str]:
    return [i for i in npi_gym.ENV_IDS if i.startswith(("NPI-Addition", "NPI-Sort"))]


def table_ids() -> list[str]:
    return [i for i in npi_gym.ENV_IDS if i.startswith("NPI-Table")]


def table_rows(seconds: float) -> list[tuple[str, float, float]]:
    """(env id, episodes/s, steps/s) of every NPI-Table id, env time only."""
    rows = []
    for env_id in table_ids():
        rate, steps, episodes = steps_per_second(env_id, seconds)
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

    reference = [steps_per_second(REFERENCE, args.seconds)[0]]
    rows = []
    for env_id in ids:
        rate, steps, episodes = steps_per_second(env_id, args.seconds)
        rows.append((env_id, rate, steps, episodes))
    tables = [] if args.skip_tables else table_rows(args.seconds)
    car = [] if args.skip_car else car_rows()
    reference.append(steps_per_second(REFERENCE, args.seconds)[0])
    cartpole = sum(reference) / len(reference)

    header = f"| env | steps/s | episodes | cost per step vs {REFERENCE} | within {TARGET_RATIO:g}x |"
    lines = [
        "# Env throughput",
        "",
        f"Random masked actions through `gym.make`; env time only (step + reset). "
        f"{REFERENCE}: {cartpole:,.0f} steps/s in the same run (mean of a measurement before and after).",
        f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"gymnasium {gym.__version__}. Command: `python benchmarks/env_throughput.py --seconds {args.seconds:g}`.",
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
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "env_throughput.md").write_text(report)
    with open(RESULTS / "env_throughput.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["env", "steps_per_s", "steps", "episodes", "cost_ratio_vs_cartpole"])
        writer.writerow([REFERENCE, f"{cartpole:.1f}", "", "", "1.0"])
        for env_id, rate, steps, episodes in rows:
            writer.writerow([env_id, f"{rate:.1f}", steps, episodes, f"{cartpole / rate:.3f}"])


if __name__ == "__main__":
    main()
