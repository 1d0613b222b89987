"""Neural Programmer checkpoints: config, table setting, vocabulary and operations recorded."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import npi_gym  # noqa: F401  (registers the ids)
from agents.common.checkpoints import CheckpointError, CheckpointKind, restoring
from agents.common.resume import check_resume
from agents.neural_programmer.config import NPConfig
from npi_gym.envs.table import OPERATIONS, VOCABULARY, setting_of

__all__ = ["KIND", "CheckpointError", "check_resumable", "export_checkpoint", "load_checkpoint", "save_checkpoint", "table_setting"]

KIND = CheckpointKind(
    "npi-gym/neural-programmer-checkpoint", 3, "Neural Programmer checkpoint",
    inference=("vocabulary", "operations", "config", "setting", "model"), training=("noise_rng", "trainer"), unchecked_version=2,
)


def table_setting(env_id: str) -> dict[str, Any]:
    """The table setting (columns, word variability) of a table-question env id, as plain data."""
    return asdict(setting_of(env_id))


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (with the format header, vocabulary and operations) to ``path`` atomically."""
    return KIND.save(path, {"vocabulary": list(VOCABULARY), "operations": list(OPERATIONS), **payload})


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint, refusing a corrupt file, another format or another vocabulary/operation set."""
    ckpt = KIND.load(path)
    for key, ours in (("vocabulary", VOCABULARY), ("operations", OPERATIONS)):
        if ckpt.get(key) != list(ours):
            raise CheckpointError(f"{path} was made with another {key} ({ckpt.get(key)}); this code has {list(ours)}")
    with restoring(path, "config"):
        NPConfig.from_dict(ckpt["config"])
    return ckpt


def check_resumable(path: str | Path, ckpt: dict[str, Any], cfg: NPConfig) -> None:
    """Refuse to continue a run with a config (or table setting) other than the one it was started with."""
    check_resume(path, ckpt["config"], cfg)
    if ckpt["setting"] != table_setting(cfg.env_id):
        raise CheckpointError(
            f"{path} was trained on table setting {ckpt['setting']}; {cfg.env_id} now has {table_setting(cfg.env_id)}"
        )


def export_checkpoint(source: str | Path, target: str | Path) -> Path:
    """An inference-only copy of a training checkpoint (no optimizer state): what ships with the package."""
    return KIND.export(source, target, KIND.inference, trainer=("update", "seconds", "data_seconds", "curve"))
