"""Hanoi, quicksort, topological sort and MAX: golden traces checked call by call against the algorithms written out."""

from __future__ import annotations

import gymnasium as gym
import pytest

from npi_gym.traces import rollout

RECURSIVE = {False: "-v0", True: "-Recursive-v0"}


def hanoi_moves(n: int, source: int, aux: int, target: int) -> list[tuple[int, int]]:
    """The classical recursion's disk moves (from peg, to peg)."""
    if n == 0:
        return []
    return [*hanoi_moves(n - 1, source, target, aux), (source, target), *hanoi_moves(n - 1, aux, source, target)]


def hanoi_calls(n: int, recursive: bool, depth: int = 1) -> list[str]:
    """The trace lines of HANOI on n disks: AlphaNPI's recursion, or one loop over a stack of tasks."""
    pad = "  " * depth
    if recursive:
        if n == 1:
            return [pad + "ACT MOVE_DISK"]
        inner = [pad + "HANOI", *hanoi_calls(n - 1, True, depth + 1)]
        first = [pad + "ACT SWAP_A_T", pad + "ACT DEC_N", *inner, pad + "ACT INC_N", pad + "ACT SWAP_A_T"]
        second = [pad + "ACT SWAP_S_A", pad + "ACT DEC_N", *inner, pad + "ACT INC_N", pad + "ACT SWAP_S_A"]
        return [*first, pad + "ACT MOVE_DISK", *second]
    lines, pending, size = [], [], n
    split = ["ACT SWAP_S_A", "ACT DEC_N", "ACT PUSH", "ACT INC_N", "ACT SWAP_S_A", "ACT PUSH DISK", "ACT SWAP_A_T", "ACT DEC_N"]
    while True:
        if size > 1:
            lines += split
            pending += [size - 1, 1]
            size -= 1
            continue
        lines.append("ACT MOVE_DISK")
        if not pending:
            return [pad + line for line in lines]
        lines.append("ACT POP")
        size = pending.pop()


@pytest.mark.parametrize("recursive", [False, True])
def test_hanoi_3_disks_golden_trace(recursive: bool) -> None:
    env = gym.make("NPI-Hanoi" + RECURSIVE[recursive])
    trace = rollout(env, options={"problem": 3})
    assert trace.text().splitlines() == ["HANOI", *hanoi_calls(3, recursive)]
    assert trace.reward == 1.0 and env.unwrapped.pegs == ((), (), (3, 2, 1))


@pytest.mark.parametrize("recursive", [False, True])
@pytest.mark.parametrize("disks", [1, 2, 3, 6])
def test_hanoi_moves_are_the_classical_ones(recursive: bool, disks: int) -> None:
    env = gym.make("NPI-Hanoi" + RECURSIVE[recursive]).unwrapped
    env.reset(options={"problem": disks})
    moves = []
    while (action := env.expert_action()) is not None:
        before = env.pegs
        env.step(action)
        after = env.pegs
        if before != after:
            moves.append(tuple(next(p for p in range(3) if grew(after[p], before[p])) for grew in (shorter, longer)))
    assert moves == hanoi_moves(disks, 0, 1, 2)


def shorter(a: tuple, b: tuple) -> bool:
    return len(a) < len(b)


def longer(a: tuple, b: tuple) -> bool:
    return len(a) > len(b)


PAPER_ARRAY = [8, 2, 1, 2, 0, 8, 5, 8, 3, 7]


def quicksort_calls(values: list[int], recursive: bool) -> list[str]:
    """The trace lines of QUICKSORT on ``values``: Lomuto partition, ranges on a stack, as Cai et al.'s programs."""
    a, stack, lines = list(values), [(0, len(values) - 1)], ["QUICKSORT"]

    def emit(depth: int, text: str) -> None:
        lines.append("  " * depth + text)

    def partition(depth: int, lo: int, hi: int) -> int:
        emit(depth, "PARTITION")
        d = depth + 1
        emit(d, "ACT SET_PIVOT_LO")
        emit(d, "ACT SET_J_LO")
        emit(d, "COMPSWAP_LOOP")
        i, loop = lo, d + 1
        for j in range(lo, hi):
            emit(loop, "COMPSWAP")
            if a[j] <= a[hi]:
                emit(loop + 1, "ACT SWAP PIVOT J")
                emit(loop + 1, "ACT MOVE PIVOT RIGHT")
                a[i], a[j] = a[j], a[i]
                i += 1
            emit(loop, "ACT MOVE J RIGHT")
            if recursive and j + 1 < hi:
                emit(loop, "COMPSWAP_LOOP")
                loop += 1
        emit(d, "ACT SWAP PIVOT HI")
        a[i], a[hi] = a[hi], a[i]
        emit(d, "ACT SET_J_NULL")
        return i

    def step(depth: int) -> bool:
        """One popped range; whether it was partitioned."""
        emit(depth, "ACT STACK POP")
        lo, hi = stack.pop()
        if lo >= hi:
            return False
        p = partition(depth, lo, hi)
        emit(depth, "ACT STACK PUSH RIGHT")
        emit(depth, "ACT STACK PUSH LEFT")
        stack.extend([(p + 1, hi), (lo, p - 1)])
        return True

    def quicksort(depth: int) -> None:
        if step(depth):
            for _ in range(2):
                emit(depth, "QUICKSORT")
                quicksort(depth + 1)

    if recursive:
        quicksort(1)
    else:
        while step(1) or stack:
            pass
    assert a == sorted(values)
    return lines


