"""Checks every registered id must pass: env checkers, determinism, pickling, subprocesses, vector envs."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import npi_gym
from npi_gym import FlatCalls
from tests.conftest import ALL_IDS, assert_same, masked_random_actions


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_gymnasium_check_env(env_id: str) -> None:
    for mode in gym.make(env_id).metadata["render_modes"]:
        env = gym.make(env_id, render_mode=mode)
        gym_check_env(env.unwrapped, skip_render_check=False)
        env.close()


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_sb3_check_env_on_flat_calls(env_id: str) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = FlatCalls(gym.make(env_id))
    sb3_check_env(env, warn=True)
    env.close()


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_seeded_runs_repeat_exactly(env_id: str) -> None:
    modes = gym.make(env_id).metadata["render_modes"]
    mode = "rgb_array" if "rgb_array" in modes else modes[0]
    runs = []
    for _ in range(2):
        env = gym.make(env_id, render_mode=mode)
        results = masked_random_actions(env, seed=7, steps=150)
        frames = [env.render()]
        env.close()
        runs.append((results, frames))
    assert_same(runs[0], runs[1])
    other = gym.make(env_id)
    assert not _same_observations(masked_random_actions(other, seed=8, steps=150), runs[0][0])


def _same_observations(a: list, b: list) -> bool:
    try:
        assert_same([r[0] for r in a], [r[0] for r in b])
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize("env_id", ALL_IDS)
@pytest.mark.parametrize("clone", [copy.deepcopy, lambda e: pickle.loads(pickle.dumps(e))], ids=["deepcopy", "pickle"])
def test_copies_continue_like_the_original(env_id: str, clone) -> None:
    env = gym.make(env_id)
    masked_random_actions(env, seed=3, steps=25)
    twin = clone(env)
    assert_same(twin.unwrapped.expert_action(), env.unwrapped.expert_action())
    a = masked_random_actions_from_here(env, seed=5, steps=40)
    b = masked_random_actions_from_here(twin, seed=5, steps=40)
    assert_same(a, b)
    env.close()
    twin.close()


def masked_random_actions_from_here(env: gym.Env, seed: int, steps: int) -> list:
    """Continue an episode in progress with seeded random actions: the expert's where it has one."""
    rng = np.random.default_rng(seed)
    results = []
    for _ in range(steps):
        expert = env.unwrapped.expert_action()
        if expert is not None and rng.random() < 0.7:
            action = expert
        else:
            env.action_space.seed(int(rng.integers(1 << 30)))
            action = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        results.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return results


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_make_in_fresh_subprocess(env_id: str) -> None:
    code = (
        "import gymnasium as gym\n"
        f"env = gym.make('npi_gym:{env_id}')\n"
        "obs, info = env.reset(seed=0)\n"
        "env.step(env.action_space.sample(mask=info['action_mask']))\n"
        "print(sorted(obs))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "program" in out.stdout or "step" in out.stdout


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_async_vector_env_runs(env_id: str) -> None:
    envs = gym.make_vec(env_id, num_envs=4, vectorization_mode="async")
    envs.action_space.seed(0)
    obs, info = envs.reset(seed=0)
    finished = 0
    for _ in range(300):
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert envs.observation_space.contains(obs)
        finished += int(np.sum(terminated | truncated))
    envs.close()
    assert finished > 0


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_action_outside_space_names_the_space(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action space"):
        env.step({"nonsense": 1})
    flat = FlatCalls(gym.make(env_id))
    flat.reset(seed=0)
    with pytest.raises(ValueError, match="Discrete"):
        flat.step(flat.action_space.n)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_unknown_kwarg_lists_the_accepted_ones(env_id: str) -> None:
    with pytest.raises(TypeError, match="accepted"):
        gym.make(env_id, no_such_option=1)


def test_unknown_id_is_a_clear_error() -> None:
    with pytest.raises(gym.error.Error, match="NPI-Nope"):
        gym.make("NPI-Nope-v0")


def test_every_id_is_registered_at_import() -> None:
    assert {"NPI-Addition-v0", "NPI-Addition-Recursive-v0", "NPI-Sort-v0", "NPI-Sort-Recursive-v0"} <= set(
        npi_gym.ENV_IDS
    )


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_maskable_ppo_builds_and_acts_on_flat_calls(env_id: str) -> None:
    import torch
    from sb3_contrib import MaskablePPO

    torch.set_num_threads(1)
    env = FlatCalls(gym.make(env_id))
    model = MaskablePPO("MultiInputPolicy", env, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu")
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, action_masks=env.action_masks())
    assert env.action_masks()[int(action)]
    env.close()
