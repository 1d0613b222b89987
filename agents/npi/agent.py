"""NPIAgent: acts through env.step with its own stack of LSTM states mirroring the env's call stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from agents.common.checkpoints import restoring
from agents.npi.checkpoint import find_task, load_checkpoint
from agents.npi.config import NPIConfig
from agents.npi.model import NPI, Cell, Task
from npi_gym.programs import Call, ProgramSet


class NPIAgent:
    """Greedy NPI policy for one episode (``reset``/``act``) or many in lockstep (``*_batch``).

    Each step: the running frame's LSTM state advances; if the return probability exceeds 0.5 the
    call is RETURN, else the allowed program with the best key score, with the argument triple of
    highest joint probability among those that program declares. A call into a non-primitive
    program pushes a zero state (once the env has accepted the call), RETURN pops it: the stack
    mirrors the env's. States live in one growing pool; each episode's stack lists its rows. A
    model of several tasks plays its task ``task``, in that env's program ids.
    """

    def __init__(
        self, model: NPI, programs: ProgramSet, env_id: str, env_kwargs: dict[str, Any] | None = None, task: int = 0
    ) -> None:
        self.model = model
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.programs = programs
        self.task = task
        self.cell = Cell(model, task)
        self.featurize = model.task_encoder(task).featurize
        self.allowed = programs.call_mask.copy()
        self.allowed[:, 0] = False
        self.call_program = np.array([c.program for c in programs.calls])
        self.call_args = np.array([c.args for c in programs.calls], dtype=np.int64)
        self.opens_frame = np.array([not p.primitive for p in programs.programs])
        self.opens_frame[0] = False
        self.pool = self.cell.zeros(64)
        self.free = list(range(len(self.pool)))
        self.stacks: dict[int, list[int]] = {}
        self.last: dict[int, Call | None] = {}

    @classmethod
    def load(cls, path: str | Path, env_id: str | None = None, **env_kwargs: Any) -> NPIAgent:
        """The agent of a checkpoint, for ``env_id`` (default: the first env it was trained on); ``env_kwargs``
        update the make-time kwargs that env was trained with."""
        ckpt = load_checkpoint(path)
        model = load_model(path, ckpt)
        task, env, env_id, env_kwargs = find_task(path, ckpt, env_id, env_kwargs)
        env.close()
        return cls(model.eval(), env.unwrapped.programs, env_id, env_kwargs, task)

    # ----------------------------------------------------------------- one episode
    def reset(self, obs: dict[str, Any], info: dict[str, Any]) -> None:
        self.reset_batch([0], [obs], [info])

    def act(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        return self.act_batch([0], [obs], [info])[0]

    # ----------------------------------------------------------------- many episodes
    def reset_batch(self, slots: Sequence[int], obs: Sequence[dict], infos: Sequence[dict]) -> None:
        for slot in slots:
            self.free += self.stacks.get(slot, [])
            self.stacks[slot] = [self._new_frame()]
            self.last[slot] = None

    def act_batch(self, slots: Sequence[int], obs: Sequence[dict], infos: Sequence[dict]) -> list[dict[str, Any]]:
        for slot, info in zip(slots, infos):
            self._follow(slot, "invalid_call" not in info)
        top = np.array([self.stacks[s][-1] for s in slots])
        features = self.featurize(list(obs))
        running = np.array([int(o["program"]) for o in obs])
        ret, scores, args, self.pool[top] = self.cell(features, running, self.pool[top])
        scores[~self.allowed[running]] = -np.inf
        program = scores.argmax(axis=1)
        triple = args[0][:, self.call_args[:, 0]] + args[1][:, self.call_args[:, 1]] + args[2][:, self.call_args[:, 2]]
        triple[self.call_program[None, :] != program[:, None]] = -np.inf
        chosen = self.call_args[triple.argmax(axis=1)]
        actions = []
        for slot, r, p, a in zip(slots, ret, program, chosen):
            call = Call(0, (0, 0, 0)) if r > 0 else Call(int(p), (int(a[0]), int(a[1]), int(a[2])))
            self.last[slot] = call
            actions.append({"program": call.program, "args": np.array(call.args, dtype=np.int64)})
        return actions

    def _follow(self, slot: int, accepted: bool) -> None:
        """Mirror the env's stack after the slot's last call: push on a call, pop on RETURN."""
        call = self.last[slot]
        if call is None or not accepted:
            return
        if call.program == 0:
            self.free.append(self.stacks[slot].pop())
        elif self.opens_frame[call.program]:
            self.stacks[slot].append(self._new_frame())

    def _new_frame(self) -> int:
        if not self.free:
            n = len(self.pool)
            self.pool = np.concatenate([self.pool, np.zeros_like(self.pool)])
            self.free = list(range(n, 2 * n))
        index = self.free.pop()
        self.pool[index] = 0.0
        return index


def load_model(path: str | Path, ckpt: dict[str, Any]) -> NPI:
    """The network of a checkpoint read from ``path``, for every env it was trained on."""
    with restoring(path, "config"):
        cfg = NPIConfig.from_dict(ckpt["config"])
    tasks = []
    for record in ckpt["tasks"]:
        with restoring(path, f"env {record.get('env_id')!r}"):
            env = gym.make(record["env_id"], **record["env_kwargs"])
            tasks.append(Task(env.unwrapped.programs, env.observation_space))
            env.close()
    with restoring(path, "weights"):
        model = NPI(cfg, tasks)
        model.load_state_dict(ckpt["model"])
    return model
