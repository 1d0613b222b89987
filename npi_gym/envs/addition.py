"""NPI-Addition-v0: multi-digit addition on a 4-row scratch pad (input 1, input 2, carry, output)."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
from gymnasium import spaces

from npi_gym.base import short_repr
from npi_gym.core import ProgramEnv, check_int
from npi_gym.programs import Program, ProgramSet
from npi_gym.rendering import grid_image

ROWS = ("INP1", "INP2", "CARRY", "OUT")
INP1, INP2, CARRY, OUT = range(4)
ALL_ROWS = np.arange(4)
INPUT_ROWS = np.arange(3)
PTR, WRITE = 0, 1
LEFT, RIGHT = 0, 1
MAX_BASE = 10
LENGTH_LIMIT = 10_000
RENDER_COLUMNS = 32

ACT_ARGS = {
    **{
        f"PTR {row} {side}": (PTR, r, s)
        for r, row in enumerate(ROWS)
        for s, side in enumerate(("LEFT", "RIGHT"))
    },
    **{f"WRITE {ROWS[r]} {d}": (WRITE, r, d) for r in (CARRY, OUT) for d in range(MAX_BASE)},
}

PROGRAMS = ProgramSet(
    [
        Program("ADD", calls=("ADD1", "LSHIFT"), recursive=True, doc="multi-digit addition"),
        Program("ADD1", calls=("ACT", "CARRY"), doc="add one column, write the digit"),
        Program("CARRY", calls=("ACT",), doc="write a 1 in the carry row one column left"),
        Program("LSHIFT", calls=("ACT",), doc="move all four pointers one column left"),
        Program("RSHIFT", calls=("ACT",), doc="move all four pointers one column right (unused by the expert)"),
        Program("ACT", primitive=True, args=ACT_ARGS, doc="move a pointer or write a digit"),
    ]
)


class AdditionEnv(ProgramEnv):
    """Add two numbers column by column, right to left, as in the NPI paper.

    ## Description

    Two numbers written on the rows INP1 and INP2 of a scratch pad with the rows CARRY and OUT, four
    pointers (one per row) and the programs ADD, ADD1, CARRY, LSHIFT, RSHIFT and the primitive ACT.
    The pad has ``max(len(a), len(b)) + 2`` columns: room for the final carry and one blank column
    where the expert sees that nothing is left and returns. Every pointer starts at the rightmost
    column. The expert: ADD repeats ADD1 (write the column's digit, CARRY when the sum reaches the
    base) and LSHIFT until every input column is blank.

    ## Action Space

    ``Dict({"args": MultiDiscrete([2, 4, 10]), "program": Discrete(7)})``: a program id (RETURN is
    0) and three arguments, which only ACT reads: ``PTR row LEFT|RIGHT`` or ``WRITE CARRY|OUT
    digit``. A call the table forbids, undeclared arguments, a pointer moved off the pad or a digit
    outside the base is an invalid call: nothing changes, ``info["invalid_call"]`` says why and the
    step counts, or ``InvalidCall`` is raised with ``invalid_call="raise"``. An action outside the
    action space raises ``ValueError`` naming the space.

    ## Observation Space

    ``digits`` (``MultiDiscrete([base + 1] * 4)``: the digits under the four pointers, the symbol
    ``base`` for a blank cell), ``program`` (the running program's id) and ``args`` (its
    arguments). The whole pad is ``env.unwrapped.pad``.

    ## Rewards

    1.0 when the opening program returns with the task solved (the sum on the output row) or, for a sub-program
    episode, with the state the expert reaches from the same start; else 0.0.

    ## Starting State

    ``reset`` samples a problem and opens a frame for ADD (or the make-time ``program``). ``options`` may fix the problem
    (``{"problem": (96, 125)}``), its size (``{"length": n}``: the longer operand has n digits, the other 1..n) or open the episode at
    a sub-program (``{"program": "ADD1"}``: a state where the expert calls it, picked at random
    along the expert's run; a random problem is drawn again, up to 100 times, until the expert
    calls it). A malformed option raises ``ValueError`` saying what is accepted.

    ## Episode End

    Terminated when the opening program returns. Truncated when the step budget (twice the expert's
    steps on the problem, +2) or the call depth (the table's depth; recursive variant: twice the
    expert's deepest stack, +2) runs out.

    ## Arguments

    ``min_length``, ``max_length`` (digits of the longer operand, default 1..10, at most
    ``LENGTH_LIMIT`` = 10,000: a reset plays the expert once (twice for a sub-program episode),
    linear in the digits: about 0.15 s there (0.2 s for a sub-program episode) and an expert
    episode of 108,000 steps; ``options["length"]`` and given problems have the same limit),
    ``base`` (2..10, default 10), ``recursive`` (True or False: ADD calls itself instead of
    looping), ``program`` (the sub-program every reset opens unless ``options["program"]`` names
    another, e.g. ``"ADD1"``; default ADD: what a learner that never passes reset options trains
    on), ``invalid_call`` ("noop" or "raise"), ``render_mode`` ("ansi", "rgb_array" or None).

    ## Registered Configurations

    ``NPI-Addition-v0`` and ``NPI-Addition-Recursive-v0`` (``recursive=True``).
    """

    programs = PROGRAMS
    root = "ADD"
    length_limit = LENGTH_LIMIT

    def __init__(
        self,
        min_length: int = 1,
        max_length: int = 10,
        base: int = 10,
        recursive: bool = False,
        program: str | None = None,
        invalid_call: str = "noop",
        render_mode: str | None = None,
    ) -> None:
        self.base = check_int("base", base, 2, MAX_BASE)
        self._set_length_bounds(min_length, max_length)
        super().__init__(recursive=recursive, invalid_call=invalid_call, render_mode=render_mode, program=program)

    # ----------------------------------------------------------------- problem
    def _task_spaces(self) -> dict[str, spaces.Space]:
        return {"digits": spaces.MultiDiscrete([self.base + 1] * 4)}

    def _sample_problem(self, length: int | None, program: str | None) -> tuple[str, str]:
        rng = self.np_random
        longest = self._draw_length(length)
        lengths = [longest, int(rng.integers(1, longest + 1))]
        if rng.integers(2):
            lengths.reverse()
        return tuple(self._random_number(n) for n in lengths)  # type: ignore[return-value]

    def _random_number(self, n: int) -> str:
        digits = self.np_random.integers(0, self.base, size=n)
        if n > 1:
            digits[0] = self.np_random.integers(1, self.base)
        return (digits.astype(np.uint8) + ord("0")).tobytes().decode()

    def _check_problem(self, problem: Any) -> tuple[str, str]:
        accepted = (
            f"a pair (tuple or list) of non-negative integers or strings of base-{self.base} digits, "
            f"at most {LENGTH_LIMIT} digits each, e.g. (96, 125) or ('96', '125')"
        )
        if not isinstance(problem, (tuple, list, np.ndarray)) or len(problem) != 2:
            raise ValueError(f"an addition problem is {accepted}; got {short_repr(problem)}")
        return tuple(self._check_number(x, accepted) for x in problem)  # type: ignore[return-value]

    def _check_number(self, x: Any, accepted: str) -> str:
        digits = None
        if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) and x >= 0:
            if int(x).bit_length() <= LENGTH_LIMIT * np.log2(self.base) + 1:
                digits = np.base_repr(int(x), self.base)
        elif isinstance(x, str) and x and all(ch in "0123456789"[: self.base] for ch in x):
            digits = x.lstrip("0") or "0"
        if digits is None or len(digits) > LENGTH_LIMIT:
            raise ValueError(f"an addition problem is {accepted}; {short_repr(x)} is not a number of that kind")
        return digits

    def _load(self, problem: tuple[str, str]) -> None:
        width = max(map(len, problem)) + 2
        self._pad = np.full((4, width), self.base, dtype=np.int64)
        for row, number in zip((INP1, INP2), problem):
            self._pad[row, width - len(number) :] = np.frombuffer(number.encode(), np.uint8) - ord("0")
        self._ptr = np.full(4, width - 1, dtype=np.int64)

    # ----------------------------------------------------------------- state
    @property
    def pad(self) -> np.ndarray:
        """The whole scratch pad (rows INP1, INP2, CARRY, OUT); ``base`` marks a blank cell."""
        return self._pad.copy()

    @property
    def pointers(self) -> np.ndarray:
        return self._ptr.copy()

    def _get_state(self) -> tuple:
        return self._pad.copy(), self._ptr.copy()

    def _set_state(self, state: tuple) -> None:
        self._pad, self._ptr = state[0].copy(), state[1].copy()

    def _act(self, args: tuple[int, int, int]) -> str | None:
        kind, row, value = args
        if kind == PTR:
            column = self._ptr[row] + (1 if value == RIGHT else -1)
            if not 0 <= column < self._pad.shape[1]:
                side = "right" if value == RIGHT else "left"
                return f"pointer {ROWS[row]} is already at the {side} end of the pad"
            self._ptr[row] = column
        else:
            if value >= self.base:
                return f"{value} is not a digit in base {self.base}"
            self._pad[row, self._ptr[row]] = value
        return None

    def _observe(self) -> dict[str, Any]:
        return {"digits": self._pad[ALL_ROWS, self._ptr]}

    def _solved(self) -> bool:
        return bool(np.array_equal(self._pad[OUT], self._expected_output()))

    def _expected_output(self) -> np.ndarray:
        """The output row of a correct addition: the sum right-aligned, blanks to its left."""
        digits = np.where(self._pad[:2] == self.base, 0, self._pad[:2]).sum(axis=0)
        out = np.full(self._pad.shape[1], self.base, dtype=np.int64)
        carry = 0
        for column in range(len(digits) - 1, -1, -1):
            carry, out[column] = divmod(int(digits[column]) + carry, self.base)
        written = np.flatnonzero(out != 0)
        first = written[0] if len(written) else len(out) - 1
        out[:first] = self.base
        return out

    # ----------------------------------------------------------------- expert
    def _digit(self, row: int) -> int:
        d = int(self._pad[row, self._ptr[row]])
        return 0 if d == self.base else d

    def _columns_done(self) -> bool:
        return bool(np.all(self._pad[INPUT_ROWS, self._ptr[:3]] == self.base))

    def expert_ADD(self) -> Iterator[str]:
        yield from self.loop("ADD", ("ADD1", "LSHIFT"), self._columns_done)

    def expert_ADD1(self) -> Iterator[str]:
        total = self._digit(INP1) + self._digit(INP2) + self._digit(CARRY)
        yield f"ACT WRITE OUT {total % self.base}"
        if total >= self.base:
            yield "CARRY"

    def expert_CARRY(self) -> Iterator[str]:
        yield "ACT PTR CARRY LEFT"
        yield "ACT WRITE CARRY 1"
        yield "ACT PTR CARRY RIGHT"

    def expert_LSHIFT(self) -> Iterator[str]:
        for row in ROWS:
            yield f"ACT PTR {row} LEFT"

    def expert_RSHIFT(self) -> Iterator[str]:
        for row in ROWS:
            yield f"ACT PTR {row} RIGHT"

    # ----------------------------------------------------------------- rendering
    def _window(self) -> range:
        width = self._pad.shape[1]
        start = int(np.clip(self._ptr[OUT] - RENDER_COLUMNS // 2, 0, max(0, width - RENDER_COLUMNS)))
        return range(start, min(width, start + RENDER_COLUMNS))

    def _cell(self, value: int) -> str:
        return "." if value == self.base else str(value)

    def _render_text(self) -> str:
        window = self._window()
        lines = [f"{self.problem[0]} + {self.problem[1]}   stack: {' > '.join(self.stack) or '(returned)'}"]
        for r, name in enumerate(ROWS):
            cells = [
                f"[{self._cell(self._pad[r, c])}]" if c == self._ptr[r] else f" {self._cell(self._pad[r, c])} "
                for c in window
            ]
            lines.append(f"{name:<6}" + "".join(cells))
        return "\n".join(lines) + "\n"

    def _render_image(self) -> np.ndarray:
        window = self._window()
        cells = [[self._cell(self._pad[r, c]) for c in window] for r in range(4)]
        pointers = [[self._ptr[r] - window.start] if self._ptr[r] in window else [] for r in range(4)]
        return grid_image(cells, pointers)

