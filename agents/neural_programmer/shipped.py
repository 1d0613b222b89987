"""The Neural Programmer checkpoints shipped in ``pretrained/``, one per table setting (e.g. ``1col.pt``)."""

from __future__ import annotations

from pathlib import Path

PRETRAINED = Path(__file__).parent / "pretrained"


def pretrained_path(setting: str) -> Path:
    """Where the shipped checkpoint of a table setting (its key, e.g. ``"1col"``) lives."""
    return PRETRAINED / f"{setting}.pt"
