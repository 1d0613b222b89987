"""Hyperparameters in rl-zoo3's layout: one YAML per algorithm, top-level keys are env ids.

Each entry holds ``n_timesteps``, ``policy``, ``n_envs``, ``env_wrapper`` (a class path, or a list of
class paths and one-key ``{path: kwargs}`` mappings, applied in order) and the algorithm's own
constructor arguments, exactly as rl-zoo3 reads them.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym

from agents.baselines.algorithms import Algorithm

UNSUPPORTED = ("normalize", "frame_stack", "callback", "vec_env_wrapper", "n_envs_eval")
"""rl-zoo3 keys this trainer does not read (refused rather than ignored)"""


@dataclass(frozen=True)
class Hyperparams:
    """One env's entry of an algorithm's YAML, split into what the trainer and the algorithm take."""

    n_timesteps: int
    policy: str
    n_envs: int
    env_wrapper: tuple[tuple[str, dict[str, Any]], ...]
    model_kwargs: dict[str, Any] = field(default_factory=dict)


def default_file(algo: Algorithm) -> Path:
    """The YAML shipped with the package for ``algo``."""
    return Path(str(resources.files("agents.baselines") / "hyperparams" / f"{algo.zoo}.yml"))


def load_hyperparams(algo: Algorithm, env_id: str, path: str | Path | None = None) -> Hyperparams:
    """The entry for ``env_id`` in ``path`` (default: the shipped YAML of ``algo``)."""
    import yaml

    path = Path(path) if path is not None else default_file(algo)
    if not path.is_file():
        raise ValueError(f"no hyperparameters file at {path}")
    table = yaml.safe_load(path.read_text()) or {}
    if env_id not in table:
        raise ValueError(f"{path} has no entry for {env_id}; it has: {', '.join(table)}")
    entry = dict(table[env_id])
    refused = sorted(set(entry) & set(UNSUPPORTED))
    if refused:
        raise ValueError(
            f"{path}: {env_id}: keys {refused} are not supported here; use n_timesteps, policy, n_envs, env_wrapper and the algorithm's arguments"
        )
    return Hyperparams(
        n_timesteps=int(float(entry.pop("n_timesteps"))),
        policy=entry.pop("policy"),
        n_envs=int(entry.pop("n_envs", 1)),
        env_wrapper=_wrappers(entry.pop("env_wrapper", ())),
        model_kwargs=entry,
    )


def _wrappers(spec: Any) -> tuple[tuple[str, dict[str, Any]], ...]:
    """rl-zoo3's ``env_wrapper`` forms as (class path, kwargs) pairs."""
    items = [spec] if isinstance(spec, (str, dict)) else list(spec)
    out = []
    for item in items:
        if isinstance(item, str):
            out.append((item, {}))
        elif isinstance(item, dict) and len(item) == 1:
            (name, kwargs), = item.items()
            out.append((name, dict(kwargs or {})))
        else:
            raise ValueError(f"env_wrapper entries are class paths or one-key {{path: kwargs}} mappings; got {item!r}")
    return tuple(out)


def wrap(env: gym.Env, wrappers: tuple[tuple[str, dict[str, Any]], ...]) -> gym.Env:
    """``env`` inside each wrapper in order (the first is innermost), as rl-zoo3 applies ``env_wrapper``."""
    for name, kwargs in wrappers:
        env = wrapper_class(name)(env, **kwargs)
    return env


def wrapper_class(path: str) -> type:
    """The class a dotted ``env_wrapper`` path names, e.g. ``npi_gym.wrappers.FlatCalls``."""
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        raise ValueError(f"env_wrapper {path!r} is not an importable class path such as npi_gym.wrappers.FlatCalls") from None


def wrapper_function(wrappers: tuple[tuple[str, dict[str, Any]], ...]) -> Callable[[gym.Env], gym.Env]:
    """A picklable ``wrap`` for ``make_vec_env(wrapper_class=...)``."""
    return functools.partial(wrap, wrappers=wrappers)
