"""Encoders f_enc(observation, arguments) -> s_t, chosen from the observation space.

As stable-baselines3's ``CombinedExtractor`` looks at each key: an image key (a uint8 ``Box`` of shape
H x W x C) goes through a CNN, discrete keys (``Discrete``, ``MultiDiscrete``, ``MultiBinary``) through
one linear layer of their one-hot codes. The running program (the ``program`` key) is the model's own input.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.npi.config import NPIConfig
from agents.npi.numeric import mm, weight

PROGRAM_KEY = "program"
"""the observation key of the running program, which the NPI core embeds itself"""
DISCRETE = (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


class _Codes(nn.Module):
    """The discrete observation components and the three arguments, through one linear layer of their one-hot codes.

    An embedding sum over the components' categories: the same linear map (and initialisation) as
    ``nn.Linear`` on the concatenated one-hot vector, without building it.
    """

    def _init_codes(self, observation_space: spaces.Dict, keys: tuple[str, ...], width: int) -> None:
        self.keys = keys
        sizes = np.concatenate([_categories(observation_space[k]) for k in keys])
        self.register_buffer("offsets", torch.as_tensor(np.concatenate([[0], np.cumsum(sizes)[:-1]])))
        bound = 1 / int(sizes.sum()) ** 0.5
        self.first = nn.EmbeddingBag(int(sizes.sum()), width, mode="sum")
        nn.init.uniform_(self.first.weight, -bound, bound)
        self.bias = nn.Parameter(torch.empty(width).uniform_(-bound, bound))

    def _featurize_codes(self, observations: list[dict[str, Any]]) -> np.ndarray:
        n = len(observations)
        return np.concatenate([np.array([o[k] for o in observations]).reshape(n, -1) for k in self.keys], axis=1).astype(np.int16)

    def _codes(self, codes: torch.Tensor) -> torch.Tensor:
        """``[..., C]`` small integers -> ``[N, width]`` with the leading dims flattened."""
        return self.first(codes.reshape(-1, codes.shape[-1]).long() + self.offsets) + self.bias


class OneHotMLP(_Codes):
    """MLP over the one-hot codes of every discrete observation component and the three arguments."""

    discrete = True
    """its inputs take finitely many values (acting memoises per input)"""

    def __init__(self, observation_space: spaces.Dict, cfg: NPIConfig, codes: tuple[str, ...]) -> None:
        super().__init__()
        self._init_codes(observation_space, codes, cfg.encoder_hidden)
        self.rest = nn.Sequential(nn.ReLU(), nn.Linear(cfg.encoder_hidden, cfg.state_dim))

    def featurize(self, observations: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        """Observations' components (task keys and arguments) as rows of small integers ``[n, C]``."""
        return {"codes": self._featurize_codes(observations)}

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        codes = features["codes"]
        return self.rest(self._codes(codes)).reshape(*codes.shape[:-1], -1)

    def numpy_forward(self) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
        """The encoder as a numpy function of stacked features ``[B, C]``, on a copy of the weights."""
        table, bias = _numpy(self.first.weight), _numpy(self.bias)
        offsets = self.offsets.numpy().copy()
        w, b = weight(self.rest[1].weight.T), _numpy(self.rest[1].bias)

        def forward(features: dict[str, np.ndarray]) -> np.ndarray:
            hidden = table[features["codes"].astype(np.int64) + offsets].sum(axis=1) + bias
            return mm(np.maximum(hidden, 0), w) + b

        return forward


class ImageCNN(_Codes):
    """Three stride-2 convolution stages over the image key, plus the one-hot codes of the discrete keys."""

    discrete = False

    def __init__(self, observation_space: spaces.Dict, cfg: NPIConfig, codes: tuple[str, ...], image: str) -> None:
        super().__init__()
        self._init_codes(observation_space, codes, cfg.encoder_hidden)
        self.image = image
        size, _, channels = observation_space[image].shape
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 16, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32 * (-(-size // 8)) ** 2, cfg.encoder_hidden),
        )
        self.rest = nn.Sequential(nn.ReLU(), nn.Linear(cfg.encoder_hidden, cfg.state_dim))

    def featurize(self, observations: list[dict[str, Any]]) -> dict[str, np.ndarray]:
        """The images as uint8 ``[n, H, W, C]`` and the discrete components as small integers ``[n, C]``."""
        return {"image": np.stack([o[self.image] for o in observations]), "codes": self._featurize_codes(observations)}

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        codes, image = features["codes"], features["image"]
        pixels = image.reshape(-1, *image.shape[-3:]).permute(0, 3, 1, 2).float() / 255.0
        return self.rest(self._codes(codes) + self.conv(pixels)).reshape(*codes.shape[:-1], -1)

    def numpy_forward(self) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
        """The encoder as a function of stacked numpy features, on a frozen copy of the module."""
        frozen = copy.deepcopy(self).eval()

        @torch.no_grad()
        def forward(features: dict[str, np.ndarray]) -> np.ndarray:
            return frozen({k: torch.from_numpy(v) for k, v in features.items()}).numpy()

        return forward


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)


def _categories(space: spaces.Space) -> np.ndarray:
    """Number of categories of each component of a discrete space."""
    if isinstance(space, spaces.Discrete):
        return np.array([space.n])
    if isinstance(space, spaces.MultiDiscrete):
        return np.ravel(space.nvec)
    return np.full(int(np.prod(space.shape)), 2)


def is_image(space: spaces.Space) -> bool:
    """A uint8 ``Box`` of shape H x W x C, as stable-baselines3 takes images."""
    return isinstance(space, spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


def make_encoder(observation_space: spaces.Dict, cfg: NPIConfig) -> nn.Module:
    """The encoder for these observation keys: ``ImageCNN`` with an image key, else ``OneHotMLP``."""
    images, codes = [], []
    for key, space in observation_space.spaces.items():
        if key == PROGRAM_KEY:
            continue
        if is_image(space):
            images.append(key)
        elif isinstance(space, DISCRETE):
            codes.append(key)
        else:
            raise TypeError(
                f"the NPI cannot encode observation key {key!r} ({space}); it takes discrete keys "
                f"(Discrete, MultiDiscrete, MultiBinary) and at most one image key (a uint8 Box of shape H x W x C)"
            )
    if len(images) > 1:
        raise TypeError(f"the NPI encodes at most one image key; this observation space has {images}")
    if images:
        return ImageCNN(observation_space, cfg, tuple(codes), images[0])
    return OneHotMLP(observation_space, cfg, tuple(codes))
