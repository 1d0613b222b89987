"""NPI-Quicksort-v0: quicksort with Lomuto partition and a stack of (lo, hi) ranges, after Cai et al. (2017)."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
from gymnasium import spaces

from npi_gym.core import ProgramEnv, check_int
from npi_gym.envs.sort import check_array
from npi_gym.programs import Program, ProgramSet
from npi_gym.rendering import grid_image

POINTERS = ("LO", "HI", "PIVOT", "J")
LO, HI, PIVOT, J = range(4)
SET_PIVOT_LO, SET_J_LO, SET_J_NULL, MOVE, SWAP, STACK = range(6)
PUSH_LEFT, PUSH_RIGHT, POP = range(3)
RENDER_COLUMNS = 32
LENGTH_LIMIT = 500

ACT_ARGS = {
    "SET_PIVOT_LO": (SET_PIVOT_LO, 0, 0),
    "SET_J_LO": (SET_J_LO, 0, 0),
    "SET_J_NULL": (SET_J_NULL, 0, 0),
    "MOVE PIVOT RIGHT": (MOVE, PIVOT, 0),
    "MOVE J RIGHT": (MOVE, J, 0),
    "SWAP PIVOT J": (SWAP, J, 0),
    "SWAP PIVOT HI": (SWAP, HI, 0),
    "STACK PUSH LEFT": (STACK, PUSH_LEFT, 0),
    "STACK PUSH RIGHT": (STACK, PUSH_RIGHT, 0),
    "STACK POP": (STACK, POP, 0),
}

PROGRAMS = ProgramSet(
    [
        Program("QUICKSORT", calls=("PARTITION", "ACT"), recursive=True, doc="sort the ranges on the stack"),
        Program("PARTITION", calls=("COMPSWAP_LOOP", "ACT"), doc="Lomuto partition of lo..hi around the value at hi"),
        Program("COMPSWAP_LOOP", calls=("COMPSWAP", "ACT"), recursive=True, doc="COMPSWAP and move j right until j reaches hi"),
        Program("COMPSWAP", calls=("ACT",), doc="if the value at j is at most the pivot value, swap it to the pivot pointer"),
        Program("ACT", primitive=True, args=ACT_ARGS, doc="set, move or swap under pointers; push or pop a range"),
    ]
)


class QuicksortEnv(ProgramEnv):
    """Quicksort (Lomuto partition) with the programs of Cai, Shin & Song (ICLR 2017).

    ## Description

    An array, four pointers (lo, hi, pivot, j; each may point nowhere) and a stack of (lo, hi)
    ranges, which starts holding the whole array. Programs QUICKSORT, PARTITION, COMPSWAP_LOOP,
    COMPSWAP and the primitive ACT, whose arguments stand for the paper's SET_PIVOT_LO, SET_J_LO,
    SET_J_NULL, MOVE, SWAP and STACK (the paper's WRITE of a range onto the stack is part of
    STACK PUSH here):

    - ``SET_PIVOT_LO``, ``SET_J_LO``: the pivot pointer, or j, to lo; ``SET_J_NULL``: j to nowhere;
    - ``MOVE PIVOT RIGHT``, ``MOVE J RIGHT``; ``SWAP PIVOT J``, ``SWAP PIVOT HI``: swap the values;
    - ``STACK PUSH LEFT`` pushes (lo, pivot - 1), ``STACK PUSH RIGHT`` (pivot + 1, hi), ``STACK POP``
      sets lo and hi to the top range (removed) and the pivot pointer to nowhere.

    PARTITION: ``SET_PIVOT_LO``, ``SET_J_LO``, COMPSWAP_LOOP (COMPSWAP, ``MOVE J RIGHT`` until
    j = hi; COMPSWAP: ``SWAP PIVOT J`` and ``MOVE PIVOT RIGHT`` if A[j] <= A[hi]), ``SWAP PIVOT
    HI``, ``SET_J_NULL``. QUICKSORT: ``STACK POP``; if lo < hi, PARTITION, ``STACK PUSH RIGHT``,
    ``STACK PUSH LEFT``. Non-recursive variant: QUICKSORT repeats that until the stack is empty,
    COMPSWAP_LOOP loops. Recursive variant: QUICKSORT then calls QUICKSORT twice (each sorts one
    pushed range), COMPSWAP_LOOP calls itself.

    ## Action Space

    ``Dict({"args": MultiDiscrete([6, 4, 1]), "program": Discrete(6)})``: a program id (RETURN is
    0) and three arguments, which only ACT reads (the texts above). A call the table forbids,
    undeclared arguments or a primitive that cannot apply (a pointer to nowhere or off the array,
    an empty or full stack) is an invalid call: nothing changes, ``info["invalid_call"]`` says why
    and the step counts, or ``InvalidCall`` is raised with ``invalid_call="raise"``. An action
    outside the action space raises ``ValueError`` naming the space.

    ## Observation Space

    ``numbers`` (``MultiDiscrete([max_value + 2] * 4)``: the values under lo, hi, pivot and j;
    ``max_value + 1`` where a pointer is nowhere or off the array), ``flags`` (``MultiBinary(4)``:
    lo < hi, j = hi, A[j] <= A[hi], the stack is empty), ``program`` and ``args``: the same size
    whatever the array. The array is ``env.unwrapped.array``.

    ## Rewards

    1.0 when the opening program returns with the array sorted or, for a sub-program episode,
    with the state the expert reaches from the same start; else 0.0.

    ## Starting State

    ``reset`` samples a problem and opens a frame for QUICKSORT (or the make-time ``program``).
    ``options`` may fix the problem (``{"problem": [8, 2, 1]}``), its size (``{"length": n}``: n
    values) or open the episode at a sub-program (``{"program": "PARTITION"}``: a state where the
    expert calls it, picked at random along the expert's run; a random problem is drawn again, up
    to 100 times, until the expert calls it). A malformed option raises ``ValueError`` saying what
    is accepted.

    ## Episode End

    Terminated when the opening program returns. Truncated when the step budget (twice the expert's
    steps on the problem, +2) or the call depth (the table's depth; recursive variant: twice the
    expert's deepest stack, +2) runs out.

    ## Arguments

    ``min_length``, ``max_length`` (values per array, default 2..10, at most ``LENGTH_LIMIT`` =
    500: an expert episode is about 4 n log n calls on random arrays and 2.5 n^2 (recursive: 3.5 n^2)
    on sorted or constant ones (630,000 and 880,000 at 500), and a reset plays the expert once
    (twice for a sub-program episode): up to about 0.5 s (recursive: 0.7 s) there;
    ``options["length"]`` and given problems have the same limit), ``max_value`` (values drawn from 0..max_value, default 9), ``recursive`` (True or
    False), ``program`` (the sub-program every reset opens unless ``options["program"]`` names
    another; default QUICKSORT), ``invalid_call`` ("noop" or "raise"), ``render_mode`` ("ansi",
    "rgb_array" or None).

    ## Registered Configurations

    ``NPI-Quicksort-v0`` and ``NPI-Quicksort-Recursive-v0`` (``recursive=True``).
    """

    programs = PROGRAMS
    root = "QUICKSORT"
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
        return {"numbers": spaces.MultiDiscrete([self.max_value + 2] * 4), "flags": spaces.MultiBinary(4)}

    def _sample_problem(self, length: int | None, program: str | None) -> tuple[int, ...]:
        rng = self.np_random
        n = self._draw_length(length)
        return tuple(rng.integers(0, self.max_value + 1, size=n).tolist())

    def _check_problem(self, problem: Any) -> tuple[int, ...]:
        return check_array("quicksort", problem, self.max_value, LENGTH_LIMIT)

    def _load(self, problem: tuple[int, ...]) -> None:
        self._values = list(problem)
        self._ptr: list[int | None] = [None] * 4
        self._stack = [0, len(problem) - 1]  # (lo, hi) ranges, flat

    # ----------------------------------------------------------------- state
    @property
    def array(self) -> np.ndarray:
        return np.array(self._values, dtype=np.int64)

    @property
    def pointers(self) -> tuple[int | None, ...]:
        """lo, hi, pivot and j (None: nowhere)."""
        return tuple(self._ptr)

    @property
    def ranges(self) -> tuple[tuple[int, int], ...]:
        """The stack of (lo, hi) ranges, bottom first."""
        return tuple(zip(self._stack[::2], self._stack[1::2]))

    def _get_state(self) -> tuple:
        return tuple(self._values), tuple(self._ptr), tuple(self._stack)

    def _set_state(self, state: tuple) -> None:
        self._values, self._ptr, self._stack = list(state[0]), list(state[1]), list(state[2])

    def _on_array(self, pointer: int) -> bool:
        p = self._ptr[pointer]
        return p is not None and 0 <= p < len(self._values)

    def _act(self, args: tuple[int, int, int]) -> str | None:
        kind, which, _ = args
        ptr = self._ptr
        if kind in (SET_PIVOT_LO, SET_J_LO):
            if not self._on_array(LO):
                return "lo points nowhere on the array"
            ptr[PIVOT if kind == SET_PIVOT_LO else J] = ptr[LO]
        elif kind == SET_J_NULL:
            ptr[J] = None
        elif kind == MOVE:
            if not self._on_array(which) or ptr[which] == len(self._values) - 1:
                return f"{POINTERS[which].lower()} cannot move right: it points nowhere or at the last value"
            ptr[which] += 1
        elif kind == SWAP:
            if not (self._on_array(PIVOT) and self._on_array(which)):
                return f"pivot and {POINTERS[which].lower()} must both point at values"
            i, k = ptr[PIVOT], ptr[which]
            self._values[i], self._values[k] = self._values[k], self._values[i]
        elif which == POP:
            if not self._stack:
                return "the stack is empty"
            ptr[LO], ptr[HI] = self._stack[-2:]
            ptr[PIVOT] = None
            del self._stack[-2:]
        else:
            if ptr[PIVOT] is None or ptr[LO] is None or ptr[HI] is None:
                return "a push needs lo, hi and pivot set"
            if len(self._stack) >= 4 * len(self._values) + 2:
                return f"the stack is full ({2 * len(self._values) + 1} ranges)"
            self._stack += [ptr[LO], ptr[PIVOT] - 1] if which == PUSH_LEFT else [ptr[PIVOT] + 1, ptr[HI]]
        return None

    def _value(self, pointer: int) -> int:
        return self._values[self._ptr[pointer]] if self._on_array(pointer) else self.max_value + 1

    def _lo_below_hi(self) -> bool:
        lo, hi = self._ptr[LO], self._ptr[HI]
        return lo is not None and hi is not None and lo < hi

    def _observe(self) -> dict[str, Any]:
        lo, hi, _, j = self._ptr
        compare = self._on_array(J) and self._on_array(HI) and self._value(J) <= self._value(HI)
        flags = [self._lo_below_hi(), j is not None and j == hi, compare, not self._stack]
        return {
            "numbers": np.array([self._value(p) for p in range(4)], dtype=np.int64),
            "flags": np.array(flags, dtype=np.int8),
        }

    def _solved(self) -> bool:
        return self._values == sorted(self._values)

    # ----------------------------------------------------------------- expert
    def expert_QUICKSORT(self) -> Iterator[str]:
        while True:
            yield "ACT STACK POP"
            if self._lo_below_hi():
                yield from ("PARTITION", "ACT STACK PUSH RIGHT", "ACT STACK PUSH LEFT")
                if self.recursive:
                    yield from ("QUICKSORT", "QUICKSORT")
            if self.recursive or not self._stack:
                return

    def expert_PARTITION(self) -> Iterator[str]:
        yield from ("ACT SET_PIVOT_LO", "ACT SET_J_LO", "COMPSWAP_LOOP", "ACT SWAP PIVOT HI", "ACT SET_J_NULL")

    def expert_COMPSWAP_LOOP(self) -> Iterator[str]:
        yield from self.loop("COMPSWAP_LOOP", ("COMPSWAP", "ACT MOVE J RIGHT"), lambda: self._ptr[J] == self._ptr[HI])

    def expert_COMPSWAP(self) -> Iterator[str]:
        if self._value(J) <= self._value(HI):
            yield from ("ACT SWAP PIVOT J", "ACT MOVE PIVOT RIGHT")

    # ----------------------------------------------------------------- rendering
    def _window(self) -> range:
        n = len(self._values)
        centre = next((p for p in (self._ptr[J], self._ptr[LO]) if p is not None), 0)
        start = int(np.clip(centre - RENDER_COLUMNS // 2, 0, max(0, n - RENDER_COLUMNS)))
        return range(start, min(n, start + RENDER_COLUMNS))

    def _render_text(self) -> str:
        window = self._window()
        head = f"{list(self.problem)}   ranges: {list(self.ranges)}   stack: {' > '.join(self.stack) or '(returned)'}"
        lines = [head, "ARRAY  " + "".join(f"{self._values[c]:>3}" for c in window)]
        for p, name in enumerate(POINTERS):
            lines.append(f"{name:<6} " + "".join("  ^" if self._ptr[p] == c else "   " for c in window))
        return "\n".join(lines) + "\n"

    def _render_image(self) -> np.ndarray:
        window = self._window()
        cells = [[str(self._values[c]) for c in window], *([" "] * len(window) for _ in POINTERS)]
        pointers = [[], *([self._ptr[p] - window.start] if self._ptr[p] in window else [] for p in range(4))]
        return grid_image(cells, pointers)
