"""RL baselines: each algorithm's wiring, resume, the SB3 adapter's index mapping, the random floor, the curriculum."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import npi_gym
from agents.base import evaluate
from agents.baselines import ALGORITHMS, RandomAgent, SB3Agent, algorithm
from agents.baselines.hyperparams import load_hyperparams, wrapper_class
from agents.baselines.train import latest_checkpoint, train
from npi_gym import FlatCalls, PreviousCall
from npi_gym.wrappers import Curriculum, bottom_up
from tests.conftest import SCRATCH_PAD_IDS

ENV = "NPI-Sort-v0"
TINY = {"max_length": 3}


def tiny_yaml(tmp_path, algo, env_id: str = ENV) -> str:
    """A copy of the shipped entry for ``env_id`` with budgets small enough for a test."""
    import yaml

    hp = load_hyperparams(algo, env_id)
    small = {"n_steps": 32, "batch_size": 32, "n_epochs": 1} if "n_steps" in hp.model_kwargs else {}
    if "buffer_size" in hp.model_kwargs:
        small = {"buffer_size": 500, "learning_starts": 50, "target_update_interval": 100}
    if algo.name == "a2c":
        small = {"n_steps": 8}
    entry = {
        "n_timesteps": 200, "policy": hp.policy, "n_envs": 2,
        "env_wrapper": [n if not kw else {n: kw} for n, kw in hp.env_wrapper], **hp.model_kwargs, **small,
        "policy_kwargs": {"net_arch": [16]} if not algo.recurrent else {"net_arch": [16], "lstm_hidden_size": 16},
    }
    path = tmp_path / f"{algo.zoo}.yml"
    path.write_text(yaml.safe_dump({env_id: entry}))
    return str(path)


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)


@pytest.mark.parametrize("name", [a.name for a in ALGORITHMS])
def test_each_algorithm_trains_saves_loads_and_evaluates(tmp_path, name) -> None:
    algo = algorithm(name)
    out = tmp_path / "run"
    result = train(algo, ENV, out, timesteps=200, env_kwargs=TINY, hyperparams=tiny_yaml(tmp_path, algo), eval_episodes=2, evaluations=2)
    assert result["timesteps"] >= 200
    assert (out / "model.zip").is_file() and (out / "learning_curve.png").stat().st_size > 0
    assert list((out / "logs" / "session-1").glob("progress.csv")) and list((out / "logs" / "session-1").glob("events.out.tfevents*"))
    agent = SB3Agent.load(out / "model.zip")
    assert agent.env_id == ENV and agent.env_kwargs == TINY
    [r] = evaluate(agent, ENV, [3], episodes=3, **TINY)
    assert r.episodes == 3 and r.mean_steps >= 1


def test_a_curriculum_run_logs_its_stages(tmp_path) -> None:
    import csv

    algo = algorithm("ppo-mask")
    yml = tiny_yaml(tmp_path, algo)
    [kwargs] = [kw for name, kw in load_hyperparams(algo, ENV, yml).env_wrapper if issubclass(wrapper_class(name), Curriculum)]
    last = len(Curriculum(gym.make(ENV, **TINY), **kwargs).stages) - 1
    train(algo, ENV, tmp_path / "run", timesteps=128, env_kwargs=TINY, hyperparams=yml, eval_episodes=1, evaluations=1)
    with (tmp_path / "run" / "logs" / "session-1" / "progress.csv").open() as f:
        stages = [float(row["curriculum/stage_mean"]) for row in csv.DictReader(f) if row.get("curriculum/stage_mean")]
    assert len(stages) >= 2 and all(0 <= s <= last for s in stages)


def test_a_resumed_run_continues_its_curriculum_from_the_saved_stages(tmp_path) -> None:
    import csv

    from agents.baselines.train import CURRICULUM_KEY, save_model

    algo = algorithm("ppo-mask")
    yml = tiny_yaml(tmp_path, algo)
    out = tmp_path / "run"
    train(algo, ENV, out, timesteps=64, env_kwargs=TINY, hyperparams=yml, eval_episodes=1, evaluations=1)
    latest = latest_checkpoint(out / "checkpoints")
    model = algo.load_class().load(latest, device="cpu")
    assert getattr(model, CURRICULUM_KEY) == [0, 0]  # two copies, neither has climbed in 64 steps
    setattr(model, CURRICULUM_KEY, [3, 1])
    save_model(model, latest)
    train(algo, ENV, out, timesteps=128, env_kwargs=TINY, hyperparams=yml, resume=True, eval_episodes=1, evaluations=1)
    with (out / "logs" / "session-2" / "progress.csv").open() as f:
        first = next(row for row in csv.DictReader(f) if row.get("curriculum/stage_min"))
    assert (float(first["curriculum/stage_min"]), float(first["curriculum/stage_max"])) == (1.0, 3.0)


def test_a_text_only_env_trains_through_make_vec_env(tmp_path) -> None:
    """SB3's make_vec_env asks for render_mode="rgb_array" unless told otherwise; the table envs render text only."""
    table = "NPI-Table-1Col-v0"
    algo = algorithm("ppo-mask")
    result = train(algo, table, tmp_path / "run", timesteps=64, hyperparams=tiny_yaml(tmp_path, algo, table), eval_episodes=2, evaluations=1)
    assert result["timesteps"] >= 64
    [r] = evaluate(SB3Agent.load(tmp_path / "run" / "model.zip"), table, [None], episodes=4)
    assert r.episodes == 4 and r.mean_steps == 4


