"""Train the LSTM baselines on table questions, and score them with the env's own answer check.

The answer of a seq2seq model is a number, not a program of table operations, so it cannot be played
through the env's ``step``; ``score`` draws each question through ``env.reset`` and checks the predicted
number with the env's ``answers_match`` (what the env's reward applies to the answer its steps write).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from agents.baselines.seq2seq_fit import fit
from agents.baselines.seq2seq_model import Seq2Seq, make_batch
from agents.baselines.table_config import KIND, TableLSTMConfig
from agents.baselines.table_data import VOCAB_IN, VOCAB_OUT, answer_tokens, correct, encode, paper_example, scalar_questions
from agents.common.seeds import EVAL_SEED, TRAINING_SEEDS, VALIDATION_SEED
from npi_gym.envs.table import VOCABULARY

Questions = Sequence[tuple[int, dict[str, Any]]]
MAX_ANSWER = 12
"""most characters of a predicted answer"""


def questions(cfg: TableLSTMConfig, count: int, purpose: str, env: gym.Env | None = None) -> list[tuple[int, dict[str, Any]]]:
    """(seed, reset options) of ``count`` questions for ``purpose`` (train, validation, test or test-in-range).

    Task paper: the paper's simplified questions (test: values in the test range, test-in-range: the
    training range); task env: the env's own scalar questions (test: its test split, given as ``env``).
    """
    first = {"train": 0, "validation": VALIDATION_SEED, "test": EVAL_SEED, "test-in-range": EVAL_SEED + TRAINING_SEEDS}[purpose]
    if cfg.task == "paper":
        rng = np.random.default_rng([cfg.seed, first])
        bound = cfg.test_value_range if purpose == "test" else cfg.value_range
        return [(first + i, {"example": paper_example(rng, (cfg.min_rows, cfg.max_rows), bound)}) for i in range(count)]
    assert env is not None, "task env draws its questions with the env"
    found: list[tuple[int, dict[str, Any]]] = []
    start = first + 10 * count * cfg.seed
    while len(found) < count:
        found += scalar_questions(env, range(start, start + count - len(found)))
        start += count
    return found[:count]


def encoded(env: gym.Env, problems: Questions, cfg: TableLSTMConfig) -> tuple[list, list, list[float]]:
    """Token and value sequences of each question as the env shows it, and its answer."""
    tokens, values, answers = [], [], []
    for seed, options in problems:
        obs, _ = env.reset(seed=seed, options=options)
        t, v = encode(obs, cfg.value_scale)
        tokens.append(t)
        values.append(v)
        answers.append(float(env.unwrapped.example.answer))
    return tokens, values, answers


def make_model(cfg: TableLSTMConfig) -> Seq2Seq:
    return Seq2Seq(VOCAB_IN, VOCAB_OUT, cfg.hidden, cfg.layers, cfg.embed, heads=cfg.heads, numeric=True)


def score(model: Seq2Seq, env: gym.Env, problems: Questions, cfg: TableLSTMConfig, batch_size: int = 100) -> list[bool]:
    """Whether each question's predicted answer passes the env's answer check."""
    tokens, values, answers = encoded(env, problems, cfg)
    right = []
    for i in range(0, len(tokens), batch_size):
        batch = make_batch(tokens[i : i + batch_size], values=values[i : i + batch_size])
        predicted = model.eval().predict(batch, [MAX_ANSWER] * len(batch.lengths))
        right += [correct(p, a) for p, a in zip(predicted, answers[i : i + batch_size])]
    return right


def train(cfg: TableLSTMConfig, out: str | Path, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train on ``cfg.examples`` questions; checkpoint to ``out``. Returns updates, seconds, held-out accuracy."""
    env = gym.make(cfg.env_id)
    tokens, values, answers = encoded(env, questions(cfg, cfg.examples, "train", env), cfg)
    targets = [answer_tokens(a) for a in answers]
    held_out = questions(cfg, cfg.eval_episodes, "validation", env)

    def batches(rng: np.random.Generator):
        rows = rng.integers(len(tokens), size=min(cfg.batch_size, len(tokens)))
        return make_batch([tokens[i] for i in rows], [targets[i] for i in rows], [values[i] for i in rows])

    def validate(model: Seq2Seq) -> float:
        return float(np.mean(score(model, env, held_out, cfg)))

    meta = {"env_id": cfg.env_id, "vocabulary": list(VOCABULARY)}
    try:
        return fit(cfg, KIND, out, lambda: make_model(cfg), batches, validate, meta, resume, progress)
    finally:
        env.close()


def load(path: str | Path) -> tuple[Seq2Seq, TableLSTMConfig]:
    """The model and config of a checkpoint (refused if made with another vocabulary)."""
    from agents.common.checkpoints import CheckpointError, restoring

    ckpt = KIND.load(path)
    if ckpt["vocabulary"] != list(VOCABULARY):
        raise CheckpointError(f"{path} was made with another table vocabulary; this code has {len(VOCABULARY)} tokens")
    with restoring(path, "config"):
        cfg = TableLSTMConfig.from_dict(ckpt["config"])
    with restoring(path, "weights"):
        model = make_model(cfg)
        model.load_state_dict(ckpt["model"])
    return model.eval(), cfg


def test_accuracy(model: Seq2Seq, cfg: TableLSTMConfig, count: int, purpose: str = "test") -> float:
    """Accuracy on ``count`` fresh questions (test: the test range or test split; test-in-range: the training range)."""
    kwargs = {"split": "test"} if cfg.task == "env" and purpose == "test" else {}
    env = gym.make(cfg.env_id, **kwargs)
    try:
        return float(np.mean(score(model, env, questions(cfg, count, purpose, env), cfg)))
    finally:
        env.close()
