"""One NPI for every task: the single-task agents, one multi-task NPI, and the multi-task NPI extended with MAX.

The multi-task agent (shipped ``agents/npi/pretrained/npi-multitask.pt``, or ``--ship`` to train and ship it
afresh, with the MAX run) has one core and one program memory for addition, sorting and the car; MAX (``NPI-SortMax-v0``) is
then learned in this run by training only its three new memory rows (MAX, RJMP, RSTEP) on top of it, and every task
is played before and after through ``env.step`` on the same fresh problems, beside the paper's Table 1.

    python benchmarks/npi_multitask.py [--ship | --ship-max]

Settings, problem sizes and the paper's figures: benchmarks/configs/npi_multitask.toml. Writes
benchmarks/results/npi_multitask.md and .csv; the MAX run trains into runs/benchmarks/ (and, with
``--ship`` or ``--ship-max``, is shipped as npi-multitask-max.pt beside the multi-task checkpoint).
"""

from __future__ import annotations

import argparse
import math
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from agents.base import evaluate
from agents.npi import NPIAgent, NPIConfig, load_checkpoint, train
from agents.npi.checkpoint import export_checkpoint
from agents.npi.shipped import PRETRAINED
from common import RUNS, command_line, load_config, md_row, pretrained_path, write_csv, write_markdown

MULTITASK = PRETRAINED / "npi-multitask.pt"
EXTENDED = PRETRAINED / "npi-multitask-max.pt"
AGENTS = ("single-task", "multi-task", "multi-task + MAX")


def trained(cfg: NPIConfig, out: Path, ship: Path | None) -> Path:
    """Train ``cfg`` into ``out`` (CSV log beside it); with ``ship``, export it there with the log."""
    print(f"training {cfg.env_id} into {out}", flush=True)
    summary = train(cfg, out, progress=False)
    print(f"  {summary['updates']} updates in {summary['seconds']:.0f} s; held-out solved {100 * summary['validation']:.1f}%", flush=True)
    if ship is None:
        return out
    export_checkpoint(out, ship)
    shutil.copyfile(out.with_suffix(".csv"), ship.with_suffix(".csv"))
    print(f"  shipped {ship} ({ship.stat().st_size / 1e6:.1f} MB)", flush=True)
    return ship


def play(checkpoint: Path, row: dict[str, Any]) -> list[dict[str, Any]]:
    """One row of results per problem size of a table row, for the checkpoint's agent on that row's env."""
    agent = NPIAgent.load(checkpoint, row["env"], **row.get("env_kwargs", {}))
    results = evaluate(agent, row["env"], row["lengths"], row["episodes"], **agent.env_kwargs)
    return [{"task": row["task"], "length": r.length, "episodes": r.episodes, "solved": r.solved,
             "mean_steps": round(r.mean_steps, 1)} for r in results]


