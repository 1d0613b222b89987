"""ProgramEnv: the call stack, spaces, masks, sub-program episodes, rewards and expert of every NPI task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterator

import numpy as np
from gymnasium import spaces

from npi_gym.base import INT64, InvalidCall, TaskEnv, check_bool, check_int
from npi_gym.programs import Call, ProgramSet

__all__ = ["InvalidCall", "ProgramEnv", "check_bool", "check_int"]

RETURN_CALL = Call(0, (0, 0, 0))
RESET_OPTIONS = ("problem", "length", "program")
PROBLEM_DRAWS = 100
"""random problems drawn for a sub-program episode before giving up on one where the expert calls it"""


@dataclass
class Frame:
    """One running program: its call, its expert routine and whether the agent has followed it."""

    call: Call
    expert: Iterator[str]
    pending: Call | None = None
    on_track: bool = True


class ProgramEnv(TaskEnv):
    """Base class of the NPI task envs: each ``step`` is one program call.

    A subclass declares ``programs`` (its ProgramSet without the recursive flag), ``root`` (the
    program an episode opens) and the task hooks below; one expert routine per non-primitive program
    as a method ``expert_<NAME>`` that yields the text of each call it makes, in order (checked when
    the subclass is defined). ``length_limit`` bounds the problem sizes a reset accepts.

    Make-time ``program`` (one of ``episode_programs``) opens every reset at that sub-program unless
    ``options["program"]`` names another: the way to sub-program episodes for learners that never
    pass reset options. A random problem in which the expert never calls the program is drawn again
    (up to ``PROBLEM_DRAWS`` times).
    """

    programs: ClassVar[ProgramSet]
    root: ClassVar[str]
    length_limit: ClassVar[int | None] = None
    """the largest problem size (``max_length``, ``options["length"]``, a given problem) a reset accepts"""
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    reset_options = RESET_OPTIONS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = getattr(cls, "programs", None)
        if table is None:
            return
        missing = [
            f"expert_{p.name}"
            for p in table.programs[1:]
            if not p.primitive and not callable(getattr(cls, f"expert_{p.name}", None))
        ]
        if missing:
            raise TypeError(
                f"{cls.__name__} declares non-primitive programs without an expert routine: define "
                f"{', '.join(missing)} (a generator yielding the text of each call the program makes)"
            )

    def __init__(
        self,
        recursive: bool = False,
        invalid_call: str = "noop",
        render_mode: str | None = None,
        program: str | None = None,
    ) -> None:
        """``program``: the sub-program every reset opens unless ``options["program"]`` says otherwise (None: the root)."""
        table = type(self).programs
        self.recursive = check_bool("recursive", recursive)
        self.programs = ProgramSet(table.programs[1:], recursive=self.recursive)
        self.program = self.root if program is None else self._check_program("program", program)
        p = self.programs
        self.action_space = spaces.Dict(
            {"program": spaces.Discrete(len(p)), "args": spaces.MultiDiscrete(p.arg_sizes)}
        )
        self.observation_space = spaces.Dict(
            {
                **self._task_spaces(),
                "program": spaces.Discrete(len(p)),
                "args": spaces.MultiDiscrete(p.arg_sizes),
            }
        )
        self._frames: list[Frame] = []
        self._history: list[Call] = []
        self._start: tuple[Any, Call, Any] | None = None
        self._steps = 0
        super().__init__(invalid_call=invalid_call, render_mode=render_mode)
        self._n_programs = len(p)
        keys = list(self.action_space.spaces)
        self._program_at, self._args_at = keys.index("program"), keys.index("args")

    # ----------------------------------------------------------------- problem sizes
    def _set_length_bounds(self, min_length: int, max_length: int, smallest: int = 1, largest: int | None = None) -> None:
        """Check and keep the make-time bounds of the sampled problem sizes (up to ``length_limit``)."""
        largest = self.length_limit if largest is None else largest
        self.min_length = check_int("min_length", min_length, smallest, largest)
        self.max_length = check_int("max_length", max_length, self.min_length, largest)

    def _draw_length(self, length: int | None) -> int:
        """``length``, or a size drawn uniformly from the make-time bounds with ``self.np_random``."""
        return int(self.np_random.integers(self.min_length, self.max_length + 1)) if length is None else length

    # ----------------------------------------------------------------- task hooks (subclasses)
    def _task_spaces(self) -> dict[str, spaces.Space]:
        """The task's own observation keys: what the paper's encoder sees, fixed size."""
        raise NotImplementedError

    def _sample_problem(self, length: int | None, program: str | None) -> Any:
        """A random problem drawn with ``self.np_random``: of size ``length`` when given, and one in
        which the expert calls ``program`` when the episode opens at that sub-program (None: the root)."""
        raise NotImplementedError

    def _check_problem(self, problem: Any) -> Any:
        """The problem in canonical form, or ``ValueError`` saying what is accepted (sizes up to ``length_limit``)."""
        raise NotImplementedError

    def _load(self, problem: Any) -> None:
        """Set up the state for a new problem."""
        raise NotImplementedError

    def _get_state(self) -> tuple:
        """A copy of the task state (arrays and numbers)."""
        raise NotImplementedError

    def _set_state(self, state: tuple) -> None:
        """Restore a state taken by ``_get_state``."""
        raise NotImplementedError

    def _act(self, args: tuple[int, int, int]) -> str | None:
        """Apply the primitive ACT; return why it is invalid (state unchanged) or None."""
        raise NotImplementedError

    def _observe(self) -> dict[str, Any]:
        """The task keys of the observation, as fresh arrays."""
        raise NotImplementedError

    def _solved(self) -> bool:
        """Whether the task is solved in the current state (checked when the root returns)."""
        raise NotImplementedError

    def _render_text(self) -> str:
        raise NotImplementedError

    def _render_image(self) -> np.ndarray:
        raise NotImplementedError

    # ----------------------------------------------------------------- episodes
    def _begin(self, options: dict[str, Any]) -> None:
        program = self._check_program("options['program']", options.get("program", self.program))
        length = options.get("length")
        if length is not None:
            length = check_int("options['length']", length, 1, self.length_limit)
        sub = None if program == self.root else self.programs.ids[program]
        for _ in range(1 if "problem" in options else PROBLEM_DRAWS):
            if "problem" in options:
                problem = self._check_problem(options["problem"])
            else:
                problem = self._sample_problem(length, None if sub is None else program)
            self.problem = problem
            self._load(problem)
            if sub is None:
                opening, self._target = Call(self.programs.ids[program], (0, 0, 0)), None
                expert_steps, deepest = self._measure_expert()
                break
            picked = self._sample_subprogram(sub)
            if picked is not None:
                opening, self._target, expert_steps, deepest = picked
                break
        else:
            tries = "on this problem" if "problem" in options else f"on {PROBLEM_DRAWS} random problems"
            raise ValueError(
                f"the expert of {type(self).__name__} never calls {program} {tries}; "
                "give a larger options['length'] or max_length"
            )
        self._budget = 2 * expert_steps + 2
        self._max_depth = 2 * deepest + 2 if self.recursive else self.programs.depth(program)
        self._start = (self._get_state(), opening, self._target)
        self._open(opening)

    @property
    def episode_programs(self) -> tuple[str, ...]:
        """The programs an episode can open: the root and every non-primitive program some program calls."""
        called = {c for p in self.programs.programs for c in p.calls}
        return tuple(
            p.name for p in self.programs.programs[1:] if not p.primitive and (p.name == self.root or p.name in called)
        )

    def _check_program(self, name: str, program: Any) -> str:
        accepted = list(self.episode_programs)
        if isinstance(program, str) and program in accepted:
            return program
        declared = isinstance(program, str) and program in self.programs.ids and program != "RETURN"
        never = declared and not self.programs[program].primitive
        why = f"the expert never calls {program} (no program calls it); " if never else ""
        raise ValueError(f"{why}{name} must be one of {accepted}, got {program!r}")

    def _read_action(self, action: Any) -> Call:
        """The Call of an action: an int and an int64 array are read here, any other form by the space."""
        if type(action) is dict and len(action) == 2:
            program, args = action.get("program"), action.get("args")
            if (
                (type(program) is int or type(program) is np.int64)
                and type(args) is np.ndarray
                and args.dtype is INT64
                and args.shape == (3,)
            ):
                program = int(program)
                a0, a1, a2 = args.tolist()
                s0, s1, s2 = self.programs.arg_sizes
                if 0 <= program < self._n_programs and 0 <= a0 < s0 and 0 <= a1 < s1 and 0 <= a2 < s2:
                    return Call(program, (a0, a1, a2))
        values = self.check_action(action)
        return Call(values[self._program_at], values[self._args_at])

    def _step(self, call: Call) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        self._history.append(call)
        reason = self._execute(call)
        if reason is not None and self.invalid_call == "raise":
            self._history.pop()
            self._steps -= 1
            raise InvalidCall(reason)
        terminated = not self._frames
        reward = 0.0
        if terminated:
            reward = 1.0 if self.succeeded() else 0.0
        truncated = not terminated and (
            self._steps >= self._budget or len(self._frames) > self._max_depth
        )
        self._done = terminated or truncated
        return self._observation(), reward, terminated, truncated, self._info(reason)

    def _render(self) -> str | np.ndarray:
        return self._render_text() if self.render_mode == "ansi" else self._render_image()

    # ----------------------------------------------------------------- public helpers
    def expert_action(self) -> dict[str, Any] | None:
        """The reference program's next call as an action, while the agent has followed it; else None."""
        call = self.expert_call()
        return None if call is None else self.call_to_action(call)

    def expert_call(self) -> Call | None:
        """The reference program's next call, while the agent has followed it; else None."""
        if not self._frames or self._done or not self._frames[-1].on_track:
            return None
        return self._expert_next(self._frames[-1])

    def call_to_action(self, call: Call | str) -> dict[str, Any]:
        """An action of the action space for a call, given as a Call or as text like ``"ADD1"``."""
        if isinstance(call, str):
            call = self.programs.parse(call)
        return {"program": call.program, "args": np.array(call.args, dtype=np.int64)}

    def action_to_call(self, action: dict[str, Any]) -> Call:
        """The Call an action stands for; ``ValueError`` naming the space if it is outside it."""
        return self._read_action(action)

    @property
    def stack(self) -> tuple[str, ...]:
        """Names of the running programs, outermost first."""
        return tuple(self.programs.names[f.call.program] for f in self._frames)

    @property
    def depth(self) -> int:
        """How many programs are running (0 once the episode's opening program has returned)."""
        return len(self._frames)

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def step_budget(self) -> int:
        return self._budget

    @property
    def max_depth(self) -> int:
        return self._max_depth

    # ----------------------------------------------------------------- expert building blocks
    def loop(self, program: str, body: tuple[str, ...], done: Callable[[], bool]) -> Iterator[str]:
        """Run ``body`` until ``done()``; recursive variant: run it once, then ``program`` calls itself."""
        while True:
            yield from body
            if done():
                return
            if self.recursive:
                yield program
                return

    def repeat(self, callee: str, done: Callable[[], bool]) -> Iterator[str]:
        """Call ``callee`` until ``done()``; recursive variant: call it once and it calls itself."""
        while not done():
            yield callee
            if self.recursive:
                return

    def tail_call(self, program: str, done: Callable[[], bool]) -> Iterator[str]:
        """Recursive variant: continue a ``repeat`` loop by calling ``program`` again unless ``done()``."""
        if self.recursive and not done():
            yield program

    # ----------------------------------------------------------------- machinery
    def _open(self, opening: Call) -> None:
        self._frames = [Frame(opening, self._expert(opening.program))]
        self._history = []
        self._steps = 0
        self._done = False

    def _expert(self, program: int) -> Iterator[str]:
        return getattr(self, "expert_" + self.programs.names[program])()

    def _expert_next(self, frame: Frame) -> Call:
        if frame.pending is None:
            text = next(frame.expert, None)
            frame.pending = RETURN_CALL if text is None else self.programs.parse(text)
        return frame.pending

    def _execute(self, call: Call) -> str | None:
        """Carry out one call on the stack; return why it was invalid (nothing changed) or None."""
        self._steps += 1
        frame = self._frames[-1]
        programs = self.programs
        if not programs.call_mask[frame.call.program, call.program]:
            return (
                f"{programs.names[frame.call.program]} may not call {programs.names[call.program]}; "
                f"it may call {programs.allowed_calls[frame.call.program]}"
            )
        if not programs.accepts(call):
            return f"{programs.text(call)}: arguments not accepted; accepted: {programs.accepted_args[call.program]}"
        expected = self._expert_next(frame) if frame.on_track else None
        if programs.programs[call.program].primitive:
            reason = self._act(call.args)
            if reason is not None:
                return reason
        if expected == call:
            frame.pending = None
        else:
            frame.on_track = False
        if call.program == 0:
            self._frames.pop()
            if self._frames and not frame.on_track:
                self._frames[-1].on_track = False
        elif not programs.programs[call.program].primitive:
            self._frames.append(Frame(call, self._expert(call.program)))
        return None

    def succeeded(self) -> bool:
        """Whether the episode's success test holds now: the reward RETURN from the episode's frame would earn.

        The task solved (root episodes) or the state the expert reaches from the episode's start
        (sub-program episodes). Right after ``reset`` it tells whether the empty answer solves the episode.
        """
        if self._target is None:
            return self._solved()
        return _states_equal(self._get_state(), self._target)

    def goal_mismatch(self) -> np.ndarray | None:
        """Which state entries differ from a sub-program episode's success state (flat booleans); None on root episodes.

        The state ``succeeded`` compares with (pointers and cells, entry by entry, in a fixed order); a
        root episode's success is the task's own test, which has no such state.
        """
        if self._target is None:
            return None
        return np.concatenate([_entries_differing(x, y) for x, y in zip(self._get_state(), self._target)])

    def _expert_calls(self) -> Iterator[tuple[int, Call]]:
        """Play the expert from the root on the current state, yielding (frames open, call) per call.

        Each call is yielded before it takes effect. Leaves the state where the expert ends.
        """
        programs = self.programs
        routines = [self._expert(programs.ids[self.root])]
        while routines:
            text = next(routines[-1], None)
            call = RETURN_CALL if text is None else programs.parse(text)
            yield len(routines), call
            if call.program == 0:
                routines.pop()
            elif programs.programs[call.program].primitive:
                self._act(call.args)
            else:
                routines.append(self._expert(call.program))

    def _measure_expert(self) -> tuple[int, int]:
        """The expert's number of steps and deepest stack from the root; the state is left as it was."""
        start = self._get_state()
        steps = deepest = 0
        for depth, _ in self._expert_calls():
            steps += 1
            deepest = max(deepest, depth)
        self._set_state(start)
        return steps, deepest

    def _sample_subprogram(self, program: int) -> tuple[Call, tuple, int, int] | None:
        """Pick one of the expert's calls of ``program`` at random, playing the expert from the root.

        Returns the call, the state the expert reaches when that call returns, the expert's steps
        inside it and its deepest stack there, and leaves the env in the state just before the call;
        None when the expert never calls ``program`` on this problem. The expert is played once to
        find the calls and again up to the picked one, so no state is copied per call.
        """
        start = self._get_state()
        spans: list[tuple[int, int, Call, int]] = []  # (step of the call, step of its RETURN, call, deepest)
        open_at: list[list] = []
        for step, (depth, call) in enumerate(self._expert_calls()):
            for record in open_at:
                record[3] = max(record[3], depth - record[0] + 1)
            if call.program == program:
                open_at.append([depth + 1, step, call, 1])
            elif call.program == 0 and open_at and depth == open_at[-1][0]:
                _, first, opened, deepest = open_at.pop()
                spans.append((first, step, opened, deepest))
        if not spans:
            return None
        first, last, opened, deepest = spans[int(self.np_random.integers(len(spans)))]
        self._set_state(start)
        for step, _ in enumerate(self._expert_calls()):
            if step == first:
                before = self._get_state()
            if step == last:
                after = self._get_state()
                break
        self._set_state(before)
        return opened, after, last - first, deepest

    def _observation(self) -> dict[str, Any]:
        obs = self._observe()
        call = self._frames[-1].call if self._frames else RETURN_CALL
        obs["program"] = np.int64(call.program)
        obs["args"] = np.array(call.args, dtype=np.int64)
        return obs

    def _action_mask(self) -> dict[str, Any]:
        running = self._frames[-1].call.program if self._frames else 0
        program_mask, (a0, a1, a2) = self.programs.action_masks[running]
        return {"program": program_mask.copy(), "args": (a0.copy(), a1.copy(), a2.copy())}

    def _flat_action_mask(self) -> np.ndarray:
        """Which of ``self.programs.calls`` the running program may make now (0: the episode is over)."""
        return self.programs.flat_masks[self._frames[-1].call.program if self._frames else 0].copy()

    @property
    def flat_actions(self) -> tuple[dict[str, Any], ...]:
        """Every call the program table declares, as actions (what ``FlatCalls`` enumerates)."""
        return tuple(self.call_to_action(c) for c in self.programs.calls)

    # ----------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_frames"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the call stack (and its expert routines) by replaying the episode's calls."""
        self.__dict__.update(state)
        if state["_start"] is None:
            self._frames = []
            return
        done, history = self._done, self._history
        task_start, opening, _ = self._start
        self._set_state(task_start)
        self._open(opening)
        for call in history:
            self._execute(call)
        self._history = history
        self._done = done


def _states_equal(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def _entries_differing(a: Any, goal: Any) -> np.ndarray:
    a, goal = np.asarray(a), np.asarray(goal)
    return (a != goal).ravel() if a.shape == goal.shape else np.ones(goal.size, dtype=bool)
