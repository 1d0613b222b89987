"""What the agents' config dataclasses share: rebuilding one from a saved dict."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def config_from_dict(cls: type[T], values: dict[str, Any], what: str) -> T:
    """``cls(**values)``; unknown keys raise ``ValueError`` naming ``what`` config and the known fields."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {what} config field(s) {unknown}; known: {sorted(known)}")
    return cls(**values)
