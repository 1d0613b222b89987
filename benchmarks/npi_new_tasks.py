"""The NPI on Tower of Hanoi, quicksort and topological sort: recursive against non-recursive, random and structured problems.

Every run of configs/npi_new_tasks.toml trains an NPI on expert traces of small problems (a finished run
of the same config in runs/benchmarks/new_tasks/ is reused), then plays fresh random problems through
``agents.evaluate`` at every length of its task, and the env's structured families (sorted, reversed and
constant arrays; chains, stars, trees and complete DAGs; npi_gym/structured.py) through
``agents.base.run_episodes``. Cai, Shin & Song's per-size figures for the same training sets sit beside ours.

    python benchmarks/npi_new_tasks.py [TASK ...] [--episodes-scale 1]

Writes benchmarks/results/npi_new_tasks.md and .csv.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.base import evaluate, run_episodes
from agents.npi import NPIAgent, NPIConfig, load_checkpoint, train
from common import RUNS, chosen, command_line, load_config, md_row, write_csv, write_markdown
from npi_gym.structured import structured_families, structured_problem

FIELDS = ["task", "env", "data", "training_problems", "train_updates", "train_seconds", "problems", "length", "episodes", "solved"]
RANDOM = "random"


def trained(run: dict[str, Any]) -> tuple[NPIAgent, dict[str, Any]]:
    """The agent of one run (trained, continued or reused) and its training summary."""
    fields = {k: v for k, v in run.items() if k != "data"}
    cfg = NPIConfig(**fields)
    name = "-".join(f"{v}" for v in fields.values()) + f"-{run['data'].replace(' ', '_').replace('.', '')}"
    path = RUNS / "benchmarks" / "new_tasks" / f"{name}.pt"
    same = path.exists() and load_checkpoint(path)["config"] == dataclasses.asdict(cfg)
    summary = train(cfg, path, resume=same, progress=False)
    return NPIAgent.load(path), summary


def structured_rows(agent: NPIAgent, env_id: str, plan: dict[str, int], scale: float) -> list[tuple[str, int, int, int]]:
    """(family, length, episodes, solved) for every structured family at every planned length."""
    env = gym.make(env_id)
    rows = []
    for f, family in enumerate(structured_families(env)):
        for length, episodes in plan.items():
            rng = np.random.default_rng([f, int(length)])
            tasks = [(i, {"problem": structured_problem(env, family, int(length), rng)}) for i in range(max(1, round(episodes * scale)))]
            played = run_episodes(agent, env_id, tasks)
            rows.append((family, int(length), len(played), sum(e.solved for e in played)))
    env.close()
    return rows


def measure(task: str, spec: dict[str, Any], scale: float) -> list[dict[str, Any]]:
    """Every run of one task: training, then random and structured problems."""
    rows = []
    for run in spec["runs"]:
        agent, summary = trained(run)
        env_id = run["env_id"]
        head = {"task": task, "env": env_id, "data": run["data"],
                "training_problems": (run["max_length"] - run["min_length"] + 1) * run["problems_per_length"],
                "train_updates": summary["updates"], "train_seconds": round(summary["seconds"], 1)}
        episodes = max(1, round(spec["episodes"] * scale))
        for r in evaluate(agent, env_id, spec["lengths"], episodes):
            rows.append({**head, "problems": RANDOM, "length": r.length, "episodes": r.episodes, "solved": r.solved})
        for family, length, n, solved in structured_rows(agent, env_id, spec["structured"], scale):
            rows.append({**head, "problems": family, "length": length, "episodes": n, "solved": solved})
        done = [r for r in rows if r["env"] == env_id and r["data"] == run["data"]]
        print(f"{env_id} ({run['data']}): trained in {summary['seconds']:.0f} s; "
              f"{sum(r['solved'] for r in done)}/{sum(r['episodes'] for r in done)} solved", flush=True)
    return rows


def paper_at(paper: dict[str, float], length: int) -> str:
    """The paper's figure at ``length`` (a key "a-b" covers a..b), or empty."""
    for key, value in paper.items():
        low, _, high = str(key).partition("-")
        if int(low) <= length <= int(high or low):
            return f"{value:g}%"
    return ""


def report(rows: list[dict[str, Any]], config: dict[str, Any], command: str, seconds: float) -> None:
    lines = [
        "# NPI on Tower of Hanoi, quicksort and topological sort",
        "",
        f"Command: `{command}`; {seconds:.0f} s wall-clock in all (training and evaluation), 1 torch thread, shared 2-core CPU.",
        "A cell is solved / episodes on fresh problems, greedy through `env.step`. *Paper*: Cai et al.'s accuracy on",
        "the same training set (their 30 problems per size).",
    ]
    for task in dict.fromkeys(r["task"] for r in rows):
        spec, mine = config[task], [r for r in rows if r["task"] == task]
        runs = list(dict.fromkeys((r["env"], r["data"]) for r in mine))
        lines += ["", f"## {task}", "", f"Reference: {spec['paper_source']}.", "",
                  "| env | training set | problems | updates | training (s) | " + " | ".join(f"{n}" for n in spec["lengths"]) + " |",
                  "|---|---|---:|---:|---:|" + "---:|" * len(spec["lengths"])]
        for env_id, data in runs:
            cells = {r["length"]: f"{r['solved']}/{r['episodes']}" for r in mine
                     if (r["env"], r["data"]) == (env_id, data) and r["problems"] == RANDOM}
            first = next(r for r in mine if (r["env"], r["data"]) == (env_id, data))
            lines.append(md_row(env_id, data, first["training_problems"], first["train_updates"], f"{first['train_seconds']:.0f}",
                                *(cells.get(n, "") for n in spec["lengths"])))
            variant = "recursive" if gym.make(env_id).unwrapped.recursive else "non_recursive"
            if data == "Cai et al." and spec["paper"].get(variant):
                lines.append(md_row("", "paper", "", "", "", *(paper_at(spec["paper"][variant], n) for n in spec["lengths"])))
        structured = [r for r in mine if r["problems"] != RANDOM]
        if structured:
            lengths = list(dict.fromkeys(r["length"] for r in structured))
            lines += ["", f"Structured families ({task}):", "",
                      "| env | training set | family | " + " | ".join(f"{n}" for n in lengths) + " |", "|---|---|---|" + "---:|" * len(lengths)]
            for env_id, data in runs:
                for family in dict.fromkeys(r["problems"] for r in structured):
                    cells = {r["length"]: f"{r['solved']}/{r['episodes']}" for r in structured
                             if (r["env"], r["data"], r["problems"]) == (env_id, data, family)}
                    lines.append(md_row(env_id, data, family, *(cells.get(n, "") for n in lengths)))
    write_markdown("npi_new_tasks.md", lines)


def main() -> None:
    config = load_config("npi_new_tasks")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", metavar="TASK", help=f"tasks to run (default: all of {list(config)})")
    parser.add_argument("--episodes-scale", type=float, default=1.0, help="multiply every episode count (quick runs)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = [row for task in chosen(parser, args.tasks, list(config)) for row in measure(task, config[task], args.episodes_scale)]
    seconds = time.perf_counter() - start
    write_csv("npi_new_tasks.csv", FIELDS, rows)
    report(rows, config, command_line(__file__), seconds)
    print(f"total wall-clock: {seconds:.0f} s")


if __name__ == "__main__":
    main()
