"""The Neural Programmer paper's LSTM baselines: inputs from the env, answers checked as the env checks them, training, checkpoints, CLI."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from agents.baselines.table_config import TableLSTMConfig
from agents.baselines.table_data import CELL, answer_text, answer_tokens, correct, encode, paper_example
from agents.baselines.table_train import encoded, load, questions, score, train
from agents.cli import main
from agents.common.checkpoints import CheckpointError
from agents.common.configs import ConfigError
from tests.test_seq2seq import corrupted_copy

TINY = {"hidden": 32, "layers": 1, "embed": 16, "eval_every": 100, "eval_episodes": 8, "stop_after_perfect": 0, "lr": 1e-2}


def test_the_paper_task_has_its_sizes_and_scalar_answers() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        example = paper_example(rng, (4, 7), 10)
        values = example.table.values[:, 0]
        assert 4 <= len(values) <= 7 and np.all(np.abs(values) <= 10) and np.all(values == np.round(values))
        assert isinstance(example.answer, float)


def test_the_input_is_the_question_then_the_flattened_table() -> None:
    env = gym.make("NPI-Table-5Col-v0")
    obs, _ = env.reset(seed=3)
    example = env.unwrapped.example
    tokens, values = encode(obs, 1.0)
    rows, columns = example.table.shape
    assert len(tokens) == len(example.tokens) + columns * (rows + 1)
    assert (tokens == CELL).sum() == rows * columns
    np.testing.assert_allclose(values[tokens == CELL], example.table.values.T.ravel(), atol=1e-4)


@pytest.mark.parametrize("answer", [0.0, -0.0, 12.5, -3.0, 1234.56, -0.04, 7.1])
def test_an_answer_written_as_characters_passes_the_envs_check_and_a_neighbour_does_not(answer: float) -> None:
    tokens = list(answer_tokens(answer))[:-1]
    assert correct(tokens, answer) and not correct(list(answer_tokens(answer + 0.1))[:-1], answer)
    assert answer_text(answer) in (f"{answer:.2f}".rstrip("0").rstrip("."), "0")


def test_the_scoring_check_is_the_envs_reward_on_the_experts_answer() -> None:
    """Playing the expert's program through env.step earns 1 exactly where the scoring check passes its answer."""
    env = gym.make("NPI-Table-1Col-v0")
    for seed, options in questions(TableLSTMConfig(task="paper"), 20, "test", env):
        env.reset(seed=seed, options=options)
        while True:
            _, reward, terminated, _, _ = env.step(env.unwrapped.expert_action())
            if terminated:
                break
        answer = env.unwrapped.example.answer
        assert reward == 1.0 and correct(list(answer_tokens(answer))[:-1], answer)


def test_a_tiny_run_learns_its_training_questions(tmp_path: Path) -> None:
    cfg = TableLSTMConfig(env_id="NPI-Table-1Col-v0", examples=6, updates=200, **TINY)
    path = tmp_path / "t.pt"
    train(cfg, path, progress=False)
    model, saved = load(path)
    assert saved == cfg
    env = gym.make(cfg.env_id)
    right = score(model, env, questions(cfg, 6, "train", env), cfg)
    assert sum(right) >= 5


def test_resume_continues_and_refuses_other_settings(tmp_path: Path) -> None:
    cfg = TableLSTMConfig(env_id="NPI-Table-1Col-v0", examples=20, updates=10, **{**TINY, "eval_every": 5})
    path = tmp_path / "t.pt"
    assert train(cfg, path, progress=False)["updates"] == 10
    assert train(TableLSTMConfig(**{**cfg.__dict__, "updates": 15}), path, resume=True, progress=False)["updates"] == 15
    with pytest.raises(CheckpointError, match="heads: checkpoint 0, requested 5"):
        train(TableLSTMConfig(**{**cfg.__dict__, "heads": 5}), path, resume=True, progress=False)
    with pytest.raises(CheckpointError):
        load(corrupted_copy(path))


def test_attention_heads_and_env_questions() -> None:
    cfg = TableLSTMConfig(env_id="NPI-Table-5Col-v0", task="env", heads=5, examples=4, **TINY)
    env = gym.make(cfg.env_id)
    chosen = questions(cfg, 4, "train", env)
    tokens, _, answers = encoded(env, chosen, cfg)
    assert len(tokens) == 4 and all(isinstance(a, float) for a in answers)
    with pytest.raises(ConfigError, match="task must be one of paper, env"):
        TableLSTMConfig(task="wiki")


def test_cli_trains_and_evaluates(tmp_path: Path) -> None:
    out, path = io.StringIO(), tmp_path / "t.pt"
    with contextlib.redirect_stdout(out):
        assert main(["train", "table-lstm", "--env", "NPI-Table-1Col-v0", "--examples", "8", "--hidden", "16", "--layers", "1",
                     "--heads", "1", "--updates", "4", "--eval-every", "4", "--eval-episodes", "4", "--out", str(path), "--quiet"]) == 0
        assert main(["eval", str(path), "--episodes", "10"]) == 0
    text = out.getvalue()
    assert "trained table LSTM (attention, 1 heads, task paper) on NPI-Table-1Col-v0 for 4 updates" in text
    assert "test-in-range:" in text and "test:" in text
