"""The NPI network: encoder, program memory, LSTM core and the return / program-key / argument heads."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.npi.config import NPIConfig
from agents.npi.encoders import make_encoder
from agents.npi.numeric import mm, weight
from npi_gym.programs import ProgramSet


class Heads(NamedTuple):
    """Per-step outputs: return logit, a score per program (key dot product), logits of each argument."""

    ret: torch.Tensor
    programs: torch.Tensor
    args: tuple[torch.Tensor, torch.Tensor, torch.Tensor]


class NPI(nn.Module):
    """Reed & de Freitas' NPI: s_t = f_enc(e_t, a_t); [s_t, M_prog[p]] -> ReLU MLP -> LSTM -> heads.

    The program memory has one row per program of the env's table (RETURN included, so ids match
    the env's); the next program is the one whose key has the largest dot product with k_t.
    """

    def __init__(self, cfg: NPIConfig, programs: ProgramSet, observation_space: spaces.Dict) -> None:
        super().__init__()
        self.arg_sizes = tuple(programs.arg_sizes)
        self.encoder = make_encoder(observation_space, cfg)
        self.program_keys = nn.Parameter(torch.randn(len(programs), cfg.key_dim) / cfg.key_dim**0.5)
        self.program_embeddings = nn.Embedding(len(programs), cfg.program_dim)
        self.fuse = nn.Sequential(
            nn.Linear(cfg.state_dim + cfg.program_dim, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.ReLU(),
        )
        self.core = nn.LSTM(cfg.hidden, cfg.hidden, cfg.layers, batch_first=True)
        self.head = nn.Linear(cfg.hidden, 1 + cfg.key_dim + sum(self.arg_sizes))

    def forward(self, features: dict[str, torch.Tensor], program: torch.Tensor) -> Heads:
        """Outputs for padded frames: features ``[B, T, ...]``, the frames' program ids ``[B]``."""
        s = self.encoder(features)
        p = self.program_embeddings(program)[:, None].expand(-1, s.shape[1], -1)
        h, _ = self.core(self.fuse(torch.cat([s, p], dim=-1)))
        return self._heads(self.head(h))

    def _heads(self, out: torch.Tensor) -> Heads:
        ret, key, args = out.split([1, self.program_keys.shape[1], sum(self.arg_sizes)], dim=-1)
        return Heads(ret.squeeze(-1), key @ self.program_keys.T, tuple(args.split(self.arg_sizes, dim=-1)))


class Cell:
    """One step of a trained NPI for a batch of frames, on a snapshot of the weights.

    Acting runs one step at a time; plain array code costs a fraction of calling the torch
    modules step by step. The first LSTM layer's input gates depend only on the observation and
    the running program: with a discrete encoder (finitely many inputs) they are memoised. The state
    of a frame is ``[layers, 2, hidden]`` (h and c of each layer).
    """

    def __init__(self, model: NPI) -> None:
        self.encode = model.encoder.numpy_forward()
        self.memo: dict[bytes, np.ndarray] | None = {} if model.encoder.discrete else None
        lstm = model.core
        self.layers, self.hidden = lstm.num_layers, lstm.hidden_size
        first, second = model.fuse[0], model.fuse[2]
        s = first.in_features - model.program_embeddings.embedding_dim
        self.fuse_state = weight(first.weight[:, :s].T)
        self.fuse_program = _array(model.program_embeddings.weight @ first.weight[:, s:].T + first.bias)
        self.fuse2 = (weight(second.weight.T), _array(second.bias))
        self.input_gates = (weight(lstm.weight_ih_l0.T), _array(lstm.bias_ih_l0 + lstm.bias_hh_l0))
        self.recurrent = [weight(lstm.weight_hh_l0.T)] + [
            weight(torch.cat([getattr(lstm, f"weight_ih_l{k}"), getattr(lstm, f"weight_hh_l{k}")], 1).T)
            for k in range(1, self.layers)
        ]
        self.biases = [np.float32(0)] + [
            _array(getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")) for k in range(1, self.layers)
        ]
        key = model.program_keys.shape[1]
        w, b = model.head.weight, model.head.bias
        scores = torch.cat([w[:1], model.program_keys @ w[1 : 1 + key], w[1 + key :]])
        self.head = (weight(scores.T), _array(torch.cat([b[:1], model.program_keys @ b[1 : 1 + key], b[1 + key :]])))
        ends = np.cumsum([1, len(model.program_keys), *model.arg_sizes])
        self.slices = [slice(a, b) for a, b in zip([0, *ends[:-1]], ends)]

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
