"""How fast the shipped NPI agents act: one long episode at a time, the env included.

For each env, one episode of the given length played by the shipped agent through ``env.step``, and
the same problem played by the env's expert (``expert_action``) as the reference measured in the
same run: the ratio is the agent's cost per step over the env's own.

    python benchmarks/npi_speed.py [--repeats 3]

Writes benchmarks/results/npi_speed.md.
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium as gym
import torch

from agents.base import run_episodes
from agents.npi import NPIAgent
from common import command_line, md_row, pretrained_path, write_markdown

CASES = (("NPI-Addition-v0", 3000), ("NPI-Addition-Recursive-v0", 3000), ("NPI-Sort-v0", 20))
SEED = 1


def expert_seconds(env_id: str, length: int) -> tuple[float, int]:
    """Wall-clock of one episode played by the env's expert, and its steps."""
    env = gym.make(env_id)
    start = time.perf_counter()
    env.reset(seed=SEED, options={"length": length})
    steps, done = 0, False
    while not done:
        _, _, terminated, truncated, _ = env.step(env.unwrapped.expert_action())
        steps, done = steps + 1, terminated or truncated
    return time.perf_counter() - start, steps


def agent_seconds(env_id: str, length: int) -> tuple[float, int, bool]:
    """Wall-clock of one episode played by the shipped agent (batch of one), its steps and success."""
    agent = NPIAgent.load(pretrained_path(env_id))
    (episode,) = run_episodes(agent, env_id, [(SEED, {"length": length})])
    return episode.seconds, episode.steps, episode.solved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs of each")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = [
        "# NPI acting speed: one episode at a time, env included",
        "",
        f"Command: `{command_line(__file__, args)}` (best of {args.repeats}; 1 torch thread; "
        f"load average {os.getloadavg()[0]:.1f} on 2 cores at the start).",
        "",
        "| env | length | steps | solved | agent + env (s) | expert + env (s) | ratio |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for env_id, length in CASES:
        agent = min(agent_seconds(env_id, length) for _ in range(args.repeats))
        expert = min(expert_seconds(env_id, length) for _ in range(args.repeats))
        seconds = [f"{agent[0]:.2f}", f"{expert[0]:.2f}", f"{agent[0] / expert[0]:.1f}x"]
        line = md_row(env_id, length, f"{agent[1]:,}", "yes" if agent[2] else "no", *seconds)
        print(line, flush=True)
        lines.append(line)
    write_markdown("npi_speed.md", lines)


if __name__ == "__main__":
    main()