def test_resume_continues_the_timestep_count(tmp_path) -> None:
    algo = algorithm("ppo-mask")
    yml = tiny_yaml(tmp_path, algo)
    first = train(algo, ENV, tmp_path / "run", timesteps=64, env_kwargs=TINY, hyperparams=yml, eval_episodes=1, evaluations=1)
    with pytest.raises(ValueError, match="--resume"):
        train(algo, ENV, tmp_path / "run", timesteps=128, env_kwargs=TINY, hyperparams=yml)
    second = train(algo, ENV, tmp_path / "run", timesteps=192, env_kwargs=TINY, hyperparams=yml, resume=True, eval_episodes=1, evaluations=1)
    assert second["resumed_from"] == first["timesteps"] == 64
    assert second["timesteps"] == 192
    assert latest_checkpoint(tmp_path / "run" / "checkpoints").name == "rl_model_192_steps.zip"
    assert not list((tmp_path / "run" / "checkpoints").glob(".*"))  # no temp file left behind
    with pytest.raises(ValueError, match="same algorithm"):
        train(algorithm("ppo"), ENV, tmp_path / "run", timesteps=256, env_kwargs=TINY, hyperparams=tiny_yaml(tmp_path, algorithm("ppo")), resume=True)


def test_a_resumed_run_keeps_its_earlier_evaluations(tmp_path) -> None:
    """SB3's EvalCallback rewrites evaluations.npz from an empty history; a resumed run's curve must still start at 0."""
    algo = algorithm("ppo-mask")
    yml = tiny_yaml(tmp_path, algo)
    out = tmp_path / "run"
    train(algo, ENV, out, timesteps=64, env_kwargs=TINY, hyperparams=yml, eval_episodes=2, evaluations=1)
    with np.load(out / "eval" / "evaluations.npz") as first:
        assert first["timesteps"].tolist() == [64]
        before = first["results"][0].tolist()
    train(algo, ENV, out, timesteps=192, env_kwargs=TINY, hyperparams=yml, resume=True, eval_episodes=2, evaluations=2)
    with np.load(out / "eval" / "evaluations.npz") as both:
        assert both["timesteps"].tolist() == [64, 160]
        assert both["results"][0].tolist() == before and both["results"].shape == (2, 2)


class _Fixed:
    """A stand-in SB3 model: always the flat index it is told, recording what it saw."""

    def __init__(self, index: int) -> None:
        self.index, self.seen = index, []

    def predict(self, obs, **kwargs):
        self.seen.append((obs, kwargs))
        return np.int64(self.index), None


