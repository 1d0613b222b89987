"""The seed ranges of every agent's problems, so that training, validation and evaluation never overlap.

Training problems draw their seeds below ``TRAINING_SEEDS``; held-out problems watched during training
are seeded from ``VALIDATION_SEED`` up, final evaluations from ``EVAL_SEED`` up.
"""

from __future__ import annotations

import numpy as np

TRAINING_SEEDS = 10**9
VALIDATION_SEED = 2_000_000_000
EVAL_SEED = 3_000_000_000


def training_seed(rng: np.random.Generator) -> int:
    """A training problem's seed, drawn from ``rng``."""
    return int(rng.integers(TRAINING_SEEDS))


def validation_seed(index: int, run_seed: int = 0) -> int:
    """The seed of the ``index``-th held-out problem of a run seeded ``run_seed``."""
    return VALIDATION_SEED + 1000 * run_seed + index


def evaluation_seed(index: int, seed: int = 0, length: int | None = None) -> int:
    """The seed of the ``index``-th evaluation problem of size ``length`` (None: the env's own) under ``seed``."""
    return EVAL_SEED + 7919 * seed + 104_729 * (length or 0) + index
