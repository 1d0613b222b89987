"""The table a question is about: rows x columns of numbers and words, and how a cell's word is spelled."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from npi_gym.base import short_repr

MAX_ROWS = 120
MAX_COLUMNS = 10
NUM_WORDS = 10
MAX_ABS_VALUE = 1e6
COLUMN_NAMES = "ABCDEFGHIJ"
KINDS = ("number", "text")

_WORD_IDS = {f"word:{k}": k for k in range(NUM_WORDS)}
WORDS: tuple[str, ...] = tuple(_WORD_IDS)
"""the words a text cell (and a question) can hold: word:0 .. word:9"""


def word_id(token: str) -> int | None:
    """k for the word ``word:k``, None for any other token."""
    return _WORD_IDS.get(token)


TABLE_FORM = (
    "a mapping of columns named A, B, C, ... in order to lists of cells, every column with the same "
    f"number of cells (1..{MAX_ROWS} rows, at most {MAX_COLUMNS} columns), each column all numbers or all "
    f"words word:0..word:{NUM_WORDS - 1}, e.g. {{'A': [4.0, -1.5], 'B': ['word:7', 'word:2']}}"
)
"""the tables ``Table.from_columns`` accepts"""


@dataclass(frozen=True, eq=False)
class Table:
    """Rows x columns of numbers (``values``, 0 in text columns) and words (``words``, -1 in numeric ones)."""

    values: np.ndarray
    words: np.ndarray
    kinds: tuple[str, ...]

    def __post_init__(self) -> None:
        kinds = tuple(self.kinds)
        try:
            values = np.array(self.values, dtype=np.float64)
            words = np.array(self.words, dtype=np.int64)
        except (TypeError, ValueError):
            raise ValueError(
                "a table needs values (numbers) and words (word ids) as rectangular arrays of shape "
                f"(rows, columns); got values {short_repr(self.values)} and words {short_repr(self.words)}"
            ) from None
        if values.ndim != 2 or values.shape != words.shape or values.shape[1] != len(kinds):
            raise ValueError(
                "a table needs values and words of the same shape (rows, columns) and one kind per "
                f"column; got {values.shape}, {words.shape} and {len(kinds)} kinds"
            )
        rows, columns = values.shape
        if not 1 <= rows <= MAX_ROWS or not 1 <= columns <= MAX_COLUMNS:
            raise ValueError(
                f"a table has 1..{MAX_ROWS} rows and 1..{MAX_COLUMNS} columns; got {rows} x {columns}"
            )
        if any(k not in KINDS for k in kinds):
            raise ValueError(f"column kinds are 'number' or 'text'; got {kinds}")
        if "number" not in kinds:
            raise ValueError(
                f"a table needs at least one numeric column (questions aggregate numbers); got kinds {kinds}"
            )
        text = np.array([k == "text" for k in kinds])
        if not np.all(np.abs(values) <= MAX_ABS_VALUE):
            raise ValueError(f"table values must be finite numbers in [-{MAX_ABS_VALUE:g}, {MAX_ABS_VALUE:g}]")
        if np.any(values[:, text] != 0) or np.any(words[:, ~text] != -1):
            raise ValueError("text columns hold value 0 and numeric columns word -1")
        if np.any((words[:, text] < 0) | (words[:, text] >= NUM_WORDS)):
            raise ValueError(f"text cells hold word ids 0..{NUM_WORDS - 1} (word:0..word:{NUM_WORDS - 1})")
        values.flags.writeable = False
        words.flags.writeable = False
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "kinds", kinds)

    @classmethod
    def from_columns(cls, columns: Mapping[str, Sequence[float | str]]) -> Table:
        """A table from ``{"A": [numbers...], "B": ["word:3", ...]}`` (names A, B, ... in order)."""
        if not isinstance(columns, Mapping):
            raise ValueError(f"columns are given as a mapping of names to lists of cells; got {short_repr(columns)}")
        names = list(columns)
        if names != list(COLUMN_NAMES[: len(names)]):
            raise ValueError(f"columns are named A, B, C, ... in order; got {names}")
        for name, cells in columns.items():
            listed = isinstance(cells, Sequence) and not isinstance(cells, (str, bytes))
            if not (listed or (isinstance(cells, np.ndarray) and cells.ndim == 1)):
                raise ValueError(f"column {name} must be a list of cells; got {short_repr(cells)}")
        lengths = {len(c) for c in columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"every column needs the same number of rows; got lengths {sorted(lengths)}")
        kinds, values, words = [], [], []
        for name, cells in columns.items():
            if all(isinstance(c, str) for c in cells):
                ids = [word_id(c) for c in cells]
                if None in ids:
                    raise ValueError(f"column {name}: text cells are word:0..word:{NUM_WORDS - 1}")
                kinds.append("text")
                values.append([0.0] * len(cells))
                words.append(ids)
            elif all(isinstance(c, (int, float, np.number)) and not isinstance(c, bool) for c in cells):
                kinds.append("number")
                values.append([float(c) for c in cells])
                words.append([-1] * len(cells))
            else:
                raise ValueError(f"column {name}: cells are all numbers or all words word:k")
        return cls(np.array(values).T, np.array(words).T, tuple(kinds))

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    @functools.cached_property
    def numeric(self) -> np.ndarray:
        """(C,) bool: which columns are numeric."""
        numeric = np.array([k == "number" for k in self.kinds])
        numeric.flags.writeable = False
        return numeric

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(COLUMN_NAMES[: len(self.kinds)])

    def has(self, kind: str) -> bool:
        """Whether some column is of this kind ("number" or "text")."""
        return kind in self.kinds

    def cell(self, row: int, column: int) -> float | str:
        if self.kinds[column] == "text":
            return WORDS[self.words[row, column]]
        return float(self.values[row, column])