@pytest.mark.parametrize("recursive", [False, True])
def test_quicksort_of_the_papers_array_golden_trace(recursive: bool) -> None:
    env = gym.make("NPI-Quicksort" + RECURSIVE[recursive])
    trace = rollout(env, options={"problem": PAPER_ARRAY})
    assert trace.text().splitlines() == quicksort_calls(PAPER_ARRAY, recursive)
    assert trace.reward == 1.0 and list(env.unwrapped.array) == [0, 1, 2, 2, 3, 5, 7, 8, 8, 8]
    assert env.unwrapped.ranges == ()


@pytest.mark.parametrize("recursive", [False, True])
@pytest.mark.parametrize("values", [[5], [3, 3, 3, 3], list(range(12)), list(range(12))[::-1], [1, 0] * 6])
def test_quicksort_trace_follows_the_algorithm_on_structured_arrays(recursive: bool, values: list[int]) -> None:
    values = [v % 10 for v in values]
    env = gym.make("NPI-Quicksort" + RECURSIVE[recursive])
    trace = rollout(env, options={"problem": values})
    assert trace.text().splitlines() == quicksort_calls(values, recursive)
    assert trace.reward == 1.0


# 0 -> 2, 1 -> 2, 1 -> 3, 2 -> 4, 3 -> 4. DFS from 0 finishes 4, 2, 0; from 1 (2 is done) 3, 1; 2, 3 and 4
# are done. The output is the reverse of that post-order.
DAG_5 = (5, [(0, 2), (1, 2), (1, 3), (2, 4), (3, 4)])
TOPOSORT_DAG_5 = """\
TOPOSORT
  TRAVERSE
    ACT STACK PUSH START
    EXPLORE
      CHECK_CHILD
        ACT STACK PUSH CHILD
      CHECK_CHILD
        ACT STACK PUSH CHILD
      ACT WRITE
      ACT STACK POP
      CHECK_CHILD
        ACT MOVE CHILD
      ACT WRITE
      ACT STACK POP
      CHECK_CHILD
        ACT MOVE CHILD
      ACT WRITE
      ACT STACK POP
  NEXT_START
    ACT MOVE START
  TRAVERSE
    ACT STACK PUSH START
    EXPLORE
      CHECK_CHILD
        ACT MOVE CHILD
      CHECK_CHILD
        ACT STACK PUSH CHILD
      CHECK_CHILD
        ACT MOVE CHILD
      ACT WRITE
      ACT STACK POP
      CHECK_CHILD
        ACT MOVE CHILD
      ACT WRITE
      ACT STACK POP
  NEXT_START
    ACT MOVE START
  NEXT_START
    ACT MOVE START
  NEXT_START
    ACT MOVE START
  NEXT_START
    ACT MOVE START"""
TOPOSORT_DAG_5_RECURSIVE = """\
TOPOSORT
  TRAVERSE
    ACT STACK PUSH START
    EXPLORE
      CHECK_CHILD
        ACT STACK PUSH CHILD
      EXPLORE
        CHECK_CHILD
          ACT STACK PUSH CHILD
        EXPLORE
          ACT WRITE
          ACT STACK POP
        EXPLORE
          CHECK_CHILD
            ACT MOVE CHILD
          EXPLORE
            ACT WRITE
            ACT STACK POP
      EXPLORE
        CHECK_CHILD
          ACT MOVE CHILD
        EXPLORE
          ACT WRITE
          ACT STACK POP
  NEXT_START
    ACT MOVE START
  TOPOSORT
    TRAVERSE
      ACT STACK PUSH START
      EXPLORE
        CHECK_CHILD
          ACT MOVE CHILD
        EXPLORE
          CHECK_CHILD
            ACT STACK PUSH CHILD
          EXPLORE
            CHECK_CHILD
              ACT MOVE CHILD
            EXPLORE
              ACT WRITE
              ACT STACK POP
          EXPLORE
            CHECK_CHILD
              ACT MOVE CHILD
            EXPLORE
              ACT WRITE
              ACT STACK POP
    NEXT_START
      ACT MOVE START
    TOPOSORT
      NEXT_START
        ACT MOVE START
      TOPOSORT
        NEXT_START
          ACT MOVE START
        TOPOSORT
          NEXT_START
            ACT MOVE START"""


