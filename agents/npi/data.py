"""Expert call frames as padded, bucketed tensors, and the curriculum sampler that draws batches."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Collection

import gymnasium as gym
import numpy as np
import torch

from npi_gym.traces import rollout

TARGETS = ("ret", "program", "arg0", "arg1", "arg2")
"""the columns of the per-step targets: return flag, next program id, its three arguments"""


@dataclass
class Bucket:
    """Frames padded to one length ``T``: features ``[N, T, ...]``, targets ``[N, T, 5]``, mask ``[N, T]``."""

    features: dict[str, torch.Tensor]
    targets: torch.Tensor
    mask: torch.Tensor
    program: torch.Tensor
    index: np.ndarray
    """positions of these frames in the whole frame list"""
    task: int = 0
    """the task (env) of these frames: their features are its encoder's and their program ids its own"""


@dataclass
class Frames:
    """Every call frame of a set of expert traces; one frame is one training sequence."""

    buckets: list[Bucket]
    bucket_of: np.ndarray
    program: np.ndarray
    """each frame's program: the env's id, or after ``merge_frames`` the model's memory row"""
    steps: int

    def __len__(self) -> int:
        return len(self.program)


def merge_frames(frames: list[Frames], rows: list[np.ndarray]) -> Frames:
    """The frames of several tasks as one set: task ``t``'s buckets tagged ``t`` and its programs mapped through
    ``rows[t]`` (env id -> memory row) in ``program``, the buckets keeping the env's own ids."""
    buckets, bucket_of, program, offset = [], [], [], 0
    for t, (f, r) in enumerate(zip(frames, rows)):
        buckets += [replace(b, index=b.index + offset, task=t) for b in f.buckets]
        bucket_of.append(f.bucket_of + len(buckets) - len(f.buckets))
        program.append(np.asarray(r)[f.program])
        offset += len(f)
    return Frames(buckets, np.concatenate(bucket_of), np.concatenate(program), sum(f.steps for f in frames))


