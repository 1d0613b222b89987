"""NPI generalisation far beyond the training lengths, beside the paper's figures.

Each agent is trained on the paper's data (addition: 32 problems per length 1-20; sort: 64 per
length 2-20), then run greedily through ``env.step`` on fresh problems of every length below.
By default the shipped checkpoints (agents/npi/pretrained/, made by train_pretrained.py) are
evaluated and their recorded training time is reported; ``--retrain`` trains afresh first.

    python benchmarks/npi_generalization.py [ENV_ID ...] [--retrain] [--episodes-scale 0.1]

Writes benchmarks/results/npi_generalization.md, .png and one CSV per env (the report is made
from every CSV present, so envs can be run in separate processes).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from agents.base import evaluate
from agents.npi import NPIAgent
from common import RESULTS, chosen, md_row, npi_checkpoint, pyplot, read_csv, save_figure, write_csv, write_markdown

ADDITION_LENGTHS = {**{n: 100 for n in (*range(1, 21), 50, 100, 500, 1000)}, 3000: 20, 10000: 5}
SORT_LENGTHS = {**{n: 100 for n in (*range(2, 21, 2), 25, 60)}, **{n: 25 for n in (30, 40, 50, 70, 80, 100)}}
RECURSIVE_SORT_LENGTHS = {**{n: 100 for n in (5, 10, 20)}, **{n: 25 for n in (40, 60, 80, 100)}}
"""episodes per length: fewer at the longest (a 100-element sort is 122,000 steps)"""
PLAN = {
    "NPI-Addition-v0": ADDITION_LENGTHS,
    "NPI-Addition-Recursive-v0": ADDITION_LENGTHS,
    "NPI-Sort-v0": SORT_LENGTHS,
    "NPI-Sort-Recursive-v0": RECURSIVE_SORT_LENGTHS,
}
# Reed & de Freitas 2016 (Fig. 5, sorting; addition text); ~ values read off the plot.
PAPER_SORT_NPI = {5: 100, 10: 100, 15: 100, 20: 100, 25: 100, 30: 100, 35: 100, 40: 100, 45: 100, 50: 100, 55: 100, 60: 77, 65: 50, 70: 30}
PAPER_SORT_SEQ2SEQ = {5: 100, 10: 100, 15: 100, 20: 100, 25: 98, 30: 43, 35: 3, 40: 0, 45: 0, 50: 0, 55: 0, 60: 0, 65: 0, 70: 0}
PAPER_NOTE = {
    "NPI-Addition-v0": "NPI 100% at every length tried up to 3,000 digits; aligned seq2seq ~97% to about 1,000 digits, 0 past 2,000",
    "NPI-Addition-Recursive-v0": "recursive NPI (Cai et al. 2017) 100% to 5,000 digits",
    "NPI-Sort-v0": "NPI and seq2seq columns from Reed & de Freitas' Fig. 5 (values other than 100 and 0 read off the plot)",
    "NPI-Sort-Recursive-v0": "recursive NPI (Cai et al. 2017) bubble sort 100% at lengths 2-90",
}


def run(env_id: str, retrain: bool, scale: float) -> Path:
    """Evaluate one env's agent at every planned length; write its CSV, a row as each length is done."""
    checkpoint, trainer = npi_checkpoint(env_id, retrain)
    agent = NPIAgent.load(checkpoint)

    def rows() -> Iterator[list[object]]:
        for length, episodes in sorted(PLAN[env_id].items()):
            (r,) = evaluate(agent, env_id, [length], max(1, round(episodes * scale)))
            print(f"  length {length:>6}: {r.solved}/{r.episodes} solved, {r.mean_steps:.0f} steps/episode, {r.seconds:.1f} s", flush=True)
            yield [env_id, length, r.episodes, r.solved, f"{r.accuracy:.4f}", f"{r.mean_steps:.1f}", f"{r.seconds:.1f}",
                   f"{os.getloadavg()[0]:.1f}", f"{trainer['seconds']:.1f}", trainer["update"]]

    header = ["env", "length", "episodes", "solved", "accuracy", "mean_steps", "eval_seconds", "load_average", "train_seconds", "train_updates"]
    return write_csv(f"npi_generalization_{env_id}.csv", header, rows())


