"""The Neural Programmer's synthetic table questions: tables, keyword questions, programs, operations.

The paper (Neelakantan, Le & Sutskever, ICLR 2016) never published its generator; this one follows its
description. Where the paper is silent, these are the rules (and ``tests/test_tables.py`` holds them):

- Steps before step 0: "step t-k" for t-k < 0 is the initial state (every row selected, scalar 0, no
  lookup cells), so ``and``/``or``/``difference`` at steps 0-2 read the initial values.
- ``difference`` at step t is scalar(t-3) - scalar(t-1); "sum A diff count" runs as
  sum A, reset, count, difference (= sum - count).
- Pivots: ``greater``/``lesser`` compare with the question's number at the pivot index; a question with
  no number has the single pivot -1.0 (the paper's "pivot -1").
- Column kinds: ``sum``/``greater``/``lesser`` on a text column see no numbers (0, no rows);
  ``text_match`` on a numeric column matches no row; ``assign`` prints the cells of any column.
- ``text_match`` selects the rows whose entry in the column is any ``word:k`` of the question.
- Comparisons are strict; ``greater``/``lesser`` look at every row, not only the selected ones.
- The answer is the output of the last step that wrote one (``sum``, ``count``, ``difference``: a
  scalar; ``assign``: the set of selected cells); none written means no answer. A scalar is correct when
  within 0.05 of the truth (equal to the first decimal place), a lookup when it is the same set of cells.
- Ground-truth programs have exactly four steps; shorter ones start with ``reset`` steps, so the
  answer is written by the last step.
- Table values and question numbers have two decimals. Text columns hold word:0..word:9 (uniform);
  ``print`` and the numeric conditions use numeric columns; the two conditions of a logic template are of
  different kinds (the paper's greater/lesser pairs, plus pairs with one text match in text settings).
  A greater and a lesser condition on the same column get ordered numbers (``and``: between them;
  ``or``: outside them), so those questions are not empty or the whole table by construction.
- A question holds at most one ``word:k``: ``text_match`` matches any word of the question, so two
  words in one question could not be told apart.
- Text settings: columns are numeric 1..n and text 1..m in training (n, m at test), in random order.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

import numpy as np

STEPS = 4
MAX_ROWS = 120
MAX_COLUMNS = 10
MAX_NUMBERS = 2
NUM_WORDS = 10
NO_NUMBER_PIVOT = -1.0
MAX_ABS_VALUE = 1e6
COLUMN_NAMES = "ABCDEFGHIJ"

OPERATIONS = (
    "sum", "count", "difference", "greater", "lesser", "and", "or", "assign", "reset", "text_match",
)
SCALAR_OPERATIONS = frozenset({"sum", "count", "difference"})
LOOKUP_OPERATIONS = frozenset({"assign"})
COLUMN_OPERATIONS = frozenset({"sum", "greater", "lesser", "assign", "text_match"})
PIVOT_OPERATIONS = frozenset({"greater", "lesser"})

CANONICAL = {
    "sum": ("sum",), "count": ("count",), "greater": ("greater",), "lesser": ("lesser",),
    "print": ("print",), "diff": ("diff",),
}
SYNONYMS = {
    "sum": (("sum",), ("total",), ("total", "of"), ("sum", "of")),
    "count": (("count",), ("count", "of"), ("how", "many")),
    "greater": (
        ("greater",), ("greater", "than"), ("bigger",), ("bigger", "than"), ("larger",), ("larger", "than"),
    ),
    "lesser": (("lesser",), ("lesser", "than"), ("smaller",), ("smaller", "than"), ("under",)),
    "print": (("print",), ("display",), ("show",)),
    "diff": (("difference",), ("difference", "between")),
}
CONDITION_KINDS = ("greater", "lesser", "text")
AGGREGATES = ("sum", "count", "print")
CONNECTIVES = ("and", "or")
CATEGORIES = ("aggregation", "comparison", "logic", "arithmetic")
SPLITS = ("train", "test")

_KEYWORDS = sorted({w for phrases in SYNONYMS.values() for p in phrases for w in p} | {"diff"})
VOCABULARY = (
    "<pad>", "<num>", *_KEYWORDS, *CONNECTIVES, *COLUMN_NAMES, *(f"word:{k}" for k in range(NUM_WORDS)),
)
TOKEN_IDS = {token: i for i, token in enumerate(VOCABULARY)}


def _longest(*keywords: str) -> int:
    return max(len(p) for k in keywords for p in SYNONYMS[k] + (CANONICAL[k],))


MAX_QUESTION_TOKENS = max(
    2 * (_longest("greater", "lesser") + 2) + 1 + _longest("sum", "print") + 1,
    _longest("sum") + 1 + _longest("diff") + _longest("count"),
)

Answer = float | frozenset[tuple[int, int]]


# ----------------------------------------------------------------------------------- operations
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


# ----------------------------------------------------------------------------------- tables
@dataclass(frozen=True, eq=False)
class Table:
    """Rows x columns of numbers (``values``, 0 in text columns) and words (``words``, -1 in numeric ones)."""

    values: np.ndarray
    words: np.ndarray
    kinds: tuple[str, ...]

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64)
        words = np.array(self.words, dtype=np.int64)
        kinds = tuple(self.kinds)
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
        if any(k not in ("number", "text") for k in kinds):
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
    def from_columns(cls, columns: Mapping[str, Sequence[float | str]]) -> "Table":
        """A table from ``{"A": [numbers...], "B": ["word:3", ...]}`` (names A, B, ... in order)."""
        names = list(columns)
        if names != list(COLUMN_NAMES[: len(names)]):
            raise ValueError(f"columns are named A, B, C, ... in order; got {names}")
        lengths = {len(c) for c in columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"every column needs the same number of rows; got lengths {sorted(lengths)}")
        kinds, values, words = [], [], []
        for name, cells in columns.items():
            if all(isinstance(c, str) for c in cells):
                ids = [_word_id(c) for c in cells]
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

    def cell(self, row: int, column: int) -> float | str:
        if self.kinds[column] == "text":
            return f"word:{self.words[row, column]}"
        return float(self.values[row, column])


_WORD_IDS = {f"word:{k}": k for k in range(NUM_WORDS)}


def _word_id(token: str) -> int | None:
    return _WORD_IDS.get(token)


# ----------------------------------------------------------------------------------- programs
@dataclass(frozen=True)
class Step:
    """One step of a program: an operation, the column it reads and the index of its pivot number."""

    operation: str
    column: int = 0
    pivot: int = 0

    def __post_init__(self) -> None:
        if self.operation not in OPERATIONS:
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
    if op == "assign":
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


# ----------------------------------------------------------------------------------- questions
@dataclass(frozen=True)
class Condition:
    """``greater``/``lesser`` (value: index of the question number) or ``text`` (value: word id)."""

    kind: str
    column: int
    value: int


@dataclass(frozen=True)
class Term:
    """``sum`` or ``print`` of a column, or ``count``."""

    operation: str
    column: int | None = None


@dataclass(frozen=True)
class Query:
    """A keyword question: up to two conditions joined by and/or, then a term (or two, joined by diff)."""

    conditions: tuple[Condition, ...]
    connective: str | None
    terms: tuple[Term, ...]

    def program(self) -> tuple[Step, ...]:
        """The ground-truth program: four steps, padded in front with ``reset``."""
        if len(self.terms) == 2:
            first, second = (_term_step(t) for t in self.terms)
            return (first, Step("reset"), second, Step("difference"))
        steps = [_condition_step(c) for c in self.conditions]
        if self.connective is not None:
            steps.append(Step(self.connective))
        steps.append(_term_step(self.terms[0]))
        return (Step("reset"),) * (STEPS - len(steps)) + tuple(steps)

    def columns(self) -> dict[int, str]:
        """The kind of column ("number"/"text") each referenced column must be."""
        needs: dict[int, str] = {}
        for c in self.conditions:
            needs[c.column] = "text" if c.kind == "text" else "number"
        for t in self.terms:
            if t.column is not None:
                needs.setdefault(t.column, "number")
        return needs


def _condition_step(condition: Condition) -> Step:
    if condition.kind == "text":
        return Step("text_match", condition.column)
    return Step(condition.kind, condition.column, condition.value)


def _term_step(term: Term) -> Step:
    operation = "assign" if term.operation == "print" else term.operation
    return Step(operation, term.column or 0)


@dataclass(frozen=True)
class Shape:
    """A template before its column slots (and numbers, words) are filled."""

    conditions: tuple[str, ...]
    connective: str | None
    terms: tuple[str, ...]


@functools.lru_cache(maxsize=None)
def shapes(category: str, text: bool = False) -> tuple[Shape, ...]:
    """The templates of a category; ``text`` adds those with a text-match condition."""
    kinds = CONDITION_KINDS if text else CONDITION_KINDS[:2]
    if category == "aggregation":
        return tuple(Shape((), None, (a,)) for a in AGGREGATES)
    if category == "comparison":
        return tuple(Shape((k,), None, (a,)) for a in AGGREGATES for k in kinds)
    if category == "logic":
        return tuple(
            Shape((k1, k2), c, (a,))
            for a in AGGREGATES
            for c in CONNECTIVES
            for k1, k2 in itertools.permutations(kinds, 2)
        )
    if category == "arithmetic":
        return (Shape((), None, ("sum", "count")), Shape((), None, ("count", "sum")))
    raise ValueError(f"category must be one of {CATEGORIES}, got {category!r}")


def fillings(shape: Shape, kinds: Sequence[str]) -> Iterator[Query]:
    """Every way to fill a shape's column and word slots from a table's columns."""
    numeric = [i for i, k in enumerate(kinds) if k == "number"]
    text = [i for i, k in enumerate(kinds) if k == "text"]
    condition_options = [text if k == "text" else numeric for k in shape.conditions]
    term_options = [[None] if t == "count" else numeric for t in shape.terms]
    word_options = [range(NUM_WORDS) if k == "text" else (0,) for k in shape.conditions]
    for columns in itertools.product(*condition_options, *term_options):
        for words in itertools.product(*word_options):
            yield _query(shape, columns, words)


def _query(shape: Shape, columns: Sequence[int | None], words: Sequence[int]) -> Query:
    conditions, number = [], 0
    for kind, column, word in zip(shape.conditions, columns, words):
        if kind == "text":
            conditions.append(Condition(kind, column, word))
        else:
            conditions.append(Condition(kind, column, number))
            number += 1
    terms = tuple(Term(t, c) for t, c in zip(shape.terms, columns[len(shape.conditions):]))
    return Query(tuple(conditions), shape.connective, terms)


def sample_query(rng: np.random.Generator, kinds: Sequence[str]) -> Query:
    """A category uniformly, a template of it uniformly, then its slots uniformly from the columns."""
    has_text = "text" in kinds
    category = CATEGORIES[rng.integers(len(CATEGORIES))]
    options = shapes(category, has_text)
    shape = options[rng.integers(len(options))]
    numeric = [i for i, k in enumerate(kinds) if k == "number"]
    text = [i for i, k in enumerate(kinds) if k == "text"]
    columns: list[int | None] = []
    words: list[int] = []
    for kind in shape.conditions:
        pool = text if kind == "text" else numeric
        columns.append(pool[rng.integers(len(pool))])
        words.append(int(rng.integers(NUM_WORDS)) if kind == "text" else 0)
    for term in shape.terms:
        columns.append(None if term == "count" else numeric[rng.integers(len(numeric))])
    return _query(shape, columns, words)


def keywords(query: Query) -> tuple[str, ...]:
    """The query's keywords in question order (each rendered as itself or one of its synonyms)."""
    words = [c.kind for c in query.conditions if c.kind != "text"]
    for i, term in enumerate(query.terms):
        words += ["diff", term.operation] if i else [term.operation]
    return tuple(words)


