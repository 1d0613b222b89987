"""Wrappers that are a learner's choice, not part of a task: applied through the hyperparameter files."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
from gymnasium.utils import RecordConstructorArgs


class BudgetIsFailure(gym.Wrapper, RecordConstructorArgs):
    """Ends an episode whose step budget ran out as a failure: ``terminated=True`` (reward unchanged, 0).

    The program-call envs report an exhausted budget as ``truncated``, as Gymnasium's time limits are.
    stable-baselines3 then bootstraps the return from the value of the last observation, so a policy
    that never returns can look as good as its value estimate says; for these tasks the budget is the
    task's own bound (twice the expert's steps), and running out of it is a failed episode.
    ``info["budget_exhausted"]`` marks such an ending.
    """

    def __init__(self, env: gym.Env) -> None:
        RecordConstructorArgs.__init__(self)
        super().__init__(env)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if truncated and not terminated:
            return obs, reward, True, False, {**info, "budget_exhausted": True}
        return obs, reward, terminated, truncated, info
