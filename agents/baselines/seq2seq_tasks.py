"""What a seq2seq model reads and writes on a scratch-pad env, derived from the env's program table and spaces.

Two kinds of env are recognised by their ACT arguments: an array sorted by swaps (``SWAP 1 2``, pointers 1
and 2) and a pad whose OUT row receives digits (``WRITE OUT d``, pointers INP1, INP2, OUT). For each the
task encodes a problem as input tokens, reads the expert's output (the state the env's reward accepts) as
target tokens, and plays an episode through ``env.step``: read the input under the pointers, predict,
and write the prediction with ACT calls. Output tokens are symbol + 1 (0 is EOS); input token 0 is padding.
"""

from __future__ import annotations

from typing import Any, Callable, Generator, Sequence

import gymnasium as gym
import numpy as np

from agents.baselines.seq2seq_model import EOS
from npi_gym.programs import Call, ProgramSet

Predict = Callable[[np.ndarray], list[int]]
"""input tokens -> predicted output tokens (EOS excluded)"""
Play = Generator[Call, tuple[dict[str, Any], dict[str, Any]], None]
"""yields calls, is sent (obs, info) after each"""
RETURN = Call(0, (0, 0, 0))


def _act_args(programs: ProgramSet) -> dict[str, tuple[int, int, int]]:
    acts = [p for p in programs.programs if p.primitive]
    return dict(acts[0].args) if acts else {}


def _opener(programs: ProgramSet, root: str) -> int:
    """The root's callee that may call ACT: the frame an answer is written from."""
    for name in programs.callees(root):
        if any(programs[c].primitive for c in programs.callees(name)):
            return programs.ids[name]
    raise ValueError(f"no program called by {root} calls the primitive; a seq2seq answer cannot be written")


class Task:
    """The shared part: the program table's ACT calls and the frame the answer is written from."""

    aligned_ok = False
    vocab_out: int
    """output symbols + EOS"""

    def __init__(self, env: gym.Env) -> None:
        unwrapped = env.unwrapped
        self.programs: ProgramSet = unwrapped.programs
        args = _act_args(self.programs)
        act = next(i for i, p in enumerate(self.programs.programs) if p.primitive)
        self.act = {text: Call(act, tuple(a)) for text, a in args.items()}
        self.opener = Call(_opener(self.programs, unwrapped.root), (0, 0, 0))

    def vocab(self, aligned: bool) -> int:
        """Input tokens, padding included."""
        raise NotImplementedError

    def encode(self, problem: Any, aligned: bool = False) -> np.ndarray:
        raise NotImplementedError

    def target(self, problem: Any, output: Any, aligned: bool = False) -> np.ndarray:
        raise NotImplementedError

    def expert_output(self, env: gym.Env) -> Any:
        """Play the expert from the env's current (fresh) state to the end; the output it leaves."""
        unwrapped = env.unwrapped
        while True:
            _, _, terminated, truncated, _ = unwrapped.step(unwrapped.expert_action())
            if terminated or truncated:
                return self.output_of(env)

    def output_of(self, env: gym.Env) -> Any:
        raise NotImplementedError

    def max_steps(self, problem: Any) -> int:
        raise NotImplementedError

    def play(self, predict: Predict, aligned: bool) -> Play:
        raise NotImplementedError


class ArrayTask(Task):
    """An array permuted by ``SWAP 1 2``: the output is the array the expert leaves (sorted)."""

    NEEDS = ("SWAP 1 2", "PTR 1 LEFT", "PTR 1 RIGHT", "PTR 2 LEFT", "PTR 2 RIGHT")

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.values = int(env.observation_space["numbers"].nvec[0])
        self.vocab_out = self.values + 1

    def vocab(self, aligned: bool) -> int:
        return self.values + 1

    def encode(self, problem: Sequence[int], aligned: bool = False) -> np.ndarray:
        return np.asarray(problem, dtype=np.int64) + 1

    def output_of(self, env: gym.Env) -> tuple[int, ...]:
        return tuple(int(v) for v in env.unwrapped.array)

    def target(self, problem: Sequence[int], output: Sequence[int], aligned: bool = False) -> np.ndarray:
        return np.append(np.asarray(output, dtype=np.int64) + 1, EOS)

    def decode(self, tokens: Sequence[int]) -> tuple[int, ...]:
        return tuple(t - 1 for t in tokens)

    def max_steps(self, problem: Sequence[int]) -> int:
        return len(problem) + 1

    def play(self, predict: Predict, aligned: bool) -> Play:
        """Read the array with pointer 1, then swap it into the predicted order.

        A prediction that is not a permutation of the array cannot be written by swaps: the array is put
        in an unsorted order instead, or, when every order is sorted (all values equal), the episode is
        run out with calls that change nothing, so the env's reward is 0 exactly when the prediction is wrong.
        """
        obs, _ = yield self.opener
        values = [int(obs["numbers"][0])]
        while not obs["flags"][1]:
            obs, _ = yield self.act["PTR 1 RIGHT"]
            values.append(int(obs["numbers"][0]))
        predicted = list(self.decode(predict(self.encode(values))))
        if sorted(predicted) != sorted(values):
            predicted = sorted(values, reverse=True)
            if predicted == sorted(values):
                while True:
                    yield self.act["PTR 2 LEFT"]  # pointer 2 is at the left end: a no-op until truncation
        pointers, current = [len(values) - 1, 0], list(values)
        for i, want in enumerate(predicted):
            if current[i] == want:
                continue
            j = next(j for j in range(i + 1, len(current)) if current[j] == want)
            for p, goal in ((0, i), (1, j)):
                while pointers[p] != goal:
                    side = "RIGHT" if goal > pointers[p] else "LEFT"
                    pointers[p] += 1 if side == "RIGHT" else -1
                    yield self.act[f"PTR {p + 1} {side}"]
            current[i], current[j] = current[j], current[i]
            yield self.act["SWAP 1 2"]
        yield RETURN
        yield RETURN