def sample_phrases(rng: np.random.Generator, query: Query) -> tuple[tuple[str, ...], ...]:
    """A synonym for each keyword, uniformly (word variability)."""
    return tuple(SYNONYMS[k][rng.integers(len(SYNONYMS[k]))] for k in keywords(query))


def all_phrases(query: Query) -> Iterator[tuple[tuple[str, ...], ...]]:
    """Every choice of synonyms for the query's keywords."""
    return itertools.product(*(SYNONYMS[k] for k in keywords(query)))


def render(
    query: Query, numbers: Sequence[float], phrases: Sequence[tuple[str, ...]] | None = None
) -> tuple[str, ...]:
    """The question's tokens, each keyword as its phrase in ``phrases`` (default: the paper's keyword)."""
    chosen = iter(phrases if phrases is not None else [CANONICAL[k] for k in keywords(query)])
    tokens: list[str] = []
    for i, condition in enumerate(query.conditions):
        if i:
            tokens.append(query.connective or "")
        if condition.kind == "text":
            tokens.append(f"word:{condition.value}")
        else:
            tokens += [*next(chosen), f"{numbers[condition.value]:.2f}"]
        tokens.append(COLUMN_NAMES[condition.column])
    for i, term in enumerate(query.terms):
        if i:
            tokens += next(chosen)
        tokens += next(chosen)
        if term.column is not None:
            tokens.append(COLUMN_NAMES[term.column])
    return tuple(tokens)


