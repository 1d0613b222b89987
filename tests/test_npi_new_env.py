"""A program-call env the agents have never seen trains with the NPI unchanged: registered here, a few updates."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from npi_gym.core import ProgramEnv, check_int
from npi_gym.programs import Program, ProgramSet

torch = pytest.importorskip("torch")

from agents.npi.agent import NPIAgent  # noqa: E402
from agents.npi.config import NPIConfig  # noqa: E402
from agents.npi.train import train  # noqa: E402

ENV_ID = "TestOnly-Walk-v0"


class WalkEnv(ProgramEnv):
    """Walk a pointer right to the end of a row of ``n`` cells, one STEP at a time."""

    programs = ProgramSet(
        [
            Program("WALK", calls=("STEP",), recursive=True, doc="step until the end"),
            Program("STEP", calls=("ACT",), doc="one cell right"),
            Program("ACT", primitive=True, args={"LEFT": (0, 0, 0), "RIGHT": (0, 0, 1)}, doc="move the pointer"),
        ]
    )
    root = "WALK"

    def __init__(self, max_length: int = 4, recursive: bool = False, invalid_call: str = "noop", render_mode: str | None = None) -> None:
        self.max_length = check_int("max_length", max_length, 1)
        super().__init__(recursive=recursive, invalid_call=invalid_call, render_mode=render_mode)

    def _task_spaces(self) -> dict[str, spaces.Space]:
        return {"at_end": spaces.MultiBinary(1), "position": spaces.Discrete(self.max_length + 1)}

    def _sample_problem(self, length: int | None, program: str | None) -> int:
        return int(self.np_random.integers(1, self.max_length + 1)) if length is None else length

    def _check_problem(self, problem: Any) -> int:
        return check_int("problem", problem, 1, self.max_length)

    def _load(self, problem: int) -> None:
        self._n, self._position = problem, 0

    def _get_state(self) -> tuple:
        return (self._position,)

    def _set_state(self, state: tuple) -> None:
        (self._position,) = state

    def _act(self, args: tuple[int, int, int]) -> str | None:
        position = self._position + (1 if args[2] else -1)
        if not 0 <= position <= self._n:
            return "the pointer is at the edge"
        self._position = position
        return None

    def _observe(self) -> dict[str, Any]:
        return {"at_end": np.array([self._position == self._n], dtype=np.int8), "position": self._position}

    def _solved(self) -> bool:
        return self._position == self._n

    def _render_text(self) -> str:
        return "." * self._position + "^" + "." * (self._n - self._position) + "\n"

    def expert_WALK(self) -> Iterator[str]:
        yield from self.repeat("STEP", self._solved)

    def expert_STEP(self) -> Iterator[str]:
        yield "ACT RIGHT"


def test_the_npi_trains_on_a_new_program_call_env_and_acts_through_env_step(tmp_path: Path) -> None:
    if ENV_ID not in gym.registry:
        gym.register(ENV_ID, entry_point=WalkEnv)
    cfg = NPIConfig(
        env_id=ENV_ID, min_length=1, max_length=4, problems_per_length=4, hidden=32, state_dim=32, encoder_hidden=32,
        program_dim=8, key_dim=8, batch_frames=16, lr=3e-3, updates=150, eval_every=50, eval_episodes=8,
        stop_after_perfect=1, curriculum_every=10, log_every=10,
    )
    summary = train(cfg, tmp_path / "walk.pt", progress=False)
    assert summary["updates"] > 0
    agent = NPIAgent.load(tmp_path / "walk.pt")
    env = gym.make(ENV_ID)
    solved = 0
    for seed, n in enumerate((1, 2, 3, 4)):
        obs, info = env.reset(seed=seed, options={"length": n})
        agent.reset(obs, info)
        while True:
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            if terminated or truncated:
                solved += reward == 1.0
                break
    assert solved == 4, summary
