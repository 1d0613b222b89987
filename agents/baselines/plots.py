"""The learning-curve PNG of a run, from SB3's CSV logs (matplotlib, Agg)."""

from __future__ import annotations

import csv
from pathlib import Path

CURVES = {"rollout/ep_rew_mean": "training episodes (curriculum stages included)", "eval/mean_reward": "evaluation (root program)"}
"""logged key -> its legend: the reward is 0/1, so its mean is the success rate"""
STAGE = "curriculum/stage_mean"
"""logged by runs with a Curriculum: the mean stage over the vec env's copies"""


def sessions(logs: Path) -> list[list[dict[str, str]]]:
    """The rows of every session's ``progress.csv`` under ``logs`` (``session-1``, ``session-2``, ... in order)."""
    found = sorted(logs.glob("session-*/progress.csv"), key=lambda p: int(p.parent.name.split("-")[1]))
    rows = []
    for session in found:
        with session.open() as f:
            rows.append(list(csv.DictReader(f)))
    return rows


def read_curves(logs: Path) -> dict[str, list[tuple[float, float]]]:
    """(total timesteps, value) per key of ``CURVES`` over every session's ``progress.csv``, in order."""
    curves: dict[str, list[tuple[float, float]]] = {key: [] for key in (*CURVES, STAGE)}
    for row in (row for session in sessions(logs) for row in session):
        for key, points in curves.items():
            if row.get(key) and row.get("time/total_timesteps"):
                points.append((float(row["time/total_timesteps"]), float(row[key])))
    return curves


def training_seconds(logs: Path) -> float:
    """A run's training time: the last ``time/time_elapsed`` SB3 logged in each session, summed."""
    elapsed = [[float(r["time/time_elapsed"]) for r in rows if r.get("time/time_elapsed")] for rows in sessions(logs)]
    return sum(times[-1] for times in elapsed if times)


def plot_learning_curve(logs: Path, png: Path, title: str) -> Path:
    """Success rate against env steps (and the curriculum stage, where logged, on the right axis), written to ``png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    curves = read_curves(logs)
    for key in CURVES:
        if curves[key]:
            ax.plot(*zip(*curves[key]), marker="." if len(curves[key]) < 20 else None, label=CURVES[key])
    ax.set(xlabel="env steps", ylabel="success rate", title=title, ylim=(-0.02, 1.02))
    ax.legend(loc="lower right")
    if curves[STAGE]:
        stage = ax.twinx()
        stage.plot(*zip(*curves[STAGE]), color="gray", linestyle=":", label="curriculum stage (mean)")
        stage.set_ylabel("curriculum stage")
        stage.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png
