"""What every trainer here writes: atomic torch checkpoints with a readable failure, and a resumable CSV log."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any

import torch


def save_atomic(path: str | Path, payload: Any) -> Path:
    """``torch.save`` to ``path`` atomically: a crash leaves the previous file intact."""
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


def load_torch(path: str | Path, what: str, error: type[Exception]) -> Any:
    """``torch.load`` (tensors and plain data only), raising ``error`` that names ``what`` was expected."""
    path = Path(path)
    if not path.is_file():
        raise error(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise error(f"{path} is not a readable {what} (truncated or corrupted?): {type(e).__name__}: {e}") from None


class CsvLog:
    """Append-only CSV of training progress; a resumed run drops rows past its checkpoint."""

    def __init__(self, path: Path, header: list[str], resume_from: int) -> None:
        self.path = path
        rows = []
        if resume_from and path.exists():
            with path.open() as f:
                rows = [r for r in csv.reader(f)][1:]
            rows = [r for r in rows if r and int(r[0]) <= resume_from]
        with path.open("w", newline="") as f:
            csv.writer(f).writerows([header, *rows])

    def write(self, row: list[Any]) -> None:
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow(row)
