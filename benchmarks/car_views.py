"""Contact sheet of the shipped car models: train and test models (rows) from several poses (columns).

Frames come from the env's renderer at the paper's 128 px; the first column is the canonical target
pose (azimuth 0, elevation 15). Writes benchmarks/results/car_views.png.

    python benchmarks/car_views.py [--models-per-split 6] [--image-size 128]
"""

from __future__ import annotations

import argparse

from common import pyplot, save_figure
from npi_gym.envs.car import CarRenderer, RenderSettings, model_names

POSES = [(0, 15), (-45, 30), (90, 0), (135, 45), (180, 15), (-120, 60), (30, -15)]


def spread(names: list[str], count: int) -> list[str]:
    """`count` names spaced evenly through `names` (so every body style shows up)."""
    step = len(names) / count
    return [names[int(i * step)] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-per-split", type=int, default=6)
    parser.add_argument("--image-size", type=int, default=128)
    args = parser.parse_args()

    rows = [(name, "train") for name in spread(model_names("train"), args.models_per_split)]
    rows += [(name, "test") for name in spread(model_names("test"), args.models_per_split)]
    renderer = CarRenderer(RenderSettings(image_size=args.image_size))
    fig, axes = pyplot().subplots(len(rows), len(POSES), figsize=(1.6 * len(POSES), 1.6 * len(rows)))
    for r, (name, split) in enumerate(rows):
        for c, (az, el) in enumerate(POSES):
            ax = axes[r, c]
            ax.imshow(renderer.render(name, az, el), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_edgecolor("tab:blue" if split == "train" else "tab:orange")
                spine.set_linewidth(2)
            if r == 0:
                ax.set_title(f"az {az}, el {el}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{name}\n({split})", fontsize=7)
    renderer.close()
    fig.suptitle("NPI-Canonicalize-v0 car models: train (blue) and unseen test (orange) models", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    out = save_figure(fig, "car_views.png", dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
