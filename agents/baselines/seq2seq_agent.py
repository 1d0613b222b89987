"""Seq2SeqAgent: reads the problem under the env's pointers, predicts the output, writes it with ACT calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.baselines.seq2seq_config import KIND, Seq2SeqConfig
from agents.baselines.seq2seq_model import Seq2Seq, make_batch
from agents.baselines.seq2seq_tasks import Play, Task, task_for
from agents.common.checkpoints import CheckpointError, restoring
from agents.npi.checkpoint import program_table


class Seq2SeqAgent:
    """One episode at a time: the task's ``play`` routine, fed the observations, answers with the model's prediction."""

    def __init__(self, model: Seq2Seq, task: Task, aligned: bool, env_id: str, env_kwargs: dict[str, Any] | None = None) -> None:
        self.model, self.task, self.aligned = model.eval(), task, aligned
        self.env_id, self.env_kwargs = env_id, dict(env_kwargs or {})
        self._play: Play | None = None
        self._started = False

    @classmethod
    def load(cls, path: str | Path, env_id: str | None = None, **env_kwargs: Any) -> Seq2SeqAgent:
        """The agent of a checkpoint, for ``env_id`` (default: the env it was trained on)."""
        ckpt = KIND.load(path)
        with restoring(path, "config"):
            cfg = Seq2SeqConfig.from_dict(ckpt["config"])
        env_id = env_id or ckpt["env_id"]
        env_kwargs = {**cfg.env_kwargs, **env_kwargs}
        env = gym.make(env_id, **env_kwargs)
        try:
            task = task_for(env)
            if program_table(task.programs) != ckpt["programs"]:
                raise CheckpointError(f"{path} was trained on {ckpt['env_id']}, whose program table differs from {env_id}'s")
        finally:
            env.close()
        from agents.baselines.seq2seq_train import make_model

        with restoring(path, "weights"):
            model = make_model(task, cfg)
            model.load_state_dict(ckpt["model"])
        return cls(model, task, cfg.aligned, env_id, env_kwargs)

    def predict(self, tokens: np.ndarray) -> list[int]:
        return self.model.predict(make_batch([tokens]), [len(tokens) + 2])[0]

    def reset(self, obs: dict[str, Any], info: dict[str, Any]) -> None:
        self._play, self._started = self.task.play(self.predict, self.aligned), False

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        assert self._play is not None, "reset the agent first"
        call = self._play.send((obs, info)) if self._started else next(self._play)
        self._started = True
        return {"program": call.program, "args": np.array(call.args, dtype=np.int64)}