@pytest.mark.parametrize("env_id", SCRATCH_PAD_IDS)
def test_adapter_action_is_flat_calls_entry(env_id) -> None:
    flat, raw = FlatCalls(gym.make(env_id)), gym.make(env_id)
    for index in range(flat.action_space.n):
        agent = SB3Agent(_Fixed(index), gym.make(env_id), previous_call=False, maskable=True, recurrent=False)
        flat.reset(seed=index)
        obs, info = raw.reset(seed=index)
        agent.reset(obs, info)
        action = agent.act(obs, info)
        assert action is agent.index.calls[index]
        assert raw.unwrapped.action_to_call(action) == flat.unwrapped.action_to_call(flat.calls[index])
        np.testing.assert_array_equal(agent.model.seen[0][1]["action_masks"], flat.action_masks())


@pytest.mark.parametrize("env_id", SCRATCH_PAD_IDS)
def test_adapter_rebuilds_previous_call_and_flat_mask(env_id) -> None:
    """Driving the raw env, the adapter sees what PreviousCall(FlatCalls(env)) shows the model."""
    wrapped = PreviousCall(FlatCalls(gym.make(env_id)))
    raw = gym.make(env_id)
    model = _Fixed(0)
    agent = SB3Agent(model, gym.make(env_id), previous_call=True, maskable=True, recurrent=False)
    rng = np.random.default_rng(0)
    for episode in range(5):
        (w_obs, w_info), (obs, info) = wrapped.reset(seed=episode), raw.reset(seed=episode)
        agent.reset(obs, info)
        for _ in range(60):
            allowed = np.flatnonzero(wrapped.get_wrapper_attr("action_masks")())
            model.index = int(rng.choice(allowed)) if rng.random() < 0.9 else int(rng.integers(len(wrapped.get_wrapper_attr("calls"))))
            action = agent.act(obs, info)
            seen, kwargs = model.seen[-1]
            assert seen.keys() == w_obs.keys() and all(np.array_equal(seen[k], w_obs[k]) for k in seen)
            np.testing.assert_array_equal(kwargs["action_masks"], w_info["action_mask"].astype(bool))
            w_obs, _, done, cut, w_info = wrapped.step(model.index)
            obs, _, done2, cut2, info = raw.step(action)
            assert (done, cut) == (done2, cut2)
            if done or cut:
                break


def test_recurrent_adapter_keeps_state_within_an_episode() -> None:
    states = []

    class Model:
        def predict(self, obs, state=None, episode_start=None, **kwargs):
            states.append((state, bool(episode_start[0])))
            return np.int64(0), (len(states),)

    agent = SB3Agent(Model(), gym.make(ENV), previous_call=False, maskable=False, recurrent=True)
    env = gym.make(ENV)
    for seed in range(2):
        obs, info = env.reset(seed=seed)
        agent.reset(obs, info)
        agent.act(obs, info)
        agent.act(obs, info)
    assert states == [(None, True), ((1,), False), (None, True), ((3,), False)]


@pytest.mark.parametrize("env_id", [*SCRATCH_PAD_IDS, "NPI-Table-v0"])
def test_random_agent_never_makes_a_masked_call(env_id) -> None:
    env = FlatCalls(gym.make(env_id))
    raw = gym.make(env_id)
    agent = RandomAgent(gym.make(env_id), seed=1)
    for seed in range(10):
        (_, w_info), (obs, info) = env.reset(seed=seed), raw.reset(seed=seed)
        agent.reset(obs, info)
        for _ in range(200):
            action = agent.act(obs, info)
            chosen = next(i for i, c in enumerate(agent.index.calls) if c is action)
            assert w_info["action_mask"][chosen], (env_id, chosen)
            _, _, done, cut, w_info = env.step(chosen)
            obs, _, _, _, info = raw.step(action)
            if done or cut:
                break


def test_curriculum_order_is_leaves_first() -> None:
    programs = gym.make(ENV).unwrapped.programs
    order = bottom_up(programs)
    assert order[-1] == "BUBBLESORT" and order[0] == "COMPSWAP"
    assert [programs.depth(p) for p in order] == sorted(programs.depth(p) for p in order)
    assert set(order) == {p.name for p in programs.programs[1:] if not p.primitive}


