"""Wrappers that adapt the program-call envs to other agents (flat discrete actions, memoryless policies, a curriculum).

Each records its constructor arguments (``gymnasium.utils.RecordConstructorArgs``), as Gymnasium's own
wrappers do, so ``env.spec`` re-creates the wrapped env (``check_env``, vector envs, RLlib).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Sequence, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import RecordConstructorArgs

from npi_gym.base import TaskEnv
from npi_gym.programs import Call, ProgramSet


class FlatCalls(gym.Wrapper, RecordConstructorArgs):
    """One ``Discrete`` action over every valid call of the task, with exact masks.

    ``action_masks()`` (for sb3-contrib's MaskablePPO) and ``info["action_mask"]`` (for
    ``action_space.sample(mask=...)``) mark the calls valid now. Works on any env whose unwrapped
    object is an ``npi_gym.TaskEnv`` (every npi-gym env).
    """

    def __init__(self, env: gym.Env) -> None:
        RecordConstructorArgs.__init__(self)
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


class CallMemory:
    """The last call of each running program, kept from the calls alone (what ``PreviousCall`` shows).

    A valid call of a non-primitive program opens a frame, a valid RETURN closes one; ``last`` is the
    running program's previous (program id, args), ``none`` (``len(programs)``) before its first call.
    """

    def __init__(self, programs: ProgramSet) -> None:
        self.programs = programs
        self.none = len(programs)
        self._frames: list[tuple[int, tuple[int, int, int]]] = []

    def reset(self) -> None:
        self._frames = [(self.none, (0, 0, 0))]

    def record(self, call: Call, info: dict[str, Any]) -> None:
        """Note ``call``, made by the running program; ``info`` is what the step returned."""
        if "invalid_call" in info or not self._frames:
            return
        if call.program == 0:
            self._frames.pop()
        elif self.programs.programs[call.program].primitive:
            self._frames[-1] = (call.program, call.args)
        else:
            self._frames[-1] = (call.program, call.args)
            self._frames.append((self.none, (0, 0, 0)))

    @property
    def last(self) -> tuple[int, tuple[int, int, int]]:
        return self._frames[-1] if self._frames else (self.none, (0, 0, 0))


class PreviousCall(gym.ObservationWrapper, RecordConstructorArgs):
    """Adds the running program's previous call to the observation, for memoryless policies.

    ``prev_program`` is the id of the last call the running program made (RETURN's id 0 never
    appears there; ``len(programs)`` means it has made none yet) and ``prev_args`` its arguments.
    A call into a sub-program counts once it returns. Works above or below ``FlatCalls``.
    """

    def __init__(self, env: gym.Env) -> None:
        RecordConstructorArgs.__init__(self)
        super().__init__(env)
        programs = getattr(env.unwrapped, "programs", None)
        if not isinstance(programs, ProgramSet):
            raise TypeError(
                f"PreviousCall wraps program-call envs (npi_gym.PROGRAM_CALL_IDS); {type(env.unwrapped).__name__} has no call stack"
            )
        self.observation_space = spaces.Dict(
            {
                **env.observation_space.spaces,
                "prev_program": spaces.Discrete(len(programs) + 1),
                "prev_args": spaces.MultiDiscrete(programs.arg_sizes),
            }
        )
        self._flat = _find(env, FlatCalls)
        self._memory = CallMemory(programs)

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._memory.reset()
        return super().reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        flat = action if self._flat is None else self._flat.calls[int(action)]
        self._memory.record(self.env.unwrapped.action_to_call(flat), info)
        return self.observation(obs), reward, terminated, truncated, info

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        return with_previous_call(observation, self._memory)


def with_previous_call(observation: dict[str, Any], memory: CallMemory) -> dict[str, Any]:
    """The observation with ``memory``'s last call as ``prev_program`` and ``prev_args``."""
    program, args = memory.last
    return {**observation, "prev_program": np.int64(program), "prev_args": np.array(args, dtype=np.int64)}


def _find(env: gym.Env, kind: type[gym.Wrapper]) -> gym.Wrapper | None:
    """The outermost wrapper of type ``kind`` in ``env``'s chain, if any."""
    while isinstance(env, gym.Wrapper):
        if isinstance(env, kind):
            return env
        env = env.env
    return None


