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
import tempfile
import time
from pathlib import Path
from typing import Callable

import gymnasium as gym

import npi_gym  # noqa: F401  (registers the ids)
from npi_gym.envs.car import ELEVATIONS, N_AZIMUTHS, CarRenderer, RenderSettings, model_names

ENV_ID = "NPI-Canonicalize-v0"
RESULTS = Path(__file__).parent / "results"
TARGET = 50.0


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def render_ms(image_size: int, frames: int = 600) -> float:
    """Milliseconds per frame, the model loaded, poses cycling over the grid."""
    renderer = CarRenderer(RenderSettings(image_size=image_size))
    renderer.render("sedan_00", 0, 0)
    start = time.perf_counter()
    for i in range(frames):
        renderer.render("sedan_00", 15 * (i % N_AZIMUTHS), ELEVATIONS[i % len(ELEVATIONS)])
    elapsed = time.perf_counter() - start
    renderer.close()
    return 1000 * elapsed / frames


def steps_per_second(env: gym.Env, steps: int, seed: int = 0) -> float:
    """Env time only: the timer covers step and reset, not drawing the random action."""
    env.action_space.seed(seed)
    start = time.perf_counter()
    _, info = env.reset(seed=seed)
    timed = time.perf_counter() - start
    for _ in range(steps):
        action = env.action_space.sample(mask=info["action_mask"])
        start = time.perf_counter()
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            _, info = env.reset()
        timed += time.perf_counter() - start
    return steps / timed


def cache_rates(steps: int, image_size: int) -> dict[str, float]:
    """Steps/s with a cold, a disk-only and a warm view cache, and the models rendered cold."""
    with tempfile.TemporaryDirectory() as cache_dir:
        env = gym.make(ENV_ID, image_size=image_size, cache_dir=cache_dir)
        cold = steps_per_second(env, steps)
        rendered = env.unwrapped._cache.renders
        warm = steps_per_second(env, steps)
        env.close()
        del env
        gc.collect()
        env = gym.make(ENV_ID, image_size=image_size, cache_dir=cache_dir)
        disk = steps_per_second(env, steps)
        loaded = env.unwrapped._cache.disk_loads
        env.close()
    return {"cold": cold, "warm": warm, "disk": disk, "rendered": rendered, "loaded": loaded}


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
        env = gym.make(ENV_ID, split="all", image_size=image_size)
        env.reset(seed=seed)
        env.close()

    return cycle


def connect_render_close(i: int) -> None:
    """One pybullet client: connect, render one frame, disconnect."""
    renderer = CarRenderer()
    renderer.render(model_names("all")[i % 8], 30, 15)
    renderer.close()


def car_rows(steps: int = 20000, image_size: int = 64) -> list[tuple[str, float, str]]:
    """(name, steps/s, note) rows: warm, disk and cold cache, and one render per step, from one run."""
    before = render_ms(image_size)
    r = cache_rates(steps, image_size)
    frame_ms = (before + render_ms(image_size)) / 2
    render_rate = 1000 / frame_ms
    return [
        (f"{ENV_ID} warm cache", r["warm"], f"{r['warm'] / render_rate:.0f}x the render-per-step rate "
                                            f"(target {TARGET:g}x)"),
        (f"{ENV_ID} disk cache, fresh env", r["disk"], f"{r['loaded']} models loaded from disk"),
        (f"{ENV_ID} cold cache", r["cold"], f"{r['rendered']} models rendered on first use in {steps} steps"),
        (f"render one {image_size}px frame per step", render_rate, f"{frame_ms:.2f} ms per frame (TinyRenderer)"),
    ]


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
        f"# {ENV_ID} throughput",
        "",
        f"Seeded random masked actions through `gym.make`, env time only (step + reset), {args.steps} steps "
        f"per cache state, {args.image_size}px observations; the render time is measured in the same run.",
        f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}. "
        f"Command: `python benchmarks/car_throughput.py --steps {args.steps} --cycles {args.cycles} "
        f"--image-size {args.image_size}`.",
        "",
        "| what | steps/s | note |",
        "|---|---|---|",
        *(f"| {name} | {rate:,.0f} | {note} |" for name, rate, note in rows),
        "",
        f"Warm cache vs one render per step: {warm_ratio:.0f}x (target {TARGET:g}x: "
        f"{'met' if warm_ratio >= TARGET else 'NOT met'}).",
        "",
        "## Resident memory",
        "",
        f"- {args.cycles} make/reset/close cycles (split \"all\", views from the disk cache): "
        f"{growth:+.1f} MB (limit 20 MB).",
        f"- {args.cycles} pybullet client connect / render one frame / disconnect cycles: {client_growth:+.1f} MB.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "car_throughput.md").write_text(report)


if __name__ == "__main__":
    main()
