"""Checkpoints that know what they were trained on: env id, program table, config; written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.runs import load_torch, save_atomic
from npi_gym.programs import ProgramSet

FORMAT = "npi-gym/npi-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint that cannot be used: unreadable, truncated, or made for another program table."""


def program_table(programs: ProgramSet) -> dict[str, Any]:
    """The program table as plain data, for recording in and comparing against a checkpoint."""
    return {
        "recursive": programs.recursive,
        "programs": [
            {
                "name": p.name,
                "calls": list(programs.callees(p.name)) if i else [],
                "primitive": p.primitive,
                "args": {text: list(a) for text, a in p.args.items()},
            }
            for i, p in enumerate(programs.programs)
        ],
    }


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically: a crash leaves the previous file intact."""
    return save_atomic(path, {"format": FORMAT, "version": VERSION, **payload})


def load_checkpoint(
    path: str | Path, programs: ProgramSet | None = None, env_id: str | None = None
) -> dict[str, Any]:
    """Read a checkpoint; with ``programs``, refuse one trained on a different program table."""
    ckpt = load_torch(path, "NPI checkpoint", CheckpointError)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an NPI checkpoint (no {FORMAT!r} header)")
    if ckpt["version"] != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {ckpt['version']}; this code reads version {VERSION}")
    if programs is not None and program_table(programs) != ckpt["programs"]:
        target = f"{env_id}" if env_id else "the target env"
        raise CheckpointError(
            f"{path} was trained on {ckpt['env_id']} and its program table differs from {target}'s: "
            f"checkpoint programs {_summary(ckpt['programs'])}, env programs {_summary(program_table(programs))}"
        )
    return ckpt


def _summary(table: dict[str, Any]) -> str:
    names = [p["name"] for p in table["programs"]]
    return f"[{', '.join(names)}]" + (" (recursive)" if table["recursive"] else "")


TRAINING_STATE = ("optimizer", "scheduler", "sampler")


def export_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Copy a checkpoint without its optimiser and sampler state: a third of the size, not resumable."""
    ckpt = load_checkpoint(src)
    payload = {k: v for k, v in ckpt.items() if k not in ("format", "version", *TRAINING_STATE)}
    return save_checkpoint(dst, payload)