def test_curriculum_advances_on_success_and_not_on_failure() -> None:
    """Expert play (success) advances every `window` episodes; RETURN at once (failure) never does."""
    env = Curriculum(FlatCalls(gym.make(ENV)), lengths=[2, 3], window=3, threshold=1.0)
    assert env.stages[:2] == ({"program": "COMPSWAP", "length": 2}, {"program": "COMPSWAP", "length": 3})
    index = {id(c): i for i, c in enumerate(env.unwrapped.flat_actions)}
    base = env.unwrapped

    def play(expert: bool) -> str:
        env.reset(seed=len(env.outcomes))
        opened = base.stack[0]
        while True:
            call = base.expert_call() if expert else base.programs.calls[0]
            _, reward, done, cut, info = env.step(base.programs.calls.index(call))
            if done or cut:
                return opened

    for _ in range(5):
        assert play(expert=False) == "COMPSWAP"
    assert env.stage == 0
    seen = [play(expert=True) for _ in range(3 * len(env.stages))]
    assert seen[:3] == ["COMPSWAP"] * 3 and seen[6:9] == ["LSHIFT"] * 3 and seen[-1] == "BUBBLESORT"
    assert env.stage == len(env.stages) - 1
    assert index  # flat actions exist


def test_curriculum_revisits_earlier_stages_without_counting_them() -> None:
    env = Curriculum(FlatCalls(gym.make(ENV)), lengths=[2], window=2, threshold=1.0, revisit=0.5)
    base = env.unwrapped
    env.stage = 3
    played = []
    for seed in range(60):
        _, info = env.reset(seed=seed)
        played.append(info["curriculum_stage"])
        while True:
            _, _, done, cut, info = env.step(base.programs.calls.index(base.programs.calls[0]))  # RETURN: a failure
            if done or cut:
                break
    assert set(played) == {0, 1, 2, 3} and 15 < played.count(3) < 45
    assert list(env.outcomes) == [False, False] and env.stage == 3  # only the current stage's episodes count
    with pytest.raises(ValueError, match="revisit"):
        Curriculum(gym.make(ENV), revisit=1.0)


def test_curriculum_starts_at_a_saved_stage_and_refuses_one_it_has_not() -> None:
    curriculum = Curriculum(gym.make(ENV, **TINY), lengths=[2, 3])
    curriculum.start_at(3)
    _, info = curriculum.reset(seed=0)
    assert info["curriculum_stage"] == 3 and curriculum.stages[3] == {"program": bottom_up(curriculum.unwrapped.programs)[1], "length": 3}
    with pytest.raises(ValueError, match=r"stage must be in 0\.\.13; got 14"):
        curriculum.start_at(14)


def test_curriculum_rejects_unknown_programs() -> None:
    with pytest.raises(ValueError, match="accepted"):
        Curriculum(gym.make(ENV), programs=["ACT"])


@pytest.mark.parametrize("env_id", npi_gym.ENV_IDS)
def test_gymnasium_checker_on_wrapped_ids(env_id) -> None:
    """PreviousCall applies to program-call envs only: the table envs have no call stack."""
    from gymnasium.utils.env_checker import check_env

    check_env(FlatCalls(gym.make(env_id)), skip_render_check=True)
    if env_id in npi_gym.PROGRAM_CALL_IDS:
        env = PreviousCall(FlatCalls(gym.make(env_id)))
        check_env(env, skip_render_check=True)
        assert isinstance(gym.make(env.spec), PreviousCall)


