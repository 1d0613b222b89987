"""Train the shipped NPI checkpoints in agents/npi/pretrained/ with the paper's training data.

Addition: 32 problems per length 1-20; sort: 64 per length 2-20; car: 100 training-split episodes
per number of moves 1-8, on 32 x 32 renders.

    python benchmarks/train_pretrained.py [ENV_ID ...]

Each run is ``npi-gym train npi`` with the flags below, into runs/pretrained/ (resumable, with
its CSV log); the shipped file is that checkpoint without its optimiser state, and the log.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import torch

from agents.cli import main, pretrained_path
from agents.npi.checkpoint import export_checkpoint

ADDITION = ["--min-length", "1", "--max-length", "20", "--problems-per-length", "32"]
SORT = ["--min-length", "2", "--max-length", "20", "--problems-per-length", "64"]
LONG = ["--updates", "5000", "--stop-after-perfect", "0"]
"""non-recursive sort: a full schedule; its rare wrong compare-swaps slip past 100 held-out episodes"""
CAR = ["--env-kwargs", '{"image_size": 32}', "--min-length", "1", "--max-length", "8", "--problems-per-length", "100", "--short-frame", "4"]
RUNS = {
    "NPI-Addition-v0": ADDITION,
    "NPI-Addition-Recursive-v0": ADDITION,
    "NPI-Sort-v0": SORT + LONG,
    "NPI-Sort-Recursive-v0": SORT,
    "NPI-Canonicalize-v0": CAR,
}


if __name__ == "__main__":
    torch.set_num_threads(1)
    for env_id in sys.argv[1:] or list(RUNS):
        shipped = pretrained_path(env_id)
        run = Path("runs/pretrained") / shipped.name
        command = ["train", "npi", "--env", env_id, *RUNS[env_id], "--out", str(run), "--quiet"]
        print("npi-gym " + shlex.join(command), flush=True)
        if main(command) != 0:
            raise SystemExit(f"training {env_id} failed")
        export_checkpoint(run, shipped)
        shutil.copyfile(run.with_suffix(".csv"), shipped.with_suffix(".csv"))
        print(f"shipped {shipped} ({shipped.stat().st_size / 1e6:.1f} MB)", flush=True)
