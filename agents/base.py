"""The Agent protocol and ``evaluate``: real episodes through ``gym.make``, per-length accuracy and steps."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, Sequence, runtime_checkable

import gymnasium as gym
import numpy as np

import npi_gym  # noqa: F401  (registers the ids)
from agents.common.seeds import EVAL_SEED, evaluation_seed

__all__ = ["EVAL_SEED", "Agent", "BatchAgent", "Episode", "LengthResult", "evaluate", "format_results", "run_episodes"]


@runtime_checkable
class Agent(Protocol):
    """What the CLI and ``evaluate`` drive: one episode at a time through the env's own actions.

    ``train``, ``save`` and ``load`` are optional.
    """

    def reset(self, obs: dict[str, Any], info: dict[str, Any]) -> None: ...

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> Any: ...


@runtime_checkable
class BatchAgent(Protocol):
    """An agent that also acts for many episodes in lockstep (``slot`` numbers the episodes)."""

    def reset_batch(self, slots: Sequence[int], obs: Sequence[dict], infos: Sequence[dict]) -> None: ...

    def act_batch(self, slots: Sequence[int], obs: Sequence[dict], infos: Sequence[dict]) -> list[Any]: ...


@dataclass(frozen=True)
class Episode:
    """How one evaluation episode ended."""

    length: int | None
    seed: int
    solved: bool
    steps: int
    truncated: bool
    seconds: float = field(compare=False)
    """wall-clock from the start of the ``run_episodes`` call until this episode ended (not compared)"""


@dataclass(frozen=True)
class LengthResult:
    """Per-sequence accuracy and steps at one problem size."""

    length: int | None
    episodes: int
    solved: int
    mean_steps: float
    seconds: float

    @property
    def accuracy(self) -> float:
        return self.solved / self.episodes


def run_episodes(
    agent: Agent,
    env_id: str,
    problems: Sequence[tuple[int, dict[str, Any]]],
    batch_size: int = 100,
    **env_kwargs: Any,
) -> list[Episode]:
    """Play one episode per (seed, reset options) with the agent; many at once if it is a BatchAgent."""
    results: list[Episode] = []
    if not problems:
        return results
    began = time.perf_counter()
    width = batch_size if isinstance(agent, BatchAgent) else 1
    envs = [gym.make(env_id, **env_kwargs) for _ in range(min(width, len(problems)))]
    try:
        for start in range(0, len(problems), len(envs)):
            chunk = problems[start : start + len(envs)]
            if isinstance(agent, BatchAgent):
                results += _lockstep(agent, envs[: len(chunk)], chunk, began)
            else:
                results += [_single(agent, envs[0], *chunk[0], began)]
    finally:
        for env in envs:
            env.close()
    return results


def _single(agent: Agent, env: gym.Env, seed: int, options: dict[str, Any], began: float) -> Episode:
    obs, info = env.reset(seed=seed, options=options)
    agent.reset(obs, info)
    steps = 0
    while True:
        obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
        steps += 1
        if terminated or truncated:
            return Episode(options.get("length"), seed, terminated and reward == 1.0, steps, truncated, time.perf_counter() - began)


def _lockstep(
    agent: BatchAgent, envs: list[gym.Env], problems: Sequence[tuple[int, dict[str, Any]]], began: float
) -> list[Episode]:
    """All episodes step together; the agent sees only the ones still running."""
    first = [env.reset(seed=seed, options=options) for env, (seed, options) in zip(envs, problems)]
    obs, infos = [o for o, _ in first], [i for _, i in first]
    active = list(range(len(envs)))
    agent.reset_batch(active, obs, infos)
    steps = [0] * len(envs)
    done: dict[int, Episode] = {}
    while active:
        actions = agent.act_batch(active, [obs[i] for i in active], [infos[i] for i in active])
        still = []
        for i, action in zip(active, actions):
            obs[i], reward, terminated, truncated, infos[i] = envs[i].step(action)
            steps[i] += 1
            if terminated or truncated:
                seed, options = problems[i]
                done[i] = Episode(
                    options.get("length"), seed, terminated and reward == 1.0, steps[i], truncated, time.perf_counter() - began
                )
            else:
                still.append(i)
        active = still
    return [done[i] for i in range(len(envs))]


def evaluate(
    agent: Agent,
    env_id: str,
    lengths: Iterable[int | None] = (None,),
    episodes: int | Sequence[int] = 100,
    seed: int = 0,
    batch_size: int = 100,
    **env_kwargs: Any,
) -> list[LengthResult]:
    """Per-length per-sequence accuracy (reward 1 at termination) and mean steps over fresh problems.

    ``lengths`` are problem sizes passed as ``options={"length": n}`` (None: the env's own sampling);
    ``episodes`` is one count for every length or one per length. All lengths' problems go through one
    ``run_episodes`` call, so a BatchAgent plays short and long ones in the same lockstep batches;
    a length's ``seconds`` is the wall-clock until its last episode ended.
    """
    lengths = list(lengths)
    counts = [episodes] * len(lengths) if isinstance(episodes, int) else list(episodes)
    if len(counts) != len(lengths):
        raise ValueError(f"got {len(counts)} episode counts for {len(lengths)} lengths")
    problems = [
        (evaluation_seed(i, seed, length), {} if length is None else {"length": int(length)})
        for length, count in zip(lengths, counts)
        for i in range(count)
    ]
    played = run_episodes(agent, env_id, problems, batch_size=batch_size, **env_kwargs)
    results, start = [], 0
    for length, count in zip(lengths, counts):
        mine, start = played[start : start + count], start + count
        results.append(
            LengthResult(
                length,
                count,
                sum(e.solved for e in mine),
                float(np.mean([e.steps for e in mine])) if mine else float("nan"),
                max((e.seconds for e in mine), default=0.0),
            )
        )
    return results


def format_results(results: Iterable[LengthResult], title: str = "") -> str:
    """A Markdown table of per-length results."""
    lines = [title] if title else []
    lines += ["| length | episodes | accuracy | mean steps | seconds |", "|---:|---:|---:|---:|---:|"]
    for r in results:
        length = "any" if r.length is None else r.length
        lines.append(f"| {length} | {r.episodes} | {100 * r.accuracy:.1f}% | {r.mean_steps:.0f} | {r.seconds:.1f} |")
    return "\n".join(lines)
