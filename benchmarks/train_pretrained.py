"""Train the shipped NPI checkpoints in agents/npi/pretrained/ with the paper's training data.

The runs' settings are benchmarks/configs/npi_pretrained.toml (addition: 32 problems per length 1-20;
sort: 64 per length 2-20; car: 100 training-split episodes per number of moves 1-8, on 32 x 32 renders).

    python benchmarks/train_pretrained.py [ENV_ID ...]

Each run trains into runs/pretrained/ (with its CSV log); the shipped file is that checkpoint without
its optimiser state, and the log.
"""

from __future__ import annotations

import argparse
import shutil

import torch

from agents.npi.checkpoint import export_checkpoint
from common import RUNS, chosen, load_config, pretrained_path, train_npi


def main() -> None:
    envs = list(load_config("npi_pretrained"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("envs", nargs="*", metavar="ENV_ID", help=f"envs to train (default: all of {envs})")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for env_id in chosen(parser, args.envs, envs):
        shipped = pretrained_path(env_id)
        run = train_npi(env_id, RUNS / "pretrained" / shipped.name)
        export_checkpoint(run, shipped)
        shutil.copyfile(run.with_suffix(".csv"), shipped.with_suffix(".csv"))
        print(f"shipped {shipped} ({shipped.stat().st_size / 1e6:.1f} MB)", flush=True)


if __name__ == "__main__":
    main()
