"""Wrappers that adapt the program-call envs to other agents (flat discrete actions, memoryless policies)."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from npi_gym.base import TaskEnv


class FlatCalls(gym.Wrapper):
    """One ``Discrete`` action over every valid call of the task, with exact masks.

    ``action_masks()`` (for sb3-contrib's MaskablePPO) and ``info["action_mask"]`` (for
    ``action_space.sample(mask=...)``) mark the calls valid now. Works on any env whose unwrapped
    object is an ``npi_gym.TaskEnv`` (every npi-gym env).
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        base = env.unwrapped
        if not isinstance(base, TaskEnv):
            raise TypeError(
                "FlatCalls wraps npi-gym task envs (an env whose unwrapped object is an npi_gym.TaskEnv, "
                f"e.g. gym.make('NPI-Sort-v0')); got {type(base).__name__}"
            )
        self.calls: tuple[dict[str, Any], ...] = tuple(base.flat_actions)
        self.action_space = spaces.Discrete(len(self.calls))

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return obs, self._with_mask(info)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if not (np.ndim(action) == 0 and np.issubdtype(np.asarray(action).dtype, np.integer)) or not (
            0 <= int(action) < len(self.calls)
        ):
            raise ValueError(f"action {action!r} is not in the action space {self.action_space}")
        obs, reward, terminated, truncated, info = self.env.step(self.calls[int(action)])
        return obs, reward, terminated, truncated, self._with_mask(info)

    def action_masks(self) -> np.ndarray:
        """Which flat actions are valid now (sb3-contrib's MaskablePPO calls this)."""
        return self.env.unwrapped.flat_action_mask()

    def _with_mask(self, info: dict[str, Any]) -> dict[str, Any]:
        return {**info, "action_mask": self.env.unwrapped.flat_action_mask().astype(np.int8)}


class PreviousCall(gym.ObservationWrapper):
    """Adds the running program's previous call to the observation, for memoryless policies.

    ``prev_program`` is the id of the last call the running program made (RETURN's id 0 never
    appears there; ``len(programs)`` means it has made none yet) and ``prev_args`` its arguments.
    A call into a sub-program counts once it returns.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        programs = env.unwrapped.programs
        self._none = len(programs)
        self.observation_space = spaces.Dict(
            {
                **env.observation_space.spaces,
                "prev_program": spaces.Discrete(len(programs) + 1),
                "prev_args": spaces.MultiDiscrete(programs.arg_sizes),
            }
        )
        self._last: list[tuple[int, tuple[int, int, int]]] = []

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._last = [(self._none, (0, 0, 0))]
        return super().reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        call = self.env.unwrapped.action_to_call(action)
        depth = self.env.unwrapped.depth
        result = self.env.step(action)
        if "invalid_call" not in result[4]:
            new_depth = self.env.unwrapped.depth
            if new_depth < depth:
                self._last.pop()
            else:
                self._last[-1] = (call.program, call.args)
                if new_depth > depth:
                    self._last.append((self._none, (0, 0, 0)))
        obs, *rest = result
        return (self.observation(obs), *rest)  # type: ignore[return-value]

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        program, args = self._last[-1] if self._last else (self._none, (0, 0, 0))
        return {
            **observation,
            "prev_program": np.int64(program),
            "prev_args": np.array(args, dtype=np.int64),
        }
