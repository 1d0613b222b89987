"""Per-environment encoders f_enc(observation, arguments) -> s_t, registered by env family."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.npi.config import NPIConfig
from agents.npi.numeric import mm, weight

COMMON_KEYS = ("program", "args")


class OneHotMLP(nn.Module):
    """MLP over the one-hot codes of every discrete observation component and the three arguments.

    The first layer is an embedding sum over the components' categories: the same linear map (and
    initialisation) as ``nn.Linear`` on the concatenated one-hot vector, without building it.
    """

    def __init__(self, observation_space: spaces.Dict, cfg: NPIConfig) -> None:
        super().__init__()
        self.keys = tuple(k for k in observation_space.spaces if k != "program")
        sizes = np.concatenate([_categories(observation_space[k]) for k in self.keys])
        self.register_buffer("offsets", torch.as_tensor(np.concatenate([[0], np.cumsum(sizes)[:-1]])))
        width = int(sizes.sum())
        bound = 1 / width**0.5
        self.first = nn.EmbeddingBag(width, cfg.encoder_hidden, mode="sum")
        nn.init.uniform_(self.first.weight, -bound, bound)
        self.bias = nn.Parameter(torch.empty(cfg.encoder_hidden).uniform_(-bound, bound))
        self.rest = nn.Sequential(nn.ReLU(), nn.Linear(cfg.encoder_hidden, cfg.state_dim))

    def featurize(self, observations: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        """Observations' components (task keys and arguments) as rows of small integers ``[n, C]``."""
        n = len(observations)
        return {"codes": np.concatenate([np.array([o[k] for o in observations]).reshape(n, -1) for k in self.keys], axis=1).astype(np.int16)}

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        codes = features["codes"]
        flat = codes.reshape(-1, codes.shape[-1]).long() + self.offsets
        out = self.rest(self.first(flat) + self.bias)
        return out.reshape(*codes.shape[:-1], -1)

    def numpy_forward(self) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
        """The encoder as a numpy function of stacked features ``[B, C]``, on a copy of the weights."""
        table, bias = _numpy(self.first.weight), _numpy(self.bias)
        offsets = self.offsets.numpy().copy()
        w, b = weight(self.rest[1].weight.T), _numpy(self.rest[1].bias)

        def forward(features: dict[str, np.ndarray]) -> np.ndarray:
            hidden = table[features["codes"].astype(np.int64) + offsets].sum(axis=1) + bias
            return mm(np.maximum(hidden, 0), w) + b

        return forward


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)


def _categories(space: spaces.Space) -> np.ndarray:
    """Number of categories of each component of a discrete space."""
    if isinstance(space, spaces.Discrete):
        return np.array([space.n])
    if isinstance(space, spaces.MultiDiscrete):
        return np.ravel(space.nvec)
    if isinstance(space, spaces.MultiBinary):
        return np.full(int(np.prod(space.shape)), 2)
    raise TypeError(f"the one-hot encoder takes discrete observation keys, not {space}")


ENCODERS: dict[str, Callable[[spaces.Dict, NPIConfig], nn.Module]] = {
    "NPI-Addition": OneHotMLP,
    "NPI-Sort": OneHotMLP,
}


def make_encoder(env_id: str, observation_space: spaces.Dict, cfg: NPIConfig) -> nn.Module:
    """The encoder registered for the env's family (the id up to its variant and version)."""
    name = env_id.split(":")[-1]
    for family, build in ENCODERS.items():
        if name.startswith(family):
            return build(observation_space, cfg)
    raise ValueError(f"no NPI encoder is registered for {env_id!r}; families: {sorted(ENCODERS)}")