def expert_frames(
    env: gym.Env,
    problems: list[tuple[int, dict[str, Any]]],
    featurize: Callable[[list[dict[str, Any]]], dict[str, np.ndarray]],
    short: int,
    programs: Collection[int] | None = None,
) -> Frames:
    """Roll out the expert on each (seed, reset options) and cut the traces into call frames (with
    ``programs``, only the frames of those program ids).

    Frames of at most ``short`` steps share one bucket whatever their program, so each batch mixes
    programs; longer frames are grouped by length, rounded up to a multiple of ``short``.
    """
    features: list[dict[str, np.ndarray]] = []
    targets, step_frame, program = [], [], []
    for seed, options in problems:
        trace = rollout(env.unwrapped, seed=seed, options=options)
        if trace.reward != 1.0:
            raise RuntimeError(f"the expert failed on problem {trace.problem!r}")
        features.append(featurize([s.observation for s in trace.steps]))
        targets.append(np.array([(s.call.program == 0, s.call.program, *s.call.args) for s in trace.steps], dtype=np.int16))
        step_frame.append(len(program) + np.array([s.frame for s in trace.steps]))
        program += [call.program for call, _ in trace.frames()]
    step_frame = np.concatenate(step_frame)
    step_features = {k: np.concatenate([f[k] for f in features]) for k in features[0]}
    step_targets = np.concatenate(targets)
    if programs is not None:
        kept = np.isin(program, list(programs))
        steps = kept[step_frame]
        step_frame = (np.cumsum(kept) - 1)[step_frame[steps]]
        step_features = {k: v[steps] for k, v in step_features.items()}
        step_targets = step_targets[steps]
        program = np.array(program)[kept].tolist()
    lengths = np.bincount(step_frame, minlength=len(program))
    order = np.argsort(step_frame, kind="stable")
    position = np.empty_like(step_frame)
    position[order] = np.arange(len(order)) - np.repeat(np.cumsum(lengths) - lengths, lengths)

    padded = np.maximum(short, -(-lengths // short) * short)
    buckets, bucket_of, row_of = [], np.zeros(len(program), dtype=np.int64), np.zeros(len(program), dtype=np.int64)
    for b, T in enumerate(np.unique(padded)):
        index = np.flatnonzero(padded == T)
        bucket_of[index], row_of[index] = b, np.arange(len(index))
        steps = np.flatnonzero(padded[step_frame] == T)
        at = (row_of[step_frame[steps]], position[steps])
        feats = {}
        for k, v in step_features.items():
            feats[k] = np.zeros((len(index), T, *v.shape[1:]), dtype=v.dtype)
            feats[k][at] = v[steps]
        tgt = np.zeros((len(index), T, len(TARGETS)), dtype=np.int16)
        tgt[at] = step_targets[steps]
        mask = np.zeros((len(index), T), dtype=bool)
        mask[at] = True
        buckets.append(
            Bucket(
                {k: torch.from_numpy(v) for k, v in feats.items()},
                torch.from_numpy(tgt),
                torch.from_numpy(mask),
                torch.tensor(np.array(program)[index]),
                index,
            )
        )
    return Frames(buckets, bucket_of, np.array(program, dtype=np.int64), int(lengths.sum()))


class CurriculumSampler:
    """Draws batches of frames with weight exp(error of the frame's program / temperature).

    With equal errors this is the traces' own mix of programs (duplicate frames kept); programs
    the model gets wrong more often are drawn more often. A program whose frames would get less
    than ``min_share`` of the draws (of its task's draws, with several tasks) gets that share: the
    top-level program has one frame per trace and is otherwise starved when the traces are few. Up to a fraction ``replay`` of each batch
    is drawn, each at most once, from the frames of the same bucket that the model got wrong when
    it last saw them: rare cases inside a program (9 + 9 + carry) are learned last otherwise.
    """

    def __init__(
        self,
        frames: Frames,
        num_programs: int,
        temperature: float,
        replay: float,
        rng: np.random.Generator,
        min_share: float = 0.0,
    ) -> None:
        self.frames = frames
        self.temperature = temperature
        self.min_share = min_share
        self.replay = replay
        self.rng = rng
        self.wrong = [np.zeros(len(b.index), dtype=bool) for b in frames.buckets]
        self.task_of = np.zeros(len(frames), dtype=np.int64)
        for b in frames.buckets:
            self.task_of[b.index] = b.task
        self.update(np.zeros(num_programs))

    def update(self, error: np.ndarray) -> None:
        """Re-weight frames from per-program error rates in [0, 1].

        With several tasks, each task's frames are weighted as above among themselves, and the task gets
        the share of the draws its programs have in a softmax over every program's error (the paper's
        per-program curriculum): the frame counts of one task do not starve another's programs.
        """
        scale = np.exp((np.asarray(error) - np.max(error)) / self.temperature)
        weight = scale[self.frames.program]
        tasks = [np.flatnonzero(self.task_of == t) for t in np.unique(self.task_of)]
        totals = [scale[np.unique(self.frames.program[f])].sum() for f in tasks]
        for frames, total in zip(tasks, totals):
            program = self.frames.program[frames]
            per_program = np.bincount(program, weight[frames], minlength=len(scale))
            share = _with_minimum(per_program / per_program.sum(), self.min_share)
            weight[frames] *= (share / np.where(per_program > 0, per_program, 1))[program] * (total / sum(totals))
        self.cdf = _cdf(weight)
        self.bucket_cdf = [_cdf(weight[b.index]) for b in self.frames.buckets]

    def sample(self, n: int) -> tuple[int, torch.Tensor]:
        """A bucket and ``n`` of its rows."""
        anchor = int(np.searchsorted(self.cdf, self.rng.random(), side="right"))
        b = int(self.frames.bucket_of[anchor])
        wrong = np.flatnonzero(self.wrong[b])
        k = min(len(wrong), int(self.replay * n))
        rows = np.concatenate(
            [np.searchsorted(self.bucket_cdf[b], self.rng.random(n - k), side="right"), self.rng.choice(wrong, k, replace=False)]
        )
        return b, torch.from_numpy(rows.astype(np.int64))

    def batch(self, b: int, rows: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
        """Features, targets, mask and program ids of those frames, trimmed to the longest."""
        bucket = self.frames.buckets[b]
        mask = bucket.mask[rows]
        T = int(mask.sum(1).max())
        features = {k: v[rows, :T] for k, v in bucket.features.items()}
        return features, bucket.targets[rows, :T].long(), mask[:, :T], bucket.program[rows]

    def record(self, b: int, rows: torch.Tensor, solved: torch.Tensor) -> None:
        """Remember which of the frames just trained on the model had wrong (before the update)."""
        self.wrong[b][rows.numpy()] = ~solved.numpy()

    def state(self) -> list[torch.Tensor]:
        return [torch.from_numpy(np.packbits(w)) for w in self.wrong]

    def load_state(self, state: list[torch.Tensor]) -> None:
        self.wrong = [np.unpackbits(s.numpy(), count=len(w)).astype(bool) for s, w in zip(state, self.wrong)]


def _with_minimum(share: np.ndarray, minimum: float) -> np.ndarray:
    """Shares summing to 1 where every present entry is at least ``minimum``; the rest keep their ratios."""
    present = share > 0
    minimum = min(minimum, 1 / present.sum())
    raised = np.zeros_like(present)
    while True:  # raising some entries shrinks the others, which may fall below the minimum in turn
        now = raised | (present & (share < minimum))
        rest = np.where(now, 0.0, share)
        left = 1 - minimum * now.sum()
        share = np.where(now, minimum, rest * left / rest.sum() if rest.sum() else 0.0)
        if (now == raised).all():
            return share
        raised = now


def _cdf(weight: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weight)
    return cdf / cdf[-1]
