"""NPI checkpoints: the env id, program table, observation space and config they were trained with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym

from agents.common.checkpoints import CheckpointError, CheckpointKind
from npi_gym.core import ProgramEnv
from npi_gym.programs import ProgramSet
from npi_gym.registry import PROGRAM_CALL_IDS

__all__ = [
    "KIND", "CheckpointError", "check_programs", "export_checkpoint", "load_checkpoint", "playable_env", "program_table",
    "save_checkpoint",
]

INFERENCE = ("env_id", "programs", "observation_space", "config", "model", "trainer")
"""what an exported (inference-only) checkpoint keeps"""
KIND = CheckpointKind(
    "npi-gym/npi-checkpoint", 2, "NPI checkpoint", article="an", inference=INFERENCE[:-1],
    training=("scheduler", "trainer", "sampler"), unchecked_version=1,
)


def program_table(programs: ProgramSet) -> dict[str, Any]:
    """The program table as plain data, for recording in and comparing against a checkpoint."""
    return {
        "recursive": programs.recursive,
        "programs": [
            {
                "name": p.name,
                "calls": list(programs.callees(p.name)) if i else [],
                "primitive": p.primitive,
                "args": {text: list(a) for text, a in p.args.items()},
            }
            for i, p in enumerate(programs.programs)
        ],
    }


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically: a crash leaves the previous file intact."""
    return KIND.save(path, payload)


def load_checkpoint(path: str | Path, programs: ProgramSet | None = None, env_id: str | None = None) -> dict[str, Any]:
    """Read a checkpoint; with ``programs``, refuse one trained on a different program table."""
    ckpt = KIND.load(path)
    if programs is not None:
        check_programs(path, ckpt, programs, env_id)
    return ckpt


def check_programs(path: str | Path, ckpt: dict[str, Any], programs: ProgramSet, env_id: str | None = None) -> None:
    """Refuse a checkpoint (read from ``path``) trained on a program table other than ``programs``."""
    difference = _table_difference(path, ckpt, programs, env_id)
    if difference:
        raise CheckpointError(difference)


def _table_difference(path: str | Path, ckpt: dict[str, Any], programs: ProgramSet, env_id: str | None) -> str | None:
    if program_table(programs) == ckpt["programs"]:
        return None
    target = f"{env_id}" if env_id else "the target env"
    return (
        f"{path} was trained on {ckpt['env_id']} and its program table differs from {target}'s: "
        f"checkpoint programs {_summary(ckpt['programs'])}, env programs {_summary(program_table(programs))}"
    )


def playable_env(path: str | Path, ckpt: dict[str, Any], env_id: str, env_kwargs: dict[str, Any]) -> gym.Env:
    """``gym.make(env_id, **env_kwargs)`` if the checkpoint read from ``path`` can play it (a program-call env
    with its program table and observation space); else ``CheckpointError`` naming the registered envs it can play."""
    try:
        env = gym.make(env_id, **env_kwargs)
    except (TypeError, ValueError, ImportError, gym.error.Error) as e:
        raise CheckpointError(f"{path} cannot play {env_id} with env kwargs {env_kwargs} ({e}); {_plays(ckpt, env_kwargs)}") from None
    cannot = f"{path} cannot play {env_id} with env kwargs {env_kwargs}"
    if not isinstance(env.unwrapped, ProgramEnv):
        reason = f"{cannot}: it is not a program-call env"
    elif difference := _table_difference(path, ckpt, env.unwrapped.programs, env_id):
        reason = difference
    elif repr(env.observation_space) != ckpt["observation_space"]:
        reason = f"{cannot}: its observations are {env.observation_space!r}, the checkpoint's {ckpt['observation_space']}"
    else:
        return env
    env.close()
    raise CheckpointError(f"{reason}; {_plays(ckpt, env_kwargs)}")


def _plays(ckpt: dict[str, Any], env_kwargs: dict[str, Any]) -> str:
    """Which registered envs (made with ``env_kwargs``) a checkpoint can play, as a clause for messages."""
    fits = []
    for env_id in PROGRAM_CALL_IDS:
        try:
            env = gym.make(env_id, **env_kwargs)
        except (TypeError, ValueError, gym.error.Error):
            continue
        if program_table(env.unwrapped.programs) == ckpt["programs"] and repr(env.observation_space) == ckpt["observation_space"]:
            fits.append(env_id)
        env.close()
    plays = f"it plays {', '.join(fits)}" if fits else "no registered env has its program table and observations"
    return f"{plays} with env kwargs {env_kwargs} (trained on {ckpt['env_id']})"


def _summary(table: dict[str, Any]) -> str:
    names = [p["name"] for p in table["programs"]]
    return f"[{', '.join(names)}]" + (" (recursive)" if table["recursive"] else "")


def export_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Copy a checkpoint without its optimiser and sampler state: a third of the size, not resumable."""
    return KIND.export(src, dst, INFERENCE)
