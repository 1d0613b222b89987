"""Every setting of the NPI paper's seq2seq LSTM baseline (sort and addition), in one dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from agents.common.checkpoints import CheckpointKind
from agents.common.configs import ABOVE_ZERO, NON_NEGATIVE, POSITIVE, SEED, Bound, ConfigError, check_fields, config_from_dict
from agents.common.envs import check_env_family, first_env

LAYOUTS = ("stacked", "aligned")


@dataclass
class Seq2SeqConfig:
    """Data, model and training settings; the paper's values are noted where it gives them."""

    RESUMABLE: ClassVar[frozenset[str]] = frozenset({"updates", "eval_episodes", "stop_after_perfect", "threads"})
    """fields a resumed run may change; any other difference is refused"""
    BOUNDS: ClassVar[dict[str, Bound]] = {
        "seed": SEED, "min_length": POSITIVE, "max_length": POSITIVE, "problems_per_length": POSITIVE,
        "hidden": POSITIVE, "layers": POSITIVE, "embed": POSITIVE, "updates": POSITIVE, "batch_size": POSITIVE,
        "lr": ABOVE_ZERO, "grad_clip": ABOVE_ZERO, "eval_every": POSITIVE, "eval_episodes": POSITIVE,
        "stop_after_perfect": NON_NEGATIVE, "threads": POSITIVE,
    }
    """accepted values of the number fields"""

    env_id: str = first_env(program_calls=True)
    """scratch-pad env (an array sorted by swaps, or two numbers added on a pad) whose problems train the model"""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """extra gym.make keyword arguments, as JSON"""
    seed: int = 0
    """seeds the training problems (the NPI's with the same seed and sizes), initialisation and batches"""
    min_length: int = 1
    """shortest training problem"""
    max_length: int = 20
    """longest training problem"""
    problems_per_length: int = 32
    """training problems per length (paper: 32 for addition, 64 for sort, as the NPI; aligned addition 64)"""
    layout: str = "stacked"
    """stacked: encoder over the whole input, then decoder; aligned (addition): both digits of a column per step, one output digit per step"""

    hidden: int = 256
    """LSTM units per layer (paper: 256)"""
    layers: int = 2
    """LSTM layers, encoder and decoder each (paper: 2)"""
    embed: int = 64
    """token embedding size"""

    updates: int = 6000
    """maximum gradient updates"""
    batch_size: int = 32
    """problems per update"""
    lr: float = 1e-3
    """Adam learning rate"""
    grad_clip: float = 1.0
    """gradient norm clip"""
    eval_every: int = 250
    """updates between held-out evaluations (and checkpoints)"""
    eval_episodes: int = 100
    """held-out problems per evaluation, spread over the training lengths"""
    stop_after_perfect: int = 3
    """stop once this many evaluations in a row answer every held-out problem (0: never)"""
    threads: int = 1
    """torch threads"""

    def __post_init__(self) -> None:
        check_fields(self)
        check_env_family(self, program_calls=True)
        if self.min_length > self.max_length:
            raise ConfigError(f"Seq2SeqConfig.min_length must be <= max_length; got {self.min_length} > {self.max_length}")
        if self.layout not in LAYOUTS:
            raise ConfigError(f"Seq2SeqConfig.layout must be one of {', '.join(LAYOUTS)}; got {self.layout!r}")

    @property
    def aligned(self) -> bool:
        return self.layout == "aligned"

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Seq2SeqConfig:
        """The config saved in a checkpoint; unknown keys raise ``ValueError``."""
        return config_from_dict(cls, values, "seq2seq")


KIND = CheckpointKind(
    "npi-gym/seq2seq-checkpoint", 1, "seq2seq checkpoint", inference=("env_id", "config", "programs", "model"),
    training=("optimizer", "trainer"),
)
