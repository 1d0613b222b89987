"""How many expert traces the NPI needs: length-20 sorting, and addition that holds at 1,000 digits.

Sort (the paper's Fig. 4): NPIs trained on 1, 2, 4, ..., 64 traces of length-20 arrays, each scored
on 100 fresh length-20 arrays. Addition: the smallest training set still 100% correct on 1,000-digit
problems (the paper used 640 problems; hierarchical models in later papers needed 3 traces).
Training stops early once five evaluations in a row solve every held-out problem at the training
lengths (run through the env, no traces), as ``npi-gym train`` does; otherwise after 5,000 updates.

    python benchmarks/npi_sample_complexity.py [sort] [addition]
    python benchmarks/npi_sample_complexity.py --ray [--address HOST:6379]   # the runs as Ray Tune trials

The studies' runs are benchmarks/configs/npi_sample_complexity.toml.
Writes benchmarks/results/npi_sample_complexity.md, .csv and .png.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

import sweep
from agents.base import evaluate
from agents.npi import NPIAgent, NPIConfig, load_checkpoint, train
from common import RESULTS, RUNS, chosen, command_line, load_config, md_row, pyplot, read_csv, save_figure, write_csv, write_markdown

# Reed & de Freitas 2016, Fig. 4 (length-20 sorting; ~ read off the plot)
PAPER_NPI = {4: 72, 8: 100, 16: 100, 32: 100, 64: 100}
PAPER_SEQ2SEQ = {64: 0, 128: 64, 256: 95, 1024: 100}
FIELDS = ["study", "min_length", "max_length", "problems_per_length", "training_problems", "train_updates",
          "train_seconds", "eval_length", "episodes", "solved", "accuracy"]


def trials(studies: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every run of every study (as configs/npi_sample_complexity.toml sets them out), in order, as plain data."""
    out = []
    for name, spec in studies.items():
        for run in spec["runs"]:
            fields = {**spec["config"], **run}
            cfg = NPIConfig(**fields)
            stem = f"{name}-{cfg.min_length}-{cfg.max_length}-{cfg.problems_per_length}"
            out.append({"study": name, "config": fields, "score_length": spec["score_length"], "score_episodes": spec["score_episodes"],
                        "out": str(RUNS / "benchmarks" / "sample_complexity" / f"{stem}.pt")})
    return out


def run_trial(trial: dict[str, Any]) -> dict[str, object]:
    """Train one NPI (a run of this very config is continued, or reused if finished) and score it on fresh problems."""
    torch.set_num_threads(1)
    name, cfg, path = trial["study"], NPIConfig(**trial["config"]), Path(trial["out"])
    problems = (cfg.max_length - cfg.min_length + 1) * cfg.problems_per_length
    same = path.exists() and load_checkpoint(path)["config"] == dataclasses.asdict(cfg)
    summary = train(cfg, path, resume=same, progress=False)
    (r,) = evaluate(NPIAgent.load(path), cfg.env_id, [trial["score_length"]], trial["score_episodes"])
    print(f"{name}: {problems} training problems, {summary['updates']} updates in {summary['seconds']:.0f} s; "
          f"{r.solved}/{r.episodes} solved at length {trial['score_length']}", flush=True)
    return {"study": name, "min_length": cfg.min_length, "max_length": cfg.max_length,
            "problems_per_length": cfg.problems_per_length, "training_problems": problems,
            "train_updates": summary["updates"], "train_seconds": round(summary["seconds"], 1),
            "eval_length": trial["score_length"], "episodes": r.episodes, "solved": r.solved, "accuracy": round(r.accuracy, 4)}


def write(rows: list[dict[str, object]]) -> None:
    done = {r["study"] for r in rows}
    rows = [r for r in read_csv(RESULTS / "npi_sample_complexity.csv") if r["study"] not in done] + rows
    write_csv("npi_sample_complexity.csv", FIELDS, rows)
    sort = [r for r in rows if r["study"] == "sort"]
    addition = [r for r in rows if r["study"] == "addition"]
    lines = [
        "# NPI sample complexity",
        "",
        f"Command: `{command_line(__file__)}`. Shared 2-core CPU, 1 torch thread.",
        "",
        "## Sorting arrays of length 20 (paper Fig. 4)",
        "",
        "| training traces | ours (100 fresh arrays) | paper NPI | updates | wall-clock training (s) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in sort:
        k = int(r["training_problems"])
        paper = PAPER_NPI.get(k)
        percent = "" if paper is None else f"{paper}%"
        lines.append(md_row(k, f"{100 * float(r['accuracy']):.0f}%", percent, r["train_updates"], f"{float(r['train_seconds']):.0f}"))
    lines += ["", "Paper seq2seq LSTM: 0% up to 64 examples, ~64% at 128, ~95% at 256, 100% at 1,024.", "",
              "## Addition: which training sets still solve 1,000-digit problems", "",
              "| training problems | lengths | ours at 1,000 digits | updates | wall-clock training (s) |", "|---:|---|---:|---:|---:|"]
    for r in addition:
        lines.append(md_row(r["training_problems"], f"{r['min_length']}-{r['max_length']}", f"{r['solved']}/{r['episodes']}",
                            r["train_updates"], f"{float(r['train_seconds']):.0f}"))
    perfect = [int(r["training_problems"]) for r in addition if int(r["solved"]) == int(r["episodes"])]
    if perfect:
        lines += ["", f"Smallest training set measured that solved every 1,000-digit problem: {min(perfect)} problems "
                  "(paper: 640; Parametrized Hierarchical Procedures: 3 traces)."]
    write_markdown("npi_sample_complexity.md", lines)
    plot(sort)


def plot(sort: list[dict[str, object]]) -> None:
    fig, ax = pyplot().subplots(figsize=(6, 4))
    ax.plot([int(r["training_problems"]) for r in sort], [100 * float(r["accuracy"]) for r in sort], "o-", label="ours: NPI")
    ax.plot(list(PAPER_NPI), list(PAPER_NPI.values()), "s--", color="gray", label="paper NPI")
    ax.plot(list(PAPER_SEQ2SEQ), list(PAPER_SEQ2SEQ.values()), "x:", color="black", label="paper seq2seq LSTM")
    ax.set_xscale("log", base=2)
    ax.set(title="Sorting length-20 arrays", xlabel="training traces", ylabel="per-sequence accuracy (%)", ylim=(-5, 105))
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, "npi_sample_complexity.png")


def main() -> None:
    studies = load_config("npi_sample_complexity")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("studies", nargs="*", metavar="STUDY", help=f"studies to run (default: all of {list(studies)})")
    sweep.add_options(parser)
    args = parser.parse_args()
    sweep.check_options(parser, args)
    torch.set_num_threads(1)
    start = time.perf_counter()
    configs = trials({name: studies[name] for name in chosen(parser, args.studies, list(studies))})
    write(sweep.run(run_trial, configs, "npi_sample_complexity", args))
    print(f"total wall-clock: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
