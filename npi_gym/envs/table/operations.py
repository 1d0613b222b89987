"""The Table task's operations, declared once as a table, their vectorised definitions and the executor.

Every list of operations (the action space, the env's masks, the executor's outputs, the Neural
Programmer's categories) derives from ``OPERATION_TABLE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from npi_gym.envs.table.grid import COLUMN_NAMES, NUM_WORDS, Table

STEPS = 4
NO_NUMBER_PIVOT = -1.0

Answer = float | frozenset[tuple[int, int]]


@dataclass(frozen=True)
class Operation:
    """One row of the operation table.

    ``column``: the kind of column it reads ("number", "text" or "any"; None: it reads none);
    ``pivot``: it compares with one of the question's numbers; ``writes``: the answer it writes
    ("scalar" or "lookup"; None: it leaves a row selector and writes no answer).
    """

    name: str
    column: str | None = None
    pivot: bool = False
    writes: str | None = None
    doc: str = ""

    @property
    def reads_column(self) -> bool:
        return self.column is not None


OPERATION_TABLE: tuple[Operation, ...] = (
    Operation("sum", column="number", writes="scalar", doc="sum of the selected rows' values in the column"),
    Operation("count", writes="scalar", doc="number of selected rows"),
    Operation("difference", writes="scalar", doc="scalar output of step t-3 minus that of step t-1"),
    Operation("greater", column="number", pivot=True, doc="rows whose value exceeds the pivot"),
    Operation("lesser", column="number", pivot=True, doc="rows whose value is below the pivot"),
    Operation("and", doc="rows selected at both steps t-1 and t-2"),
    Operation("or", doc="rows selected at step t-1 or t-2"),
    Operation("assign", column="any", writes="lookup", doc="the selected rows' cells of the column"),
    Operation("reset", doc="every row selected"),
    Operation("text_match", column="text", doc="rows whose word in the column is in the question"),
)
OPERATIONS: tuple[str, ...] = tuple(op.name for op in OPERATION_TABLE)
OPERATION_IDS: dict[str, int] = {name: i for i, name in enumerate(OPERATIONS)}
SCALAR_OPERATIONS = frozenset(op.name for op in OPERATION_TABLE if op.writes == "scalar")
LOOKUP_OPERATIONS = frozenset(op.name for op in OPERATION_TABLE if op.writes == "lookup")
COLUMN_OPERATIONS = frozenset(op.name for op in OPERATION_TABLE if op.reads_column)
PIVOT_OPERATIONS = frozenset(op.name for op in OPERATION_TABLE if op.pivot)
READS_COLUMN = np.array([op.reads_column for op in OPERATION_TABLE])
USES_PIVOT = np.array([op.pivot for op in OPERATION_TABLE])
_NEEDS_KIND = tuple((i, op.column) for i, op in enumerate(OPERATION_TABLE) if op.column in ("number", "text"))


def available_operations(table: Table) -> np.ndarray:
    """(O,) int8: 1 for the operations this table allows (one that reads a text column needs one)."""
    mask = np.ones(len(OPERATIONS), dtype=np.int8)
    for i, kind in _NEEDS_KIND:
        mask[i] = table.has(kind)
    return mask


def why_unavailable(operation: str, table: Table) -> str | None:
    """Why the table does not allow ``operation`` (it reads a kind of column the table lacks), or None."""
    kind = OPERATION_TABLE[OPERATION_IDS[operation]].column
    if kind in ("number", "text") and not table.has(kind):
        return f"{operation} needs a {kind} column; this table has none"
    return None


# ----------------------------------------------------------------------------------- definitions
# Each operation over every column at once, batched over any leading axes, on float selectors in
# [0, 1]: the hard env picks one column; a soft agent can mix columns with the same definitions.


def op_sum(selector: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per column, the sum of the selected rows' values: (..., R), (..., R, C) -> (..., C)."""
    return np.einsum("...r,...rc->...c", selector, values)


def op_count(selector: np.ndarray) -> np.ndarray:
    """Number of selected rows: (..., R) -> (...)."""
    return np.sum(selector, axis=-1)


def op_difference(scalar_t3: np.ndarray, scalar_t1: np.ndarray) -> np.ndarray:
    """Scalar output of step t-3 minus that of step t-1."""
    return np.subtract(scalar_t3, scalar_t1)


def op_greater(values: np.ndarray, numeric_cells: np.ndarray, pivot: np.ndarray | float) -> np.ndarray:
    """Per column, the rows (all of them, not only selected ones) whose value exceeds the pivot.

    values (..., R, C); numeric_cells broadcastable to it (e.g. (C,) numeric-column flags); pivot (...).
    """
    pivot = np.asarray(pivot, dtype=float)[..., None, None]
    return ((values > pivot) & numeric_cells).astype(float)


def op_lesser(values: np.ndarray, numeric_cells: np.ndarray, pivot: np.ndarray | float) -> np.ndarray:
    """Per column, the rows whose value is below the pivot."""
    pivot = np.asarray(pivot, dtype=float)[..., None, None]
    return ((values < pivot) & numeric_cells).astype(float)


def op_and(selector_t1: np.ndarray, selector_t2: np.ndarray) -> np.ndarray:
    """Row-wise minimum of the row selectors of steps t-1 and t-2."""
    return np.minimum(selector_t1, selector_t2)


def op_or(selector_t1: np.ndarray, selector_t2: np.ndarray) -> np.ndarray:
    """Row-wise maximum of the row selectors of steps t-1 and t-2."""
    return np.maximum(selector_t1, selector_t2)


