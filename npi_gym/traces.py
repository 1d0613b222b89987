"""Expert rollouts as traces: records for supervised training, the paper's text rendering, JSON export."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

import gymnasium as gym
import numpy as np

from npi_gym.core import ProgramEnv
from npi_gym.programs import Call, ProgramSet


@dataclass(frozen=True)
class TraceStep:
    """One step of a rollout: the observation the running program saw and the call it made."""

    frame: int
    depth: int
    observation: dict[str, Any]
    call: Call


@dataclass
class Trace:
    """An expert rollout of one episode.

    ``opening`` is the call the episode opened (the root program, or a sub-program); each step
    belongs to the call frame numbered ``frame`` (0 is the opening frame, then in order of calls).
    """

    programs: ProgramSet
    problem: Any
    opening: Call
    steps: list[TraceStep] = field(default_factory=list)
    reward: float = 0.0

    def __len__(self) -> int:
        return len(self.steps)

    def frames(self) -> Iterator[tuple[Call, list[TraceStep]]]:
        """Each call frame's call and its steps in order: one training sequence per frame."""
        calls = [self.opening]
        per_frame: list[list[TraceStep]] = [[]]
        for i, step in enumerate(self.steps):
            per_frame[step.frame].append(step)
            following = self.steps[i + 1] if i + 1 < len(self.steps) else None
            if following is not None and following.frame == len(per_frame):
                calls.append(step.call)
                per_frame.append([])
        yield from zip(calls, per_frame)

    def text(self, returns: bool = False) -> str:
        """The trace as in the paper: one call per line, indented by call depth."""
        lines = [self.programs.names[self.opening.program]]
        for step in self.steps:
            if step.call.program == 0 and not returns:
                continue
            lines.append("  " * step.depth + self.programs.text(step.call))
        return "\n".join(lines)

    def to_json(self) -> str:
        """The trace as JSON: problem, reward and, per step, frame, depth, call text, ids and observation."""
        return json.dumps(
            {
                "problem": _plain(self.problem),
                "opening": self.programs.text(self.opening),
                "reward": self.reward,
                "steps": [
                    {
                        "frame": s.frame,
                        "depth": s.depth,
                        "call": self.programs.text(s.call),
                        "program": s.call.program,
                        "args": list(s.call.args),
                        "observation": {k: _plain(v) for k, v in s.observation.items()},
                    }
                    for s in self.steps
                ],
            }
        )


def rollout(env: gym.Env, seed: int | None = None, options: dict[str, Any] | None = None) -> Trace:
    """Play the expert for one episode of ``env`` and record every step."""
    base: ProgramEnv = env.unwrapped  # type: ignore[assignment]
    obs, _ = env.reset(seed=seed, options=options)
    opening = Call(int(obs["program"]), tuple(int(a) for a in obs["args"]))  # type: ignore[arg-type]
    trace = Trace(base.programs, base.problem, opening)
    frame_of_depth = [0]
    frames_opened = 1
    while True:
        call = base.expert_call()
        if call is None:
            raise RuntimeError("the expert has no next call: the episode left the expert's path")
        depth = base.depth
        trace.steps.append(TraceStep(frame_of_depth[depth - 1], depth, obs, call))
        obs, reward, terminated, truncated, _ = env.step(base.call_to_action(call))
        new_depth = base.depth
        if new_depth > depth:
            frame_of_depth[depth:] = [frames_opened]
            frames_opened += 1
        if terminated or truncated:
            trace.reward = float(reward)
            return trace


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value
