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
    """Opt-in shaping for sub-program episodes: potential-based credit for the goal's entries set right.

    The goal is the state a sub-program episode's success test compares with (the env's
    ``goal_mismatch``: pointers and cells); the expert's calls are never read. Each entry wrong at the
    start is worth ``weight / (entries wrong at the start)`` while it is right; each entry right at the
    start costs ``spoil`` times that while it is wrong. Every step pays the change of that potential
    (Ng, Harada & Russell, 1999), so an episode's shaping is the potential where it ends, and solving,
    at ``1 + weight``, pays more than anything else. A small ``spoil`` keeps exploring cheap: CARRY
    must step a pointer away and back, and trying moves spoils entries on the way. Root episodes keep
    the sparse 0/1 reward, and so does every evaluation. Place it outside a ``Curriculum``, which
    counts successes from the sparse reward; ``info["sparse_reward"]`` keeps it.
    """

    def __init__(self, env: gym.Env, weight: float = 0.5, spoil: float = 0.1) -> None:
        RecordConstructorArgs.__init__(self, weight=weight, spoil=spoil)
        super().__init__(env)
        if not callable(getattr(env.unwrapped, "goal_mismatch", None)):
            raise TypeError(f"GoalProgress wraps program-call envs (npi_gym.PROGRAM_CALL_IDS); got {type(env.unwrapped).__name__}")
        if not 0.0 < weight < 1.0:
            raise ValueError(f"GoalProgress weight must be in (0, 1), below the reward of solving; got {weight}")
        if not 0.0 <= spoil <= 1.0:
            raise ValueError(f"GoalProgress spoil must be in [0, 1], a fraction of an entry's worth; got {spoil}")
        self.weight, self.spoil = weight, spoil
        self._start: np.ndarray | None = None
        self._share = self._potential = 0.0

    def _potential_now(self) -> float:
        wrong = self.env.unwrapped.goal_mismatch()
        fixed, spoiled = int((self._start & ~wrong).sum()), int((~self._start & wrong).sum())
        return self._share * (fixed - self.spoil * spoiled)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        wrong = self.env.unwrapped.goal_mismatch()
        self._start = None if wrong is None or not wrong.any() else wrong.copy()
        self._share = 0.0 if self._start is None else self.weight / int(self._start.sum())
        self._potential = 0.0
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = {**info, "sparse_reward": reward}
        if self._start is None:
            return obs, reward, terminated, truncated, info
        potential = self._potential_now()
        bonus, self._potential = potential - self._potential, potential
        return obs, float(reward) + bonus, terminated, truncated, info