def template_of(tokens: Sequence[str]) -> str:
    """A question with its numbers replaced by N."""
    return " ".join("N" if is_number(t) else t for t in tokens)


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_PHRASES = {p: k for k, ps in SYNONYMS.items() for p in ps} | {p: k for k, p in CANONICAL.items()}
_QUESTION_FORMS = (
    "[CONDITION [and|or CONDITION]] TERM  or  TERM diff TERM, where CONDITION is 'greater N X', "
    "'lesser N X' or 'word:k X' (one word at most), TERM is 'sum X', 'count' or 'print X' (with their synonyms), "
    "X a column letter A-J and N a number; e.g. 'greater 50.32 C and lesser 20.21 E sum H'"
)


def is_number(token: str) -> bool:
    return _NUMBER.fullmatch(token) is not None


def parse_question(question: str | Sequence[str]) -> tuple[Query, tuple[float, ...]]:
    """The query a keyword question asks and its numbers; ``ValueError`` saying the accepted forms."""
    tokens = question.split() if isinstance(question, str) else list(question)
    text = " ".join(tokens)

    def fail(why: str) -> ValueError:
        return ValueError(f"cannot read question {text!r}: {why}; accepted: {_QUESTION_FORMS}")

    lexemes: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        for length in (2, 1):
            keyword = _PHRASES.get(tuple(tokens[i : i + length]))
            if keyword is not None:
                lexemes.append(("keyword", keyword))
                i += length
                break
        else:
            token = tokens[i]
            if token in CONNECTIVES:
                lexemes.append(("connective", token))
            elif is_number(token):
                lexemes.append(("number", token))
            elif len(token) == 1 and token in COLUMN_NAMES:
                lexemes.append(("column", token))
            elif _word_id(token) is not None:
                lexemes.append(("word", token))
            else:
                raise fail(f"unknown word {token!r}")
            i += 1

    numbers: list[float] = []
    position = 0

    def take(kind: str, what: str) -> str:
        nonlocal position
        if position >= len(lexemes) or lexemes[position][0] != kind:
            found = lexemes[position][1] if position < len(lexemes) else "the end"
            raise fail(f"expected {what} at {found!r}")
        position += 1
        return lexemes[position - 1][1]

    def peek() -> tuple[str, str] | None:
        return lexemes[position] if position < len(lexemes) else None

    def condition() -> Condition:
        nonlocal position
        kind, value = lexemes[position]
        position += 1
        if kind == "word":
            return Condition("text", COLUMN_NAMES.index(take("column", "a column")), _word_id(value) or 0)
        number = float(take("number", "a number"))
        if not abs(number) <= MAX_ABS_VALUE:
            raise fail(f"numbers lie in [-{MAX_ABS_VALUE:g}, {MAX_ABS_VALUE:g}], not {number:g}")
        numbers.append(number)
        column = COLUMN_NAMES.index(take("column", "a column"))
        return Condition(value, column, len(numbers) - 1)

    def is_condition(lexeme: tuple[str, str] | None) -> bool:
        return lexeme is not None and (
            lexeme[0] == "word" or (lexeme[0] == "keyword" and lexeme[1] in ("greater", "lesser"))
        )

    def term() -> Term:
        keyword = take("keyword", "sum, count or print")
        if keyword == "count":
            return Term("count")
        if keyword not in ("sum", "print"):
            raise fail(f"expected sum, count or print, not {keyword!r}")
        return Term(keyword, COLUMN_NAMES.index(take("column", "a column")))

    conditions: list[Condition] = []
    connective = None
    if is_condition(peek()):
        conditions.append(condition())
        if peek() is not None and peek()[0] == "connective":
            connective = take("connective", "and/or")
            if not is_condition(peek()):
                raise fail("expected a condition after " + connective)
            conditions.append(condition())
    if sum(c.kind == "text" for c in conditions) > 1:
        raise fail("one word:k at most (text_match matches any word of the question)")
    terms = [term()]
    if peek() == ("keyword", "diff"):
        position += 1
        terms.append(term())
        if conditions or any(t.operation == "print" for t in terms):
            raise fail("diff joins two of sum/count, without conditions")
    if peek() is not None:
        raise fail(f"unexpected {peek()[1]!r} after the answer")
    return Query(tuple(conditions), connective, tuple(terms)), tuple(numbers)


