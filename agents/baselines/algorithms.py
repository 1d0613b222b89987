"""The RL baselines, declared once: every ``npi-gym train`` subcommand, YAML file and adapter derives from this table."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Algorithm:
    """One stable-baselines3 / sb3-contrib algorithm as the suite trains it."""

    name: str
    """the ``npi-gym train`` subcommand"""
    zoo: str
    """rl-zoo3's name for it (and the stem of its hyperparams YAML)"""
    path: str
    """``module:Class`` of the SB3 algorithm"""
    doc: str
    maskable: bool = False
    """takes ``action_masks`` (sb3-contrib's MaskablePPO)"""
    recurrent: bool = False
    """keeps an LSTM state per episode"""

    def load_class(self) -> Any:
        module, cls = self.path.split(":")
        return getattr(importlib.import_module(module), cls)


ALGORITHMS: tuple[Algorithm, ...] = (
    Algorithm("ppo-mask", "ppo_mask", "sb3_contrib:MaskablePPO", "MaskablePPO: PPO that samples only the calls the masks allow", maskable=True),
    Algorithm("ppo", "ppo", "stable_baselines3:PPO", "PPO (invalid calls are no-ops that cost a step)"),
    Algorithm("a2c", "a2c", "stable_baselines3:A2C", "A2C"),
    Algorithm("dqn", "dqn", "stable_baselines3:DQN", "DQN"),
    Algorithm("qrdqn", "qrdqn", "sb3_contrib:QRDQN", "QR-DQN: distributional DQN"),
    Algorithm("recurrent-ppo", "ppo_lstm", "sb3_contrib:RecurrentPPO", "RecurrentPPO: PPO with an LSTM policy", recurrent=True),
)
BY_NAME: dict[str, Algorithm] = {a.name: a for a in ALGORITHMS}


def algorithm(name: str) -> Algorithm:
    """The algorithm called ``name`` (the subcommand or rl-zoo3's name)."""
    for a in ALGORITHMS:
        if name in (a.name, a.zoo):
            return a
    raise ValueError(f"unknown algorithm {name!r}; accepted: {', '.join(a.name for a in ALGORITHMS)}")
