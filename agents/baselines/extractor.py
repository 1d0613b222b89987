"""SB3's CombinedExtractor with an ``int`` feature size (it sums MultiDiscrete sizes as numpy ints, which ``nn.LSTM`` refuses)."""

from __future__ import annotations

from stable_baselines3.common.torch_layers import CombinedExtractor


class IntSizedCombinedExtractor(CombinedExtractor):
    """``CombinedExtractor`` whose ``features_dim`` is a Python int."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._features_dim = int(self._features_dim)
