"""Wrappers that are a learner's choice, not part of a task: applied through the hyperparameter files."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
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


class GoalProgress(gym.Wrapper, RecordConstructorArgs):
    """Opt-in shaping for sub-program episodes: credit for setting the goal's entries right, settled at the end.

    The goal is the state a sub-program episode's success test compares with (the env's
    ``goal_mismatch``: pointers and cells); the expert's calls are never read. An episode's shaping
    sums to ``weight`` times (entries wrong at the start that are right at the end, less entries
    right at the start that are wrong at the end) over the entries wrong at the start: the
    potential-based sum (Ng, Harada & Russell, 1999), so solving, at ``1 + weight``, pays more than
    anything else. It is paid as it is earned where it helps exploring: each entry pays its share
    the first time it is set right, and nothing is taken for a move that spoils one (CARRY steps a
    pointer away and back) until the episode ends, when the rest is settled. Root episodes keep the
    sparse 0/1 reward, and so does every evaluation. Place it outside a ``Curriculum``, which counts
    successes from the sparse reward; ``info["sparse_reward"]`` keeps it.
    """

    def __init__(self, env: gym.Env, weight: float = 0.5) -> None:
        RecordConstructorArgs.__init__(self, weight=weight)
        super().__init__(env)
        if not callable(getattr(env.unwrapped, "goal_mismatch", None)):
            raise TypeError(f"GoalProgress wraps program-call envs (npi_gym.PROGRAM_CALL_IDS); got {type(env.unwrapped).__name__}")
        if not 0.0 < weight < 1.0:
            raise ValueError(f"GoalProgress weight must be in (0, 1), below the reward of solving; got {weight}")
        self.weight = weight
        self._unpaid: np.ndarray | None = None
        self._share = self._paid = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        wrong = self.env.unwrapped.goal_mismatch()
        self._unpaid = None if wrong is None or not wrong.any() else wrong.copy()
        self._share = 0.0 if self._unpaid is None else self.weight / int(self._unpaid.sum())
        self._paid = 0.0
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = {**info, "sparse_reward": reward}
        if self._unpaid is None:
            return obs, reward, terminated, truncated, info
        wrong = self.env.unwrapped.goal_mismatch()
        fixed = self._unpaid & ~wrong
        self._unpaid &= ~fixed
        bonus = self._share * int(fixed.sum())
        if terminated or truncated:
            bonus = self.weight - self._share * int(wrong.sum()) - self._paid
        self._paid += bonus
        return obs, float(reward) + bonus, terminated, truncated, info
