"""NPI checkpoints: the envs (ids, make-time kwargs, program tables, observation spaces) and config they were trained with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym

from agents.common.checkpoints import CheckpointError, CheckpointKind
from agents.common.upgrade import load_current, register_converter
from npi_gym.core import ProgramEnv
from npi_gym.programs import ProgramSet
from npi_gym.registry import PROGRAM_CALL_IDS

__all__ = [
    "KIND", "CheckpointError", "check_tasks", "export_checkpoint", "find_task", "load_checkpoint", "playable_env",
    "program_table", "save_checkpoint", "task_record",
]

INFERENCE = ("env_id", "tasks", "config", "model", "trainer")
"""what an exported (inference-only) checkpoint keeps"""
KIND = CheckpointKind(
    "npi-gym/npi-checkpoint", 3, "NPI checkpoint", article="an", inference=INFERENCE[:-1],
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


def task_record(env_id: str, env_kwargs: dict[str, Any], env: gym.Env) -> dict[str, Any]:
    """What a checkpoint records of one env it plays: id, make-time kwargs, program table, observation space."""
    return {
        "env_id": env_id, "env_kwargs": dict(env_kwargs), "programs": program_table(env.unwrapped.programs),
        "observation_space": repr(env.observation_space),
    }


def _from_version_2(ckpt: dict[str, Any]) -> dict[str, Any]:
    """Version 2 played one env (keys ``programs``, ``observation_space``; weights ``encoder.*``): one task, ``encoders.0.*``.

    A payload already in the version 3 layout is returned as it is.
    """
    if "tasks" in ckpt:
        return ckpt
    task = {"env_id": ckpt["env_id"], "env_kwargs": ckpt["config"].get("env_kwargs", {}), "programs": ckpt.pop("programs"),
            "observation_space": ckpt.pop("observation_space")}
    model = {("encoders.0." + k.removeprefix("encoder.") if k.startswith("encoder.") else k): v for k, v in ckpt["model"].items()}
    return {**ckpt, "tasks": [task], "model": model}


register_converter(KIND, 2, _from_version_2)


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``path`` atomically: a crash leaves the previous file intact."""
    return KIND.save(path, payload)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint (one of an older version converted as ``python -m agents.common.upgrade`` would)."""
    return load_current(KIND, path)


def check_tasks(path: str | Path, ckpt: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Refuse a checkpoint (read from ``path``) whose envs' program tables or observations differ from ``records``."""
    for saved, now in zip(ckpt["tasks"], records):
        for key, what in (("programs", "program table"), ("observation_space", "observations")):
            if saved[key] != now[key]:
                raise CheckpointError(
                    f"{path} was trained on {saved['env_id']} with another {what}: checkpoint {_describe(key, saved[key])}, "
                    f"env {_describe(key, now[key])}"
                )


def find_task(
    path: str | Path, ckpt: dict[str, Any], env_id: str | None, env_kwargs: dict[str, Any]
) -> tuple[int, gym.Env, str, dict[str, Any]]:
    """The task of the checkpoint read from ``path`` that plays ``env_id`` (default: its first), the env, its id and the
    kwargs it was made with: the make-time kwargs of the task of that id (else of the first) updated by ``env_kwargs``.
    ``CheckpointError`` naming the envs it plays if none can."""
    tasks = ckpt["tasks"]
    env_id = env_id or tasks[0]["env_id"]
    named = [i for i, t in enumerate(tasks) if t["env_id"] == env_id]
    kwargs = {**tasks[named[0] if named else 0]["env_kwargs"], **env_kwargs}
    env = playable_env(path, ckpt, env_id, kwargs)
    record = task_record(env_id, kwargs, env)
    for i in named + [i for i in range(len(tasks)) if i not in named]:
        if all(tasks[i][k] == record[k] for k in ("programs", "observation_space")):
            return i, env, env_id, kwargs
    env.close()
    raise CheckpointError(f"{_mismatch(path, tasks, record)}; {_plays(ckpt, env_kwargs)}")


def playable_env(path: str | Path, ckpt: dict[str, Any], env_id: str, env_kwargs: dict[str, Any]) -> gym.Env:
    """``gym.make(env_id, **env_kwargs)`` if it is a program-call env; else ``CheckpointError`` naming the envs the
    checkpoint read from ``path`` plays."""
    try:
        env = gym.make(env_id, **env_kwargs)
    except (TypeError, ValueError, ImportError, gym.error.Error) as e:
        raise CheckpointError(f"{path} cannot play {env_id} with env kwargs {env_kwargs} ({e}); {_plays(ckpt, env_kwargs)}") from None
    if isinstance(env.unwrapped, ProgramEnv):
        return env
    env.close()
    raise CheckpointError(f"{path} cannot play {env_id} with env kwargs {env_kwargs}: it is not a program-call env; {_plays(ckpt, env_kwargs)}")


def _mismatch(path: str | Path, tasks: list[dict[str, Any]], record: dict[str, Any]) -> str:
    """Why no task fits: the program table or observations, against the task of the same id (else the first)."""
    saved = next((t for t in tasks if t["env_id"] == record["env_id"]), tasks[0])
    if saved["programs"] != record["programs"]:
        return (
            f"{path} was trained on {saved['env_id']} and its program table differs from {record['env_id']}'s: "
            f"checkpoint programs {_describe('programs', saved['programs'])}, env programs {_describe('programs', record['programs'])}"
        )
    return (
        f"{path} cannot play {record['env_id']} with env kwargs {record['env_kwargs']}: its observations are "
        f"{record['observation_space']}, the checkpoint's {saved['observation_space']}"
    )


def _plays(ckpt: dict[str, Any], env_kwargs: dict[str, Any]) -> str:
    """Which registered envs (made with each task's kwargs and ``env_kwargs``) a checkpoint can play, as a clause for messages."""
    fits = []
    for env_id in PROGRAM_CALL_IDS:
        for task in ckpt["tasks"]:
            try:
                env = gym.make(env_id, **{**task["env_kwargs"], **env_kwargs})
            except (TypeError, ValueError, gym.error.Error):
                continue
            record = task_record(env_id, {}, env)
            env.close()
            if all(task[k] == record[k] for k in ("programs", "observation_space")):
                fits.append(env_id)
                break
    plays = f"it plays {', '.join(fits)}" if fits else "no registered env has the program table and observations of one of its tasks"
    return f"{plays} (trained on {ckpt['env_id']})"


def _describe(key: str, value: Any) -> str:
    if key != "programs":
        return str(value)
    names = [p["name"] for p in value["programs"]]
    return f"[{', '.join(names)}]" + (" (recursive)" if value["recursive"] else "")


def export_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Copy a checkpoint without its optimiser and sampler state: a third of the size, not resumable."""
    ckpt = load_checkpoint(src)
    return KIND.save(dst, {k: ckpt[k] for k in INFERENCE})
