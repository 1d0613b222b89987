"""Property tests: random call sequences never crash, keep the pad in range, and reward only real solutions."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npi_gym
from npi_gym import FlatCalls
from npi_gym.envs.addition import AdditionEnv
from npi_gym.envs.sort_max import SortMaxEnv
from tests.conftest import SCRATCH_PAD_IDS

# Each choice: (kind, a, b, c, d): kind 0 = follow the expert for up to a % 60 + 1 calls,
# 1 = a masked (table-valid) call, 2 = any call in the action space; a..d pick which one.
CHOICE = st.tuples(st.integers(0, 2), *(st.integers(0, 10_000) for _ in range(4)))


def solved_independently(base, problem) -> bool:
    """The task's success, computed without the env's code: int addition, sorted()."""
    if isinstance(base, AdditionEnv):
        row = "".join("." if d == base.base else str(d) for d in base.pad[3])
        total = np.base_repr(int(problem[0], base.base) + int(problem[1], base.base), base.base)
        return row == total.rjust(len(row), ".")
    on_maximum = base.pointers[0] == len(problem) - 1 if isinstance(base, SortMaxEnv) else True
    return list(base.array) == sorted(problem) and on_maximum


def check_invariants(base) -> None:
    if isinstance(base, AdditionEnv):
        pad, ptr = base.pad, base.pointers
        assert pad.min() >= 0 and pad.max() <= base.base
        assert np.all((0 <= ptr) & (ptr < pad.shape[1]))
        assert list(pad[0][pad[0] != base.base]) == [int(d, base.base) for d in base.problem[0]]
    else:
        values, ptr = base.array, base.pointers
        assert sorted(values) == sorted(base.problem)
        assert 0 <= ptr[0] < len(values) and 0 <= ptr[1] < len(values) and 0 <= ptr[2] <= len(values)


def drive(env_id: str, seed: int, length: int, choices) -> tuple[int, int]:
    """Play the choices, checking every step; return (episodes solved, episodes ended unsolved)."""
    kwargs = {"base": 2 + seed % 9} if env_id in npi_gym.FAMILY_IDS["addition"] else {"max_value": 1 + seed % 20}
    env = FlatCalls(gym.make(env_id, **kwargs))
    env.reset(seed=seed, options={"length": length})
    solved = failed = 0
    for kind, a, b, c, d in choices:
        for _ in range(a % 60 + 1 if kind == 0 else 1):
            reward, terminated, truncated = step_and_check(env, kind, a, b, c, d)
            solved += reward == 1.0
            failed += terminated and reward == 0.0
            if terminated or truncated:
                env.reset(seed=seed + 1, options={"length": length})
                break
    return solved, failed


def step_and_check(env: FlatCalls, kind: int, a: int, b: int, c: int, d: int) -> tuple[float, bool, bool]:
    base = env.unwrapped
    expert = base.expert_action()
    if kind == 0 and expert is not None:
        _, reward, terminated, truncated, _ = env.env.step(expert)
    elif kind == 1:
        valid = np.flatnonzero(env.action_masks())
        _, reward, terminated, truncated, _ = env.step(int(valid[a % len(valid)]))
    else:
        sizes = base.programs.arg_sizes
        action = {"program": a % len(base.programs), "args": np.array([b % sizes[0], c % sizes[1], d % sizes[2]])}
        _, reward, terminated, truncated, _ = env.env.step(action)
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
    check_invariants(base)
    if reward == 1.0:
        assert terminated and solved_independently(base, base.problem)
    if terminated and solved_independently(base, base.problem):
        assert reward == 1.0
    return reward, terminated, truncated


@pytest.mark.parametrize("env_id", SCRATCH_PAD_IDS)
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), length=st.integers(1, 6), choices=st.lists(CHOICE, min_size=1, max_size=80))
def test_random_calls_keep_the_env_sound(env_id: str, seed: int, length: int, choices) -> None:
    drive(env_id, seed, length, choices)


@pytest.mark.parametrize("env_id", SCRATCH_PAD_IDS)
def test_the_driver_reaches_both_outcomes(env_id: str) -> None:
    rng = np.random.default_rng(0)
    solved = failed = 0
    for seed in range(40):
        choices = [(int(rng.choice(3, p=[0.5, 0.3, 0.2])), *map(int, rng.integers(0, 10_000, 4))) for _ in range(40)]
        s, f = drive(env_id, seed, 1 + seed % 4, choices)
        solved, failed = solved + s, failed + f
    assert solved >= 5 and failed >= 5, (solved, failed)
