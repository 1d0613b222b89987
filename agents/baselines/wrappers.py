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


class SkipTrivial(gym.Wrapper, RecordConstructorArgs):
    """Draws the episode again while RETURN at once would solve it (an array already sorted, a swap not needed).

    Sparse 0/1 reward on problems that the empty answer sometimes solves teaches the empty answer;
    this wrapper keeps only the episodes where some work is needed. Whether RETURN solves an episode is
    the env's own success test (``ProgramEnv.succeeded`` right after reset), never the expert's calls.
    Up to ``redraws`` draws, then the last one is kept.
    """

    def __init__(self, env: gym.Env, redraws: int = 20) -> None:
        RecordConstructorArgs.__init__(self, redraws=redraws)
        super().__init__(env)
        if not callable(getattr(env.unwrapped, "succeeded", None)):
            raise TypeError(f"SkipTrivial wraps program-call envs (npi_gym.PROGRAM_CALL_IDS); got {type(env.unwrapped).__name__}")
        self.redraws = redraws

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        for _ in range(self.redraws):
            if not self.env.unwrapped.succeeded():
                break
            obs, info = self.env.reset(options=options)
        return obs, info
