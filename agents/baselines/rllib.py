"""The envs under RLlib's current API: registered by ``npi_gym:`` id, masked through RLlib's own action-masking RLModule.

RLlib's ``ActionMaskingTorchRLModule`` (PPO) reads a ``Dict`` observation of ``"action_mask"`` and
``"observations"``; ``MaskedObservation`` gives it that from ``FlatCalls``. Ray is the optional extra
``npi-gym[ray]``: this module imports it only when a function here needs it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import RecordConstructorArgs

import npi_gym
from agents.baselines.wrappers import BudgetIsFailure
from npi_gym.programs import ProgramSet
from npi_gym.wrappers import FlatCalls, PreviousCall


class MaskedObservation(gym.ObservationWrapper, RecordConstructorArgs):
    """The observation as ``{"action_mask", "observations"}``: RLlib's action-masking layout.

    ``observations`` is the wrapped env's observation flattened to one float32 vector
    (``gymnasium.spaces.flatten``: one-hot for the discrete parts); ``action_mask`` is 1.0 where
    ``FlatCalls.action_masks()`` allows the flat call. Wraps an env with ``FlatCalls`` in its chain.
    """

    def __init__(self, env: gym.Env) -> None:
        RecordConstructorArgs.__init__(self)
        super().__init__(env)
        if not isinstance(env.action_space, spaces.Discrete):
            raise TypeError(f"MaskedObservation wraps an env with FlatCalls in its chain (a Discrete action space); got {env.action_space}")
        flat = spaces.flatten_space(env.observation_space)
        self.observation_space = spaces.Dict({
            "action_mask": spaces.Box(0.0, 1.0, (int(env.action_space.n),), np.float32),
            "observations": spaces.Box(flat.low.astype(np.float32), flat.high.astype(np.float32), dtype=np.float32),
        })

    def observation(self, observation: dict[str, Any]) -> dict[str, np.ndarray]:
        return {
            "action_mask": np.asarray(self.env.get_wrapper_attr("action_masks")(), dtype=np.float32),
            "observations": spaces.flatten(self.env.observation_space, observation).astype(np.float32),
        }


def make_env(env_id: str, env_config: dict[str, Any] | None = None) -> gym.Env:
    """``gym.make("npi_gym:ID", **env_config)`` with flat calls (and the previous call, for program-call envs), masked for RLlib.

    The ``npi_gym:`` prefix makes Gymnasium import the package first, so an RLlib worker in a fresh
    process finds the ids. An exhausted step budget ends as a failure (``BudgetIsFailure``), as in the
    SB3 baselines' wrappers.
    """
    env: gym.Env = FlatCalls(BudgetIsFailure(gym.make(f"{npi_gym.__name__}:{env_id}", **dict(env_config or {}))))
    if isinstance(getattr(env.unwrapped, "programs", None), ProgramSet):
        env = PreviousCall(env)
    return MaskedObservation(env)


def register(env_id: str) -> str:
    """Register ``env_id`` with Ray Tune (``tune.register_env``) under the name ``npi_gym:ID``; that name."""
    from ray import tune

    name = f"{npi_gym.__name__}:{env_id}"
    tune.register_env(name, partial(make_env, env_id))
    return name


def ppo_config(
    env_id: str, env_kwargs: dict[str, Any] | None = None, env_runners: int = 2, batch: int = 1000, seed: int = 0
) -> Any:
    """A ``PPOConfig`` on ``env_id`` with RLlib's ``ActionMaskingTorchRLModule``: ``batch`` env steps an iteration."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

    return (
        PPOConfig()
        .environment(register(env_id), env_config=dict(env_kwargs or {}))
        .env_runners(num_env_runners=env_runners, num_envs_per_env_runner=1)
        .training(train_batch_size_per_learner=batch, minibatch_size=min(batch, 128), num_epochs=2)
        .rl_module(rl_module_spec=RLModuleSpec(module_class=ActionMaskingTorchRLModule, model_config={"head_fcnet_hiddens": [64, 64]}))
        .debugging(seed=seed)
    )


def train_ppo(env_id: str, iterations: int, **kwargs: Any) -> tuple[list[dict[str, float]], Any]:
    """Train ``ppo_config(env_id, **kwargs)`` for ``iterations``: each one's env steps, mean episode length and return
    (NaN while no episode has ended); the RLModule."""
    algo = ppo_config(env_id, **kwargs).build_algo()
    try:
        curve = []
        for _ in range(iterations):
            runners = algo.train()["env_runners"]
            # RLlib reports episode means only once an episode has ended: NaN before
            keys = ("num_env_steps_sampled_lifetime", "episode_len_mean", "episode_return_mean")
            curve.append({key: float(runners.get(key, "nan")) for key in keys})
        return curve, algo.get_module()
    finally:
        algo.stop()
