"""The ``FlatCalls`` index of an env's actions, seen from an agent: the calls and their mask from ``info`` alone."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from npi_gym import FlatCalls


class FlatIndex:
    """``FlatCalls``' action list for an env, and the flat mask read from an unwrapped env's ``info["action_mask"]``.

    A flat call is allowed when each of its components is (the ``Dict`` mask's product): exactly
    ``FlatCalls.action_masks()`` on the program-call envs, whose calls are only the declared pairs.
    """

    def __init__(self, env: gym.Env) -> None:
        self.calls: tuple[dict[str, Any], ...] = FlatCalls(env).calls
        self._columns = {
            key: np.array([np.atleast_1d(c[key]) for c in self.calls], dtype=np.int64) for key in self.calls[0]
        }

    def mask(self, info: dict[str, Any]) -> np.ndarray:
        """Which flat calls the env's ``info["action_mask"]`` allows now."""
        allowed = np.ones(len(self.calls), dtype=bool)
        for key, column in self._columns.items():
            parts = info["action_mask"][key]
            parts = parts if isinstance(parts, tuple) else (parts,)
            for k, part in enumerate(parts):
                allowed &= np.asarray(part, dtype=bool)[column[:, k]]
        return allowed
