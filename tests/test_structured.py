"""Structured problem families: valid problems of the requested size for every program-call env; the shipped agents solve them."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import npi_gym
from npi_gym.structured import STRUCTURED, family_set, structured_families, structured_problem
from tests.record_shipped_actions import ROOT

FULL_GRID = {"start_azimuth": (-165, 180), "start_elevation": (-15, 75), "random_target": True}
"""a car configuration where every family has problems (turns across 180, exactly opposite starts)"""


WITH_FAMILIES = [i for i in npi_gym.PROGRAM_CALL_IDS if isinstance(gym.make(i).unwrapped, tuple(STRUCTURED))]
"""the program-call ids whose env class declares structured families"""


@pytest.mark.parametrize(
    "env_id",
    [pytest.param(i, marks=pytest.mark.slow) if i in npi_gym.FAMILY_IDS["car"] else i for i in WITH_FAMILIES],
)
def test_every_family_gives_valid_problems_of_the_requested_size(env_id: str) -> None:
    env = gym.make(env_id, **(FULL_GRID if env_id in npi_gym.FAMILY_IDS["car"] else {}))
    rng = np.random.default_rng(0)
    declared = family_set(env)
    assert declared.families
    limit = env.unwrapped.length_limit
    for family in declared.families:
        if declared.size is None:
            pairs = env.unwrapped.pose_pairs
            for _ in range(5):
                model, start, target = structured_problem(env, family, None, rng)
                checked = env.unwrapped._check_problem((model, start, target))
                assert model in env.unwrapped.models and checked == (model, start, target), family
                bins = tuple(((a // 15) % 24, (e + 15) // 15) for a, e in (start, target))
                assert bins in pairs, (family, start, target)
            continue
        for length in sorted({min(n, limit) for n in (1, 2, 7, 60, 150)}):
            problem = structured_problem(env, family, length, rng)
            env.reset(seed=0, options={"problem": problem})
            assert declared.size(env.unwrapped.problem) == length, (family, length, problem)
    env.close()


def test_car_families_outside_the_configured_poses_are_refused() -> None:
    env = gym.make("NPI-Canonicalize-v0")
    with pytest.raises(ValueError, match="none of this env's start poses"):
        structured_problem(env, "start exactly opposite", None, np.random.default_rng(0))
    env.close()


def test_bad_family_names_and_lengths_say_what_is_accepted() -> None:
    env = gym.make("NPI-Addition-v0")
    with pytest.raises(ValueError, match="choose from"):
        structured_problem(env, "nope", 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs a length in 1..10000"):
        structured_problem(env, "equal operands x + x", 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="declared for"):
        structured_families(object())


def test_training_problems_add_one_problem_per_family_and_length() -> None:
    pytest.importorskip("torch")
    from agents.npi.config import NPIConfig
    from agents.npi.train import training_problems

    plain = training_problems(NPIConfig(min_length=1, max_length=3, problems_per_length=2))
    mixed = training_problems(NPIConfig(min_length=1, max_length=3, problems_per_length=2, structured_per_length=8))
    assert mixed[: len(plain)] == plain
    structured = [options["problem"] for _, options in mixed[len(plain) :]]
    assert [max(map(len, p)) for p in structured] == [n for n in (1, 2, 3) for _ in range(8)]


ZERO_RUNS = [("1" + "0" * 40, "3"), ("4", "7" + "0" * 45), ("9" + "0" * 60, "9")]
"""a digit, then a run of zeros after the other operand has ended (the old checkpoint returned a wrong sum)"""


def test_shipped_addition_agent_adds_runs_of_zeros_against_an_ended_operand() -> None:
    pytest.importorskip("torch")
    from agents.base import run_episodes
    from agents.npi import NPIAgent

    agent = NPIAgent.load(ROOT / "agents/npi/pretrained/npi-addition.pt")
    episodes = run_episodes(agent, agent.env_id, [(0, {"problem": p}) for p in ZERO_RUNS])
    assert [e.solved for e in episodes] == [True] * len(ZERO_RUNS), ZERO_RUNS
