"""The NPI agent: overfits a few traces and solves them through env.step; checkpoints; resuming."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agents.base import run_episodes  # noqa: E402
from agents.npi import CheckpointError, NPIAgent, NPIConfig, load_checkpoint, train  # noqa: E402
from agents.npi.train import training_problems  # noqa: E402

TINY = NPIConfig(
    env_id="NPI-Addition-v0",
    min_length=1,
    max_length=2,
    problems_per_length=3,
    hidden=64,
    state_dim=64,
    encoder_hidden=128,
    program_dim=16,
    key_dim=8,
    batch_frames=32,
    lr=2e-3,
    updates=20,
    eval_every=10,
    eval_episodes=4,
    stop_after_perfect=0,
    curriculum_every=5,
    log_every=5,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("npi") / "tiny.pt"
    train(TINY, path, progress=False)
    return path


def test_overfits_a_handful_of_traces_and_solves_them_through_env_step(tmp_path: Path) -> None:
    cfg = dataclasses.replace(TINY, updates=600, eval_every=600)
    summary = train(cfg, tmp_path / "overfit.pt", progress=False)
    agent = NPIAgent.load(tmp_path / "overfit.pt")
    episodes = run_episodes(agent, cfg.env_id, training_problems(cfg))
    assert all(e.solved for e in episodes), (summary, episodes)


def test_save_load_round_trips_bit_exactly(trained: Path, tmp_path: Path) -> None:
    first = load_checkpoint(trained)
    agent = NPIAgent.load(trained)
    for name, tensor in first["model"].items():
        assert torch.equal(agent.model.state_dict()[name], tensor), name
    copy = tmp_path / "copy.pt"
    from agents.npi.checkpoint import save_checkpoint

    save_checkpoint(copy, {k: v for k, v in first.items() if k not in ("format", "version")})
    again = load_checkpoint(copy)
    for name, tensor in first["model"].items():
        assert torch.equal(again["model"][name], tensor)
    assert again["optimizer"]["state"].keys() == first["optimizer"]["state"].keys()
    for key, state in first["optimizer"]["state"].items():
        assert all(torch.equal(state[k], again["optimizer"]["state"][key][k]) for k in state)
    assert again["trainer"] == first["trainer"] and again["config"] == first["config"]
    problems = training_problems(TINY)
    a = run_episodes(NPIAgent.load(trained), TINY.env_id, problems)
    b = run_episodes(NPIAgent.load(copy), TINY.env_id, problems)
    assert a == b


def test_truncated_checkpoint_fails_with_a_clear_message(trained: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.pt"
    data = trained.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        NPIAgent.load(cut)
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        NPIAgent.load(tmp_path / "missing.pt")


@pytest.mark.parametrize("other", ["NPI-Sort-v0", "NPI-Addition-Recursive-v0"])
def test_checkpoint_from_another_env_is_refused(trained: Path, other: str) -> None:
    with pytest.raises(CheckpointError, match=f"trained on NPI-Addition-v0 and its program table differs from {other}"):
        NPIAgent.load(trained, other)


def test_resumed_training_continues_from_its_update_count(tmp_path: Path) -> None:
    straight, resumed = tmp_path / "straight.pt", tmp_path / "resumed.pt"
    train(TINY, straight, progress=False)
    train(dataclasses.replace(TINY, updates=10), resumed, progress=False)
    assert load_checkpoint(resumed)["trainer"]["update"] == 10
    train(TINY, resumed, resume=True, progress=False)
    a, b = load_checkpoint(straight), load_checkpoint(resumed)
    assert b["trainer"]["update"] == 20
    for name, tensor in a["model"].items():
        assert torch.equal(b["model"][name], tensor), name
    rows = resumed.with_suffix(".csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == [5, 10, 15, 20]


def test_batched_and_single_episode_acting_agree(trained: Path) -> None:
    agent = NPIAgent.load(trained)
    problems = [(s, {"length": n}) for s, n in zip(range(6), (1, 2, 3, 5, 8, 13))]
    batched = run_episodes(agent, TINY.env_id, problems, batch_size=6)
    single = run_episodes(agent, TINY.env_id, problems, batch_size=1)
    assert batched == single
    assert np.all([e.steps > 0 for e in batched])


def test_cli_trains_resumes_and_evaluates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agents.cli import main

    out = tmp_path / "cli.pt"
    flags = ["--env", "NPI-Sort-v0", "--min-length", "2", "--max-length", "3", "--problems-per-length", "2",
             "--hidden", "16", "--state-dim", "16", "--encoder-hidden", "16", "--eval-every", "5", "--eval-episodes", "2"]
    assert main(["train", "npi", *flags, "--updates", "5", "--out", str(out), "--quiet"]) == 0
    assert main(["train", "npi", "--updates", "8", "--out", str(out), "--resume", "--quiet"]) == 0
    assert load_checkpoint(out)["trainer"]["update"] == 8
    assert main(["eval", str(out), "--lengths", "2,3", "--episodes", "3"]) == 0
    table = capsys.readouterr().out
    assert "| 2 | 3 |" in table and "| 3 | 3 |" in table
    assert main(["eval", str(out), "--env", "NPI-Addition-v0"]) == 2
    err = capsys.readouterr().err
    assert "npi-gym eval: error:" in err and "program table differs" in err


def test_importing_agents_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, agents; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


@pytest.mark.slow
def test_demo_table_shows_the_shipped_agents() -> None:
    from agents.cli import demo_table

    table = demo_table()
    assert "| addition (digits) | 1000 |" in table and "| sort (elements) | 100 |" in table


@pytest.mark.parametrize("env_id", ["NPI-Addition-v0", "NPI-Sort-Recursive-v0"])
def test_acting_cell_matches_the_training_network(env_id: str) -> None:
    import gymnasium as gym

    from agents.npi.model import NPI, Cell

    env = gym.make(env_id)
    cfg = dataclasses.replace(TINY, env_id=env_id)
    model = NPI(cfg, env.unwrapped.programs, env.observation_space).eval()
    obs, _ = env.reset(seed=3, options={"length": 4})
    frame = [obs]
    for _ in range(5):
        frame.append(env.step(env.unwrapped.expert_action())[0])
    features = model.encoder.featurize(frame)
    program = int(obs["program"])
    with torch.no_grad():
        reference = model({k: torch.from_numpy(v)[None] for k, v in features.items()}, torch.tensor([program]))
    cell, state = Cell(model), Cell(model).zeros(1)
    for t in range(len(frame)):
        ret, scores, args, state = cell({k: v[t : t + 1] for k, v in features.items()}, np.array([program]), state)
        np.testing.assert_allclose(ret, reference.ret[:, t].numpy(), atol=1e-5)
        np.testing.assert_allclose(scores, reference.programs[:, t].numpy(), atol=1e-5)
        for a, b in zip(args, reference.args):
            np.testing.assert_allclose(a, b[:, t].numpy(), atol=1e-5)


def test_evaluate_drives_any_agent_with_reset_and_act() -> None:
    from agents.base import Agent, BatchAgent, evaluate

    class ReturnAtOnce:
        resets = 0

        def reset(self, obs: dict, info: dict) -> None:
            self.resets += 1

        def act(self, obs: dict, info: dict) -> dict:
            return {"program": 0, "args": np.zeros(3, dtype=np.int64)}

    agent = ReturnAtOnce()
    assert isinstance(agent, Agent) and not isinstance(agent, BatchAgent)
    (result,) = evaluate(agent, "NPI-Sort-v0", [3], episodes=4)
    assert (result.episodes, result.mean_steps, agent.resets) == (4, 1.0, 4)
    sorted_, unsorted = run_episodes(agent, "NPI-Sort-v0", [(0, {"problem": [1, 2, 3]}), (0, {"problem": [3, 1, 2]})])
    assert sorted_.solved and not unsorted.solved


def test_evaluate_runs_every_length_in_one_lockstep_batch_and_groups_them_back(trained: Path) -> None:
    from agents.base import evaluate

    agent = NPIAgent.load(trained)
    together = evaluate(agent, TINY.env_id, [1, 4, 9], [3, 0, 5], batch_size=8)
    alone = [evaluate(agent, TINY.env_id, [n], [k])[0] for n, k in ((1, 3), (4, 0), (9, 5))]
    assert [(r.length, r.episodes, r.solved) for r in together] == [(r.length, r.episodes, r.solved) for r in alone]
    np.testing.assert_equal([r.mean_steps for r in together], [r.mean_steps for r in alone])
    assert together[0].mean_steps < together[2].mean_steps and np.isnan(together[1].mean_steps)
    assert all(r.seconds <= together[2].seconds for r in together)


@pytest.mark.parametrize("min_share", [0.0, 0.1])
def test_curriculum_gives_every_program_its_minimum_share(min_share: float) -> None:
    import gymnasium as gym

    from agents.npi.data import CurriculumSampler, expert_frames
    from agents.npi.model import NPI

    cfg = dataclasses.replace(TINY, env_id="NPI-Sort-v0")
    env = gym.make(cfg.env_id)
    programs = env.unwrapped.programs
    model = NPI(cfg, programs, env.observation_space)
    frames = expert_frames(env, [(s, {"length": 6}) for s in range(3)], model.encoder.featurize, cfg.short_frame)
    top = programs.ids["BUBBLESORT"]
    natural = np.mean(frames.program == top)
    sampler = CurriculumSampler(frames, len(programs), 0.25, 0.0, np.random.default_rng(0), min_share)
    drawn = []
    for _ in range(400):
        bucket, rows = sampler.sample(16)
        drawn.append(sampler.frames.buckets[bucket].program[rows].numpy())
    share = np.mean(np.concatenate(drawn) == top)
    assert natural < 0.05
    if min_share:
        assert share == pytest.approx(min_share, abs=0.02)
    else:
        assert share == pytest.approx(natural, abs=0.02)
