"""The NPI paper's seq2seq baseline: it learns, its scoring path agrees with the env's reward, checkpoints, CLI."""

from __future__ import annotations

import io
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.base import run_episodes
from agents.baselines.seq2seq_agent import Seq2SeqAgent
from agents.baselines.seq2seq_config import Seq2SeqConfig
from agents.baselines.seq2seq_tasks import task_for
from agents.baselines.seq2seq_train import examples, npi_problems, score, train
from agents.cli import main
from agents.common.checkpoints import CheckpointError
from agents.common.configs import ConfigError
from agents.common.seeds import evaluation_seed

TINY = {"hidden": 32, "layers": 1, "embed": 16, "eval_every": 150, "eval_episodes": 4, "stop_after_perfect": 0, "lr": 1e-2}


def corrupted_copy(path: Path) -> Path:
    """A copy of a checkpoint with one byte in the middle flipped."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = path.with_name("bad-" + path.name)
    bad.write_bytes(bytes(data))
    return bad


@pytest.fixture(scope="module")
def sort_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seq2SeqConfig]:
    cfg = Seq2SeqConfig(env_id="NPI-Sort-v0", min_length=2, max_length=3, problems_per_length=3, updates=150, **TINY)
    path = tmp_path_factory.mktemp("seq2seq") / "sort.pt"
    train(cfg, path, progress=False)
    return path, cfg


def test_a_tiny_run_learns_its_training_problems(sort_run: tuple[Path, Seq2SeqConfig]) -> None:
    path, cfg = sort_run
    agent = Seq2SeqAgent.load(path)
    env = gym.make(cfg.env_id)
    right = score(agent.model, agent.task, env, npi_problems(cfg), aligned=False)
    assert len(right) == 6 and all(right)


def test_training_problems_are_the_npis() -> None:
    from agents.npi.config import NPIConfig
    from agents.npi.train import training_problems

    cfg = Seq2SeqConfig(env_id="NPI-Sort-v0", min_length=2, max_length=5, problems_per_length=4, seed=3)
    npi = NPIConfig(env_id="NPI-Sort-v0", min_length=2, max_length=5, problems_per_length=4, seed=3)
    assert npi_problems(cfg) == training_problems(npi)


def _play(env: gym.Env, predict, aligned: bool, seed: int, length: int) -> tuple[float, bool]:
    play = task_for(env).play(predict, aligned)
    env.reset(seed=seed, options={"length": length})
    call = next(play)
    while True:
        obs, reward, terminated, truncated, info = env.step(env.unwrapped.call_to_action(call))
        if terminated or truncated:
            return reward, truncated
        call = play.send((obs, info))


@pytest.mark.parametrize("env_id,aligned", [("NPI-Sort-v0", False), ("NPI-Addition-v0", False), ("NPI-Addition-v0", True)])
def test_writing_an_answer_through_the_env_is_rewarded_exactly_when_it_is_the_experts_output(env_id: str, aligned: bool) -> None:
    """Right answers, wrong ones, too short, too long, a wrong multiset: the env's reward is 1 only for the expert's output."""
    env, reference = gym.make(env_id), gym.make(env_id)
    task = task_for(env)
    rng = np.random.default_rng(0)
    for seed in range(40):
        length = int(rng.integers(2, 8))
        reference.reset(seed=seed, options={"length": length})
        truth = [o + 1 for o in task.expert_output(reference)]
        wrong = [list(truth), truth[:-1], truth + [truth[-1]], [t % (task.vocab_out - 1) + 1 for t in truth], truth[::-1]]
        guess = wrong[seed % len(wrong)]
        reward, _ = _play(env, lambda tokens, guess=guess: guess, aligned, seed, length)
        assert (reward == 1.0) == (guess == truth), (seed, truth, guess)


def test_the_scoring_path_agrees_with_episodes_through_the_env(sort_run: tuple[Path, Seq2SeqConfig]) -> None:
    path, cfg = sort_run
    agent = Seq2SeqAgent.load(path)
    problems = npi_problems(cfg) + [(evaluation_seed(i, 0, n), {"length": n}) for n in (3, 6) for i in range(8)]
    played = [e.solved for e in run_episodes(agent, cfg.env_id, problems)]
    scored = score(agent.model, agent.task, gym.make(cfg.env_id), problems, aligned=False)
    assert played == scored
    assert all(played[:6]) and not all(played)  # right on its training problems, wrong on some others


def test_the_expert_output_is_what_the_env_rewards() -> None:
    env = gym.make("NPI-Addition-v0")
    task = task_for(env)
    ((problem, output),) = examples(env, task, [(0, {"problem": (96, 125)})], aligned=False)
    assert problem == ("96", "125") and output == (1, 2, 2)
    assert list(task.encode(problem, aligned=True)) == [1 + 6 * 11 + 5, 1 + 9 * 11 + 2, 1 + 10 * 11 + 1, 1 + 10 * 11 + 10]


def test_resume_continues_and_refuses_other_settings(tmp_path: Path) -> None:
    cfg = Seq2SeqConfig(env_id="NPI-Addition-v0", layout="aligned", max_length=3, problems_per_length=2, updates=20, **{**TINY, "eval_every": 10})
    path = tmp_path / "add.pt"
    assert train(cfg, path, progress=False)["updates"] == 20
    before = torch.load(path, weights_only=True)["model"]
    resumed = train(Seq2SeqConfig(**{**cfg.__dict__, "updates": 30}), path, resume=True, progress=False)
    assert resumed["updates"] == 30
    assert not torch.equal(before["out.weight"], torch.load(path, weights_only=True)["model"]["out.weight"])
    with pytest.raises(CheckpointError, match="hidden: checkpoint 32, requested 16"):
        train(Seq2SeqConfig(**{**cfg.__dict__, "hidden": 16}), path, resume=True, progress=False)
    with pytest.raises(CheckpointError):
        Seq2SeqAgent.load(corrupted_copy(path))
    with pytest.raises(CheckpointError, match="program table differs"):
        Seq2SeqAgent.load(path, "NPI-Addition-Recursive-v0")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="layout must be one of stacked, aligned"):
        Seq2SeqConfig(layout="diagonal")
    with pytest.raises(ValueError, match="layout 'aligned'"):
        train(Seq2SeqConfig(env_id="NPI-Sort-v0", layout="aligned"), "unused.pt")
    with pytest.raises(ValueError, match="reads and writes only"):
        task_for(gym.make("NPI-Hanoi-v0"))


def test_cli_trains_and_evaluates(tmp_path: Path) -> None:
    out = io.StringIO()
    import contextlib

    path = tmp_path / "s.pt"
    with contextlib.redirect_stdout(out):
        assert main(["train", "seq2seq", "--env", "NPI-Sort-v0", "--min-length", "2", "--max-length", "3", "--problems-per-length", "2",
                     "--hidden", "16", "--layers", "1", "--updates", "5", "--eval-every", "5", "--eval-episodes", "4",
                     "--out", str(path), "--quiet"]) == 0
        assert main(["eval", str(path), "--lengths", "2,3", "--episodes", "4"]) == 0
    text = out.getvalue()
    assert "trained seq2seq (stacked) on 4 NPI-Sort-v0 problems for 5 updates" in text
    assert "| 2 | 4 |" in text and "| 3 | 4 |" in text
