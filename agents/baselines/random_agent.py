"""The floor of every table: a uniformly random call among those the masks allow."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from agents.baselines.flat import FlatIndex


class RandomAgent:
    """Picks uniformly among the allowed flat calls (``npi-gym eval --agent agents.baselines:RandomAgent``)."""

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        self.index = FlatIndex(env)
        self.rng = np.random.default_rng(seed)

    def reset(self, obs: dict[str, Any], info: dict[str, Any]) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        return self.index.calls[int(self.rng.choice(np.flatnonzero(self.index.mask(info))))]