@pytest.mark.parametrize("recursive", [False, True])
def test_toposort_of_a_five_vertex_dag_golden_trace(recursive: bool) -> None:
    env = gym.make("NPI-Toposort" + RECURSIVE[recursive])
    trace = rollout(env, options={"problem": DAG_5})
    assert trace.text() == (TOPOSORT_DAG_5_RECURSIVE if recursive else TOPOSORT_DAG_5)
    assert trace.reward == 1.0 and list(env.unwrapped.output) == [1, 3, 0, 2, 4]


def structured_dags(n: int) -> dict[str, tuple[int, list[tuple[int, int]]]]:
    return {
        "chain": (n, [(v + 1, v) for v in range(n - 1)]),
        "star": (n, [(n - 1, v) for v in range(n - 1)]),
        "complete": (n, [(v, u) for u in range(n) for v in range(u + 1, n)]),
        "empty": (n, []),
    }


@pytest.mark.parametrize("recursive", [False, True])
@pytest.mark.parametrize("shape", ["chain", "star", "complete", "empty"])
def test_toposort_output_is_a_topological_order_on_structured_dags(recursive: bool, shape: str) -> None:
    env = gym.make("NPI-Toposort" + RECURSIVE[recursive])
    n, edges = structured_dags(40)[shape]
    trace = rollout(env, options={"problem": (n, edges)})
    position = {int(v): i for i, v in enumerate(env.unwrapped.output)}
    assert trace.reward == 1.0 and sorted(position) == list(range(n))
    assert all(position[u] < position[v] for u, v in edges)


def test_a_wrong_order_is_not_rewarded() -> None:
    env = gym.make("NPI-Toposort-v0").unwrapped
    env.reset(options={"problem": (2, [(0, 1)])})
    env._load(env.problem)
    env._output[:] = [1, 0]
    env._written = 2
    assert not env._solved()


MAX_RJMP_3 = """\
  RJMP
    RSTEP
      ACT PTR 1 RIGHT
      ACT PTR 2 RIGHT
    RSTEP
      ACT PTR 1 RIGHT
      ACT PTR 2 RIGHT"""


@pytest.mark.parametrize("problem", [[9, 2, 5], [5], [3, 3, 1, 0, 7]])
def test_max_golden_trace_is_bubble_sort_then_rjmp(problem: list[int]) -> None:
    sort = rollout(gym.make("NPI-Sort-v0"), options={"problem": problem}).text().splitlines()
    env = gym.make("NPI-SortMax-v0")
    trace = rollout(env, options={"problem": problem})
    lines = trace.text().splitlines()
    assert lines[: len(sort) + 1] == ["MAX", *("  " + line for line in sort)]
    rjmp = lines[len(sort) + 1 :]
    steps = len(problem) - 1
    assert rjmp[0] == "  RJMP" and rjmp.count("    RSTEP") == steps
    assert rjmp.count("      ACT PTR 1 RIGHT") == rjmp.count("      ACT PTR 2 RIGHT") == steps
    if problem == [9, 2, 5]:
        assert "\n".join(rjmp) == MAX_RJMP_3
    assert trace.reward == 1.0 and env.unwrapped.pointers[0] == len(problem) - 1 == env.unwrapped.pointers[1]
    assert env.unwrapped.array[-1] == max(problem)


def test_max_is_not_solved_until_the_pointer_is_on_the_maximum() -> None:
    env = gym.make("NPI-SortMax-v0").unwrapped
    env.reset(options={"problem": [1, 2, 3]})
    for text in ("BUBBLESORT", "RETURN"):
        env.step(env.call_to_action(text))
    _, reward, terminated, _, _ = env.step(env.call_to_action("RETURN"))
    assert terminated and reward == 0.0
    recursive = rollout(gym.make("NPI-SortMax-v0", recursive=True), options={"problem": [4, 1, 3, 2]})
    assert recursive.reward == 1.0 and "      RSTEP" in recursive.text()
