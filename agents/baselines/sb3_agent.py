"""Plays an SB3 model trained by ``npi-gym train`` (on ``FlatCalls``, maybe ``PreviousCall``) through the env's own actions."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import npi_gym  # noqa: F401  (registers the ids)
from agents.baselines.algorithms import algorithm
from agents.baselines.flat import FlatIndex
from npi_gym.wrappers import CallMemory, FlatCalls, PreviousCall, with_previous_call

RUN_KEY = "npi_gym"
"""the model attribute (saved in the zip's ``data``) that records the algorithm, env and wrappers"""


def _shapes(space: gym.spaces.Dict) -> dict[str, tuple[int, ...]]:
    """The shape of each observation key: what a policy's network reads."""
    return {key: sub.shape for key, sub in space.spaces.items()}


def is_sb3_model(path: str | Path) -> bool:
    """Whether ``path`` is an SB3 ``.zip`` (a zip with a top-level ``data`` member)."""
    path = Path(path)
    if not path.is_file() or not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return "data" in z.namelist()


def run_info(path: str | Path) -> dict[str, Any]:
    """What ``npi-gym train`` recorded in the model at ``path`` (read without loading it)."""
    with zipfile.ZipFile(path) as z:
        data = json.loads(z.read("data"))
    if RUN_KEY not in data:
        raise ValueError(f"{path} is an SB3 model not saved by npi-gym train (no {RUN_KEY!r} entry); it cannot tell its algorithm and wrappers")
    return data[RUN_KEY]


class SB3Agent:
    """An SB3 model as an ``agents.base.Agent``: its ``FlatCalls`` index becomes ``calls[index]``.

    ``PreviousCall``'s observation keys are rebuilt from the agent's own calls; a recurrent model
    keeps its LSTM state for the episode; a maskable one gets the flat mask of ``info``.
    """

    def __init__(self, model: Any, env: gym.Env, previous_call: bool, maskable: bool, recurrent: bool) -> None:
        self.model = model
        self.index = FlatIndex(env)
        self.memory = CallMemory(env.unwrapped.programs) if previous_call else None
        self.maskable, self.recurrent = maskable, recurrent
        self._last: int | None = None

    @classmethod
    def load(cls, path: str | Path, env_id: str | None = None) -> SB3Agent:
        """The model at ``path`` for ``env_id`` (default: the id it was trained on)."""
        info = run_info(path)
        algo = algorithm(info["algorithm"])
        model = algo.load_class().load(path, device="cpu")
        env = gym.make(env_id or info["env_id"], **info["env_kwargs"])
        previous_call = f"{PreviousCall.__module__}.{PreviousCall.__name__}" in info["env_wrapper"]
        seen = PreviousCall(FlatCalls(env)) if previous_call else FlatCalls(env)
        if _shapes(seen.observation_space) != _shapes(model.observation_space) or seen.action_space != model.action_space:
            raise ValueError(
                f"{path} was trained on {info['env_id']} with env kwargs {info['env_kwargs']}: its observations "
                f"{_shapes(model.observation_space)} and {model.action_space.n} calls; {env.spec.id} has "
                f"{_shapes(seen.observation_space)} and {seen.action_space.n} calls"
            )
        agent = cls(model, env, previous_call=previous_call, maskable=algo.maskable, recurrent=algo.recurrent)
        agent.env_id, agent.env_kwargs = env_id or info["env_id"], dict(info["env_kwargs"])
        return agent

    def reset(self, obs: dict[str, Any], info: dict[str, Any]) -> None:
        self._state, self._start, self._last = None, True, None
        if self.memory is not None:
            self.memory.reset()

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        seen = obs
        if self.memory is not None:
            if self._last is not None:
                self.memory.record(self.memory.programs.calls[self._last], info)
            seen = with_previous_call(obs, self.memory)
        kwargs: dict[str, Any] = {"deterministic": True}
        if self.maskable:
            kwargs["action_masks"] = self.index.mask(info)
        if self.recurrent:
            kwargs.update(state=self._state, episode_start=np.array([self._start]))
        index, self._state = self.model.predict(seen, **kwargs)
        self._start = False
        self._last = int(index)
        return self.index.calls[self._last]
