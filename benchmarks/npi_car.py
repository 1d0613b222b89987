"""NPI on NPI-Canonicalize-v0: bring the camera to the canonical pose from pixels, seen and unseen cars.

The agent (shipped checkpoint, or ``--retrain``) is trained on expert traces of the training-split
car models only; it is scored on fresh episodes of those models and on the test-split models it
never saw, for every number of moves the start poses need, beside the paper's single-task NPI.

    python benchmarks/npi_car.py [--retrain] [--episodes 100]

Writes benchmarks/results/npi_car.md, .csv and .png.
"""

from __future__ import annotations

import argparse
import time

import torch

from agents.base import evaluate
from agents.npi import NPIAgent
from common import CAR_ID, command_line, md_row, npi_checkpoint, npi_flags, pyplot, save_figure, write_csv, write_markdown

MOVES = range(1, 9)
PAPER = {"seen models": 89.5, "unseen models": 88.7}
"""Reed & de Freitas 2016, single-task NPI per-sequence accuracy (multi-task: 91.4 / 89.9)"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrain", action="store_true", help="train afresh instead of using the shipped checkpoint")
    parser.add_argument("--episodes", type=int, default=100, help="episodes per number of moves and split")
    args = parser.parse_args()
    torch.set_num_threads(1)
    checkpoint, trainer = npi_checkpoint(CAR_ID, args.retrain)
    rows = []
    start = time.perf_counter()
    for label, split in (("seen models", "train"), ("unseen models", "test")):
        agent = NPIAgent.load(checkpoint, split=split)
        for r in evaluate(agent, CAR_ID, MOVES, args.episodes, **agent.env_kwargs):
            rows.append({"models": label, "moves": r.length, "episodes": r.episodes, "solved": r.solved,
                         "accuracy": round(r.accuracy, 4), "mean_steps": round(r.mean_steps, 1)})
            print(f"  {label}, {r.length} moves: {r.solved}/{r.episodes}", flush=True)
    print(f"evaluation wall-clock: {time.perf_counter() - start:.0f} s")
    write(rows, trainer)


def write(rows: list[dict[str, object]], trainer: dict[str, object]) -> None:
    write_csv("npi_car.csv", list(rows[0]), rows)
    total = {}
    for label in PAPER:
        mine = [r for r in rows if r["models"] == label]
        total[label] = 100 * sum(int(r["solved"]) for r in mine) / sum(int(r["episodes"]) for r in mine)
    lines = [
        "# NPI car canonicalisation (NPI-Canonicalize-v0)",
        "",
        f"Trained on expert traces of the training-split car models (`{' '.join(npi_flags(CAR_ID))}`), "
        f"{trainer['update']} updates in {float(trainer['seconds']):.0f} s wall-clock on a shared 2-core CPU.",
        "Scored greedily through `env.step` on fresh episodes: start poses needing 1-8 moves, equally many of each.",
        f"Command: `{command_line(__file__)}`.",
        "",
        "| models | ours | paper NPI (single-task) |",
        "|---|---:|---:|",
        *(f"| {label} | {total[label]:.1f}% | {PAPER[label]}% |" for label in PAPER),
        "",
        "| moves | seen models | unseen models |",
        "|---:|---:|---:|",
    ]
    for n in MOVES:
        cells = [next(f"{100 * float(r['accuracy']):.0f}% ({r['solved']}/{r['episodes']})"
                      for r in rows if r["models"] == label and r["moves"] == n) for label in PAPER]
        lines.append(md_row(n, *cells))
    write_markdown("npi_car.md", lines)

    fig, ax = pyplot().subplots(figsize=(5, 3.5))
    x = range(len(PAPER))
    ax.bar([i - 0.2 for i in x], list(total.values()), 0.4, label="ours")
    ax.bar([i + 0.2 for i in x], list(PAPER.values()), 0.4, color="gray", label="paper NPI (single-task)")
    ax.set_xticks(list(x), list(PAPER))
    ax.set(ylabel="per-sequence accuracy (%)", ylim=(0, 105), title="Car viewpoint canonicalisation")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    save_figure(fig, "npi_car.png")


if __name__ == "__main__":
    main()