class PadTask(Task):
    """Two numbers on rows INP1 and INP2; the output is the OUT row the expert leaves (the sum).

    ``encode`` stacked: the first number's digits (least significant first), a separator, the second's;
    aligned: one token per column, both digits together, plus one blank column for the last carry.
    """

    NEEDS = ("PTR INP1 LEFT", "PTR INP2 LEFT", "PTR OUT LEFT", "WRITE OUT 0")
    aligned_ok = True

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.base = int(env.observation_space["digits"].nvec[0]) - 1
        self.out_row = self.act["WRITE OUT 0"].args[1]
        self.blank = self.base
        self.separator = self.base + 1
        self.vocab_out = self.base + 1

    def vocab(self, aligned: bool) -> int:
        return 1 + (self.base + 1) ** 2 if aligned else self.base + 2

    def encode(self, problem: Sequence[str], aligned: bool = False) -> np.ndarray:
        a, b = ([int(c) for c in reversed(x)] for x in problem)
        if not aligned:
            return np.array([d + 1 for d in a] + [self.separator] + [d + 1 for d in b], dtype=np.int64)
        n = max(len(a), len(b)) + 1
        a, b = (x + [self.blank] * (n - len(x)) for x in (a, b))
        return 1 + np.array(a, dtype=np.int64) * (self.base + 1) + np.array(b, dtype=np.int64)

    def output_of(self, env: gym.Env) -> tuple[int, ...]:
        row = env.unwrapped.pad[self.out_row]
        return tuple(int(d) for d in row[::-1] if d != self.blank)

    def target(self, problem: Sequence[str], output: Sequence[int], aligned: bool = False) -> np.ndarray:
        digits = np.asarray(output, dtype=np.int64) + 1
        if not aligned:
            return np.append(digits, EOS)
        return np.concatenate([digits, np.full(max(map(len, problem)) + 1 - len(digits), EOS)])

    def max_steps(self, problem: Sequence[str]) -> int:
        return max(map(len, problem)) + 2

    def play(self, predict: Predict, aligned: bool) -> Play:
        """Read both numbers column by column (right to left), then write the predicted digits on OUT."""
        obs, _ = yield self.opener
        columns = []
        while not (obs["digits"][0] == self.blank and obs["digits"][1] == self.blank):
            columns.append((int(obs["digits"][0]), int(obs["digits"][1])))
            yield self.act["PTR INP1 LEFT"]
            obs, _ = yield self.act["PTR INP2 LEFT"]
        problem = tuple("".join(str(c[k]) for c in reversed(columns) if c[k] != self.blank) or "0" for k in (0, 1))
        for k, token in enumerate(predict(self.encode(problem, aligned))):
            if k:
                _, info = yield self.act["PTR OUT LEFT"]
                if "invalid_call" in info:
                    break
            yield self.act[f"WRITE OUT {token - 1}"]
        yield RETURN
        yield RETURN


TASKS = (ArrayTask, PadTask)


def task_for(env: gym.Env) -> Task:
    """The task of a scratch-pad env, recognised by the ACT arguments its program table declares."""
    programs = getattr(env.unwrapped, "programs", None)
    args = _act_args(programs) if isinstance(programs, ProgramSet) else {}
    for cls in TASKS:
        if all(text in args for text in cls.NEEDS):
            return cls(env)
    accepted = "; ".join(f"{cls.__name__}: ACT arguments {', '.join(cls.NEEDS)}" for cls in TASKS)
    raise ValueError(f"{env.spec.id if env.spec else env}: the seq2seq baseline reads and writes only ({accepted})")