# ----------------------------------------------------------------------------------- examples
@dataclass(frozen=True, eq=False)
class Example:
    """A table, a question about it, the ground-truth program and the answer."""

    table: Table
    tokens: tuple[str, ...]
    query: Query
    numbers: tuple[float, ...]
    program: tuple[Step, ...] = field(init=False)
    answer: Answer = field(init=False)

    def __post_init__(self) -> None:
        rows, columns = self.table.shape
        for column, kind in self.query.columns().items():
            if column >= columns:
                raise ValueError(
                    f"question {self.question!r} uses column {COLUMN_NAMES[column]}; the table has "
                    f"columns {', '.join(self.table.names)}"
                )
            if self.table.kinds[column] != kind:
                raise ValueError(
                    f"question {self.question!r} needs column {COLUMN_NAMES[column]} to be "
                    f"{'numeric' if kind == 'number' else 'text'}; the table's kinds are {self.table.kinds}"
                )
        program = self.query.program()
        outputs = execute(program, self.table, self.numbers, self.question_words)
        object.__setattr__(self, "program", program)
        object.__setattr__(self, "answer", answer_of(program, outputs))

    @property
    def question(self) -> str:
        return " ".join(self.tokens)

    @property
    def template(self) -> str:
        """The question with its numbers replaced by N."""
        return template_of(self.tokens)

    @functools.cached_property
    def question_words(self) -> np.ndarray:
        """(NUM_WORDS,) bool: the words word:k in the question."""
        flags = question_word_flags([w for w in map(_word_id, self.tokens) if w is not None])
        flags.flags.writeable = False
        return flags


