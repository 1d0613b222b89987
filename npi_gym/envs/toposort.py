"""NPI-Toposort-v0: topological sort of a DAG by depth-first search, after Cai et al. (2017)."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
from gymnasium import spaces

from npi_gym.base import short_repr
from npi_gym.core import ProgramEnv
from npi_gym.programs import Program, ProgramSet
from npi_gym.rendering import grid_image

WHITE, GREY, BLACK, NONE = range(4)
PUSH_START, PUSH_CHILD, POP, MOVE_START, MOVE_CHILD, WRITE = range(6)
RENDER_COLUMNS = 32
LENGTH_LIMIT = 300
EDGE_RATE = 2.0
"""a random DAG has each edge allowed by a random vertex order with probability min(0.5, EDGE_RATE / n)"""

ACT_ARGS = {
    "STACK PUSH START": (PUSH_START, 0, 0),
    "STACK PUSH CHILD": (PUSH_CHILD, 0, 0),
    "STACK POP": (POP, 0, 0),
    "MOVE START": (MOVE_START, 0, 0),
    "MOVE CHILD": (MOVE_CHILD, 0, 0),
    "WRITE": (WRITE, 0, 0),
}

PROGRAMS = ProgramSet(
    [
        Program("TOPOSORT", calls=("TRAVERSE", "NEXT_START"), recursive=True, doc="topological sort of the graph"),
        Program("TRAVERSE", calls=("EXPLORE", "ACT"), doc="depth-first search from the start vertex"),
        Program("NEXT_START", calls=("ACT",), doc="move the start pointer to the next vertex"),
        Program("EXPLORE", calls=("CHECK_CHILD", "ACT"), recursive=True, doc="finish the vertices on the stack"),
        Program("CHECK_CHILD", calls=("ACT",), doc="descend into the next child if it is unvisited, else pass it"),
        Program("ACT", primitive=True, args=ACT_ARGS, doc="push or pop a vertex, move a pointer, write a vertex"),
    ]
)


class ToposortEnv(ProgramEnv):
    """Topological sort by depth-first search with the programs of Cai, Shin & Song (ICLR 2017).

    ## Description

    A directed acyclic graph on vertices 0..n-1 (each vertex's children in increasing order), a
    colour per vertex (white: unvisited, grey: on the stack, black: written), a start pointer, a
    stack of (vertex, next child) entries and an output row of n cells filled from the right.
    Programs TOPOSORT, TRAVERSE, NEXT_START, EXPLORE, CHECK_CHILD and the primitive ACT:

    - ``STACK PUSH START`` pushes the (white) start vertex and greys it, ``STACK PUSH CHILD`` the
      (white) next child of the top vertex; ``STACK POP`` removes the top entry;
    - ``MOVE START``: the start pointer to the next vertex; ``MOVE CHILD``: the top entry's next child;
    - ``WRITE``: the top vertex into the rightmost free output cell, coloured black.

    TOPOSORT: for each start vertex, TRAVERSE if it is white, then NEXT_START (``MOVE START``).
    TRAVERSE: ``STACK PUSH START``, EXPLORE. EXPLORE: while the top vertex has a next child,
    CHECK_CHILD (``STACK PUSH CHILD`` if the child is white, else ``MOVE CHILD``); with no child
    left, ``WRITE`` and ``STACK POP``. Non-recursive variant: EXPLORE loops until the stack is
    empty, TOPOSORT loops over the starts. Recursive variant: EXPLORE handles one step, calls
    EXPLORE on a vertex it pushed and calls itself to go on with the same vertex, returning once
    the vertex is written; TOPOSORT calls itself for the next start. The output is the reverse
    post-order: a topological order.

    ## Action Space

    ``Dict({"args": MultiDiscrete([6, 1, 1]), "program": Discrete(7)})``: a program id (RETURN is
    0) and three arguments, which only ACT reads (the texts above). A call the table forbids,
    undeclared arguments or a primitive that cannot apply (an empty stack, no next child, a vertex
    already visited, the start pointer past the last vertex) is an invalid call: nothing changes,
    ``info["invalid_call"]`` says why and the step counts, or ``InvalidCall`` is raised with
    ``invalid_call="raise"``. An action outside the action space raises ``ValueError`` naming the
    space.

    ## Observation Space

    ``colours`` (``MultiDiscrete([4, 4])``: the colour of the start vertex and of the top vertex's
    next child, 0 white, 1 grey, 2 black, 3 none), ``flags`` (``MultiBinary(1)``: the stack is
    empty), ``program`` and ``args``: the same size whatever the graph. The output row is
    ``env.unwrapped.output``.

    ## Rewards

    1.0 when the opening program returns with every vertex written in a topological order or, for
    a sub-program episode, with the state the expert reaches from the same start; else 0.0.

    ## Starting State

    ``reset`` samples a random DAG (a random vertex order; each edge it allows with probability
    min(0.5, 2 / n)) and opens a frame for TOPOSORT (or the make-time ``program``). ``options``
    may fix the problem (``{"problem": (5, [(0, 2), (1, 2)])}``: n and an edge list of (parent,
    child) pairs; or text items ``("5", "0-2", "1-2")``), its size (``{"length": n}``: n vertices) or open the episode at a sub-program
    (``{"program": "EXPLORE"}``: a state where the expert calls it, picked at random along the
    expert's run; a random problem is drawn again, up to 100 times, until the expert calls it). A
    malformed option raises ``ValueError`` saying what is accepted.

    ## Episode End

    Terminated when the opening program returns. Truncated when the step budget (twice the expert's
    steps on the problem, +2) or the call depth (the table's depth; recursive variant: twice the
    expert's deepest stack, +2) runs out.

    ## Arguments

    ``min_length``, ``max_length`` (vertices, default 2..10, at most ``LENGTH_LIMIT`` = 300: an
    expert episode is about 7 n + 4 e calls for e edges and a reset plays the expert once (twice
    for a sub-program episode): about 0.4 s for the complete DAG on 300 vertices (44,850 edges);
    ``options["length"]`` and given problems have the same limit), ``recursive`` (True or False),
    ``program`` (the sub-program every reset opens unless ``options["program"]`` names another;
    default TOPOSORT), ``invalid_call`` ("noop" or "raise"), ``render_mode`` ("ansi", "rgb_array"
    or None).

    ## Registered Configurations

    ``NPI-Toposort-v0`` and ``NPI-Toposort-Recursive-v0`` (``recursive=True``).
    """

    programs = PROGRAMS
    root = "TOPOSORT"
    length_limit = LENGTH_LIMIT

    def __init__(
        self,
        min_length: int = 2,
        max_length: int = 10,
        recursive: bool = False,
        program: str | None = None,
        invalid_call: str = "noop",
        render_mode: str | None = None,
    ) -> None:
        self._set_length_bounds(min_length, max_length)
        super().__init__(recursive=recursive, invalid_call=invalid_call, render_mode=render_mode, program=program)

    # ----------------------------------------------------------------- problem
    def _task_spaces(self) -> dict[str, spaces.Space]:
        return {"colours": spaces.MultiDiscrete([4, 4]), "flags": spaces.MultiBinary(1)}

    def _sample_problem(self, length: int | None, program: str | None) -> tuple[int, tuple[tuple[int, int], ...]]:
        rng = self.np_random
        n = self._draw_length(length)
        order = rng.permutation(n)
        chosen = np.triu(rng.random((n, n)) < min(0.5, EDGE_RATE / n), k=1)
        edges = sorted((int(order[i]), int(order[j])) for i, j in zip(*np.nonzero(chosen)))
        return n, tuple(edges)

    def _check_problem(self, problem: Any) -> tuple[int, tuple[tuple[int, int], ...]]:
        accepted = (
            f"a pair (n, edges): n an integer in [1, {LENGTH_LIMIT}] and edges a list of (parent, child) "
            "pairs of distinct vertices in [0, n) with no cycle, e.g. (3, [(0, 2), (1, 2)]), or its text items "
            "('3', '0-2', '1-2')"
        )
        if isinstance(problem, tuple) and problem and all(isinstance(x, str) for x in problem):
            problem = _from_text(problem, accepted)
        if not isinstance(problem, (tuple, list)) or len(problem) != 2 or not isinstance(problem[1], (tuple, list)):
            raise ValueError(f"a toposort problem is {accepted}; got {short_repr(problem)}")
        n, given = problem
        if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)) or not 1 <= n <= LENGTH_LIMIT:
            raise ValueError(f"a toposort problem is {accepted}; n = {short_repr(n)} is not such an integer")
        edges = set()
        for edge in given:
            ok = isinstance(edge, (tuple, list)) and len(edge) == 2 and all(
                isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and 0 <= v < n for v in edge
            )
            if not ok or edge[0] == edge[1]:
                raise ValueError(f"a toposort problem is {accepted}; {short_repr(edge)} is not such an edge")
            edges.add((int(edge[0]), int(edge[1])))
        cycle = _find_cycle(int(n), edges)
        if cycle:
            raise ValueError(f"a toposort problem is {accepted}; the edges make the cycle {' -> '.join(map(str, cycle))}")
        return int(n), tuple(sorted(edges))

    def _load(self, problem: tuple[int, tuple[tuple[int, int], ...]]) -> None:
        n, edges = problem
        self._children = _children(n, edges)
        self._colour = np.zeros(n, dtype=np.int64)
        self._start_vertex = 0
        self._stack: list[int] = []  # (vertex, index of its next child) entries, flat
        self._output = np.full(n, -1, dtype=np.int64)
        self._written = 0

    # ----------------------------------------------------------------- state
    @property
    def output(self) -> np.ndarray:
        """The output row, filled from the right (-1: not written yet)."""
        return self._output.copy()

    @property
    def colours(self) -> np.ndarray:
        """Per vertex: 0 white, 1 grey, 2 black."""
        return self._colour.copy()

    def _get_state(self) -> tuple:
        return self._colour.copy(), self._start_vertex, tuple(self._stack), self._output.copy(), self._written

    def _set_state(self, state: tuple) -> None:
        self._colour, self._start_vertex, self._stack = state[0].copy(), state[1], list(state[2])
        self._output, self._written = state[3].copy(), state[4]

    def _next_child(self) -> int | None:
        """The top vertex's next child (None: no child left, or the stack is empty)."""
        if not self._stack:
            return None
        vertex, index = self._stack[-2:]
        children = self._children[vertex]
        return children[index] if index < len(children) else None

    def _act(self, args: tuple[int, int, int]) -> str | None:
        kind = args[0]
        n = len(self._colour)
        if kind == PUSH_START or kind == PUSH_CHILD:
            vertex = (self._start_vertex if self._start_vertex < n else None) if kind == PUSH_START else self._next_child()
            if vertex is None:
                return "no vertex to push: the start pointer is past the last vertex" if kind == PUSH_START else "the top vertex has no next child"
            if self._colour[vertex] != WHITE:
                return f"vertex {vertex} is already visited"
            self._colour[vertex] = GREY
            self._stack += [vertex, 0]
        elif kind == POP:
            if not self._stack:
                return "the stack is empty"
            del self._stack[-2:]
        elif kind == MOVE_START:
            if self._start_vertex == n:
                return "the start pointer is already past the last vertex"
            self._start_vertex += 1
        elif kind == MOVE_CHILD:
            if self._next_child() is None:
                return "the top vertex has no next child"
            self._stack[-1] += 1
        else:
            if not self._stack or self._colour[self._stack[-2]] != GREY:
                return "no vertex to write: the stack is empty or its top is written"
            vertex = self._stack[-2]
            self._colour[vertex] = BLACK
            self._output[n - 1 - self._written] = vertex
            self._written += 1
        return None

    def _start_colour(self) -> int:
        return int(self._colour[self._start_vertex]) if self._start_vertex < len(self._colour) else NONE

    def _child_colour(self) -> int:
        child = self._next_child()
        return NONE if child is None else int(self._colour[child])

    def _observe(self) -> dict[str, Any]:
        return {
            "colours": np.array([self._start_colour(), self._child_colour()], dtype=np.int64),
            "flags": np.array([not self._stack], dtype=np.int8),
        }

    def _solved(self) -> bool:
        if self._written < len(self._colour):
            return False
        position = np.empty(len(self._output), dtype=np.int64)
        position[self._output] = np.arange(len(self._output))
        return all(position[u] < position[v] for u, v in self.problem[1])

    # ----------------------------------------------------------------- expert
    def expert_TOPOSORT(self) -> Iterator[str]:
        while True:
            if self._start_colour() == WHITE:
                yield "TRAVERSE"
            yield "NEXT_START"
            if self._start_vertex == len(self._colour):
                return
            if self.recursive:
                yield "TOPOSORT"
                return

    def expert_TRAVERSE(self) -> Iterator[str]:
        yield from ("ACT STACK PUSH START", "EXPLORE")

    def expert_NEXT_START(self) -> Iterator[str]:
        yield "ACT MOVE START"

    def expert_EXPLORE(self) -> Iterator[str]:
        while True:
            if self._next_child() is None:
                yield from ("ACT WRITE", "ACT STACK POP")
                if self.recursive or not self._stack:
                    return
                continue
            depth = len(self._stack)
            yield "CHECK_CHILD"
            if self.recursive:
                if len(self._stack) > depth:
                    yield "EXPLORE"
                yield "EXPLORE"
                return

    def expert_CHECK_CHILD(self) -> Iterator[str]:
        yield "ACT STACK PUSH CHILD" if self._child_colour() == WHITE else "ACT MOVE CHILD"

    # ----------------------------------------------------------------- rendering
    def _window(self) -> range:
        n = len(self._colour)
        start = int(np.clip(self._start_vertex - RENDER_COLUMNS // 2, 0, max(0, n - RENDER_COLUMNS)))
        return range(start, min(n, start + RENDER_COLUMNS))

    def _render_text(self) -> str:
        window = self._window()
        on_stack = self._stack[::2]
        lines = [
            f"{len(self._colour)} vertices, {len(self.problem[1])} edges   stack: {' > '.join(self.stack) or '(returned)'}",
            "VERTEX " + "".join(f"{v:>4}" for v in window),
            "COLOUR " + "".join(f"{'WGB'[self._colour[v]]:>4}" for v in window),
            "START  " + "".join("   ^" if v == self._start_vertex else "    " for v in window),
            f"DFS    {on_stack}   OUTPUT {[int(v) if v >= 0 else '.' for v in self._output]}",
        ]
        return "\n".join(lines) + "\n"

    def _render_image(self) -> np.ndarray:
        window = self._window()
        cells = [
            [str(v) for v in window],
            [str(self._colour[v]) for v in window],
            [str(self._output[v]) if self._output[v] >= 0 else "." for v in window],
        ]
        pointers = [[self._start_vertex - window.start] if self._start_vertex in window else [], [], []]
        return grid_image(cells, pointers)


def _from_text(items: tuple[str, ...], accepted: str) -> tuple[int, list[tuple[int, ...]]]:
    """``("3", "0-2", "1-2")`` (the command line's items) -> ``(3, [(0, 2), (1, 2)])``."""
    try:
        return int(items[0]), [tuple(int(v) for v in edge.split("-", 1)) for edge in items[1:]]
    except ValueError:
        raise ValueError(f"a toposort problem is {accepted}; got {short_repr(items)}") from None


def _children(n: int, edges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, ...], ...]:
    children: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        children[u].append(v)
    return tuple(tuple(sorted(c)) for c in children)


def _find_cycle(n: int, edges: set[tuple[int, int]]) -> list[int]:
    """A cycle of the graph as a vertex list (first vertex repeated at the end), or [] if there is none."""
    children = _children(n, tuple(edges))
    colour = [WHITE] * n
    for root in range(n):
        if colour[root] != WHITE:
            continue
        path, stack = [root], [iter(children[root])]
        colour[root] = GREY
        while stack:
            child = next(stack[-1], None)
            if child is None:
                colour[path.pop()] = BLACK
                stack.pop()
            elif colour[child] == GREY:
                return path[path.index(child):] + [child]
            elif colour[child] == WHITE:
                colour[child] = GREY
                path.append(child)
                stack.append(iter(children[child]))
    return []
