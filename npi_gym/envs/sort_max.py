"""NPI-SortMax-v0: the maximum of an array, as the NPI paper's program learned after the others: bubble sort, then RJMP."""

from __future__ import annotations

from typing import Iterator

from npi_gym.envs.sort import P1, PROGRAMS, SortEnv
from npi_gym.programs import Program, ProgramSet

MAX_PROGRAMS = ProgramSet(
    [
        *PROGRAMS.programs[1:],
        Program("MAX", calls=("BUBBLESORT", "RJMP"), doc="the maximum of the array: sort it, then move pointers 1 and 2 to the right end"),
        Program("RJMP", calls=("RSTEP",), doc="move pointers 1 and 2 to the right end, a step at a time"),
        Program("RSTEP", calls=("ACT",), recursive=True, doc="move pointers 1 and 2 one place right"),
    ]
)
"""sort's programs with their ids unchanged, then MAX, RJMP and RSTEP"""


class SortMaxEnv(SortEnv):
    """The sort env's array, pointers, observations and primitives, opening at ``MAX``.

    ``MAX`` calls ``BUBBLESORT`` (sort's program, unchanged), then ``RJMP``, which calls ``RSTEP``
    (``ACT PTR 1 RIGHT``, ``ACT PTR 2 RIGHT``) until pointer 1 stands on the last value, as sort's
    BUBBLE calls BSTEP (``recursive=True``: RSTEP calls itself instead). Every frame is a few calls
    long or ends on the pointer-at-end flag, so no frame has to count. The paper's RJMP calls
    RSHIFT; here RSTEP acts itself, because sort's RSHIFT only ever runs before the sweeps are done,
    and run after a finished sort (the sweeps flag set) a frozen RSHIFT trained on sort alone
    returns at once. Solved when the array is sorted and pointer 1 is on its last value, the
    maximum. Every make-time argument and reset option is the sort env's (``program`` may also be
    ``"BUBBLESORT"``, ``"RJMP"``, ``"RSTEP"`` or any sort sub-program).

    Registered as ``NPI-SortMax-v0``.
    """

    programs = MAX_PROGRAMS
    root = "MAX"

    def _solved(self) -> bool:
        return super()._solved() and self._ptr[P1] == len(self._values) - 1

    def expert_MAX(self) -> Iterator[str]:
        yield "BUBBLESORT"
        yield "RJMP"

    def expert_RJMP(self) -> Iterator[str]:
        yield from self.repeat("RSTEP", self._p1_at_end)

    def expert_RSTEP(self) -> Iterator[str]:
        yield "ACT PTR 1 RIGHT"
        yield "ACT PTR 2 RIGHT"
        yield from self.tail_call("RSTEP", self._p1_at_end)
