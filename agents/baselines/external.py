"""Agents named by path: ``module:Name`` or ``path/to/file.py:Name``, built by calling ``Name(env)``.

The factory protocol: ``Name`` is a class or a function that takes the env (``gym.make(env_id,
**env_kwargs)``) and returns an object with ``reset(obs, info)`` and ``act(obs, info) -> action``
(``agents.base.Agent``). ``agents.evaluate`` then plays it through fresh envs of the same id.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym

from agents.base import Agent


def load_factory(spec: str) -> Any:
    """The object ``spec`` names (``module:Name`` or ``file.py:Name``)."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise ValueError(f"--agent takes module:Name or path/to/file.py:Name; got {spec!r}")
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"--agent {spec}: no file {path}")
        module_name = f"_npi_gym_agent_{path.stem}"
        loaded = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(loaded)
        sys.modules[module_name] = module
        try:
            loaded.loader.exec_module(module)
        except Exception as e:
            raise ValueError(f"--agent {spec}: importing {path} failed: {type(e).__name__}: {e}") from None
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise ValueError(f"--agent {spec}: cannot import module {where!r} ({e}); give an importable module or a .py file") from None
    if not hasattr(module, name):
        public = sorted(n for n in vars(module) if not n.startswith("_") and callable(getattr(module, n)))
        raise ValueError(f"--agent {spec}: {where} has no {name!r}; it defines: {', '.join(public) or 'nothing callable'}")
    return getattr(module, name)


def build_agent(spec: str, env: gym.Env) -> Agent:
    """``factory(env)`` for the factory ``spec`` names, checked to be an Agent."""
    factory = load_factory(spec)
    if not callable(factory):
        raise TypeError(f"--agent {spec} is a {type(factory).__name__}, not a class or function taking the env")
    try:
        agent = factory(env)
    except Exception as e:
        raise ValueError(f"--agent {spec}: calling it with the env failed: {type(e).__name__}: {e}") from None
    if not isinstance(agent, Agent):
        raise TypeError(f"--agent {spec}: {type(agent).__name__} is not an agent: it needs reset(obs, info) and act(obs, info) methods")
    return agent
