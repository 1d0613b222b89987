"""NPI-Canonicalize-v0: steps/s with a cold and a warm view cache beside the raw render time of a frame.

All in one run, with the same seeded random masked actions through `gym.make` (env time only: step
and reset): cold (empty disk cache, each model rendered on first use), disk (a fresh env loading every
model from the disk cache), warm (views in memory). The raw render time is pybullet's TinyRenderer
drawing one frame (mean of a measurement before and after the steps); "render per step" is the rate
an env that rendered every step could reach at best.
Also measures resident memory over make/reset/close cycles and over renderer connect/close cycles.
Writes benchmarks/results/car_throughput.md.

    python benchmarks/car_throughput.py [--steps 20000] [--cycles 1000] [--image-size 64]
"""

from __future__ import annotations

import argparse
import gc
import platform
from typing import Callable

import gymnasium as gym

import npi_gym  # noqa: F401  (registers the ids)
from common import CAR_ID, CAR_TARGET, car_rows, command_line, write_markdown
from npi_gym.envs.car import CarRenderer, model_names


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def rss_growth(cycle: Callable[[int], None], warmup: int, cycles: int) -> float:
    """RSS growth in MB over `cycles` calls of `cycle` after `warmup` calls."""
    for i in range(warmup):
        cycle(i)
    gc.collect()
    before = rss_mb()
    for i in range(cycles):
        cycle(i)
    gc.collect()
    return rss_mb() - before


def make_reset_close(image_size: int) -> Callable[[int], None]:
    """One make/reset/close cycle of the env on any model (views from the disk cache once warm)."""
    def cycle(seed: int) -> None:
        env = gym.make(CAR_ID, split="all", image_size=image_size)
        env.reset(seed=seed)
        env.close()

    return cycle


def connect_render_close(i: int) -> None:
    """One pybullet client: connect, render one frame, disconnect."""
    renderer = CarRenderer()
    renderer.render(model_names("all")[i % 8], 30, 15)
    renderer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000, help="random steps per cache state")
    parser.add_argument("--cycles", type=int, default=1000, help="make/reset/close cycles for the RSS figure")
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()

    rows = car_rows(args.steps, args.image_size)
    growth = rss_growth(make_reset_close(args.image_size), len(model_names("all")), args.cycles)
    client_growth = rss_growth(connect_render_close, 20, args.cycles)
    warm_ratio = rows[0][1] / rows[3][1]
    lines = [
        f"# {CAR_ID} throughput",
        "",
        f"Seeded random masked actions through `gym.make`, env time only (step + reset), {args.steps} steps "
        f"per cache state, {args.image_size}px observations; the render time is measured in the same run.",
        f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}. "
        f"Command: `{command_line(__file__, args)}`.",
        "",
        "| what | steps/s | note |",
        "|---|---|---|",
        *(f"| {name} | {rate:,.0f} | {note} |" for name, rate, note in rows),
        "",
        f"Warm cache vs one render per step: {warm_ratio:.0f}x (target {CAR_TARGET:g}x: "
        f"{'met' if warm_ratio >= CAR_TARGET else 'NOT met'}).",
        "",
        "## Resident memory",
        "",
        f"- {args.cycles} make/reset/close cycles (split \"all\", views from the disk cache): "
        f"{growth:+.1f} MB (limit 20 MB).",
        f"- {args.cycles} pybullet client connect / render one frame / disconnect cycles: {client_growth:+.1f} MB.",
    ]
    write_markdown("car_throughput.md", lines, echo=True)


if __name__ == "__main__":
    main()
