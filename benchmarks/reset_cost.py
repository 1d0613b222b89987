"""Reset time of every program-call env at its default, a middle and its largest problem size.

A reset plays the expert once (to set the step budget; twice for a sub-program episode's start), so
its cost grows with the expert's episode: linearly in the digits for addition, quadratically in the
values for sort; the car's is constant (at most 18 moves) once a model's views are cached. Each row
is the mean over seeded resets through ``gym.make`` with ``options={"length": n}``; the car's views
are rendered before timing (its first reset of a model renders 168 views: ``car_throughput.md``).
Writes benchmarks/results/reset_cost.md and .csv.

    python benchmarks/reset_cost.py [--resets 3]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym

import npi_gym  # noqa: F401  (registers the ids)
from common import command_line, md_row, write_csv, write_markdown
from npi_gym.registry import FAMILY_IDS, PROGRAM_CALL_IDS

CAR_KWARGS = {"start_azimuth": (-165, 180), "start_elevation": (-15, 75), "random_target": True, "cache_dir": False}
"""the car on the whole grid, so that every move count up to the largest (18) occurs"""
HEADER = ["env", "length", "program", "resets", "reset_ms", "expert_steps"]


def largest(env: gym.Env) -> int:
    """The largest size a reset accepts: the env's ``length_limit``, else (the car) its make-time ``max_length``."""
    return env.unwrapped.length_limit or env.unwrapped.max_length


def timed_resets(env: gym.Env, length: int, program: str, resets: int) -> tuple[float, float]:
    """(mean ms per reset, mean expert steps) over ``resets`` seeded resets at ``length`` opening ``program``."""
    seconds = steps = 0.0
    for seed in range(resets):
        start = time.perf_counter()
        env.reset(seed=seed, options={"length": length, "program": program})
        seconds += time.perf_counter() - start
        steps += (env.unwrapped.step_budget - 2) / 2
    return 1000 * seconds / resets, steps / resets


def rows(resets: int) -> list[dict[str, object]]:
    out = []
    for env_id in PROGRAM_CALL_IDS:
        env = gym.make(env_id, **(CAR_KWARGS if env_id in FAMILY_IDS["car"] else {}))
        unwrapped = env.unwrapped
        if env_id in FAMILY_IDS["car"]:
            unwrapped._cache.warm(unwrapped.models)
        top = largest(env)
        default = gym.make(env_id).unwrapped.max_length
        subs = unwrapped.episode_programs[1:2]  # the first sub-program an episode can open, if any
        sizes = sorted({default, top // 2, top})
        for length, program in [*((n, unwrapped.root) for n in sizes), *((top, sub) for sub in subs)]:
            ms, steps = timed_resets(env, length, program, resets)
            out.append({"env": env_id, "length": length, "program": program, "resets": resets,
                        "reset_ms": f"{ms:.1f}", "expert_steps": f"{steps:.0f}"})
            print(md_row(*out[-1].values()), flush=True)
        env.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resets", type=int, default=3, help="seeded resets per row")
    args = parser.parse_args()
    table = rows(args.resets)
    write_csv("reset_cost.csv", HEADER, table)
    lines = [
        "# Reset cost at the largest problem sizes",
        "",
        f"`{command_line(__file__, args)}`. A reset plays the expert once (a sub-program episode: once to",
        "find the calls, again up to the one picked); `expert_steps` is the expert's episode (the step budget is",
        "twice it, +2). The largest size is each env's `LENGTH_LIMIT` (addition 10,000 digits, sort 200 values);",
        "the car's is its 18 moves on the whole grid, views cached.",
        "",
        "| env | length | program | resets | ms per reset | expert steps |",
        "|---|---:|---|---:|---:|---:|",
        *(md_row(*r.values()) for r in table),
    ]
    write_markdown("reset_cost.md", lines, echo=True)


if __name__ == "__main__":
    main()
