"""The envs under RLlib: masked observations for every program-call env and a table env, and PPO with masking on Ray."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from agents.baselines.rllib import MaskedObservation, make_env
from npi_gym import FlatCalls
from npi_gym.registry import PROGRAM_CALL_IDS

RLLIB_IDS = [*PROGRAM_CALL_IDS, "NPI-Table-1Col-v0"]


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of two CPUs for this module's tests, shut down after them."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.rllib")
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()


@pytest.mark.parametrize("env_id", RLLIB_IDS)
def test_masked_observations_carry_the_flat_call_mask(env_id: str) -> None:
    env = make_env(env_id)
    assert set(env.observation_space.spaces) == {"action_mask", "observations"}
    assert env.observation_space["action_mask"].shape == (env.action_space.n,)
    obs, info = env.reset(seed=3)
    for step in range(30):
        assert env.observation_space.contains(obs), (env_id, step)
        np.testing.assert_array_equal(obs["action_mask"], env.get_wrapper_attr("action_masks")())
        np.testing.assert_array_equal(obs["action_mask"], info["action_mask"])
        obs, _, terminated, truncated, info = env.step(env.action_space.sample(mask=info["action_mask"]))
        if terminated or truncated:
            obs, info = env.reset()
    again = gym.make(env.spec)  # every wrapper records its arguments: the spec re-creates the chain
    assert again.observation_space == env.observation_space and again.action_space == env.action_space


def test_masked_observation_wants_flat_calls() -> None:
    with pytest.raises(TypeError, match="FlatCalls"):
        MaskedObservation(gym.make("NPI-Sort-v0"))
    assert isinstance(MaskedObservation(FlatCalls(gym.make("NPI-Sort-v0"))).observation_space, gym.spaces.Dict)


@pytest.mark.slow
def test_ppo_with_masking_trains_on_sort_across_two_env_runners(local_ray) -> None:
    import torch
    from ray.rllib.core.columns import Columns

    from agents.baselines.rllib import train_ppo

    curve, module = train_ppo("NPI-Sort-v0", 3, env_kwargs={"max_length": 3}, env_runners=2, batch=1000)
    for i, it in enumerate(curve):
        print(f"iteration {i + 1}: {it['num_env_steps_sampled_lifetime']:.0f} env steps, mean episode length "
              f"{it['episode_len_mean']:.1f}, mean episode return {it['episode_return_mean']:.3f}")
    assert [it["num_env_steps_sampled_lifetime"] for it in curve] == [1000.0 * (i + 1) for i in range(3)]
    assert all(math.isfinite(it["episode_len_mean"]) and 0.0 <= it["episode_return_mean"] <= 1.0 for it in curve)
    env = make_env("NPI-Sort-v0", {"max_length": 3})
    obs, _ = env.reset(seed=0)
    batch = {Columns.OBS: {k: torch.as_tensor(v)[None] for k, v in obs.items()}}
    logits = module.forward_exploration(batch)[Columns.ACTION_DIST_INPUTS][0]
    invalid = obs["action_mask"] == 0
    assert invalid.any() and (torch.softmax(logits, -1)[torch.as_tensor(invalid)] < 1e-6).all()


@pytest.mark.slow
@pytest.mark.parametrize("env_id", RLLIB_IDS)
def test_ppo_with_masking_runs_an_iteration_on_every_env(local_ray, env_id: str) -> None:
    from agents.baselines.rllib import train_ppo

    curve, _ = train_ppo(env_id, 1, env_runners=0, batch=200)
    assert curve[0]["num_env_steps_sampled_lifetime"] == 200.0
