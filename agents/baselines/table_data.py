"""Table questions as token sequences for the LSTM baselines, and their answers as characters.

The input is the question's tokens (a number as ``<num>`` carrying its value), then, column by column,
the column's name and one cell token per row carrying the cell's value (a text cell: its word): the
flattened table after the question, read from the env's observation. The output is the scalar answer
written as characters (``-12.5``), checked with the env's own ``answers_match``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from agents.baselines.seq2seq_model import EOS
from npi_gym.envs.table import VOCABULARY, Example, Table, answers_match, render, sample_numbers, sample_query
from npi_gym.envs.table.questions import NUMBER_TOKEN

CHARS = "0123456789-."
"""answer characters; output token k + 1 is CHARS[k], 0 is EOS"""
CELL = len(VOCABULARY)
"""the input token of a numeric cell"""
VOCAB_IN = len(VOCABULARY) + 1
VOCAB_OUT = len(CHARS) + 1


def encode(obs: dict[str, Any], value_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, values) of an observation's question and flattened table."""
    question = obs["question"][obs["question"] != 0]
    values = np.zeros(len(question), dtype=np.float32)
    at = np.flatnonzero(question == NUMBER_TOKEN)
    values[at] = obs["numbers"][obs["number_mask"].astype(bool)][: len(at)]
    tokens, numbers = [question], [values]
    rows = np.flatnonzero(obs["row_mask"])
    for c in np.flatnonzero(obs["numeric_columns"] | obs["text_columns"]):
        numeric = bool(obs["numeric_columns"][c])
        cells = np.full(len(rows), CELL) if numeric else obs["words"][rows, c]
        tokens += [np.array([obs["column_names"][c]]), cells]
        numbers += [np.zeros(1, dtype=np.float32), obs["table"][rows, c] if numeric else np.zeros(len(rows), dtype=np.float32)]
    return np.concatenate(tokens).astype(np.int64), np.concatenate(numbers).astype(np.float32) / value_scale


def answer_text(answer: float) -> str:
    """An answer to two decimals, trailing zeros dropped: 12.5, -3, 0."""
    text = f"{answer:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def answer_tokens(answer: float) -> np.ndarray:
    return np.array([CHARS.index(c) + 1 for c in answer_text(answer)] + [EOS], dtype=np.int64)


def parse_answer(tokens: list[int]) -> float | None:
    """The number the output characters spell, None if they spell none."""
    try:
        return float("".join(CHARS[t - 1] for t in tokens))
    except ValueError:
        return None


def correct(tokens: list[int], answer: float) -> bool:
    """The env's reward check on the predicted answer."""
    return answers_match(parse_answer(tokens), answer)


def paper_example(rng: np.random.Generator, rows: tuple[int, int], bound: float) -> Example:
    """The paper's simplified question: one column of integers in [-bound, bound], a scalar answer."""
    column = rng.integers(-int(bound), int(bound) + 1, size=int(rng.integers(rows[0], rows[1] + 1))).astype(float)
    table = Table.from_columns({"A": column.tolist()})
    while True:
        query = sample_query(rng, table.kinds)
        numbers = tuple(float(round(x * bound / 100.0)) for x in sample_numbers(rng, query, "train"))
        example = Example(table, render(query, numbers), query, numbers)
        if not isinstance(example.answer, frozenset):
            return example


def scalar_questions(env: gym.Env, seeds: range | list[int]) -> list[tuple[int, dict[str, Any]]]:
    """(seed, options) of the env's own questions with a scalar answer among ``seeds``: each an ``example`` option."""
    found = []
    for seed in seeds:
        env.reset(seed=seed)
        example = env.unwrapped.example
        if not isinstance(example.answer, frozenset):
            found.append((seed, {"example": example}))
    return found
