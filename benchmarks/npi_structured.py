"""Every shipped NPI checkpoint on its env's structured problem families (npi_gym/structured.py), far beyond the training lengths.

Random problems almost never contain long carry chains, runs of one digit against an ended operand,
sorted or constant arrays, or start poses at the edges of the car's range; each family's problems are
given as reset options and played greedily through ``env.step`` (``agents.base.run_episodes``).

    python benchmarks/npi_structured.py [CHECKPOINT ...] [--name npi_structured] [--episodes-scale 1]

Writes benchmarks/results/NAME.md and .csv (per checkpoint, family and length: solved / episodes).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from agents.base import run_episodes
from agents.npi import NPIAgent, load_checkpoint
from common import command_line, md_row, write_csv, write_markdown
from npi_gym.envs.addition import AdditionEnv
from npi_gym.envs.sort import SortEnv
from npi_gym.structured import structured_families, structured_problem

PRETRAINED = Path(__file__).resolve().parent.parent / "agents" / "npi" / "pretrained"
ADDITION_LENGTHS = {5: 20, 20: 20, 100: 10, 1000: 3}
SORT_LENGTHS = {5: 20, 20: 10, 60: 2}
"""episodes per family and length: fewer at the longest (a 60-element sort is 43,000 steps)"""
CAR_EPISODES = 20
"""episodes per car family (a car problem has no length)"""
LENGTHS = {AdditionEnv: ADDITION_LENGTHS, SortEnv: SORT_LENGTHS}


def plan(env: gym.Env) -> dict[int | None, int]:
    """Episodes per length for this env's families."""
    for cls, lengths in LENGTHS.items():
        if isinstance(env.unwrapped, cls):
            return lengths
    return {None: CAR_EPISODES}


def run(checkpoint: Path, scale: float) -> list[dict[str, object]]:
    """One row per env, family and length of one checkpoint (a multi-task checkpoint plays each of its envs)."""
    return [row for task in load_checkpoint(checkpoint)["tasks"] for row in run_env(checkpoint, task["env_id"], scale)]


def run_env(checkpoint: Path, env_id: str, scale: float) -> list[dict[str, object]]:
    """One row per family and length of one env of a checkpoint."""
    agent = NPIAgent.load(checkpoint, env_id)
    env = gym.make(agent.env_id, **agent.env_kwargs)
    rows = []
    for f, family in enumerate(structured_families(env)):
        for length, episodes in plan(env).items():
            rng = np.random.default_rng([f, length or 0])
            n = max(1, round(episodes * scale))
            problems = []
            for i in range(n):
                try:
                    problems.append((i, {"problem": structured_problem(env, family, length, rng)}))
                except ValueError:  # no such problem in this env's configuration (a car family outside its poses)
                    break
            start = time.perf_counter()
            played = run_episodes(agent, agent.env_id, problems, **agent.env_kwargs)
            solved = sum(e.solved for e in played)
            rows.append({"checkpoint": checkpoint.name, "env": agent.env_id, "family": family, "length": length or "",
                         "episodes": len(played), "solved": solved, "seconds": f"{time.perf_counter() - start:.1f}"})
            print(f"  {checkpoint.name}, {env_id}: {family}, length {length}: {solved}/{len(played)}", flush=True)
    env.close()
    return rows


def report(rows: list[dict[str, object]], name: str, command: str, seconds: float) -> None:
    lines = [
        "# NPI on structured problem families",
        "",
        "Each shipped checkpoint (trained on lengths up to 20) plays each of its envs' structured families",
        "(`npi_gym/structured.py`) greedily through `env.step`; a cell is solved / episodes.",
        "A car family with no start pose in the env's range (the range is -75..75 degrees round a target at 0) has no episodes (-).",
        f"Command: `{command}`; {seconds:.0f} s wall-clock, 1 torch thread.",
    ]
    for checkpoint, env_id in dict.fromkeys((r["checkpoint"], r["env"]) for r in rows):
        mine = [r for r in rows if (r["checkpoint"], r["env"]) == (checkpoint, env_id)]
        lengths = list(dict.fromkeys(r["length"] for r in mine))
        total = sum(int(r["solved"]) for r in mine), sum(int(r["episodes"]) for r in mine)
        head = [f"length {n}" for n in lengths] if lengths != [""] else ["episodes"]
        lines += ["", f"## {checkpoint} ({env_id}): {total[0]}/{total[1]} solved", "",
                  md_row("family", *head), md_row("---", *["---:"] * len(head))]
        for family in dict.fromkeys(r["family"] for r in mine):
            cells = [f"{r['solved']}/{r['episodes']}" if int(r["episodes"]) else "-" for r in mine if r["family"] == family]
            lines.append(md_row(family, *cells))
    write_markdown(f"{name}.md", lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*", type=Path, metavar="CHECKPOINT",
                        help=f"NPI checkpoints (default: every {PRETRAINED}/*.pt)")
    parser.add_argument("--name", default="npi_structured", help="stem of the result files")
    parser.add_argument("--episodes-scale", type=float, default=1.0, help="multiply every episode count (quick runs)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = [row for path in args.checkpoints or sorted(PRETRAINED.glob("*.pt")) for row in run(path, args.episodes_scale)]
    seconds = time.perf_counter() - start
    print(f"wall-clock: {seconds:.0f} s")
    write_csv(f"{args.name}.csv", list(rows[0]), rows)
    report(rows, args.name, command_line(__file__), seconds)


if __name__ == "__main__":
    main()
