"""Every env id of the suite, declared once: id, entry point, make-time kwargs and task family.

``npi_gym`` registers these with Gymnasium at import; ``ENV_IDS``, ``FAMILY_IDS`` and
``PROGRAM_CALL_IDS`` derive from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import gymnasium as gym

from npi_gym.envs.table.settings import ENTRY_POINT as TABLE_ENTRY_POINT
from npi_gym.envs.table.settings import TABLE_ENV_IDS


@dataclass(frozen=True)
class Family:
    """A task family: its name and whether its envs are program-call envs (``ProgramEnv``: the NPI's tasks)."""

    name: str
    program_calls: bool
    doc: str = ""


@dataclass(frozen=True)
class Entry:
    """One registered id."""

    id: str
    entry_point: str
    family: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


FAMILIES: tuple[Family, ...] = (
    Family("addition", program_calls=True, doc="multi-digit addition on a scratch pad"),
    Family("sort", program_calls=True, doc="bubble sort of an array"),
    Family("hanoi", program_calls=True, doc="the Tower of Hanoi with peg roles"),
    Family("quicksort", program_calls=True, doc="quicksort with Lomuto partition"),
    Family("toposort", program_calls=True, doc="topological sort of a DAG by depth-first search"),
    Family("car", program_calls=True, doc="canonicalising the viewpoint of a rendered 3D car"),
    Family("table", program_calls=False, doc="the Neural Programmer's table questions"),
)

ENTRIES: tuple[Entry, ...] = (
    Entry("NPI-Addition-v0", "npi_gym.envs.addition:AdditionEnv", "addition"),
    Entry("NPI-Addition-Recursive-v0", "npi_gym.envs.addition:AdditionEnv", "addition", {"recursive": True}),
    Entry("NPI-Sort-v0", "npi_gym.envs.sort:SortEnv", "sort"),
    Entry("NPI-Sort-Recursive-v0", "npi_gym.envs.sort:SortEnv", "sort", {"recursive": True}),
    Entry("NPI-SortMax-v0", "npi_gym.envs.sort_max:SortMaxEnv", "sort"),
    Entry("NPI-Hanoi-v0", "npi_gym.envs.hanoi:HanoiEnv", "hanoi"),
    Entry("NPI-Hanoi-Recursive-v0", "npi_gym.envs.hanoi:HanoiEnv", "hanoi", {"recursive": True}),
    Entry("NPI-Quicksort-v0", "npi_gym.envs.quicksort:QuicksortEnv", "quicksort"),
    Entry("NPI-Quicksort-Recursive-v0", "npi_gym.envs.quicksort:QuicksortEnv", "quicksort", {"recursive": True}),
    Entry("NPI-Toposort-v0", "npi_gym.envs.toposort:ToposortEnv", "toposort"),
    Entry("NPI-Toposort-Recursive-v0", "npi_gym.envs.toposort:ToposortEnv", "toposort", {"recursive": True}),
    Entry("NPI-Canonicalize-v0", "npi_gym.envs.car:CanonicalizeEnv", "car"),
    *(Entry(env_id, TABLE_ENTRY_POINT, "table", kwargs) for env_id, kwargs in TABLE_ENV_IDS.items()),
)

_FAMILY = {f.name: f for f in FAMILIES}
ENV_IDS: tuple[str, ...] = tuple(e.id for e in ENTRIES)
FAMILY_IDS: dict[str, tuple[str, ...]] = {f.name: tuple(e.id for e in ENTRIES if e.family == f.name) for f in FAMILIES}
"""family name -> its ids, in registration order"""
PROGRAM_CALL_IDS: tuple[str, ...] = tuple(e.id for e in ENTRIES if _FAMILY[e.family].program_calls)
"""the ids of program-call envs (ProgramEnv subclasses)"""


def register_all() -> None:
    """Register every entry with Gymnasium (ids already registered are left as they are)."""
    for e in ENTRIES:
        if e.id not in gym.registry:
            gym.register(id=e.id, entry_point=e.entry_point, kwargs=dict(e.kwargs))