def op_assign(selector: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Per column j, the lookup marking the selected rows' cells of j: (..., R), (..., R, C) -> (..., R, C)."""
    return selector[..., :, None] * cells


def op_reset(row_mask: np.ndarray) -> np.ndarray:
    """Every (existing) row selected."""
    return np.asarray(row_mask, dtype=float)


def op_text_match(words: np.ndarray, question_words: np.ndarray) -> np.ndarray:
    """Per column, the rows whose word is in the question: words (..., R, C) with -1 for none,
    question_words (..., NUM_WORDS) presence flags -> (..., R, C)."""
    present = np.asarray(question_words, dtype=bool)
    hits = words[..., None] == np.arange(present.shape[-1])
    return np.any(hits & present[..., None, None, :], axis=-1).astype(float)


# ----------------------------------------------------------------------------------- programs
@dataclass(frozen=True)
class Step:
    """One step of a program: an operation, the column it reads and the index of its pivot number."""

    operation: str
    column: int = 0
    pivot: int = 0

    def __post_init__(self) -> None:
        if self.operation not in OPERATION_IDS:
            raise ValueError(f"operation must be one of {OPERATIONS}, got {self.operation!r}")
        object.__setattr__(self, "column", int(self.column) if self.operation in COLUMN_OPERATIONS else 0)
        object.__setattr__(self, "pivot", int(self.pivot) if self.operation in PIVOT_OPERATIONS else 0)

    def __str__(self) -> str:
        args = []
        if self.operation in COLUMN_OPERATIONS:
            args.append(COLUMN_NAMES[self.column])
        if self.operation in PIVOT_OPERATIONS:
            args.append(f"N{self.pivot}")
        return f"{self.operation}({', '.join(args)})" if args else self.operation


@dataclass(frozen=True, eq=False)
class Outputs:
    """What one step leaves: the row selector (R,), the scalar output and the lookup output (R, C)."""

    selector: np.ndarray
    scalar: float
    lookup: np.ndarray


def initial_outputs(table: Table) -> Outputs:
    """The state before step 0: every row selected, scalar 0, lookup empty."""
    rows, columns = table.shape
    return Outputs(np.ones(rows), 0.0, np.zeros((rows, columns)))


def pivot_value(numbers: Sequence[float], index: int) -> float:
    """The question's number at ``index``; -1.0 when the question has no number."""
    if not numbers:
        return NO_NUMBER_PIVOT
    return float(numbers[index])


def question_word_flags(words: Sequence[int]) -> np.ndarray:
    """(NUM_WORDS,) bool: which of word:0..word:9 the question contains."""
    flags = np.zeros(NUM_WORDS, dtype=bool)
    flags[list(words)] = True
    return flags


def run_step(
    step: Step,
    history: Sequence[Outputs],
    table: Table,
    numbers: Sequence[float],
    question_words: np.ndarray,
) -> Outputs:
    """The outputs of ``step`` given the outputs so far (``history[0]`` is the initial state)."""

    def before(k: int) -> Outputs:
        return history[max(0, len(history) - k)]

    rows, columns = table.shape
    op, j = step.operation, step.column
    no_rows, no_lookup = np.zeros(rows), np.zeros((rows, columns))
    if op in SCALAR_OPERATIONS:
        if op == "sum":
            scalar = op_sum(before(1).selector, table.values)[j]
        elif op == "count":
            scalar = op_count(before(1).selector)
        else:
            scalar = op_difference(before(3).scalar, before(1).scalar)
        return Outputs(no_rows, float(scalar), no_lookup)
    if op in LOOKUP_OPERATIONS:
        lookup = np.zeros((rows, columns))
        lookup[:, j] = op_assign(before(1).selector, np.ones((rows, columns)))[:, j]
        return Outputs(no_rows, 0.0, lookup)
    if op == "greater":
        selector = op_greater(table.values, table.numeric, pivot_value(numbers, step.pivot))[:, j]
    elif op == "lesser":
        selector = op_lesser(table.values, table.numeric, pivot_value(numbers, step.pivot))[:, j]
    elif op == "and":
        selector = op_and(before(1).selector, before(2).selector)
    elif op == "or":
        selector = op_or(before(1).selector, before(2).selector)
    elif op == "reset":
        selector = op_reset(np.ones(rows))
    else:
        selector = op_text_match(table.words, question_words)[:, j]
    return Outputs(selector, 0.0, no_lookup)


def execute(
    program: Sequence[Step], table: Table, numbers: Sequence[float], question_words: np.ndarray
) -> tuple[Outputs, ...]:
    """The outputs of every step of ``program``."""
    history = [initial_outputs(table)]
    for step in program:
        history.append(run_step(step, history, table, numbers, question_words))
    return tuple(history[1:])


def lookup_cells(lookup: np.ndarray) -> frozenset[tuple[int, int]]:
    """The (row, column) cells a lookup output marks."""
    return frozenset((int(r), int(c)) for r, c in zip(*np.nonzero(lookup > 0.5)))


def answer_of(steps: Sequence[Step | None], outputs: Sequence[Outputs]) -> Answer | None:
    """The answer written by the last writing step (None entries: steps that did nothing)."""
    for step, out in zip(reversed(steps), reversed(outputs)):
        if step is None:
            continue
        if step.operation in SCALAR_OPERATIONS:
            return out.scalar
        if step.operation in LOOKUP_OPERATIONS:
            return lookup_cells(out.lookup)
    return None


def answers_match(predicted: Answer | None, truth: Answer) -> bool:
    """Scalars: equal to the first decimal place (within 0.05); lookups: the same set of cells."""
    if isinstance(truth, frozenset):
        return isinstance(predicted, frozenset) and predicted == truth
    return isinstance(predicted, float) and abs(predicted - truth) < 0.05