def test_readme_external_agent_runs_through_the_cli(tmp_path) -> None:
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"<!-- external-agent -->\n```python\n(.*?)```", readme, re.S).group(1)
    assert len(code.splitlines()) <= 20
    (tmp_path / "my_agent.py").write_text(code)
    done = subprocess.run(
        [sys.executable, "-m", "agents.cli", "eval", "--agent", f"{tmp_path / 'my_agent.py'}:ReturnAtOnce", "--env", ENV,
         "--lengths", "1,5", "--episodes", "20"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 1 ") or line.startswith("| 5 ")]
    assert rows[0].startswith("| 1 | 20 | 100.0% | 1 |")  # a one-value array is sorted: RETURN solves it
    assert rows[1].startswith("| 5 | 20 |") and "100.0%" not in rows[1]
    bad = subprocess.run([sys.executable, "-m", "agents.cli", "eval", "--agent", f"{tmp_path / 'my_agent.py'}:Missing", "--env", ENV],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "npi-gym eval: error: --agent" in bad.stderr and "ReturnAtOnce" in bad.stderr


def test_an_sb3_model_trains_and_evaluates_through_the_cli(tmp_path, capsys) -> None:
    """`npi-gym train ppo-mask` writes model.zip; `npi-gym eval model.zip` plays it with the kwargs it was trained with."""
    from agents.cli import main

    out = tmp_path / "run"
    yml = tiny_yaml(tmp_path, algorithm("ppo-mask"))
    assert main(["train", "ppo-mask", "--env", ENV, "--timesteps", "64", "--env-kwargs", '{"max_length": 3}',
                 "--hyperparams", yml, "--eval-episodes", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["eval", str(out / "model.zip"), "--lengths", "1,3", "--episodes", "7"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("| 1 ", "| 3 "))]
    assert [row.split("|")[1:3] for row in rows] == [[" 1 ", " 7 "], [" 3 ", " 7 "]]
    assert main(["eval", str(out / "model.zip"), "--env", "NPI-Addition-v0"]) == 2  # trained on sort: refused
    assert "model.zip was trained on NPI-Sort-v0" in capsys.readouterr().err


def test_an_exhausted_budget_ends_the_episode_as_a_failure() -> None:
    from agents.baselines.wrappers import BudgetIsFailure

    env = BudgetIsFailure(gym.make(ENV, max_length=3))
    env.reset(seed=0)
    base = env.unwrapped
    stay = base.call_to_action("ACT PTR 1 LEFT")  # pointer 1 starts at the left end: an invalid no-op
    for _ in range(base.step_budget):
        _, reward, terminated, truncated, info = env.step(stay)
        if terminated or truncated:
            break
    assert (reward, terminated, truncated, info["budget_exhausted"]) == (0.0, True, False, True)
    env.reset(seed=0)
    while True:
        _, reward, terminated, truncated, info = env.step(base.expert_action())
        if terminated or truncated:
            break
    assert (reward, terminated, truncated) == (1.0, True, False) and "budget_exhausted" not in info


@pytest.mark.parametrize("algo", ALGORITHMS, ids=[a.name for a in ALGORITHMS])
def test_every_registered_id_has_hyperparameters(algo) -> None:
    for env_id in npi_gym.ENV_IDS:
        hp = load_hyperparams(algo, env_id)
        assert hp.n_timesteps > 0 and hp.env_wrapper, env_id


@pytest.mark.parametrize("env_id", npi_gym.PROGRAM_CALL_IDS)
def test_succeeded_after_reset_is_the_reward_of_returning_at_once(env_id) -> None:
    env = gym.make(env_id)
    for seed in range(12):
        env.reset(seed=seed)
        predicted = env.unwrapped.succeeded()
        _, reward, terminated, _, _ = env.step(env.unwrapped.call_to_action("RETURN"))
        assert terminated and reward == float(predicted), (env_id, seed)
    env.close()


@pytest.mark.parametrize("program", [None, "COMPSWAP"])
def test_skip_trivial_opens_only_episodes_that_returning_at_once_fails(program) -> None:
    from agents.baselines.wrappers import SkipTrivial

    plain = gym.make(ENV, max_length=3, program=program)
    skipping = SkipTrivial(gym.make(ENV, max_length=3, program=program), redraws=50)
    trivial = []
    for seed in range(40):
        plain.reset(seed=seed)
        trivial.append(plain.unwrapped.succeeded())
        skipping.reset(seed=seed)
        _, reward, _, _, _ = skipping.step(skipping.unwrapped.call_to_action("RETURN"))
        assert reward == 0.0, seed
    assert any(trivial), "the plain env opens some episodes that RETURN at once solves"


def _flat_index(env: FlatCalls, call) -> int:
    return next(i for i, c in enumerate(env.calls) if c["program"] == call.program and tuple(c["args"]) == tuple(call.args))


def _episode_programs(env_id: str) -> list[str]:
    return [p for p in gym.make(env_id).unwrapped.episode_programs if p != gym.make(env_id).unwrapped.root]


@pytest.mark.parametrize("env_id", npi_gym.PROGRAM_CALL_IDS)
def test_goal_mismatch_is_none_on_root_episodes_and_empty_where_the_episode_succeeds(env_id) -> None:
    env = gym.make(env_id)
    env.reset(seed=0)
    assert env.unwrapped.goal_mismatch() is None
    for k, program in enumerate(_episode_programs(env_id)):
        env.reset(seed=k, options={"program": program})
        base = env.unwrapped
        start = base.goal_mismatch()
        assert start.dtype == bool and start.any() == (not base.succeeded()), program
        done = False
        while not done:
            _, reward, terminated, truncated, _ = env.step(base.expert_action())
            done = terminated or truncated
        assert reward == 1.0 and not base.goal_mismatch().any(), program


@pytest.mark.parametrize("env_id", ["NPI-Addition-v0", ENV])
def test_goal_progress_sums_to_the_goal_share_reached_and_pays_most_for_solving(env_id) -> None:
    """Random masked play (every fourth episode the expert's): each shaped return is the sparse reward plus
    weight * (entries fixed - spoil * entries spoiled) / entries wrong at the start."""
    from agents.baselines.wrappers import GoalProgress

    weight, spoil = 0.5, 0.1
    env = FlatCalls(GoalProgress(gym.make(env_id, max_length=4), weight=weight, spoil=spoil))
    rng = np.random.default_rng(0)
    programs = _episode_programs(env_id)
    solved = failed = 0
    for episode in range(300):
        env.reset(seed=episode, options={"program": programs[episode % len(programs)]})
        start = env.unwrapped.goal_mismatch()
        total, done = 0.0, False
        while not done:
            expert = env.unwrapped.expert_call() if episode % 4 == 0 else None
            action = _flat_index(env, expert) if expert else rng.choice(np.flatnonzero(env.action_masks()))
            _, reward, terminated, truncated, info = env.step(int(action))
            total += reward
            done = terminated or truncated
        end = env.unwrapped.goal_mismatch()
        expected = info["sparse_reward"] + (weight * ((start & ~end).sum() - spoil * (~start & end).sum()) / start.sum() if start.any() else 0.0)
        assert total == pytest.approx(expected), (episode, programs[episode % len(programs)])
        if info["sparse_reward"] == 1.0:
            solved += 1
            assert total == pytest.approx(1.0 + weight if start.any() else 1.0)
        else:
            failed += 1
            assert total <= weight + 1e-9
    assert solved and failed


def test_goal_progress_pays_a_fix_and_charges_a_fraction_for_a_spoiled_entry() -> None:
    from agents.baselines.wrappers import GoalProgress

    env = GoalProgress(gym.make("NPI-Addition-v0", max_length=3))  # weight 0.5, spoil 0.1
    carry = ("ACT PTR CARRY LEFT", "ACT WRITE CARRY 1", "ACT PTR CARRY RIGHT", "RETURN")
    env.reset(seed=1, options={"program": "CARRY", "length": 3})  # the carry cell one column left is the goal's only wrong entry
    rewards = [env.step(env.unwrapped.call_to_action(c))[1] for c in carry[:2] + carry[3:]]
    assert rewards == pytest.approx([-0.05, 0.5, 0.0])  # returning with the carry pointer out of place keeps its charge
    env.reset(seed=1, options={"program": "CARRY", "length": 3})
    rewards = [env.step(env.unwrapped.call_to_action(c))[1] for c in carry]
    assert rewards == pytest.approx([-0.05, 0.5, 0.05, 1.0])  # solved: 1 + weight in all
    env.reset(seed=0)
    root = [env.step(env.unwrapped.call_to_action("RETURN"))]
    assert root[0][1] == 0.0 and root[0][4]["sparse_reward"] == 0.0  # root episodes keep the sparse reward
    with pytest.raises(ValueError, match="below the reward of solving"):
        GoalProgress(gym.make(ENV), weight=1.0)
    with pytest.raises(ValueError, match=r"spoil must be in \[0, 1\]"):
        GoalProgress(gym.make(ENV), spoil=-0.5)
