"""The Neural Programmer: question RNN, pivot attention, selector and history RNN, and soft execution.

Selection never looks at the table: at each of the four steps the selector reads the question vector
``q`` and the history state ``h`` and gives a distribution over operations and one over columns; the
history RNN then reads the probability-weighted operation and column embeddings. Execution runs every
operation on every column and mixes the results with those probabilities (training), or with one-hot
choices (acting, where the env itself executes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from agents.neural_programmer.config import NPConfig
from npi_gym.envs.table import (
    MAX_NUMBERS,
    NO_NUMBER_PIVOT,
    NUM_WORDS,
    NUMBER_TOKEN,
    OPERATION_IDS,
    OPERATION_TABLE,
    OPERATIONS,
    STEPS,
    VOCABULARY,
    op_greater,
    op_lesser,
    op_text_match,
    word_ids,
)

OP = OPERATION_IDS
PIVOTED = tuple(op.name for op in OPERATION_TABLE if op.pivot)
WRITES = torch.tensor([op.writes is not None for op in OPERATION_TABLE])
"""operations that write an answer (a scalar or a lookup)"""
READS_COLUMN = torch.tensor([op.reads_column for op in OPERATION_TABLE])


# ----------------------------------------------------------------------------------- features
@dataclass
class Features:
    """A batch of questions and tables as tensors (rows trimmed to the batch's longest table)."""

    tokens: torch.Tensor  # (B, L) question token ids with the numbers removed, 0-padded
    lengths: torch.Tensor  # (B,) tokens per question
    number_left: torch.Tensor  # (B, K) position in ``tokens`` of the word left of each number
    pivot_mask: torch.Tensor  # (B, K) bool: which pivot indices exist
    column_names: torch.Tensor  # (B, C) token ids of the column names
    column_mask: torch.Tensor  # (B, C) bool: which columns exist
    operation_mask: torch.Tensor  # (B, O) bool: which operations the table allows (text_match needs text)
    values: torch.Tensor  # (B, R, C) numbers, 0 in text columns and padding; its dtype is execution's
    row_mask: torch.Tensor  # (B, R) bool: the table's rows
    greater: torch.Tensor  # (B, K, R, C) bool: op_greater against each pivot
    lesser: torch.Tensor  # (B, K, R, C) bool: op_lesser against each pivot
    text: torch.Tensor  # (B, R, C) bool: op_text_match against the question's words

    def __getitem__(self, index: torch.Tensor) -> Features:
        """The examples at ``index``, their tables trimmed to the longest one."""
        rows = max(1, int(self.row_mask[index].sum(1).max()))
        length = max(1, int(self.lengths[index].max()))
        return Features(
            tokens=self.tokens[index, :length],
            lengths=self.lengths[index],
            number_left=self.number_left[index],
            pivot_mask=self.pivot_mask[index],
            column_names=self.column_names[index],
            column_mask=self.column_mask[index],
            operation_mask=self.operation_mask[index],
            values=self.values[index, :rows],
            row_mask=self.row_mask[index, :rows],
            greater=self.greater[index, :, :rows],
            lesser=self.lesser[index, :, :rows],
            text=self.text[index, :rows],
        )


def stack_observations(observations: Sequence[dict[str, Any]], infos: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The fields of env observations (and their action masks) that the agent reads, stacked."""
    keys = ("question", "numbers", "number_mask", "table", "words", "row_mask", "numeric_columns", "column_names")
    out = {k: np.stack([np.asarray(o[k]) for o in observations]) for k in keys}
    for k in ("operation", "column", "pivot"):
        out[f"{k}_mask"] = np.stack([np.asarray(i["action_mask"][k]) for i in infos])
    return out


def featurize(obs: dict[str, np.ndarray], dtype: torch.dtype = torch.float32, rows: int | None = None) -> Features:
    """Features from stacked observations; comparisons and text matches use the env's own operations.

    Tables are trimmed to ``rows`` rows (default: the longest table's).
    """
    question = obs["question"]
    keep = (question != NUMBER_TOKEN) & (question != 0)
    order = np.argsort(~keep, axis=1, kind="stable")
    tokens = np.where(np.take_along_axis(keep, order, 1), np.take_along_axis(question, order, 1), 0)
    lengths = keep.sum(1)
    is_number = question == NUMBER_TOKEN
    where, at = np.nonzero(is_number)
    ordinal = (np.cumsum(is_number, 1) - 1)[where, at]
    number_left = np.zeros((len(question), MAX_NUMBERS), dtype=np.int64)
    number_left[where, ordinal] = np.maximum(np.cumsum(keep, 1)[where, at] - 1, 0)

    n_rows = rows or max(1, int(obs["row_mask"].sum(1).max()))
    row_mask = obs["row_mask"][:, :n_rows].astype(bool)
    values = obs["table"][:, :n_rows].astype(np.float64)
    cells = row_mask[:, None, :, None] & obs["numeric_columns"].astype(bool)[:, None, None, :]
    pivots = np.where(obs["number_mask"].astype(bool), obs["numbers"], NO_NUMBER_PIVOT)
    word_tokens = obs["words"][:, :n_rows]
    words = word_ids(word_tokens)
    flags = np.zeros((len(question), NUM_WORDS), dtype=bool)
    question_words = word_ids(question)
    r, c = np.nonzero(question_words >= 0)
    flags[r, question_words[r, c]] = True

    def t(array: np.ndarray, to: torch.dtype) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(to)

    return Features(
        tokens=t(tokens, torch.long),
        lengths=t(lengths, torch.long),
        number_left=t(number_left, torch.long),
        pivot_mask=t(obs["pivot_mask"], torch.bool),
        column_names=t(obs["column_names"], torch.long),
        column_mask=t(obs["column_mask"], torch.bool),
        operation_mask=t(obs["operation_mask"], torch.bool),
        values=t(values, dtype),
        row_mask=t(row_mask, torch.bool),
        greater=t(op_greater(values[:, None], cells, pivots), torch.bool),
        lesser=t(op_lesser(values[:, None], cells, pivots), torch.bool),
        text=t(op_text_match(words, flags), torch.bool),
    )


# ----------------------------------------------------------------------------------- soft execution
@dataclass
class Outputs:
    """What a step leaves, per example: row selector (B, R), scalar (B,), lookup (B, R, C)."""

    selector: torch.Tensor
    scalar: torch.Tensor
    lookup: torch.Tensor


# the operations that leave a row selector, in the order soft_execute stacks them: those that read a
# column first (greater, lesser, text_match), then and, or, reset; and those that write a scalar
_ROW_OPS = sorted((i for i, op in enumerate(OPERATION_TABLE) if op.writes is None), key=lambda i: not OPERATION_TABLE[i].reads_column)
_SCALAR_OPS = [i for i, op in enumerate(OPERATION_TABLE) if op.writes == "scalar"]


def soft_execute(
    f: Features,
    operation_probs: torch.Tensor,
    column_probs: torch.Tensor,
    pivot_probs: torch.Tensor,
) -> list[Outputs]:
    """Every step's outputs when each step runs all operations and mixes them by the given weights.

    ``operation_probs`` (T, B, O) and ``column_probs`` (T, B, C); ``pivot_probs`` (B, 2, K): the
    greater and lesser pivot distributions over the question's numbers. Runs in ``f.values``' dtype.
    With one-hot weights this is the env's execution (``npi_gym.envs.table.run_step``): the same
    operations (sum, count, difference, greater, lesser, and, or, assign, reset, text_match), the same
    "step t-k" history with the initial state before step 0. Soft and/or are the paper's min and max.
    """
    dtype = f.values.dtype
    operation_probs, column_probs, pivot_probs = (x.to(dtype) for x in (operation_probs, column_probs, pivot_probs))
    batch, rows, columns = f.values.shape
    row_mask = f.row_mask.to(dtype)
    # per-column selectors that do not depend on earlier steps: greater and lesser (mixed over the
    # pivots) and text_match, (B, 3 * R, C)
    fixed = torch.cat(
        [
            torch.einsum("bk,bkrc->brc", pivot_probs[:, 0], f.greater.to(dtype)),
            torch.einsum("bk,bkrc->brc", pivot_probs[:, 1], f.lesser.to(dtype)),
            f.text.to(dtype),
        ],
        1,
    )
    history = [Outputs(row_mask, f.values.new_zeros(batch), f.values.new_zeros(batch, rows, columns))]

    def before(k: int) -> Outputs:
        return history[max(0, len(history) - k)]

    for ops, cols in zip(operation_probs, column_probs):
        selected = before(1).selector
        mixed = (fixed @ cols[:, :, None]).view(batch, 3, rows)  # greater, lesser, text_match on the chosen column
        column_values = (f.values @ cols[:, :, None])[..., 0]
        scalars = torch.stack(
            [
                (selected * column_values).sum(-1),  # op_sum
                selected.sum(-1),  # op_count
                before(3).scalar - before(1).scalar,  # op_difference
            ],
            1,
        )
        selectors = torch.cat(
            [
                mixed,  # op_greater, op_lesser, op_text_match
                torch.minimum(before(1).selector, before(2).selector)[:, None],  # op_and
                torch.maximum(before(1).selector, before(2).selector)[:, None],  # op_or
                row_mask[:, None],  # op_reset
            ],
            1,
        )
        history.append(
            Outputs(
                selector=(ops[:, None, _ROW_OPS] @ selectors)[:, 0],
                scalar=(ops[:, _SCALAR_OPS] * scalars).sum(-1),
                lookup=ops[:, OP["assign"], None, None] * selected[:, :, None] * cols[:, None, :],  # op_assign
            )
        )
    return history[1:]



# ----------------------------------------------------------------------------------- the model
def mix_uniform(probs: torch.Tensor, allowed: torch.Tensor, share: float) -> torch.Tensor:
    """``probs`` with ``share`` of their mass spread evenly over the ``allowed`` choices (a bool mask)."""
    if share == 0:
        return probs
    allowed = allowed.to(probs.dtype)
    return (1 - share) * probs + share * allowed / allowed.sum(-1, keepdim=True)


@dataclass
class Selection:
    """The model's choices for a batch: (T, B, O) operations, (T, B, C) columns, (B, 2, K) pivots."""

    operations: torch.Tensor
    columns: torch.Tensor
    pivots: torch.Tensor


@dataclass
class Question:
    """What the selector reads of a question, computed once per episode."""

    q: torch.Tensor  # (B, H) last state of the question RNN
    states: torch.Tensor  # (B, L, H) the question RNN's state at every word
    words: torch.Tensor  # (B, L, E) the embedding of every word
    word_mask: torch.Tensor  # (B, L) bool: which of ``states`` are words of the question
    pivots: torch.Tensor  # (B, 2, K) greater and lesser pivot distributions over the question's numbers
    names: torch.Tensor  # (B, C, E) column name embeddings
    operation_mask: torch.Tensor  # (B, O)
    column_mask: torch.Tensor  # (B, C)

    def __getitem__(self, index: Any) -> Question:
        return Question(*(getattr(self, k)[index] for k in self.__dataclass_fields__))

    @staticmethod
    def stack(questions: Sequence[Question]) -> Question:
        return Question(*(torch.stack([getattr(x, k) for x in questions]) for k in Question.__dataclass_fields__))


class NeuralProgrammer(nn.Module):
    """Question RNN, pivot attention, selector over operations and columns, history RNN.

    Settings extend the paper's selector, which reads only [q; h_t]: ``step_embedding`` adds a
    learned vector per step to h_t (the env shows the step index too); ``question_attention`` adds
    the question RNN's states and word embeddings weighted by attention from h_t; and ``last_step_writes`` restricts the
    last step to the operations that write an answer.
    """

    def __init__(self, cfg: NPConfig) -> None:
        super().__init__()
        h, e = cfg.hidden, cfg.embed
        self.embedding = nn.Embedding(len(VOCABULARY), e, padding_idx=0)
        self.question_rnn = nn.RNN(e, h, batch_first=True)
        self.pivot_scores = nn.Linear(h, len(PIVOTED))
        self.operation_embedding = nn.Parameter(torch.empty(len(OPERATIONS), h))
        self.attention = nn.Linear(h, h, bias=False) if cfg.question_attention else None
        reads = 3 * h + e if cfg.question_attention else 2 * h
        self.operation_query = nn.Linear(reads, h)
        self.column_query = nn.Linear(reads, e)
        self.history_rnn = nn.RNNCell(h + e, h)
        self.step_embedding = nn.Parameter(torch.empty(STEPS, h)) if cfg.step_embedding else None
        self.last_step_writes = cfg.last_step_writes
        for p in self.parameters():
            nn.init.uniform_(p, -cfg.init_scale, cfg.init_scale)

    def encode(self, f: Features) -> Question:
        """The question vector and pivot distributions, the column names, the table's masks."""
        lengths = f.lengths.clamp(min=1)
        words = self.embedding(f.tokens)
        packed = pack_padded_sequence(words, lengths, batch_first=True, enforce_sorted=False)
        states = pad_packed_sequence(self.question_rnn(packed)[0], batch_first=True, total_length=f.tokens.shape[1])[0]
        batch = torch.arange(len(f.tokens))
        q = states[batch, lengths - 1]
        left = states[batch[:, None], f.number_left]  # (B, K, H): the state just left of each number
        scores = self.pivot_scores(left).transpose(1, 2).masked_fill(~f.pivot_mask[:, None, :], -torch.inf)
        word_mask = torch.arange(states.shape[1])[None] < lengths[:, None]
        names = self.embedding(f.column_names)
        return Question(q, states, words, word_mask, scores.softmax(-1), names, f.operation_mask, f.column_mask)

    def select(self, question: Question, h: torch.Tensor, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Operation and column logits of step ``t`` (masked to what the table allows)."""
        if self.step_embedding is not None:
            h = h + self.step_embedding[t]
        x = torch.cat([question.q, h], -1)
        if self.attention is not None:
            scores = torch.einsum("blh,bh->bl", question.states, self.attention(h)).masked_fill(~question.word_mask, -torch.inf)
            attended = torch.cat([question.states, question.words], -1)
            x = torch.cat([x, torch.einsum("bl,blh->bh", scores.softmax(-1), attended)], -1)
        operations = torch.tanh(self.operation_query(x)) @ self.operation_embedding.T
        columns = torch.einsum("be,bce->bc", torch.tanh(self.column_query(x)), question.names)
        allowed = question.operation_mask
        if self.last_step_writes and t == STEPS - 1:
            allowed = allowed & WRITES
        return (
            operations.masked_fill(~allowed, -torch.inf),
            columns.masked_fill(~question.column_mask, -torch.inf),
        )

    def advance(self, h: torch.Tensor, operations: torch.Tensor, columns: torch.Tensor, names: torch.Tensor) -> torch.Tensor:
        """The history RNN's next state from this step's (soft or one-hot) operation and column weights."""
        chosen = torch.cat([operations @ self.operation_embedding, torch.einsum("bc,bce->be", columns, names)], -1)
        return self.history_rnn(chosen, h)

    def program_log_prob(self, f: Features, operations: torch.Tensor, columns: torch.Tensor, pivots: torch.Tensor) -> torch.Tensor:
        """Log-probability (B,) of hard programs, the history RNN reading their one-hot choices.

        ``operations`` and ``columns`` (T, B) and ``pivots`` (B, 2) are indices; a step's column counts only
        if its operation reads one, a pivot only if the program uses its comparison.
        """
        question = self.encode(f)
        h = question.q.new_zeros(len(question.q), self.history_rnn.hidden_size)
        total = question.q.new_zeros(len(question.q))
        for t, (op, col) in enumerate(zip(operations, columns)):
            op_logits, col_logits = self.select(question, h, t)
            column = col_logits.log_softmax(-1).gather(1, col[:, None])[:, 0]
            total = total + op_logits.log_softmax(-1).gather(1, op[:, None])[:, 0] + torch.where(READS_COLUMN[op], column, 0.0)
            one_hot = (F.one_hot(op, op_logits.shape[-1]).to(h.dtype), F.one_hot(col, col_logits.shape[-1]).to(h.dtype))
            h = self.advance(h, *one_hot, question.names)
        for kind, name in enumerate(PIVOTED):
            pivot = question.pivots[:, kind].clamp_min(1e-30).log().gather(1, pivots[:, kind, None])[:, 0]
            total = total + torch.where((operations == OP[name]).any(0), pivot, 0.0)
        return total

    def forward(self, f: Features, explore: float = 0.0) -> Selection:
        """Soft choices for all four steps, each mixed with ``explore`` x uniform over what is allowed."""
        question = self.encode(f)
        h = question.q.new_zeros(len(question.q), self.history_rnn.hidden_size)
        operations, columns = [], []
        for t in range(STEPS):
            op_logits, col_logits = self.select(question, h, t)
            operations.append(mix_uniform(op_logits.softmax(-1), torch.isfinite(op_logits), explore))
            columns.append(mix_uniform(col_logits.softmax(-1), torch.isfinite(col_logits), explore))
            h = self.advance(h, operations[-1], columns[-1], question.names)
        return Selection(torch.stack(operations), torch.stack(columns), question.pivots)

