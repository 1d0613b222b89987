"""The question language: keywords and synonyms, the vocabulary and token ids, parsing, rendering, templates.

Token encoding and decoding live here and nowhere else: the env's observation and the agents read
question, column-name and word tokens through these functions.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from npi_gym.envs.table.grid import COLUMN_NAMES, MAX_ABS_VALUE, NUM_WORDS, WORDS, word_id
from npi_gym.envs.table.operations import STEPS, Step

MAX_NUMBERS = 2

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

_KEYWORDS = sorted({w for phrases in SYNONYMS.values() for p in phrases for w in p} | {"diff"})
VOCABULARY = ("<pad>", "<num>", *_KEYWORDS, *CONNECTIVES, *COLUMN_NAMES, *WORDS)
TOKEN_IDS = {token: i for i, token in enumerate(VOCABULARY)}
PAD_TOKEN = TOKEN_IDS["<pad>"]
NUMBER_TOKEN = TOKEN_IDS["<num>"]
"""the token a question's numbers are replaced by (their values travel beside the tokens)"""
_FIRST_WORD = TOKEN_IDS[WORDS[0]]


def _longest(*keywords: str) -> int:
    return max(len(p) for k in keywords for p in SYNONYMS[k] + (CANONICAL[k],))


MAX_QUESTION_TOKENS = max(
    2 * (_longest("greater", "lesser") + 2) + 1 + _longest("sum", "print") + 1,
    _longest("sum") + 1 + _longest("diff") + _longest("count"),
)


# ----------------------------------------------------------------------------------- token ids
def encode_tokens(tokens: Sequence[str]) -> list[int]:
    """Token ids of question words or column names; numbers become ``NUMBER_TOKEN``."""
    return [NUMBER_TOKEN if is_number(t) else TOKEN_IDS[t] for t in tokens]


def word_tokens(words: np.ndarray) -> np.ndarray:
    """Token ids of table words (word ids, -1 for none: ``PAD_TOKEN``)."""
    return np.where(words >= 0, words + _FIRST_WORD, PAD_TOKEN)


def word_ids(tokens: np.ndarray) -> np.ndarray:
    """The word id k of each ``word:k`` token, -1 for every other token (numpy arrays)."""
    return np.where(tokens >= _FIRST_WORD, tokens - _FIRST_WORD, -1)


def is_word_token(tokens: Any) -> Any:
    """Which tokens are words ``word:k`` (numpy arrays or torch tensors alike)."""
    return tokens >= _FIRST_WORD


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

    @property
    def category(self) -> str:
        """One of ``CATEGORIES``: by the number of conditions, or arithmetic for a difference of two terms."""
        return CATEGORIES[3] if len(self.terms) == 2 else CATEGORIES[len(self.conditions)]

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


@functools.cache
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
            yield query_of(shape, columns, words)


def query_of(shape: Shape, columns: Sequence[int | None], words: Sequence[int]) -> Query:
    conditions, number = [], 0
    for kind, column, word in zip(shape.conditions, columns, words):
        if kind == "text":
            conditions.append(Condition(kind, column, word))
        else:
            conditions.append(Condition(kind, column, number))
            number += 1
    terms = tuple(Term(t, c) for t, c in zip(shape.terms, columns[len(shape.conditions):]))
    return Query(tuple(conditions), shape.connective, terms)



def keywords(query: Query) -> tuple[str, ...]:
    """The query's keywords in question order (each rendered as itself or one of its synonyms)."""
    words = [c.kind for c in query.conditions if c.kind != "text"]
    for i, term in enumerate(query.terms):
        words += ["diff", term.operation] if i else [term.operation]
    return tuple(words)



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
            tokens.append(WORDS[condition.value])
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
            elif word_id(token) is not None:
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
            return Condition("text", COLUMN_NAMES.index(take("column", "a column")), word_id(value) or 0)
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
