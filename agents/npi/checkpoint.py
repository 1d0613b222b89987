"""NPI checkpoints: the env id, program table, observation space and config they were trained with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.common.checkpoints import CheckpointError, CheckpointKind
from npi_gym.programs import ProgramSet

__all__ = ["KIND", "CheckpointError", "check_programs", "export_checkpoint", "load_checkpoint", "program_table", "save_checkpoint"]

KIND = CheckpointKind("npi-gym/npi-checkpoint", 1, "NPI checkpoint", article="an")
INFERENCE = ("env_id", "programs", "observation_space", "config", "model", "trainer")
"""what an exported (inference-only) checkpoint keeps"""


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
    return KIND.save(path, payload)


def load_checkpoint(path: str | Path, programs: ProgramSet | None = None, env_id: str | None = None) -> dict[str, Any]:
    """Read a checkpoint; with ``programs``, refuse one trained on a different program table."""
    ckpt = KIND.load(path)
    if programs is not None:
        check_programs(path, ckpt, programs, env_id)
    return ckpt


def check_programs(path: str | Path, ckpt: dict[str, Any], programs: ProgramSet, env_id: str | None = None) -> None:
    """Refuse a checkpoint (read from ``path``) trained on a program table other than ``programs``."""
    if program_table(programs) != ckpt["programs"]:
        target = f"{env_id}" if env_id else "the target env"
        raise CheckpointError(
            f"{path} was trained on {ckpt['env_id']} and its program table differs from {target}'s: "
            f"checkpoint programs {_summary(ckpt['programs'])}, env programs {_summary(program_table(programs))}"
        )


def _summary(table: dict[str, Any]) -> str:
    names = [p["name"] for p in table["programs"]]
    return f"[{', '.join(names)}]" + (" (recursive)" if table["recursive"] else "")


def export_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Copy a checkpoint without its optimiser and sampler state: a third of the size, not resumable."""
    return KIND.export(src, dst, INFERENCE)
