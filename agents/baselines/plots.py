"""The learning-curve PNG of a run, from SB3's CSV logs (matplotlib, Agg)."""

from __future__ import annotations

import csv
from pathlib import Path

CURVES = {"rollout/ep_rew_mean": "training episodes (curriculum stages included)", "eval/mean_reward": "evaluation (root program)"}
"""logged key -> its legend: the reward is 0/1, so its mean is the success rate"""


def read_curves(logs: Path) -> dict[str, list[tuple[float, float]]]:
    """(total timesteps, value) per key of ``CURVES`` over every session's ``progress.csv``, in order."""
    curves: dict[str, list[tuple[float, float]]] = {key: [] for key in CURVES}
    for session in sorted(logs.glob("session-*/progress.csv"), key=lambda p: int(p.parent.name.split("-")[1])):
        with session.open() as f:
            for row in csv.DictReader(f):
                for key, points in curves.items():
                    if row.get(key) and row.get("time/total_timesteps"):
                        points.append((float(row["time/total_timesteps"]), float(row[key])))
    return curves


def plot_learning_curve(logs: Path, png: Path, title: str) -> Path:
    """Success rate against env steps, written to ``png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for key, points in read_curves(logs).items():
        if points:
            ax.plot(*zip(*points), marker="." if len(points) < 20 else None, label=CURVES[key])
    ax.set(xlabel="env steps", ylabel="success rate", title=title, ylim=(-0.02, 1.02))
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png