def make_example(question: str | Sequence[str], table: Table) -> Example:
    """The example for a keyword question over a table (``ValueError`` if it does not fit)."""
    query, numbers = parse_question(question)
    tokens = tuple(question.split() if isinstance(question, str) else question)
    return Example(table, tokens, query, numbers)


# ----------------------------------------------------------------------------------- generation
@dataclass(frozen=True)
class Setting:
    """Most numeric and text columns of a table, and whether keywords vary (word variability)."""

    numeric_columns: int = 5
    text_columns: int = 0
    word_variability: bool = False

    def __post_init__(self) -> None:
        n, t = self.numeric_columns, self.text_columns
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 1 <= n <= MAX_COLUMNS:
            raise ValueError(f"numeric_columns must be an int in 1..{MAX_COLUMNS}, got {n!r}")
        if not isinstance(t, (int, np.integer)) or isinstance(t, bool) or not 0 <= t <= MAX_COLUMNS - n:
            raise ValueError(
                f"text_columns must be an int in 0..{MAX_COLUMNS - n} (at most {MAX_COLUMNS} columns in "
                f"all), got {t!r}"
            )
        if not isinstance(self.word_variability, (bool, np.bool_)):
            raise ValueError(f"word_variability must be True or False, got {self.word_variability!r}")

    @property
    def max_columns(self) -> int:
        return self.numeric_columns + self.text_columns


SETTINGS = {
    "1col": Setting(1),
    "3col": Setting(3),
    "5col": Setting(5),
    "10col": Setting(10),
    "words-1col": Setting(1, word_variability=True),
    "words-5col": Setting(5, word_variability=True),
    "text-2col": Setting(1, 1),
    "text-5col": Setting(3, 2),
}


def _setting(setting: Setting | str) -> Setting:
    if isinstance(setting, Setting):
        return setting
    if setting not in SETTINGS:
        raise ValueError(f"setting must be a Setting or one of {list(SETTINGS)}, got {setting!r}")
    return SETTINGS[setting]


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return split


def value_range(split: str) -> float:
    """Table values and question numbers lie in [-range, range]."""
    return 100.0 if _check_split(split) == "train" else 200.0


