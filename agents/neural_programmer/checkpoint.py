"""Neural Programmer checkpoints: config, table setting, vocabulary and operations recorded; atomic writes."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import gymnasium as gym

import npi_gym  # noqa: F401  (registers the ids)
from agents.neural_programmer.config import NPConfig
from agents.runs import load_torch, save_atomic
from npi_gym.tables import OPERATIONS, VOCABULARY

FORMAT = "npi-gym/neural-programmer-checkpoint"
VERSION = 2
RESUMABLE_CHANGES = frozenset({"epochs", "eval_episodes", "stop_at", "threads"})
"""config fields a resumed run may change; any other difference is refused"""


class CheckpointError(Exception):
    """A checkpoint that cannot be used: unreadable, truncated, not ours, or made for another setting."""


def table_setting(env_id: str) -> dict[str, Any]:
    """The table setting (columns, word variability) of an NPI-Table env id, as plain data."""
    env = gym.make(env_id)
    setting = getattr(env.unwrapped, "setting", None)
    env.close()
    if setting is None:
        raise ValueError(f"{env_id} is not an NPI-Table env; the Neural Programmer answers table questions")
    return asdict(setting)


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (with the format header, vocabulary and operations) to ``path`` atomically."""
    header = {"format": FORMAT, "version": VERSION, "vocabulary": list(VOCABULARY), "operations": list(OPERATIONS)}
    return save_atomic(path, {**header, **payload})


def is_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` holds a readable Neural Programmer checkpoint (for dispatching ``npi-gym eval``)."""
    try:
        load_checkpoint(path)
    except CheckpointError:
        return False
    return True


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint, refusing a corrupt file, another format or another vocabulary/operation set."""
    ckpt = load_torch(path, "Neural Programmer checkpoint", CheckpointError)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a Neural Programmer checkpoint (no {FORMAT!r} header)")
    if ckpt.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {ckpt.get('version')}; this code reads version {VERSION}")
    for key, ours in (("vocabulary", VOCABULARY), ("operations", OPERATIONS)):
        if ckpt.get(key) != list(ours):
            raise CheckpointError(f"{path} was made with another {key} ({ckpt.get(key)}); this code has {list(ours)}")
    try:
        NPConfig.from_dict(ckpt["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path} holds no valid Neural Programmer config: {e}") from None
    return ckpt


def check_resumable(path: str | Path, ckpt: dict[str, Any], cfg: NPConfig) -> None:
    """Refuse to continue a run with a config (or table setting) other than the one it was started with."""
    saved = ckpt["config"]
    wanted = cfg.to_dict()
    differ = sorted(k for k in wanted if k not in RESUMABLE_CHANGES and saved.get(k) != wanted[k])
    if differ:
        diffs = ", ".join(f"{k}: checkpoint {saved.get(k)!r}, requested {wanted[k]!r}" for k in differ)
        raise CheckpointError(
            f"{path} was trained with another setting ({diffs}); resume it with its own settings "
            f"(only {sorted(RESUMABLE_CHANGES)} may change) or train into another file"
        )
    if ckpt["setting"] != table_setting(cfg.env_id):
        raise CheckpointError(
            f"{path} was trained on table setting {ckpt['setting']}; {cfg.env_id} now has {table_setting(cfg.env_id)}"
        )


def export_checkpoint(source: str | Path, target: str | Path) -> Path:
    """An inference-only copy of a training checkpoint (no optimizer state): what ships with the package."""
    ckpt = load_checkpoint(source)
    keep = ("config", "setting", "model")
    trainer = ckpt["trainer"]
    summary = {k: trainer[k] for k in ("update", "seconds", "data_seconds", "curve")}
    return save_checkpoint(target, {k: ckpt[k] for k in keep} | {"trainer": summary})
