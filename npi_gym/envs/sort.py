"""NPI-Sort-v0: bubble sort of an array with two compare pointers and a sweep counter."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
from gymnasium import spaces

from npi_gym.base import short_repr
from npi_gym.core import ProgramEnv, check_int
from npi_gym.programs import Program, ProgramSet
from npi_gym.rendering import grid_image

PTR, SWAP = 0, 1
P1, P2, P3 = 0, 1, 2
LEFT, RIGHT = 0, 1
RENDER_COLUMNS = 32
LENGTH_LIMIT = 200

ACT_ARGS = {
    **{
        f"PTR {p + 1} {side}": (PTR, p, s)
        for p in (P1, P2, P3)
        for s, side in enumerate(("LEFT", "RIGHT"))
    },
    "SWAP 1 2": (SWAP, P1, P2),
}

PROGRAMS = ProgramSet(
    [
        Program("BUBBLESORT", calls=("BUBBLE", "RESET"), recursive=True, doc="bubble sort, ascending"),
        Program("BUBBLE", calls=("ACT", "BSTEP"), doc="one sweep of the pointers left to right"),
        Program("RESET", calls=("LSHIFT", "ACT"), doc="pointers 1 and 2 back to the left end; sweep counter on"),
        Program("BSTEP", calls=("COMPSWAP", "RSHIFT"), recursive=True, doc="compare-swap, then advance"),
        Program("COMPSWAP", calls=("ACT",), doc="swap the values under pointers 1 and 2 if out of order"),
        Program("LSHIFT", calls=("ACT",), recursive=True, doc="move pointers 1 and 2 one step left"),
        Program("RSHIFT", calls=("ACT",), doc="move pointers 1 and 2 one step right"),
        Program("ACT", primitive=True, args=ACT_ARGS, doc="swap the values under pointers 1 and 2, or move a pointer"),
    ]
)


def check_array(task: str, problem: Any, max_value: int, limit: int) -> tuple[int, ...]:
    """An array problem as a tuple of ints in [0, max_value], or ``ValueError`` saying what is accepted."""
    accepted = (
        f"a non-empty list, tuple or 1-D array of at most {limit} integers in [0, {max_value}] "
        "(or strings of ASCII digits), e.g. [9, 2, 5]"
    )
    is_array = isinstance(problem, np.ndarray) and problem.ndim == 1
    if not (isinstance(problem, (list, tuple)) or is_array) or not 1 <= len(problem) <= limit:
        raise ValueError(f"a {task} problem is {accepted}; got {short_repr(problem)}")
    values = []
    for x in problem:
        if isinstance(x, str) and x.strip().isascii() and x.strip().isdigit():
            x = int(x)
        if not isinstance(x, (int, np.integer)) or isinstance(x, bool) or not 0 <= x <= max_value:
            raise ValueError(f"a {task} problem is {accepted}; {short_repr(x)} is not such an integer")
        values.append(int(x))
    return tuple(values)


class SortEnv(ProgramEnv):
    """Bubble sort as in the NPI paper.

    ## Description

    An array with three pointers and the programs BUBBLESORT, BUBBLE, RESET, BSTEP, COMPSWAP,
    LSHIFT, RSHIFT and the primitive ACT. Pointers 1 and 2 range over the array's cells; pointer 3
    counts finished sweeps and may stand on the end position (the array's length), where the sort
    stops: an array of N values takes N (BUBBLE, RESET) rounds. Moving a pointer off its range is an
    invalid call; the expert moves a pointer only where it can (the last RSHIFT of a sweep moves
    pointer 1 alone).

    ## Action Space

    ``Dict({"args": MultiDiscrete([2, 3, 2]), "program": Discrete(9)})``: a program id (RETURN is
    0) and three arguments, which only ACT reads: ``PTR 1|2|3 LEFT|RIGHT`` or ``SWAP 1 2``. A call
    the table forbids, undeclared arguments or a pointer moved off its range is an invalid call:
    nothing changes, ``info["invalid_call"]`` says why and the step counts, or ``InvalidCall`` is
    raised with ``invalid_call="raise"``. An action outside the action space raises ``ValueError``
    naming the space.

    ## Observation Space

    ``numbers`` (``MultiDiscrete([max_value + 1] * 2)``: the values under pointers 1 and 2),
    ``flags`` (``MultiBinary(5)``: pointer 1 at the start, at the end, pointer 2 at the start, at
    the end, the sweeps done), ``program`` and ``args``. The whole array is
    ``env.unwrapped.array``.

    ## Rewards

    1.0 when the opening program returns with the task solved (the array sorted) or, for a sub-program
    episode, with the state the expert reaches from the same start; else 0.0.

    ## Starting State

    ``reset`` samples a problem and opens a frame for BUBBLESORT (or the make-time ``program``). ``options`` may fix the problem
    (``{"problem": [9, 2, 5]}``), its size (``{"length": n}``: n values) or open the episode at
    a sub-program (``{"program": "BSTEP"}``: a state where the expert calls it, picked at random
    along the expert's run; a random problem is drawn again, up to 100 times, until the expert
    calls it). A malformed option raises ``ValueError`` saying what is accepted.

    ## Episode End

    Terminated when the opening program returns. Truncated when the step budget (twice the expert's
    steps on the problem, +2) or the call depth (the table's depth; recursive variant: twice the
    expert's deepest stack, +2) runs out.

    ## Arguments

    ``min_length``, ``max_length`` (values per array, default 2..10, at most ``LENGTH_LIMIT`` =
    200: bubble sort is quadratic, an expert episode of n values takes about 12 n^2 calls (487,500
    at 200) and a reset plays the expert once to set the step budget (twice for a sub-program
    episode): about 0.3 s at 200 (0.5 s for a sub-program episode), 7 s at 1,000;
    ``options["length"]`` and given problems have the same limit), ``max_value`` (values
    drawn from 0..max_value, default 9), ``recursive`` (True or False: BUBBLESORT, BSTEP and
    LSHIFT call themselves instead of looping), ``program`` (the sub-program every reset opens
    unless ``options["program"]`` names another, e.g. ``"BSTEP"``; default BUBBLESORT: what a
    learner that never passes reset options trains on), ``invalid_call`` ("noop" or "raise"),
    ``render_mode`` ("ansi", "rgb_array" or None).

    ## Registered Configurations

    ``NPI-Sort-v0`` and ``NPI-Sort-Recursive-v0`` (``recursive=True``).
    """

    programs = PROGRAMS
    root = "BUBBLESORT"
    length_limit = LENGTH_LIMIT

    def __init__(
        self,
        min_length: int = 2,
        max_length: int = 10,
        max_value: int = 9,
        recursive: bool = False,
        program: str | None = None,
        invalid_call: str = "noop",
        render_mode: str | None = None,
    ) -> None:
        self.max_value = check_int("max_value", max_value, 1, 999)
        self._set_length_bounds(min_length, max_length)
        super().__init__(recursive=recursive, invalid_call=invalid_call, render_mode=render_mode, program=program)

    # ----------------------------------------------------------------- problem
    def _task_spaces(self) -> dict[str, spaces.Space]:
        return {
            "numbers": spaces.MultiDiscrete([self.max_value + 1] * 2),
            "flags": spaces.MultiBinary(5),
        }

    def _sample_problem(self, length: int | None, program: str | None) -> tuple[int, ...]:
        rng = self.np_random
        n = self._draw_length(length)
        return tuple(rng.integers(0, self.max_value + 1, size=n).tolist())

    def _check_problem(self, problem: Any) -> tuple[int, ...]:
        return check_array("sort", problem, self.max_value, LENGTH_LIMIT)

    def _load(self, problem: tuple[int, ...]) -> None:
        self._values = list(problem)
        self._ptr = [0, 0, 0]

    # ----------------------------------------------------------------- state
    @property
    def array(self) -> np.ndarray:
        return np.array(self._values, dtype=np.int64)

    @property
    def pointers(self) -> np.ndarray:
        """Positions of pointers 1, 2 and 3."""
        return np.array(self._ptr, dtype=np.int64)

    def _get_state(self) -> tuple:
        return tuple(self._values), tuple(self._ptr)

    def _set_state(self, state: tuple) -> None:
        self._values, self._ptr = list(state[0]), list(state[1])

    def _act(self, args: tuple[int, int, int]) -> str | None:
        kind, pointer, value = args
        if kind == SWAP:
            i, j = self._ptr[P1], self._ptr[P2]
            self._values[i], self._values[j] = self._values[j], self._values[i]
            return None
        position = self._ptr[pointer] + (1 if value == RIGHT else -1)
        last = len(self._values) if pointer == P3 else len(self._values) - 1
        if not 0 <= position <= last:
            side = "right" if value == RIGHT else "left"
            return f"pointer {pointer + 1} is already at the {side} end"
        self._ptr[pointer] = position
        return None

    def _flags(self) -> np.ndarray:
        n, (p1, p2, p3) = len(self._values), self._ptr
        return np.array([p1 == 0, p1 == n - 1, p2 == 0, p2 == n - 1, p3 == n], dtype=np.int8)

    def _observe(self) -> dict[str, Any]:
        values, (p1, p2, _) = self._values, self._ptr
        return {"numbers": np.array((values[p1], values[p2]), dtype=np.int64), "flags": self._flags()}

    def _solved(self) -> bool:
        return self._values == sorted(self._values)

    # ----------------------------------------------------------------- expert
    def _p1_at_start(self) -> bool:
        return self._ptr[P1] == 0

    def _p1_at_end(self) -> bool:
        return self._ptr[P1] == len(self._values) - 1

    def _sweeps_done(self) -> bool:
        return self._ptr[P3] == len(self._values)

    def expert_BUBBLESORT(self) -> Iterator[str]:
        yield from self.loop("BUBBLESORT", ("BUBBLE", "RESET"), self._sweeps_done)

    def expert_BUBBLE(self) -> Iterator[str]:
        if self._ptr[P2] < len(self._values) - 1:
            yield "ACT PTR 2 RIGHT"
        yield from self.repeat("BSTEP", self._p1_at_end)

    def expert_BSTEP(self) -> Iterator[str]:
        yield "COMPSWAP"
        yield "RSHIFT"
        yield from self.tail_call("BSTEP", self._p1_at_end)

    def expert_COMPSWAP(self) -> Iterator[str]:
        if self._values[self._ptr[P1]] > self._values[self._ptr[P2]]:
            yield "ACT SWAP 1 2"

    def expert_RESET(self) -> Iterator[str]:
        yield from self.repeat("LSHIFT", self._p1_at_start)
        yield "ACT PTR 3 RIGHT"

    def expert_LSHIFT(self) -> Iterator[str]:
        for p in (P1, P2):
            if self._ptr[p] > 0:
                yield f"ACT PTR {p + 1} LEFT"
        yield from self.tail_call("LSHIFT", self._p1_at_start)

    def expert_RSHIFT(self) -> Iterator[str]:
        for p in (P1, P2):
            if self._ptr[p] < len(self._values) - 1:
                yield f"ACT PTR {p + 1} RIGHT"

    # ----------------------------------------------------------------- rendering
    def _window(self) -> range:
        n = len(self._values) + 1
        start = int(np.clip(self._ptr[P1] - RENDER_COLUMNS // 2, 0, max(0, n - RENDER_COLUMNS)))
        return range(start, min(n, start + RENDER_COLUMNS))

    def _render_text(self) -> str:
        window = self._window()
        cells = [" . " if c == len(self._values) else f" {self._values[c]} " for c in window]
        marks = [
            "".join(f" {p + 1} " if self._ptr[p] == c else "   " for c in window) for p in (P1, P2, P3)
        ]
        head = f"{list(self.problem)}   stack: {' > '.join(self.stack) or '(returned)'}"
        return "\n".join([head, "ARRAY " + "".join(cells), *(f"PTR{p + 1}  " + m for p, m in enumerate(marks))]) + "\n"

    def _render_image(self) -> np.ndarray:
        window = self._window()
        row = ["." if c == len(self._values) else str(self._values[c]) for c in window]
        cells = [row, *([" "] * len(window) for _ in range(3))]
        pointers = [[], *([self._ptr[p] - window.start] if self._ptr[p] in window else [] for p in (P1, P2, P3))]
        return grid_image(cells, pointers)
