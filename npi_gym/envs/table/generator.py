"""The generator: examples (a table, a question, its program and answer), random tables and questions, datasets."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from npi_gym.envs.table.grid import COLUMN_NAMES, MAX_ROWS, NUM_WORDS, Table, word_id
from npi_gym.envs.table.operations import Answer, Step, answer_of, execute, question_word_flags
from npi_gym.envs.table.questions import (
    CATEGORIES,
    MAX_NUMBERS,
    SYNONYMS,
    Query,
    all_phrases,
    fillings,
    keywords,
    parse_question,
    query_of,
    render,
    shapes,
    template_of,
)
from npi_gym.envs.table.settings import Setting, resolve

SPLITS = ("train", "test")


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
        flags = question_word_flags([w for w in map(word_id, self.tokens) if w is not None])
        flags.flags.writeable = False
        return flags


def make_example(question: str | Sequence[str], table: Table) -> Example:
    """The example for a keyword question over a table (``ValueError`` if it does not fit)."""
    query, numbers = parse_question(question)
    tokens = tuple(question.split() if isinstance(question, str) else question)
    return Example(table, tokens, query, numbers)


# ----------------------------------------------------------------------------------- generation
def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return split


def value_range(split: str) -> float:
    """Table values and question numbers lie in [-range, range]."""
    return 100.0 if _check_split(split) == "train" else 200.0


def test_layouts(setting: Setting | str) -> tuple[tuple[str, ...], ...]:
    """Every column order of the setting's test tables."""
    setting = resolve(setting)
    total = setting.max_columns
    return tuple(
        tuple("text" if i in text else "number" for i in range(total))
        for text in itertools.combinations(range(total), setting.text_columns)
    )


def all_templates(setting: Setting | str) -> frozenset[str]:
    """Every distinct template (question with numbers as N) a setting can ask about its test tables."""
    setting = resolve(setting)
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
    setting = resolve(setting)
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
    setting = resolve(setting)
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
    return query_of(shape, columns, words)


def sample_phrases(rng: np.random.Generator, query: Query) -> tuple[tuple[str, ...], ...]:
    """A synonym for each keyword, uniformly (word variability)."""
    return tuple(SYNONYMS[k][rng.integers(len(SYNONYMS[k]))] for k in keywords(query))



def dataset(
    n: int, seed: int = 0, setting: Setting | str = "5col", split: str = "train"
) -> Iterator[Example]:
    """``n`` examples, the same ones for the same seed, setting and split."""
    rng = np.random.default_rng(seed)
    setting = resolve(setting)
    _check_split(split)
    for _ in range(n):
        yield sample_example(rng, setting, split)
