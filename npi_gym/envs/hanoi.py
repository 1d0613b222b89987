"""NPI-Hanoi-v0: the Tower of Hanoi over three pegs with source, auxiliary and target roles, as in AlphaNPI."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
from gymnasium import spaces

from npi_gym.base import short_repr
from npi_gym.core import ProgramEnv
from npi_gym.programs import Program, ProgramSet
from npi_gym.rendering import grid_image

S, A, T = 0, 1, 2
TARGET_PEG = 2
LENGTH_LIMIT = 14

ACT_ARGS = {
    "MOVE_DISK": (0, 0, 0),
    "SWAP_S_A": (1, 0, 0),
    "SWAP_A_T": (2, 0, 0),
    "DEC_N": (3, 0, 0),
    "INC_N": (4, 0, 0),
    "PUSH": (5, 0, 0),
    "PUSH DISK": (5, 1, 0),
    "POP": (6, 0, 0),
}
MOVE_DISK, SWAP_S_A, SWAP_A_T, DEC_N, INC_N, PUSH, POP = range(7)

PROGRAMS = ProgramSet(
    [
        Program("HANOI", calls=("ACT",), recursive=True, doc="move the top n disks from the source to the target peg"),
        Program("ACT", primitive=True, args=ACT_ARGS, doc="move a disk, swap peg roles, change n, or push/pop a task"),
    ]
)


class HanoiEnv(ProgramEnv):
    """The Tower of Hanoi with AlphaNPI's peg roles.

    ## Description

    N disks (1 the smallest) start on peg 0 and must all reach peg 2. The env holds a task: a
    size n (the top n disks of the source peg are to move) and three peg roles, source S,
    auxiliary A and target T (at the start n = N and S, A, T = pegs 0, 1, 2), and a stack of
    pending tasks. One program, HANOI, and the primitive ACT:

    - ``MOVE_DISK``: the top disk of S onto T (invalid if S is empty or T's top disk is smaller);
    - ``SWAP_S_A``, ``SWAP_A_T``: exchange two roles;
    - ``DEC_N``, ``INC_N``: n minus or plus one (within 1..N);
    - ``PUSH`` (the current task), ``PUSH DISK`` (the current roles with n = 1) and ``POP`` (the
      top task becomes the current one) on the stack of pending tasks (at most 2 N entries).

    Recursive variant (AlphaNPI's program, the env's n standing in for AlphaNPI's own stack of
    sizes): HANOI with n = 1 calls ``ACT MOVE_DISK``; otherwise ``SWAP_A_T, DEC_N, HANOI, INC_N,
    SWAP_A_T`` (n - 1 disks to the auxiliary peg), ``MOVE_DISK``, ``SWAP_S_A, DEC_N, HANOI, INC_N,
    SWAP_S_A`` (n - 1 disks onto the target). Non-recursive variant (HANOI may not call itself):
    one loop over an explicit stack of tasks. With n = 1: ``MOVE_DISK``, then return if the stack
    is empty, else ``POP``. Otherwise the task is split: ``SWAP_S_A, DEC_N, PUSH, INC_N, SWAP_S_A``
    (the second half pending), ``PUSH DISK`` (the largest disk pending), ``SWAP_A_T, DEC_N`` (the
    first half is the current task).

    ## Action Space

    ``Dict({"args": MultiDiscrete([7, 2, 1]), "program": Discrete(3)})``: a program id (RETURN is
    0) and three arguments, which only ACT reads (the texts above). A call the table forbids,
    undeclared arguments or a primitive that cannot apply is an invalid call: nothing changes,
    ``info["invalid_call"]`` says why and the step counts, or ``InvalidCall`` is raised with
    ``invalid_call="raise"``. An action outside the action space raises ``ValueError`` naming the
    space.

    ## Observation Space

    ``flags`` (``MultiBinary(6)``, AlphaNPI's bits and one more: a disk can move S->A, A->T, S->T;
    n == 1; solved (every disk on peg 2); the stack of pending tasks is empty), ``program`` and
    ``args``: the same size whatever N. The pegs are ``env.unwrapped.pegs``.

    ## Rewards

    1.0 when the opening program returns with every disk on peg 2 or, for a sub-program episode,
    with the state the expert reaches from the same start; else 0.0.

    ## Starting State

    ``reset`` draws N and opens a frame for HANOI. ``options`` may fix the problem
    (``{"problem": 3}``: N disks; ``"3"`` or ``("3",)`` alike) or its size (``{"length": N}``, the same). A malformed option
    raises ``ValueError`` saying what is accepted.

    ## Episode End

    Terminated when the opening program returns. Truncated when the step budget (twice the expert's
    steps on the problem, +2) or the call depth (the table's depth; recursive variant: twice the
    expert's deepest stack, +2) runs out.

    ## Arguments

    ``min_length``, ``max_length`` (disks, default 1..5, at most ``LENGTH_LIMIT`` = 14: the
    expert makes 2^N - 1 moves, about 11 calls per move, and a reset plays it once to set the step
    budget: about 115,000 calls and 0.2 s at 14 disks; ``options["length"]`` and given problems
    have the same limit), ``recursive`` (True or False), ``program`` (the program every reset
    opens; HANOI is the only one), ``invalid_call`` ("noop" or "raise"), ``render_mode``
    ("ansi", "rgb_array" or None).

    ## Registered Configurations

    ``NPI-Hanoi-v0`` and ``NPI-Hanoi-Recursive-v0`` (``recursive=True``).
    """

    programs = PROGRAMS
    root = "HANOI"
    length_limit = LENGTH_LIMIT

    def __init__(
        self,
        min_length: int = 1,
        max_length: int = 5,
        recursive: bool = False,
        program: str | None = None,
        invalid_call: str = "noop",
        render_mode: str | None = None,
    ) -> None:
        self._set_length_bounds(min_length, max_length)
        super().__init__(recursive=recursive, invalid_call=invalid_call, render_mode=render_mode, program=program)

    # ----------------------------------------------------------------- problem
    def _task_spaces(self) -> dict[str, spaces.Space]:
        return {"flags": spaces.MultiBinary(6)}

    def _sample_problem(self, length: int | None, program: str | None) -> int:
        return self._draw_length(length)

    def _check_problem(self, problem: Any) -> int:
        if isinstance(problem, (tuple, list)) and len(problem) == 1:
            problem = problem[0]  # the command line's one item
        if isinstance(problem, str) and problem.isascii() and problem.isdigit():
            problem = int(problem)
        if isinstance(problem, (int, np.integer)) and not isinstance(problem, (bool, np.bool_)):
            if 1 <= problem <= LENGTH_LIMIT:
                return int(problem)
        raise ValueError(f"a Hanoi problem is a number of disks, an integer in [1, {LENGTH_LIMIT}]; got {short_repr(problem)}")

    def _load(self, problem: int) -> None:
        self._peg_of = np.zeros(problem, dtype=np.int64)  # disk d + 1 lies on peg _peg_of[d]
        self._roles = [0, 1, 2]
        self._n = problem
        self._stack: list[int] = []  # pending tasks, 4 ints each: n, then the pegs of S, A, T

    # ----------------------------------------------------------------- state
    @property
    def pegs(self) -> tuple[tuple[int, ...], ...]:
        """The disks on pegs 0, 1 and 2, bottom to top (1 is the smallest)."""
        return tuple(tuple(int(d) + 1 for d in np.flatnonzero(self._peg_of == p)[::-1]) for p in range(3))

    @property
    def roles(self) -> tuple[int, int, int]:
        """The pegs of the source, auxiliary and target roles."""
        return tuple(self._roles)  # type: ignore[return-value]

    @property
    def n(self) -> int:
        """The size of the current task."""
        return self._n

    def _get_state(self) -> tuple:
        return self._peg_of.copy(), tuple(self._roles), self._n, tuple(self._stack)

    def _set_state(self, state: tuple) -> None:
        self._peg_of, self._roles, self._n, self._stack = state[0].copy(), list(state[1]), state[2], list(state[3])

    def _top(self, peg: int) -> int | None:
        on = np.flatnonzero(self._peg_of == peg)
        return int(on[0]) if len(on) else None

    def _can_move(self, source: int, target: int) -> bool:
        top, below = self._top(self._roles[source]), self._top(self._roles[target])
        return top is not None and (below is None or top < below)

    def _act(self, args: tuple[int, int, int]) -> str | None:
        kind, disk, _ = args
        N = len(self._peg_of)
        if kind == MOVE_DISK:
            if not self._can_move(S, T):
                return "no disk can move from the source peg to the target peg"
            self._peg_of[self._top(self._roles[S])] = self._roles[T]
        elif kind in (SWAP_S_A, SWAP_A_T):
            i, j = (S, A) if kind == SWAP_S_A else (A, T)
            self._roles[i], self._roles[j] = self._roles[j], self._roles[i]
        elif kind == DEC_N:
            if self._n == 1:
                return "n is already 1"
            self._n -= 1
        elif kind == INC_N:
            if self._n == N:
                return f"n is already the number of disks, {N}"
            self._n += 1
        elif kind == PUSH:
            if len(self._stack) >= 4 * 2 * N:
                return f"the stack of tasks is full ({2 * N} tasks)"
            self._stack += [1 if disk else self._n, *self._roles]
        else:
            if not self._stack:
                return "the stack of tasks is empty"
            self._n, self._roles = self._stack[-4], self._stack[-3:]
            del self._stack[-4:]
        return None

    def _observe(self) -> dict[str, Any]:
        flags = [self._can_move(S, A), self._can_move(A, T), self._can_move(S, T), self._n == 1, self._solved(), not self._stack]
        return {"flags": np.array(flags, dtype=np.int8)}

    def _solved(self) -> bool:
        return bool(np.all(self._peg_of == TARGET_PEG))

    # ----------------------------------------------------------------- expert
    def expert_HANOI(self) -> Iterator[str]:
        if self.recursive:
            if self._n == 1:
                yield "ACT MOVE_DISK"
                return
            yield from ("ACT SWAP_A_T", "ACT DEC_N", "HANOI", "ACT INC_N", "ACT SWAP_A_T", "ACT MOVE_DISK")
            yield from ("ACT SWAP_S_A", "ACT DEC_N", "HANOI", "ACT INC_N", "ACT SWAP_S_A")
            return
        while True:
            if self._n == 1:
                yield "ACT MOVE_DISK"
                if not self._stack:
                    return
                yield "ACT POP"
            else:
                yield from ("ACT SWAP_S_A", "ACT DEC_N", "ACT PUSH", "ACT INC_N", "ACT SWAP_S_A", "ACT PUSH DISK")
                yield from ("ACT SWAP_A_T", "ACT DEC_N")

    # ----------------------------------------------------------------- rendering
    def _render_text(self) -> str:
        names = {peg: role for role, peg in zip("SAT", self._roles)}
        lines = [f"{self.problem} disks, n = {self._n}, {len(self._stack) // 4} pending   stack: {' > '.join(self.stack) or '(returned)'}"]
        lines += [f"PEG{p} {names[p]} | " + " ".join(map(str, disks)) for p, disks in enumerate(self.pegs)]
        return "\n".join(lines) + "\n"

    def _render_image(self) -> np.ndarray:
        width = max(1, len(self._peg_of))
        pegs = self.pegs
        cells = [[str(d) for d in disks] + [" "] * (width - len(disks)) for disks in pegs]
        source = self._roles[S]
        pointers = [[len(pegs[p]) - 1] if p == source and pegs[p] else [] for p in range(3)]
        return grid_image(cells, pointers)
