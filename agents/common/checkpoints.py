"""Checkpoint files of every agent: a format header, atomic writes, one read per load, inference-only exports.

A checkpoint is a dict saved with ``torch.save`` whose ``format`` and ``version`` keys name its kind;
``kind_of`` reads just enough of a file to tell which agent wrote it. torch is imported on use.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

TRAINING_STATE = "optimizer"
"""the key only a resumable (training) checkpoint has"""


class CheckpointError(Exception):
    """A checkpoint that cannot be used: missing, unreadable, truncated, foreign, or made for something else."""


KINDS: dict[str, CheckpointKind] = {}
"""every kind defined so far, by format string (to name what a foreign file is)"""


@dataclass(frozen=True)
class CheckpointKind:
    """One agent's checkpoint format: the header it writes and the version this code reads."""

    format: str
    version: int
    name: str
    """what the agent's files are called in messages, e.g. NPI checkpoint"""
    article: str = "a"

    @property
    def called(self) -> str:
        """The name with its article, e.g. "an NPI checkpoint"."""
        return f"{self.article} {self.name}"

    def __post_init__(self) -> None:
        KINDS[self.format] = self

    def save(self, path: str | Path, payload: dict[str, Any]) -> Path:
        """Write ``payload`` under this kind's header to ``path`` atomically."""
        return save_atomic(path, {"format": self.format, "version": self.version, **payload})

    def load(self, path: str | Path) -> dict[str, Any]:
        """The whole checkpoint at ``path`` (one read), refused unless it is of this kind and version."""
        return self.check(path, load_torch(path, self.name))

    def header(self, path: str | Path) -> dict[str, Any]:
        """The checkpoint with its tensors memory-mapped, not read (for its config and header)."""
        return self.check(path, load_torch(path, self.name, mmap=True))

    def check(self, path: str | Path, ckpt: Any) -> dict[str, Any]:
        """``ckpt`` as read from ``path`` if it is of this kind and version; else ``CheckpointError``."""
        found = ckpt.get("format") if isinstance(ckpt, dict) else None
        if found != self.format:
            other = f"it is {KINDS[found].called}" if found in KINDS else f"no {self.format!r} header"
            raise CheckpointError(f"{path} is not {self.called} ({other})")
        version = ckpt.get("version")
        if version != self.version:
            raise CheckpointError(
                f"{path} is {self.called} of format version {version!r}; this code reads version {self.version!r} only"
            )
        return ckpt

    def export(self, source: str | Path, target: str | Path, keep: Iterable[str], trainer: Iterable[str] = ()) -> Path:
        """An inference-only copy of ``source``: the ``keep`` keys and the ``trainer`` summary keys, no training state."""
        ckpt = self.load(source)
        payload = {k: ckpt[k] for k in keep}
        if trainer:
            payload["trainer"] = {k: ckpt["trainer"][k] for k in trainer}
        return self.save(target, payload)


def require_training_state(path: str | Path, ckpt: dict[str, Any]) -> None:
    """Refuse to resume from an exported (inference-only) checkpoint."""
    if TRAINING_STATE not in ckpt:
        raise CheckpointError(f"{path} is an exported (inference-only) checkpoint; it cannot be resumed")


def kind_of(path: str | Path) -> CheckpointKind:
    """The kind of the checkpoint at ``path``, from its header (tensors are memory-mapped, not read)."""
    ckpt = load_torch(path, "checkpoint", mmap=True)
    found = ckpt.get("format") if isinstance(ckpt, dict) else None
    if found not in KINDS:
        known = ", ".join(f"{k.name} ({f!r})" for f, k in KINDS.items())
        raise CheckpointError(f"{path} is not a checkpoint of a known kind (format {found!r}); known: {known}")
    return KINDS[found]


def save_atomic(path: str | Path, payload: Any) -> Path:
    """``torch.save`` to ``path`` atomically: a crash leaves the previous file intact."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_torch(path: str | Path, what: str, error: type[Exception] = CheckpointError, mmap: bool = False) -> Any:
    """``torch.load`` (tensors and plain data only), raising ``error`` that names ``what`` was expected."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise error(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as e:
        raise error(f"{path} is not a readable {what} (truncated or corrupted?): {type(e).__name__}: {e}") from None
