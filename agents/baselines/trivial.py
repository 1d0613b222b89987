"""The trivial policy: RETURN at once. Whatever it solves (an array already sorted, ...) needs no skill."""

from __future__ import annotations

from typing import Any

import gymnasium as gym


class ReturnAtOnce:
    """Ends every program-call episode with its first step (``npi-gym eval --agent agents.baselines:ReturnAtOnce``)."""

    def __init__(self, env: gym.Env) -> None:
        self.action = env.unwrapped.call_to_action("RETURN")

    def reset(self, obs: dict[str, Any], info: dict[str, Any]) -> None:
        pass

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        return self.action