def measure(label: str, checkpoint: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        start = time.perf_counter()
        results = play(checkpoint, row)
        out += [{"agent": label, **r} for r in results]
        solved, episodes = sum(r["solved"] for r in results), sum(r["episodes"] for r in results)
        print(f"  {label}, {row['task']}: {solved}/{episodes} ({time.perf_counter() - start:.0f} s)", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ship = parser.add_mutually_exclusive_group()
    ship.add_argument("--ship", action="store_true", help="train the multi-task agent afresh and ship it, and ship the MAX run")
    ship.add_argument("--ship-max", action="store_true", help="ship the MAX run on the shipped multi-task agent")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = load_config("npi_multitask")
    rows = config["row"]
    old = [r for r in rows if r["env"] in NPIConfig(**config["multitask"]).env_ids]
    new = [r for r in rows if r not in old]
    multitask = MULTITASK
    if args.ship:
        multitask = trained(NPIConfig(**config["multitask"]), RUNS / "pretrained" / MULTITASK.name, MULTITASK)

    results = []
    for row in old:
        single = pretrained_path(row["env"])
        results += measure(AGENTS[0], single, [row])
    results += measure(AGENTS[1], multitask, old)
    max_config = NPIConfig(**config["max"], extend=str(multitask))
    extended = trained(max_config, RUNS / "benchmarks" / EXTENDED.name, EXTENDED if args.ship or args.ship_max else None)
    results += measure(AGENTS[2], extended, old + new)
    write_csv("npi_multitask.csv", ["agent", "task", "length", "episodes", "solved", "mean_steps"], results)
    write(rows, old, results, {label: load_checkpoint(path)["trainer"] for label, path in (("multi-task", multitask), ("MAX", extended))}, args)


def accuracy(results: list[dict[str, Any]], agent: str, task: str, length: int | None = None) -> float:
    mine = [r for r in results if r["agent"] == agent and r["task"] == task and length in (None, r["length"])]
    episodes = sum(r["episodes"] for r in mine)
    return 100 * sum(r["solved"] for r in mine) / episodes if episodes else math.nan


def cell(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1f}"


def write(
    rows: list[dict[str, Any]], old: list[dict[str, Any]], results: list[dict[str, Any]], trainers: dict[str, dict[str, Any]],
    args: argparse.Namespace,
) -> None:
    """The Markdown report: the table beside the paper's, sizes one by one, the old tasks' change after MAX."""
    single = sum(float(load_checkpoint(pretrained_path(env))["trainer"]["seconds"]) for env in {r["env"] for r in old})
    lines = [
        "# One NPI for every task",
        "",
        f"Command: `{command_line(__file__, args)}`; settings `benchmarks/configs/npi_multitask.toml`. "
        "Every agent plays the same fresh problems greedily through `env.step` (`agents.evaluate`); per-sequence accuracy (%). "
        "Single-task: the shipped single-task checkpoints. Multi-task: one core, one program memory and an encoder per "
        "observation space, trained jointly on the three tasks' traces "
        f"({trainers['multi-task']['update']} updates, {float(trainers['multi-task']['seconds']) / 60:.1f} min wall-clock on a shared "
        f"2-core CPU, 1 torch thread; the three single-task runs took {single / 60:.1f} min together). "
        "+ MAX: the multi-task checkpoint extended with NPI-SortMax-v0, only the MAX, RJMP and RSTEP memory rows trained "
        f"({trainers['MAX']['update']} updates, {float(trainers['MAX']['seconds']):.0f} s), every other weight as it was; "
        "the old tasks are played again with it in the same run.",
        "",
        "| task | paper single-task | paper multi-task | paper + MAX | single-task | multi-task | multi-task + MAX |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(md_row(row["task"], *(cell(x) for x in row["paper"]), *(cell(accuracy(results, a, row["task"])) for a in AGENTS)))
    lines += ["", "Problem sizes: digits (addition), values (sorting, MAX), moves (car); solved / episodes.", "",
              "| task | size | " + " | ".join(AGENTS) + " |", "|---|---:|" + "---:|" * len(AGENTS)]
    for row in rows:
        for length in row["lengths"]:
            cells = []
            for agent in AGENTS:
                found = [r for r in results if r["agent"] == agent and r["task"] == row["task"] and r["length"] == length]
                cells.append(f"{found[0]['solved']}/{found[0]['episodes']}" if found else "–")
            lines.append(md_row(row["task"], length, *cells))
    before = {r["task"]: accuracy(results, AGENTS[1], r["task"]) for r in old}
    after = {r["task"]: accuracy(results, AGENTS[2], r["task"]) for r in old}
    played = {(r["agent"], r["task"], r["length"]): (r["solved"], r["mean_steps"]) for r in results}
    same = all(played[(AGENTS[2], *key[1:])] == value for key, value in played.items() if key[0] == AGENTS[1])
    lines += ["", "Old tasks after learning MAX minus before, percentage points: "
              + ", ".join(f"{task} {after[task] - before[task]:+.1f}" for task in before)
              + f"; solved episodes and mean steps at every size {'the same' if same else 'NOT the same'} before and after."]
    write_markdown("npi_multitask.md", lines, echo=True)


if __name__ == "__main__":
    main()
