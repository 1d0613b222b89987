"""Train the seq2seq baseline on the NPI's training problems, and score it on problems the env draws.

``score`` is the fast path the benchmarks use: each problem is drawn by ``env.reset`` (seed, options), its
expected output is what the env's expert leaves on the pad (the state the env's reward accepts), and an
answer counts when the predicted sequence equals it token for token. ``Seq2SeqAgent`` answers through
``env.step`` instead; ``tests/test_seq2seq.py`` checks that the two agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from agents.baselines.seq2seq_config import KIND, Seq2SeqConfig
from agents.baselines.seq2seq_fit import fit
from agents.baselines.seq2seq_model import Seq2Seq, make_batch
from agents.baselines.seq2seq_tasks import Task, task_for
from agents.common.seeds import validation_seed
from agents.npi.checkpoint import program_table
from agents.npi.config import NPIConfig
from agents.npi.train import training_problems

Problems = Sequence[tuple[int, dict[str, Any]]]


def npi_problems(cfg: Seq2SeqConfig) -> list[tuple[int, dict[str, Any]]]:
    """(seed, reset options) of the training problems: the NPI's with the same env, seed, lengths and count."""
    npi = NPIConfig(env_id=cfg.env_id, env_kwargs=cfg.env_kwargs, seed=cfg.seed, min_length=cfg.min_length,
                    max_length=cfg.max_length, problems_per_length=cfg.problems_per_length)
    return training_problems(npi)


def examples(env: gym.Env, task: Task, problems: Problems, aligned: bool) -> list[tuple[Any, tuple[int, ...]]]:
    """(problem, expected output) of each (seed, options): the env draws the problem, its expert writes the output."""
    found = []
    for seed, options in problems:
        env.reset(seed=seed, options=options)
        problem = env.unwrapped.problem
        found.append((problem, task.expert_output(env)))
    return found


def make_model(task: Task, cfg: Seq2SeqConfig) -> Seq2Seq:
    return Seq2Seq(task.vocab(cfg.aligned), task.vocab_out, cfg.hidden, cfg.layers, cfg.embed, aligned=cfg.aligned)


def predict(model: Seq2Seq, task: Task, problems: Sequence[Any], aligned: bool, batch_size: int = 100) -> list[list[int]]:
    """Greedy output tokens for each problem."""
    out: list[list[int]] = []
    for i in range(0, len(problems), batch_size):
        chunk = problems[i : i + batch_size]
        batch = make_batch([task.encode(p, aligned) for p in chunk])
        out += model.predict(batch, [task.max_steps(p) for p in chunk])
    return out


def score(model: Seq2Seq, task: Task, env: gym.Env, problems: Problems, aligned: bool) -> list[bool]:
    """Whether each problem's predicted output equals the output the env's expert leaves (the env's reward check)."""
    pairs = examples(env, task, problems, aligned)
    predicted = predict(model.eval(), task, [p for p, _ in pairs], aligned)
    return [list(tokens) == [o + 1 for o in output] for tokens, (_, output) in zip(predicted, pairs)]


def check_task(cfg: Seq2SeqConfig, task: Task) -> None:
    if cfg.aligned and not task.aligned_ok:
        raise ValueError(f"{cfg.env_id}: layout 'aligned' feeds two numbers column by column; this env's problem is one sequence (use 'stacked')")


def train(cfg: Seq2SeqConfig, out: str | Path, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train on ``cfg``'s problems; checkpoint to ``out`` (log beside it). Returns updates, seconds, held-out accuracy."""
    env = gym.make(cfg.env_id, **cfg.env_kwargs)
    task = task_for(env)
    check_task(cfg, task)
    pairs = examples(env, task, npi_problems(cfg), cfg.aligned)
    inputs = [task.encode(p, cfg.aligned) for p, _ in pairs]
    targets = [task.target(p, o, cfg.aligned) for p, o in pairs]
    lengths = np.linspace(cfg.min_length, cfg.max_length, cfg.eval_episodes).round().astype(int)
    held_out = [(validation_seed(i, cfg.seed), {"length": int(n)}) for i, n in enumerate(lengths)]

    def batches(rng: np.random.Generator):
        rows = rng.integers(len(inputs), size=min(cfg.batch_size, len(inputs)))
        return make_batch([inputs[i] for i in rows], [targets[i] for i in rows])

    def validate(model: Seq2Seq) -> float:
        return float(np.mean(score(model, task, env, held_out, cfg.aligned)))

    meta = {"env_id": cfg.env_id, "programs": program_table(task.programs)}
    try:
        result = fit(cfg, KIND, out, lambda: make_model(task, cfg), batches, validate, meta, resume, progress)
    finally:
        env.close()
    return {**result, "problems": len(pairs)}
