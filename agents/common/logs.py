"""The CSV log of training progress every trainer writes beside its checkpoint."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


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
