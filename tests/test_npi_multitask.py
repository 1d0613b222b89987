"""One NPI for several envs: shared program memory, checkpoints of several tasks, and extending one with a frozen core."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agents.base import run_episodes  # noqa: E402
from agents.common.checkpoints import CHECKSUM, load_torch, tensor_checksum  # noqa: E402
from agents.common.upgrade import upgrade  # noqa: E402
from agents.npi import CheckpointError, NPIAgent, NPIConfig, load_checkpoint, train  # noqa: E402
from agents.npi.checkpoint import KIND  # noqa: E402
from agents.npi.model import NPI, Task  # noqa: E402

ENVS = "NPI-Addition-v0,NPI-Sort-v0"
TINY = NPIConfig(
    env_id=ENVS, per_env={"NPI-Sort-v0": {"min_length": 2, "max_length": 3}}, min_length=1, max_length=2,
    problems_per_length=2, hidden=32, state_dim=32, encoder_hidden=32, program_dim=8, key_dim=8, batch_frames=16,
    updates=12, eval_every=6, eval_episodes=3, stop_after_perfect=0, curriculum_every=4, log_every=4,
)
MAX = dataclasses.replace(TINY, env_id="NPI-SortMax-v0", per_env={}, min_length=2, max_length=3, lr=0.05, updates=6)


@pytest.fixture(scope="module")
def multitask(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("multitask") / "two.pt"
    train(TINY, path, progress=False)
    return path


def tasks(*env_ids: str) -> list[Task]:
    envs = [gym.make(e) for e in env_ids]
    return [Task(e.unwrapped.programs, e.observation_space) for e in envs]


def test_memory_rows_are_shared_within_an_observation_space_and_kept_apart_across_them() -> None:
    model = NPI(TINY, tasks("NPI-Addition-v0", "NPI-Sort-v0", "NPI-SortMax-v0"))
    add, sort, max_ = (r.tolist() for r in model.rows)
    assert add[0] == sort[0] == max_[0] == 0  # RETURN: one row
    assert max_[: len(sort)] == sort and len(set(max_[len(sort) :]) - set(sort)) == 3  # MAX, RJMP and RSTEP are new rows
    assert set(add[1:]).isdisjoint(sort)  # LSHIFT, RSHIFT and ACT of addition are not sort's
    assert len(model.encoders) == 2 and model.domain_of == [0, 1, 1]
    assert len(model.memory) == len(add) + len(max_) - 1


def test_multitask_checkpoint_round_trips_and_plays_each_env(multitask: Path, tmp_path: Path) -> None:
    ckpt = load_checkpoint(multitask)
    assert ckpt["env_id"] == ENVS and [t["env_id"] for t in ckpt["tasks"]] == ENVS.split(",")
    copy = tmp_path / "copy.pt"
    KIND.save(copy, ckpt)
    for task, env_id in enumerate(ENVS.split(",")):
        agent, again = NPIAgent.load(multitask, env_id), NPIAgent.load(copy, env_id)
        assert agent.task == task and agent.env_id == env_id
        for name, tensor in ckpt["model"].items():
            assert torch.equal(again.model.state_dict()[name], tensor), name
        problems = [(s, {"length": 2}) for s in range(3)]
        assert run_episodes(agent, env_id, problems) == run_episodes(again, env_id, problems)
    assert NPIAgent.load(multitask).env_id == "NPI-Addition-v0"


@pytest.mark.parametrize("env_id", ["NPI-Hanoi-v0", "NPI-Sort-Recursive-v0", "NPI-SortMax-v0"])
def test_multitask_checkpoint_refuses_an_env_it_was_not_trained_on(multitask: Path, env_id: str) -> None:
    with pytest.raises(CheckpointError, match=rf"cannot play|program table differs from {env_id}'s") as error:
        NPIAgent.load(multitask, env_id)
    assert "it plays NPI-Addition-v0, NPI-Sort-v0" in str(error.value)


def test_extending_trains_only_the_new_programs_rows(multitask: Path, tmp_path: Path) -> None:
    extended = tmp_path / "max.pt"
    train(dataclasses.replace(MAX, extend=str(multitask)), extended, progress=False)
    before, after = load_checkpoint(multitask)["model"], load_checkpoint(extended)["model"]
    assert [t["env_id"] for t in load_checkpoint(extended)["tasks"]] == [*ENVS.split(","), "NPI-SortMax-v0"]
    for name, tensor in before.items():
        old = after[name][: len(tensor)]
        assert torch.equal(old, tensor) and old.view(torch.uint8).equal(tensor.view(torch.uint8)), name  # bit for bit
    assert after.keys() == before.keys()
    torch.manual_seed(MAX.seed)  # as train() does before it builds the model: the new rows' initial values
    initial = NPI(MAX, tasks(*ENVS.split(","), "NPI-SortMax-v0")).state_dict()
    for name in ("program_keys", "program_embeddings.weight"):
        new = after[name][len(before[name]) :]
        assert len(new) == 3 and (new != initial[name][-3:]).all(dim=1).any(), name  # some of MAX's, RJMP's and RSTEP's rows trained
    agent = NPIAgent.load(extended, "NPI-Sort-v0")
    base = NPIAgent.load(multitask, "NPI-Sort-v0")
    problems = [(s, {"length": 3}) for s in range(4)]
    assert run_episodes(agent, "NPI-Sort-v0", problems) == run_episodes(base, "NPI-Sort-v0", problems)
    assert NPIAgent.load(extended, "NPI-SortMax-v0").task == 2


def test_extending_refuses_other_network_settings_or_an_env_it_has(multitask: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hidden: checkpoint 32, requested 64"):
        train(dataclasses.replace(MAX, extend=str(multitask), hidden=64), tmp_path / "x.pt", progress=False)
    with pytest.raises(ValueError, match=r"already plays \['NPI-Sort-v0'\]"):
        train(dataclasses.replace(MAX, env_id="NPI-Sort-v0", extend=str(multitask)), tmp_path / "x.pt", progress=False)


def _as_version_2(path: Path, target: Path) -> None:
    """A one-env checkpoint written the way format version 2 laid it out."""
    ckpt = load_torch(path, "checkpoint")
    (task,) = ckpt.pop("tasks")
    model = {k.replace("encoders.0.", "encoder.", 1): v for k, v in ckpt["model"].items()}
    payload = {k: v for k, v in ckpt.items() if k not in ("format", "version", CHECKSUM)}
    payload.update(model=model, programs=task["programs"], observation_space=task["observation_space"])
    torch.save({"format": KIND.format, "version": 2, CHECKSUM: tensor_checksum(payload), **payload}, target)


def test_a_version_2_checkpoint_loads_and_converts_bit_for_bit(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parent.parent / "agents" / "npi" / "pretrained" / "npi-addition.pt"
    old = tmp_path / "old.pt"
    _as_version_2(shipped, old)
    problems = [(s, {"length": 12}) for s in range(3)]
    played = run_episodes(NPIAgent.load(shipped), "NPI-Addition-v0", problems)
    assert run_episodes(NPIAgent.load(old), "NPI-Addition-v0", problems) == played
    upgrade(old)
    converted, current = load_torch(old, "checkpoint"), load_torch(shipped, "checkpoint")
    assert converted["version"] == KIND.version and converted[CHECKSUM] == current[CHECKSUM]
    assert all(torch.equal(converted["model"][k], v) for k, v in current["model"].items())
    assert np.all([e.solved for e in played])


def test_each_task_gets_the_share_of_draws_its_programs_have_not_its_frame_count() -> None:
    from agents.npi.data import CurriculumSampler, expert_frames, merge_frames

    model = NPI(TINY, tasks("NPI-Addition-v0", "NPI-Sort-v0"))
    envs = [gym.make(e) for e in ENVS.split(",")]
    frames = merge_frames(
        [expert_frames(env, [(s, {"length": n}) for s in range(3)], model.task_encoder(t).featurize, 8) for t, (env, n) in
         enumerate(zip(envs, (4, 8)))],
        [r.numpy() for r in model.rows],
    )
    sampler = CurriculumSampler(frames, len(model.memory), 0.25, 0.0, np.random.default_rng(0), 0.05)
    task_of = np.zeros(len(frames), dtype=int)
    for b in frames.buckets:
        task_of[b.index] = b.task
    programs = [len(set(frames.program[task_of == t])) for t in range(2)]

    def addition_share() -> float:
        return 1 - np.mean([frames.buckets[sampler.sample(4)[0]].task for _ in range(3000)])

    assert np.mean(task_of == 0) < 0.1  # sort has most of the frames
    assert addition_share() == pytest.approx(programs[0] / sum(programs), abs=0.03)
    error = np.zeros(len(model.memory))
    error[model.rows[0][2]] = 0.5  # ADD1 wrong half the time: addition's share grows by exp(0.5 / 0.25) for that program
    sampler.update(error)
    weight = np.exp(2.0)
    assert addition_share() == pytest.approx((programs[0] - 1 + weight) / (sum(programs) - 1 + weight), abs=0.03)


def test_the_benchmark_runs_build_configs_of_registered_envs() -> None:
    import tomllib

    from npi_gym import ENV_IDS

    config = tomllib.loads((Path(__file__).resolve().parent.parent / "benchmarks" / "configs" / "npi_multitask.toml").read_text())
    multitask = NPIConfig(**config["multitask"])
    extend = NPIConfig(**config["max"], extend="npi-multitask.pt")
    assert len(multitask.env_ids) == 3 and set(multitask.per_env) <= set(multitask.env_ids)
    assert extend.env_ids == ["NPI-SortMax-v0"]
    for row in config["row"]:
        assert row["env"] in ENV_IDS and len(row["lengths"]) == len(row["episodes"]) and len(row["paper"]) == 3


def test_the_shipped_multitask_agent_solves_each_of_its_envs() -> None:
    shipped = Path(__file__).resolve().parent.parent / "agents" / "npi" / "pretrained" / "npi-multitask.pt"
    env_ids = [t["env_id"] for t in load_checkpoint(shipped)["tasks"]]
    assert env_ids == ["NPI-Addition-v0", "NPI-Sort-v0", "NPI-Canonicalize-v0"]
    for env_id, options in zip(env_ids, ({"length": 12}, {"length": 4}, {})):
        agent = NPIAgent.load(shipped, env_id)
        episodes = run_episodes(agent, env_id, [(s, options) for s in range(2)], **agent.env_kwargs)
        assert all(e.solved for e in episodes), (env_id, episodes)


def test_the_shipped_max_extension_keeps_the_shipped_multitask_weights_and_finds_the_maximum() -> None:
    pretrained = Path(__file__).resolve().parent.parent / "agents" / "npi" / "pretrained"
    base, extended = load_checkpoint(pretrained / "npi-multitask.pt"), load_checkpoint(pretrained / "npi-multitask-max.pt")
    assert [t["env_id"] for t in extended["tasks"]] == [*(t["env_id"] for t in base["tasks"]), "NPI-SortMax-v0"]
    for name, tensor in base["model"].items():
        assert torch.equal(extended["model"][name][: len(tensor)], tensor), name
    problems = [(s, {"length": n}) for s in range(3) for n in (2, 9)] + [(0, {"problem": [9] * 7}), (0, {"problem": list(range(10))})]
    played = run_episodes(NPIAgent.load(pretrained / "npi-multitask-max.pt", "NPI-SortMax-v0"), "NPI-SortMax-v0", problems)
    assert all(e.solved for e in played)