def test_layouts(setting: Setting | str) -> tuple[tuple[str, ...], ...]:
    """Every column order of the setting's test tables."""
    setting = _setting(setting)
    total = setting.max_columns
    return tuple(
        tuple("text" if i in text else "number" for i in range(total))
        for text in itertools.combinations(range(total), setting.text_columns)
    )


def all_templates(setting: Setting | str) -> frozenset[str]:
    """Every distinct template (question with numbers as N) a setting can ask about its test tables."""
    setting = _setting(setting)
    found: set[str] = set()
    for kinds in test_layouts(setting):
        for category in CATEGORIES:
            for shape in shapes(category, "text" in kinds):
                for query in fillings(shape, kinds):
                    numbers = [0.0] * MAX_NUMBERS
                    phrasings = all_phrases(query) if setting.word_variability else [None]
                    found.update(template_of(render(query, numbers, p)) for p in phrasings)
    return frozenset(found)


def sample_layout(rng: np.random.Generator, setting: Setting | str, split: str) -> tuple[str, ...]:
    """Column kinds in order: training draws each kind's count from 1..max, test uses the max."""
    setting = _setting(setting)
    numeric, text = setting.numeric_columns, setting.text_columns
    if _check_split(split) == "train":
        numeric = int(rng.integers(1, numeric + 1))
        text = int(rng.integers(1, text + 1)) if text else 0
    kinds = ["number"] * numeric + ["text"] * text
    if not text:
        return tuple(kinds)
    return tuple(kinds[i] for i in rng.permutation(len(kinds)))


def sample_table(rng: np.random.Generator, kinds: Sequence[str], split: str) -> Table:
    """Rows uniform in 30..100 (train) or 120 (test); values uniform in the split's range, 2 decimals."""
    rows = int(rng.integers(30, 101)) if _check_split(split) == "train" else MAX_ROWS
    text = np.array([k == "text" for k in kinds])
    bound = value_range(split)
    values = np.round(rng.uniform(-bound, bound, size=(rows, len(kinds))), 2)
    words = rng.integers(NUM_WORDS, size=(rows, len(kinds)))
    values[:, text] = 0.0
    words[:, ~text] = -1
    return Table(values, words, tuple(kinds))


def sample_numbers(rng: np.random.Generator, query: Query, split: str) -> tuple[float, ...]:
    """One number per numeric condition, uniform in the split's range, 2 decimals.

    When a greater and a lesser condition share a column, their numbers are ordered so that ``and``
    asks for the rows between them and ``or`` for the rows outside (never an empty or full table).
    """
    numeric = [c for c in query.conditions if c.kind != "text"]
    bound = value_range(split)
    numbers = [float(x) for x in np.round(rng.uniform(-bound, bound, size=len(numeric)), 2)]
    if len(numeric) == 2 and numeric[0].column == numeric[1].column:
        low_first = numeric[0].kind == ("greater" if query.connective == "and" else "lesser")
        numbers.sort(reverse=not low_first)
    return tuple(numbers)


def sample_question(
    rng: np.random.Generator, setting: Setting | str, kinds: Sequence[str], split: str
) -> tuple[Query, tuple[float, ...], tuple[str, ...]]:
    """A random question over tables with these column kinds: its query, numbers and tokens."""
    setting = _setting(setting)
    query = sample_query(rng, kinds)
    numbers = sample_numbers(rng, query, split)
    tokens = render(query, numbers, sample_phrases(rng, query) if setting.word_variability else None)
    return query, numbers, tokens


def sample_example(
    rng: np.random.Generator,
    setting: Setting | str = "5col",
    split: str = "train",
    table: Table | None = None,
) -> Example:
    """A random question (with its table unless one is given) of a setting and split."""
    if table is None:
        table = sample_table(rng, sample_layout(rng, setting, split), split)
    query, numbers, tokens = sample_question(rng, setting, table.kinds, split)
    return Example(table, tokens, query, numbers)


def dataset(
    n: int, seed: int = 0, setting: Setting | str = "5col", split: str = "train"
) -> Iterator[Example]:
    """``n`` examples, the same ones for the same seed, setting and split."""
    rng = np.random.default_rng(seed)
    setting = _setting(setting)
    _check_split(split)
    for _ in range(n):
        yield sample_example(rng, setting, split)
