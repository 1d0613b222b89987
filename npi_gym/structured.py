"""Structured problem families: inputs that random sampling almost never draws, declared once per program-call env.

A family is a function ``(env, length, rng) -> problem`` returning a value for ``reset(options={"problem": ...})``
of ``env`` (the unwrapped env, whose base, value range or pose grid it reads). ``length`` is the env's own
size: digits of the longer operand (addition), values (sort, quicksort), vertices (toposort), disks
(Hanoi); the car's families take none (a car problem is a start and a target pose of the env's grid,
whatever the moves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from npi_gym.core import ProgramEnv
from npi_gym.envs.addition import AdditionEnv
from npi_gym.envs.car.env import CanonicalizeEnv, horizontal_plan, vertical_plan
from npi_gym.envs.car.render import AZIMUTH_STEP, ELEVATIONS, N_AZIMUTHS
from npi_gym.envs.hanoi import HanoiEnv
from npi_gym.envs.quicksort import QuicksortEnv
from npi_gym.envs.sort import SortEnv
from npi_gym.envs.toposort import ToposortEnv

Family = Callable[[Any, "int | None", np.random.Generator], Any]


# ----------------------------------------------------------------- addition: (a, b) digit strings, the longer of n digits
def _digits(rng: np.random.Generator, n: int, base: int, leading: bool = True) -> str:
    """``n`` random base-``base`` digits; the first non-zero when ``leading`` and n > 1."""
    digits = rng.integers(0, base, size=n)
    if leading and n > 1:
        digits[0] = rng.integers(1, base)
    return "".join(map(str, digits))


def _either_order(rng: np.random.Generator, a: str, b: str) -> tuple[str, str]:
    return (a, b) if rng.integers(2) else (b, a)


def _carry_chain(env: AdditionEnv, n: int, rng: np.random.Generator) -> tuple[str, str]:
    """99...9 + 1: one carry through every column."""
    return _either_order(rng, str(env.base - 1) * n, "1")


def _complements(env: AdditionEnv, n: int, rng: np.random.Generator) -> tuple[str, str]:
    """a + (base^n - a) (5555 + 4445): every column carries; the sum is 1 followed by n zeros."""
    a = int(_digits(rng, n, env.base), env.base) if n > 1 else int(rng.integers(1, env.base))
    return _either_order(rng, np.base_repr(a, env.base), np.base_repr(env.base**n - a, env.base))


def _zeros_after_digit(env: AdditionEnv, n: int, rng: np.random.Generator) -> tuple[str, str]:
    """d000...0 + k: a run of zeros against an ended one-digit operand."""
    d, k = (int(x) for x in rng.integers(1, env.base, size=2))
    return _either_order(rng, str(d) + "0" * (n - 1), str(k))


def _digit_run(env: AdditionEnv, n: int, rng: np.random.Generator) -> tuple[str, str]:
    """dd...d + k: one digit repeated against an ended one-digit operand."""
    d, k = (int(x) for x in rng.integers(1, env.base, size=2))
    return _either_order(rng, str(d) * n, str(k))


def _one_plus_nines(env: AdditionEnv, n: int, rng: np.random.Generator) -> tuple[str, str]:
    """1 + 99...9 with the short operand first: the carry runs on after it has ended."""
    return "1", str(env.base - 1) * n


def _unbalanced(env: AdditionEnv, n: int, rng: np.random.Generator) -> tuple[str, str]:
    """A random n-digit number plus one of at most n / 20 digits (at least one)."""
    short = int(rng.integers(1, max(1, n // 20) + 1))
    return _either_order(rng, _digits(rng, n, env.base), _digits(rng, short, env.base))


def _zero_operand(env: AdditionEnv, n: int, rng: np.random.Generator) -> tuple[str, str]:
    """0 + a random n-digit number (0 + 0 among the one-digit ones)."""
    return _either_order(rng, "0", _digits(rng, n, env.base))


def _equal(env: AdditionEnv, n: int, rng: np.random.Generator) -> tuple[str, str]:
    """x + x."""
    x = _digits(rng, n, env.base)
    return x, x


ADDITION: dict[str, Family] = {
    "carry chain 99..9 + 1": _carry_chain,
    "complements 5555 + 4445": _complements,
    "zeros after a digit d00..0 + k": _zeros_after_digit,
    "one digit repeated dd..d + k": _digit_run,
    "1 + 99..9": _one_plus_nines,
    "unbalanced lengths": _unbalanced,
    "zero operand 0 + n": _zero_operand,
    "equal operands x + x": _equal,
}


# ----------------------------------------------------------------- sort: n values in 0..max_value
def _values(env: SortEnv, n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, env.max_value + 1, size=n)


def _one_out_of_place(env: SortEnv, n: int, rng: np.random.Generator) -> list[int]:
    """A sorted array with one value moved elsewhere."""
    values = sorted(_values(env, n, rng).tolist())
    value = values.pop(int(rng.integers(n)))
    values.insert(int(rng.integers(n)), value)
    return values


def _two_valued(env: SortEnv, n: int, rng: np.random.Generator) -> list[int]:
    low, high = sorted(rng.choice(env.max_value + 1, size=2, replace=False).tolist())
    return rng.choice([low, high], size=n).tolist()


def _repeated(env: SortEnv, n: int, rng: np.random.Generator) -> list[int]:
    """Three distinct values (or fewer when the range is smaller), each repeated, shuffled."""
    pool = rng.choice(env.max_value + 1, size=min(3, env.max_value + 1), replace=False)
    return rng.choice(pool, size=n).tolist()


SORT: dict[str, Family] = {
    "sorted": lambda env, n, rng: sorted(_values(env, n, rng).tolist()),
    "reversed": lambda env, n, rng: sorted(_values(env, n, rng).tolist(), reverse=True),
    "constant": lambda env, n, rng: [int(rng.integers(env.max_value + 1))] * n,
    "two values": _two_valued,
    "three repeated values": _repeated,
    "one out of place": _one_out_of_place,
}


# ----------------------------------------------------------------- toposort: (n, edges) of a DAG on n vertices
Edges = Callable[[int], list[tuple[int, int]]]
"""the edges of a shape on vertices 0..n-1, every edge from a lower vertex to a higher one"""


def _graph(shape: Edges, relabel: bool, doc: str) -> Family:
    """A family of DAGs of one shape, its vertices renamed at random when ``relabel`` (else as ``shape`` numbers them)."""

    def family(env: ToposortEnv, n: int, rng: np.random.Generator) -> tuple[int, list[tuple[int, int]]]:
        name = rng.permutation(n) if relabel else np.arange(n)
        return n, sorted((int(name[a]), int(name[b])) for a, b in shape(n))

    family.__doc__ = doc
    return family


def _chain(n: int) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)]


def _reversed_chain(n: int) -> list[tuple[int, int]]:
    return [(i + 1, i) for i in range(n - 1)]


TOPOSORT: dict[str, Family] = {
    "no edges": _graph(lambda n: [], False, "n isolated vertices"),
    "chain 0 -> 1 -> ... -> n-1": _graph(_chain, False, "one path through every vertex in vertex order"),
    "chain n-1 -> ... -> 0": _graph(_reversed_chain, False, "one path through every vertex against vertex order"),
    "chain, random labels": _graph(_chain, True, "one path through every vertex in a random order"),
    "star out": _graph(lambda n: [(0, i) for i in range(1, n)], True, "one vertex the parent of all the others"),
    "star in": _graph(lambda n: [(i, 0) for i in range(1, n)], True, "one vertex the child of all the others"),
    "complete DAG": _graph(lambda n: [(i, j) for i in range(n) for j in range(i + 1, n)], True,
                           "an edge between every two vertices, all along one random order"),
    "binary tree": _graph(lambda n: [((i - 1) // 2, i) for i in range(1, n)], True, "a heap-shaped tree from one root"),
}


# ----------------------------------------------------------------- Hanoi: n disks on the first peg
HANOI: dict[str, Family] = {"n disks on the first peg": lambda env, n, rng: n}
"""a Hanoi problem is its number of disks: the one family is every problem there is"""


# ----------------------------------------------------------------- car: a (start, target) pair of the env's grid
Pair = tuple[tuple[int, int], tuple[int, int]]
"""((azimuth bin, elevation bin) of the start, the same of the target)"""


def _degrees(az_bin: int) -> int:
    deg = az_bin * AZIMUTH_STEP
    return deg - 360 if deg > 180 else deg


def _crosses_180(pair: Pair) -> bool:
    """The expert's shorter turn passes azimuth 180 (where the degrees wrap from 180 to -165)."""
    (s, _), (t, _) = pair
    direction, moves = horizontal_plan(s, t)
    step = 1 if direction == 1 else -1
    return any((s + step * i) % N_AZIMUTHS == N_AZIMUTHS // 2 for i in range(1, moves))


def _car_family(select: Callable[[list[Pair]], list[Pair]], doc: str | None = None) -> Family:
    """A family drawing a car model of the env's split and one of the env's (start, target) pairs that ``select`` keeps."""

    def family(env: CanonicalizeEnv, length: int | None, rng: np.random.Generator) -> tuple:
        pairs = select(env.pose_pairs)
        if not pairs:
            raise ValueError(f"{family.__doc__}: none of this env's start poses and targets qualify")
        (s_az, s_el), (t_az, t_el) = pairs[int(rng.integers(len(pairs)))]
        model = env.models[int(rng.integers(len(env.models)))]
        return model, (_degrees(s_az), ELEVATIONS[s_el]), (_degrees(t_az), ELEVATIONS[t_el])

    family.__doc__ = doc or select.__doc__
    return family


def _extreme(pairs: list[Pair], key: Callable[[Pair], int]) -> list[Pair]:
    """The pairs where ``key`` takes its lowest or highest value."""
    values = [key(p) for p in pairs]
    return [p for p, v in zip(pairs, values) if v in (min(values, default=0), max(values, default=0))]


def _azimuth_edge(pairs: list[Pair]) -> list[Pair]:
    """start at an end of the start azimuth range"""
    return _extreme(pairs, lambda p: _degrees(p[0][0]))


def _elevation_edge(pairs: list[Pair]) -> list[Pair]:
    """start at the top or bottom of the start elevation range"""
    return _extreme(pairs, lambda p: p[0][1])


def _corner(pairs: list[Pair]) -> list[Pair]:
    """start at a corner of the start range"""
    return [p for p in _azimuth_edge(pairs) if p in _elevation_edge(pairs)]


def _farthest(pairs: list[Pair]) -> list[Pair]:
    """start the most moves from the target"""
    moves = [horizontal_plan(s[0], t[0])[1] + vertical_plan(s[1], t[1])[1] for s, t in pairs]
    return [p for p, m in zip(pairs, moves) if m == max(moves)]


def _target_edge(pairs: list[Pair]) -> list[Pair]:
    """target at an end of the azimuth or elevation range of the targets"""
    azimuth, elevation = _extreme(pairs, lambda p: _degrees(p[1][0])), _extreme(pairs, lambda p: p[1][1])
    return [p for p in pairs if p in azimuth or p in elevation]


CAR: dict[str, Family] = {
    "start at the target": _car_family(lambda pairs: [p for p in pairs if p[0] == p[1]], "start at the target: zero moves"),
    "start at an azimuth edge": _car_family(_azimuth_edge),
    "start at an elevation edge": _car_family(_elevation_edge),
    "start at a corner": _car_family(_corner),
    "start farthest from the target": _car_family(_farthest),
    "target at an edge": _car_family(_target_edge),
    "turn across azimuth 180": _car_family(lambda pairs: [p for p in pairs if _crosses_180(p)], "the shorter turn passes azimuth 180"),
    "start exactly opposite": _car_family(
        lambda pairs: [p for p in pairs if (p[0][0] - p[1][0]) % N_AZIMUTHS == N_AZIMUTHS // 2], "start 180 degrees round from the target"
    ),
}

@dataclass(frozen=True)
class FamilySet:
    """The structured families of one env class and how that env measures a problem's size."""

    families: dict[str, Family]
    size: Callable[[Any], int] | None
    """the size of a problem as the env holds it (``env.unwrapped.problem``); None: the families take no length"""


STRUCTURED: dict[type[ProgramEnv], FamilySet] = {
    AdditionEnv: FamilySet(ADDITION, lambda problem: max(map(len, problem))),
    SortEnv: FamilySet(SORT, len),
    QuicksortEnv: FamilySet(SORT, len),
    ToposortEnv: FamilySet(TOPOSORT, lambda problem: problem[0]),
    HanoiEnv: FamilySet(HANOI, int),
    CanonicalizeEnv: FamilySet(CAR, None),
}
"""the structured families of each program-call env class"""


def family_set(env: Any) -> FamilySet:
    """The structured families of a program-call env (wrapped or not) and its size measure."""
    env = getattr(env, "unwrapped", env)
    for cls, declared in STRUCTURED.items():
        if isinstance(env, cls):
            return declared
    raise ValueError(f"no structured problem families for {type(env).__name__}; declared for "
                     f"{', '.join(c.__name__ for c in STRUCTURED)}")


def structured_families(env: Any) -> dict[str, Family]:
    """The structured families (name -> family) of a program-call env (wrapped or not)."""
    return family_set(env).families


def structured_problem(env: Any, family: str, length: int | None, rng: np.random.Generator) -> Any:
    """One problem of the named family at ``length`` (the env's size; None for the car), as a reset ``problem`` option."""
    env = getattr(env, "unwrapped", env)
    declared = family_set(env)
    families = declared.families
    if family not in families:
        raise ValueError(f"unknown structured family {family!r} for {type(env).__name__}; choose from {list(families)}")
    sized = declared.size is not None
    if sized and not (isinstance(length, int) and 1 <= length <= env.length_limit):
        raise ValueError(f"a {type(env).__name__} family needs a length in 1..{env.length_limit}; got {length!r}")
    if not sized and length is not None:
        raise ValueError(f"{type(env).__name__} families take no length (a start and a target pose); got {length!r}")
    return families[family](env, length, rng)
