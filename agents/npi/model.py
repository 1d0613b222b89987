"""The NPI network: encoder, program memory, LSTM core and the return / program-key / argument heads."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.npi.config import NPIConfig
from agents.npi.encoders import PROGRAM_KEY, make_encoder
from agents.npi.numeric import mm, weight
from npi_gym.programs import RETURN, ProgramSet


class Heads(NamedTuple):
    """Per-step outputs: return logit, a score per program (key dot product), logits of each argument."""

    ret: torch.Tensor
    programs: torch.Tensor
    args: tuple[torch.Tensor, torch.Tensor, torch.Tensor]


class Task(NamedTuple):
    """One env the model plays: its program table and observation space."""

    programs: ProgramSet
    observation_space: spaces.Dict


def domain(observation_space: spaces.Dict) -> str:
    """What one encoder reads: the observation keys and spaces other than the running program, as text."""
    return repr({k: v for k, v in observation_space.spaces.items() if k != PROGRAM_KEY})


class NPI(nn.Module):
    """Reed & de Freitas' NPI: s_t = f_enc(e_t, a_t); [s_t, M_prog[p]] -> ReLU MLP -> LSTM -> heads.

    One core and one program memory for any number of tasks, one encoder per distinct observation
    space (``domain``). A memory row (key and embedding) is a program name within a domain: tasks
    with the same observations (a sort env and its extension) share their common programs, while a
    name that recurs across domains (ACT, LSHIFT) gets a row per domain, since its calls and arguments
    mean different things there. RETURN is one row (row 0) for all. ``rows[t]`` maps task ``t``'s
    program ids to memory rows; with one task they are the env's own ids. The next program is the
    task's program whose key has the largest dot product with k_t. The argument heads are as wide
    as the widest task's; a task reads the first ``arg_sizes`` logits of each.

    ``NPI(cfg, programs, observation_space)`` is the model of one task.
    """

    def __init__(
        self, cfg: NPIConfig, tasks: Sequence[Task] | ProgramSet, observation_space: spaces.Dict | None = None
    ) -> None:
        super().__init__()
        if isinstance(tasks, ProgramSet):
            tasks = [Task(tasks, observation_space)]
        self.tasks = tuple(tasks)
        domains = list(dict.fromkeys(domain(t.observation_space) for t in self.tasks))
        self.domain_of = [domains.index(domain(t.observation_space)) for t in self.tasks]
        first = {d: self.domain_of.index(d) for d in range(len(domains))}
        self.encoders = nn.ModuleList(make_encoder(self.tasks[first[d]].observation_space, cfg) for d in range(len(domains)))
        memory: dict[tuple[int, str], int] = {(-1, RETURN): 0}
        self.rows: list[torch.Tensor] = []
        for t, d in zip(self.tasks, self.domain_of):
            keys = [(-1, RETURN)] + [(d, name) for name in t.programs.names[1:]]
            for key in keys:
                memory.setdefault(key, len(memory))
            self.rows.append(torch.tensor([memory[k] for k in keys]))
        self.memory = tuple(memory)
        """(domain, program name) of each memory row (RETURN's domain is -1)"""
        self.arg_sizes = tuple(max(t.programs.arg_sizes[k] for t in self.tasks) for k in range(3))
        self.program_keys = nn.Parameter(torch.randn(len(memory), cfg.key_dim) / cfg.key_dim**0.5)
        self.program_embeddings = nn.Embedding(len(memory), cfg.program_dim)
        self.fuse = nn.Sequential(
            nn.Linear(cfg.state_dim + cfg.program_dim, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.ReLU(),
        )
        self.core = nn.LSTM(cfg.hidden, cfg.hidden, cfg.layers, batch_first=True)
        self.head = nn.Linear(cfg.hidden, 1 + cfg.key_dim + sum(self.arg_sizes))

    @property
    def encoder(self) -> nn.Module:
        """The first task's encoder."""
        return self.task_encoder(0)

    def task_encoder(self, task: int) -> nn.Module:
        return self.encoders[self.domain_of[task]]

    def forward(self, features: dict[str, torch.Tensor], program: torch.Tensor, task: int = 0) -> Heads:
        """Outputs for padded frames of one task: features ``[B, T, ...]``, the frames' program ids ``[B]`` (the task's)."""
        rows = self.rows[task]
        s = self.task_encoder(task)(features)
        p = self.program_embeddings(rows[program])[:, None].expand(-1, s.shape[1], -1)
        h, _ = self.core(self.fuse(torch.cat([s, p], dim=-1)))
        return self._heads(self.head(h), task)

    def _heads(self, out: torch.Tensor, task: int) -> Heads:
        ret, key, args = out.split([1, self.program_keys.shape[1], sum(self.arg_sizes)], dim=-1)
        sizes = self.tasks[task].programs.arg_sizes
        args = tuple(a[..., :n] for a, n in zip(args.split(self.arg_sizes, dim=-1), sizes))
        return Heads(ret.squeeze(-1), key @ self.program_keys[self.rows[task]].T, args)


class Cell:
    """One step of a trained NPI for a batch of frames, on a snapshot of the weights.

    Acting runs one step at a time; plain array code costs a fraction of calling the torch
    modules step by step. The first LSTM layer's input gates depend only on the observation and
    the running program: with a discrete encoder (finitely many inputs) they are memoised. The state
    of a frame is ``[layers, 2, hidden]`` (h and c of each layer). The cell plays task ``task`` of the
    model, in that task's program ids.
    """

    def __init__(self, model: NPI, task: int = 0) -> None:
        encoder = model.task_encoder(task)
        rows = model.rows[task]
        keys, embeddings = model.program_keys[rows], model.program_embeddings.weight[rows]
        self.encode = encoder.numpy_forward()
        self.memo: dict[bytes, np.ndarray] | None = {} if encoder.discrete else None
        lstm = model.core
        self.layers, self.hidden = lstm.num_layers, lstm.hidden_size
        first, second = model.fuse[0], model.fuse[2]
        s = first.in_features - model.program_embeddings.embedding_dim
        self.fuse_state = weight(first.weight[:, :s].T)
        self.fuse_program = _array(embeddings @ first.weight[:, s:].T + first.bias)
        self.fuse2 = (weight(second.weight.T), _array(second.bias))
        self.input_gates = (weight(lstm.weight_ih_l0.T), _array(lstm.bias_ih_l0 + lstm.bias_hh_l0))
        self.recurrent = [weight(lstm.weight_hh_l0.T)] + [
            weight(torch.cat([getattr(lstm, f"weight_ih_l{k}"), getattr(lstm, f"weight_hh_l{k}")], 1).T)
            for k in range(1, self.layers)
        ]
        self.biases = [np.float32(0)] + [
            _array(getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")) for k in range(1, self.layers)
        ]
        key = keys.shape[1]
        w, b = model.head.weight, model.head.bias
        scores = torch.cat([w[:1], keys @ w[1 : 1 + key], w[1 + key :]])
        self.head = (weight(scores.T), _array(torch.cat([b[:1], keys @ b[1 : 1 + key], b[1 + key :]])))
        ends = np.cumsum([1, len(keys), *model.arg_sizes])
        starts = [0, *ends[:-1]]
        sizes = [1, len(keys), *model.tasks[task].programs.arg_sizes]
        self.slices = [slice(a, a + n) for a, n in zip(starts, sizes)]

    def __call__(
        self, features: dict[str, np.ndarray], program: np.ndarray, state: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
        """Return logits ``[B]``, program scores ``[B, N]``, the three argument logits and the new states.

        ``features`` as the encoder's ``featurize`` gives them, stacked to ``[B, ...]``; ``program``
        ``[B]`` the running programs; ``state`` ``[B, layers, 2, hidden]``.
        """
        inputs = self._memoised_input_gates(features, program)
        new = np.empty_like(state)
        H = self.hidden
        x = None
        for k, (w, b) in enumerate(zip(self.recurrent, self.biases)):
            h = state[:, k, 0] if k == 0 else np.concatenate([x, state[:, k, 0]], axis=1)
            gates = mm(h, w) + (inputs if k == 0 else b)
            sig = 0.5 + 0.5 * np.tanh(0.5 * gates)
            c = sig[:, H : 2 * H] * state[:, k, 1] + sig[:, :H] * np.tanh(gates[:, 2 * H : 3 * H])
            x = sig[:, 3 * H :] * np.tanh(c)
            new[:, k, 0], new[:, k, 1] = x, c
        out = mm(x, self.head[0]) + self.head[1]
        ret, scores, *args = (out[:, s] for s in self.slices)
        return ret[:, 0], scores, args, new

    def _input_gates(self, features: dict[str, np.ndarray], program: np.ndarray) -> np.ndarray:
        x = np.maximum(mm(self.encode(features), self.fuse_state) + self.fuse_program[program], 0)
        x = np.maximum(mm(x, self.fuse2[0]) + self.fuse2[1], 0)
        return mm(x, self.input_gates[0]) + self.input_gates[1]

    def _memoised_input_gates(self, features: dict[str, np.ndarray], program: np.ndarray) -> np.ndarray:
        if self.memo is None:
            return self._input_gates(features, program)
        codes = features["codes"]
        keys = [row.tobytes() for row in np.concatenate([codes, program[:, None].astype(codes.dtype)], axis=1)]
        rows = [self.memo.get(k) for k in keys]
        missing = [i for i, row in enumerate(rows) if row is None]
        if missing:
            for i, row in zip(missing, self._input_gates({"codes": codes[missing]}, program[missing])):
                rows[i] = self.memo[keys[i]] = row
        return np.stack(rows)

    def zeros(self, n: int) -> np.ndarray:
        return np.zeros((n, self.layers, 2, self.hidden), dtype=np.float32)


def _array(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)
