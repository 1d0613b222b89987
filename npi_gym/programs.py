"""The declarative program table of a task: the single source of programs, calls and arguments."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Iterable, Mapping, NamedTuple

import numpy as np

RETURN = "RETURN"
NO_ARGS: Mapping[str, tuple[int, int, int]] = {"": (0, 0, 0)}


class Call(NamedTuple):
    """One program call: a program id and its three integer arguments."""

    program: int
    args: tuple[int, int, int]


@dataclass(frozen=True)
class Program:
    """One row of a program table.

    ``calls`` are the programs it may call; ``recursive`` lets it call itself in the recursive
    variant of the task; ``args`` maps the text of each accepted argument triple to its integers.
    """

    name: str
    calls: tuple[str, ...] = ()
    primitive: bool = False
    recursive: bool = False
    args: Mapping[str, tuple[int, int, int]] = field(default_factory=lambda: dict(NO_ARGS))
    doc: str = ""


class ProgramSet:
    """A task's programs with stable ids (RETURN is 0), call masks and call text.

    Everything that lists programs (action spaces, masks, traces, the NPI program memory) is
    derived from this table.
    """

    def __init__(self, programs: Iterable[Program], recursive: bool = False) -> None:
        self.programs: tuple[Program, ...] = (Program(RETURN, doc="return to the caller"), *programs)
        self.recursive = recursive
        self.names: tuple[str, ...] = tuple(p.name for p in self.programs)
        self.ids: dict[str, int] = {name: i for i, name in enumerate(self.names)}
        if len(self.ids) != len(self.names):
            raise ValueError(f"duplicate program names in {self.names}")
        for p in self.programs:
            unknown = [c for c in p.calls if c not in self.ids]
            if unknown:
                raise ValueError(f"program {p.name} calls unknown programs {unknown}")
            if any(len(a) != 3 for a in p.args.values()):
                raise ValueError(f"program {p.name}: every argument entry must be three integers")
        self.arg_sizes: tuple[int, int, int] = tuple(  # type: ignore[assignment]
            1 + max(a[k] for p in self.programs for a in p.args.values()) for k in range(3)
        )
        self.call_mask = np.zeros((len(self), len(self)), dtype=bool)
        for i, p in enumerate(self.programs):
            if i == 0:
                continue
            self.call_mask[i, 0] = True
            for c in self.callees(p.name):
                self.call_mask[i, self.ids[c]] = True
        self._text_to_call: dict[str, Call] = {}
        self._call_to_text: dict[Call, str] = {}
        for i, p in enumerate(self.programs):
            for text, args in p.args.items():
                call = Call(i, tuple(args))
                full = f"{p.name} {text}".strip()
                self._text_to_call[full] = call
                self._call_to_text[call] = full
        self.calls: tuple[Call, ...] = tuple(self._call_to_text)
        self._depths = {name: self._depth(name) for name in self.names}
        self.accepted_args: tuple[str, ...] = tuple(
            ", ".join(repr(self._call_to_text[c]) for c in self.calls if c.program == i) for i in range(len(self))
        )
        self.allowed_calls: tuple[str, ...] = tuple(
            ", ".join(self.names[j] for j in np.flatnonzero(row)) for row in self.call_mask
        )

    def __len__(self) -> int:
        return len(self.programs)

    def __getitem__(self, name: str) -> Program:
        return self.programs[self.ids[name]]

    def callees(self, name: str) -> tuple[str, ...]:
        """Programs ``name`` may call (itself included in the recursive variant)."""
        p = self[name]
        return p.calls + ((name,) if self.recursive and p.recursive else ())

    def allowed(self, program: int) -> np.ndarray:
        """Programs callable while ``program`` runs; once the episode is over (0), RETURN only."""
        if program:
            return self.call_mask[program]
        return np.arange(len(self)) == 0

    @functools.cached_property
    def action_masks(self) -> tuple[tuple[np.ndarray, tuple[np.ndarray, ...]], ...]:
        """Per running program id (0: episode over): the int8 masks of ``action_space.sample(mask=...)``,
        one over programs and one per argument."""
        masks = []
        for program in range(len(self)):
            allowed = self.allowed(program)
            arg_masks = [np.zeros(n, dtype=np.int8) for n in self.arg_sizes]
            for call in self.calls:
                if allowed[call.program]:
                    for k in range(3):
                        arg_masks[k][call.args[k]] = 1
            masks.append((allowed.astype(np.int8), tuple(arg_masks)))
        return tuple(masks)

    @functools.cached_property
    def flat_masks(self) -> tuple[np.ndarray, ...]:
        """Per running program id (0: episode over): which of ``calls`` it may make."""
        return tuple(
            np.array([allowed[c.program] for c in self.calls], dtype=bool)
            for allowed in (self.allowed(i) for i in range(len(self)))
        )

    def depth(self, name: str) -> int:
        """Frames on the stack when the deepest non-recursive call chain from ``name`` is running."""
        return self._depths[name]

    def _depth(self, name: str) -> int:
        p = self[name]
        if p.primitive:
            return 0
        return 1 + max((self._depth(c) for c in p.calls), default=0)

    def parse(self, text: str) -> Call:
        """The call written as text, e.g. ``"ACT PTR INP1 LEFT"`` or ``"RETURN"``."""
        call = self._text_to_call.get(text)
        if call is not None:
            return call
        try:
            return self._text_to_call[" ".join(text.split()).upper()]
        except KeyError:
            raise ValueError(
                f"unknown call {text!r}; accepted: {', '.join(sorted(self._text_to_call))}"
            ) from None

    def text(self, call: Call) -> str:
        """The text of a call; argument triples a program does not declare are shown as numbers."""
        found = self._call_to_text.get(call)
        if found is not None:
            return found
        return f"{self.names[call.program]} {' '.join(map(str, call.args))}"

    def accepts(self, call: Call) -> bool:
        """Whether the called program declares these arguments."""
        return call in self._call_to_text

    def table(self) -> str:
        """The table as text: one line per program with what it calls."""
        lines, width = [], max(11, *(len(name) for name in self.names))
        for p in self.programs[1:]:
            calls = "primitive" if p.primitive else "calls " + ", ".join(self.callees(p.name))
            lines.append(f"{self.ids[p.name]:>2} {p.name:<{width}} {calls}")
        return "\n".join(lines)