def bottom_up(programs: ProgramSet) -> tuple[str, ...]:
    """The non-primitive programs, leaves first (by call depth, then by id): a curriculum's order."""
    names = [p.name for p in programs.programs[1:] if not p.primitive]
    return tuple(sorted(names, key=lambda n: (programs.depth(n), programs.ids[n])))


class Curriculum(gym.Wrapper, RecordConstructorArgs):
    """Climbs the program hierarchy bottom-up with sub-program episodes, growing the problem size on success.

    Stages are every (program, length) pair: programs in ``programs`` order (default
    ``bottom_up(env.unwrapped.programs)``: leaves first, the root last), and for each one the
    ``lengths`` in order (``None``: the env's own sampling). Each ``reset`` opens the current stage's
    episode through ``options={"program": P, "length": n}`` (options passed to ``reset`` win), which is
    how an SB3 learner, which never passes options, gets sub-program episodes. When the success rate
    (reward 1.0 at termination; a truncation is a failure) over the last ``window`` finished episodes
    reaches ``threshold``, the next stage begins; the last stage stays. With ``revisit`` > 0, that share
    of the episodes replays an earlier stage drawn uniformly (not counted towards the current one), so
    the skills below keep being practised. The reward is the env's, sparse 0/1;
    ``info["curriculum_stage"]`` is the stage of the episode. In a vector env each copy climbs on its own;
    ``start_at`` puts a copy back on a saved stage.
    """

    def __init__(
        self,
        env: gym.Env,
        lengths: Sequence[int | None] = (None,),
        window: int = 100,
        threshold: float = 0.9,
        programs: Sequence[str] | None = None,
        revisit: float = 0.0,
    ) -> None:
        RecordConstructorArgs.__init__(
            self, lengths=lengths, window=window, threshold=threshold, programs=programs, revisit=revisit
        )
        super().__init__(env)
        table = getattr(env.unwrapped, "programs", None)
        if not isinstance(table, ProgramSet):
            raise TypeError(f"Curriculum wraps program-call envs (npi_gym.PROGRAM_CALL_IDS); got {type(env.unwrapped).__name__}")
        order = bottom_up(table)
        unknown = [p for p in programs or () if p not in order]
        if unknown:
            raise ValueError(f"Curriculum programs {unknown} are not non-primitive programs of this env; accepted: {list(order)}")
        if not lengths or window < 1 or not 0.0 < threshold <= 1.0 or not 0.0 <= revisit < 1.0:
            raise ValueError(
                "Curriculum needs at least one length, window >= 1, 0 < threshold <= 1 and 0 <= revisit < 1; "
                f"got {lengths=}, {window=}, {threshold=}, {revisit=}"
            )
        self.stages: tuple[dict[str, Any], ...] = tuple(
            {"program": p} | ({} if n is None else {"length": int(n)}) for p in (programs or order) for n in lengths
        )
        self.threshold = threshold
        self.revisit = revisit
        self.stage = 0
        self.playing = 0
        self.outcomes: deque[bool] = deque(maxlen=window)
        self._rng = np.random.default_rng()

    @property
    def success_rate(self) -> float:
        """The success rate over the last ``window`` finished episodes of this stage (0 before any)."""
        return float(np.mean(self.outcomes)) if self.outcomes else 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        replay = self.stage > 0 and self.revisit > 0 and self._rng.random() < self.revisit
        self.playing = int(self._rng.integers(self.stage)) if replay else self.stage
        obs, info = self.env.reset(seed=seed, options={**self.stages[self.playing], **(options or {})})
        return obs, {**info, "curriculum_stage": self.playing}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if (terminated or truncated) and self.playing == self.stage:
            self.record(terminated and float(reward) == 1.0)
        return obs, reward, terminated, truncated, {**info, "curriculum_stage": self.playing}

    def start_at(self, stage: int) -> None:
        """Continue from ``stage`` (a resumed run's), with an empty window."""
        if not 0 <= stage < len(self.stages):
            raise ValueError(f"Curriculum stage must be in 0..{len(self.stages) - 1}; got {stage}")
        self.stage = int(stage)
        self.outcomes.clear()

    def record(self, solved: bool) -> None:
        """Count one finished episode; advance once the window is full and its success rate reaches the threshold."""
        self.outcomes.append(bool(solved))
        full = len(self.outcomes) == self.outcomes.maxlen
        if full and self.success_rate >= self.threshold and self.stage + 1 < len(self.stages):
            self.stage += 1
            self.outcomes.clear()
