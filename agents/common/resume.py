"""One resume policy for every agent: a run continues only with the settings it was started with.

Each config class names the fields a resumed run may change (``RESUMABLE``: budgets, evaluation size,
threads); a change to any other field is refused, naming each field with both values.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Mapping, TypeVar

from agents.common.checkpoints import CheckpointError

C = TypeVar("C")


def check_resume(path: str | Path, saved: Mapping[str, Any], cfg: Any) -> None:
    """Refuse ``cfg`` for continuing the run saved at ``path`` (config ``saved``) if it changes a field not in ``RESUMABLE``."""
    wanted = asdict(cfg)
    safe = type(cfg).RESUMABLE
    differ = sorted(k for k in wanted if k not in safe and saved.get(k) != wanted[k])
    if differ:
        diffs = ", ".join(f"{k}: checkpoint {saved.get(k)!r}, requested {wanted[k]!r}" for k in differ)
        raise CheckpointError(
            f"{path} was trained with other settings ({diffs}); resume it with its own settings "
            f"(only {', '.join(sorted(safe))} may change) or train into another file"
        )


def resumed_config(path: str | Path, cls: type[C], saved: Mapping[str, Any], changes: Mapping[str, Any]) -> C:
    """The saved run's config with ``changes`` (the settings given explicitly) applied, if the policy allows them."""
    cfg = cls.from_dict({**saved, **changes})  # type: ignore[attr-defined]
    check_resume(path, saved, cfg)
    return cfg