def report() -> None:
    """Markdown and PNG from every per-env CSV present."""
    rows: dict[str, list[dict[str, str]]] = {}
    for path in sorted(RESULTS.glob("npi_generalization_NPI-*.csv")):
        for row in read_csv(path):
            rows.setdefault(row["env"], []).append(row)
    if not rows:
        return
    lines = [
        "# NPI generalisation beyond the training lengths",
        "",
        "Trained on the paper's data (addition: 32 problems per length 1-20 = 640; sort: 64 per length 2-20 = 1,216),",
        "then run greedily through `env.step` on fresh problems (per-sequence accuracy: the episode ends with reward 1).",
        f"Machine: {platform.machine()}, 2 cores shared with other jobs (wall-clock times stretch with the load average), 1 torch thread.",
        "Command: `python benchmarks/train_pretrained.py` then `python benchmarks/npi_generalization.py`.",
        "",
        "## Training",
        "",
        "| env | training problems | updates | wall-clock training (s) | wall-clock evaluation (s) | mean load average while evaluating |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for env_id, env_rows in rows.items():
        problems = "640" if "Addition" in env_id else "1,216"
        seconds = sum(float(r["eval_seconds"]) for r in env_rows)
        loads = [float(r["load_average"]) for r in env_rows if r.get("load_average")]
        load = f"{sum(loads) / len(loads):.1f}" if loads else "not recorded"
        lines.append(md_row(env_id, problems, env_rows[0]["train_updates"], f"{float(env_rows[0]['train_seconds']):.0f}", f"{seconds:.0f}", load))
    for env_id, env_rows in rows.items():
        beside_paper = env_id == "NPI-Sort-v0"
        lines += ["", f"## {env_id}", ""]
        if beside_paper:
            lines += ["| length | episodes | ours | paper NPI | paper seq2seq | steps/episode |", "|---:|---:|---:|---:|---:|---:|"]
        else:
            lines += ["| length | episodes | ours | steps/episode |", "|---:|---:|---:|---:|"]
        for r in _merge_training_lengths(env_rows):
            n = r["length"]
            ours = f"{100 * float(r['accuracy']):.1f}%"
            if beside_paper:
                paper = PAPER_SORT_NPI.get(int(n)) if n.isdigit() else 100
                seq = PAPER_SORT_SEQ2SEQ.get(int(n)) if n.isdigit() else 100
                percents = ["" if p is None else f"{p}%" for p in (paper, seq)]
                lines.append(md_row(n, r["episodes"], ours, *percents, f"{float(r['mean_steps']):.0f}"))
            else:
                lines.append(f"| {n} | {r['episodes']} | {ours} | {float(r['mean_steps']):.0f} |")
        lines += ["", f"Paper: {PAPER_NOTE[env_id]}."]
    write_markdown("npi_generalization.md", lines)
    plot(rows)


def _merge_training_lengths(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """One row for all lengths up to 20 (the training range), then one per longer length."""
    inside = [r for r in rows if int(r["length"]) <= 20]
    merged = []
    if inside:
        episodes, solved = sum(int(r["episodes"]) for r in inside), sum(int(r["solved"]) for r in inside)
        lengths = f"{inside[0]['length']}-{inside[-1]['length']} ({len(inside)} lengths)"
        steps = sum(float(r["mean_steps"]) * int(r["episodes"]) for r in inside) / episodes
        merged.append({"length": lengths, "episodes": str(episodes), "accuracy": str(solved / episodes), "mean_steps": str(steps)})
    return merged + [r for r in rows if int(r["length"]) > 20]


def plot(rows: dict[str, list[dict[str, str]]]) -> None:
    fig, (add, srt) = pyplot().subplots(1, 2, figsize=(11, 4))
    for env_id, env_rows in rows.items():
        ax = srt if "Sort" in env_id else add
        x = [int(r["length"]) for r in env_rows]
        y = [100 * float(r["accuracy"]) for r in env_rows]
        ax.plot(x, y, "o-", label=f"ours: {env_id}")
    seq2seq: dict[str, list[dict[str, str]]] = {}
    for row in read_csv(RESULTS / "seq2seq.csv"):  # benchmarks/seq2seq.py: our seq2seq LSTMs on the same training problems
        if row["model"] == "seq2seq":
            seq2seq.setdefault(row["study"], []).append(row)
    for study, study_rows in seq2seq.items():
        ax = srt if study == "sort" else add
        ax.plot([int(r["length"]) for r in study_rows], [100 * float(r["accuracy"]) for r in study_rows], "^-.", label=f"ours: seq2seq {study}")
    srt.plot(list(PAPER_SORT_NPI), list(PAPER_SORT_NPI.values()), "s--", color="gray", label="paper NPI")
    srt.plot(list(PAPER_SORT_SEQ2SEQ), list(PAPER_SORT_SEQ2SEQ.values()), "x:", color="black", label="paper seq2seq LSTM")
    add.plot([1, 3000], [100, 100], "s--", color="gray", label="paper NPI (100% to 3,000)")
    add.set_xscale("log")
    for ax, title, unit in ((add, "Addition", "digits"), (srt, "Bubble sort", "elements")):
        ax.axvspan(ax.get_xlim()[0], 20, color="green", alpha=0.08, label="training lengths")
        ax.set(title=title, xlabel=f"length ({unit})", ylabel="per-sequence accuracy (%)", ylim=(-5, 105))
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    save_figure(fig, "npi_generalization.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("envs", nargs="*", metavar="ENV_ID", help=f"envs to evaluate (default: all of {list(PLAN)})")
    parser.add_argument("--retrain", action="store_true", help="train afresh instead of using the shipped checkpoints")
    parser.add_argument("--episodes-scale", type=float, default=1.0, help="multiply every episode count (quick runs)")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the Markdown and PNG from the CSVs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.report_only:
        start = time.perf_counter()
        for env_id in chosen(parser, args.envs, list(PLAN)):
            run(env_id, args.retrain, args.episodes_scale)
        print(f"evaluation wall-clock: {time.perf_counter() - start:.0f} s")
    report()


if __name__ == "__main__":
    main()
