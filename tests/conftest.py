"""Shared fixtures: the registered ids, and helpers to drive an env with seeded random masked actions."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import npi_gym

ALL_IDS = list(npi_gym.ENV_IDS)
SCRATCH_PAD_IDS = [*npi_gym.FAMILY_IDS["addition"], *npi_gym.FAMILY_IDS["sort"]]


def masked_random_actions(env: gym.Env, seed: int, steps: int) -> list[tuple[Any, ...]]:
    """Run ``steps`` steps of seeded random masked actions (resetting as needed); return every result."""
    env.action_space.seed(seed)
    obs, info = env.reset(seed=seed)
    results: list[tuple[Any, ...]] = [(obs, info)]
    for _ in range(steps):
        action = env.action_space.sample(mask=info["action_mask"])
        obs, reward, terminated, truncated, info = env.step(action)
        results.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            obs, info = env.reset()
            results.append((obs, info))
    return results


def assert_same(a: Any, b: Any) -> None:
    """Deep equality for nested dicts/tuples/lists of arrays and scalars."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b, (a, b)
