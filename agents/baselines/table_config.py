"""Every setting of the Neural Programmer paper's LSTM baselines for table questions, in one dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from agents.common.checkpoints import CheckpointKind
from agents.common.configs import ABOVE_ZERO, NON_NEGATIVE, POSITIVE, SEED, Bound, ConfigError, check_fields, config_from_dict
from agents.common.envs import check_env_family, first_env

TASKS = ("paper", "env")


@dataclass
class TableLSTMConfig:
    """Data, model and training settings; the paper's values are noted where it gives them."""

    RESUMABLE: ClassVar[frozenset[str]] = frozenset({"updates", "eval_episodes", "stop_after_perfect", "threads"})
    """fields a resumed run may change; any other difference is refused"""
    BOUNDS: ClassVar[dict[str, Bound]] = {
        "seed": SEED, "min_rows": POSITIVE, "max_rows": POSITIVE, "value_range": ABOVE_ZERO, "test_value_range": ABOVE_ZERO,
        "examples": POSITIVE, "heads": NON_NEGATIVE, "hidden": POSITIVE, "layers": POSITIVE, "embed": POSITIVE,
        "value_scale": ABOVE_ZERO, "updates": POSITIVE, "batch_size": POSITIVE, "lr": ABOVE_ZERO, "grad_clip": ABOVE_ZERO,
        "eval_every": POSITIVE, "eval_episodes": POSITIVE, "stop_after_perfect": NON_NEGATIVE, "threads": POSITIVE,
    }
    """accepted values of the number fields"""

    env_id: str = first_env(program_calls=False)
    """table-question env: its setting (columns) and, for task env, its question generator"""
    task: str = "paper"
    """paper: the paper's simplified set (one column of min_rows..max_rows integers in [-value_range, value_range],
    questions with a scalar answer; tested with values in [-test_value_range, test_value_range]); env: the env's
    own train-split questions with a scalar answer, tested on its test split"""
    seed: int = 0
    """seeds the training questions, initialisation and batches"""
    min_rows: int = 4
    """task paper: fewest rows (paper: 4)"""
    max_rows: int = 7
    """task paper: most rows (paper: 7)"""
    value_range: float = 10.0
    """task paper: training cells and question numbers are integers in [-value_range, value_range] (paper: 10)"""
    test_value_range: float = 50.0
    """task paper: the same at test (paper: 50)"""
    examples: int = 20_000
    """training questions, drawn once"""

    heads: int = 0
    """attention heads over the encoder's states (paper: 1, 5 or 10); 0 is the plain seq2seq LSTM"""
    hidden: int = 256
    """LSTM units per layer"""
    layers: int = 3
    """LSTM layers, encoder and decoder each (paper: 3)"""
    embed: int = 64
    """token embedding size"""
    value_scale: float = 10.0
    """a number enters the model divided by this"""

    updates: int = 3000
    """maximum gradient updates"""
    batch_size: int = 32
    """questions per update"""
    lr: float = 1e-3
    """Adam learning rate"""
    grad_clip: float = 1.0
    """gradient norm clip"""
    eval_every: int = 250
    """updates between held-out evaluations (and checkpoints)"""
    eval_episodes: int = 200
    """held-out training-range questions per evaluation"""
    stop_after_perfect: int = 3
    """stop once this many evaluations in a row answer every held-out question (0: never)"""
    threads: int = 1
    """torch threads"""

    def __post_init__(self) -> None:
        check_fields(self)
        check_env_family(self, program_calls=False)
        if self.task not in TASKS:
            raise ConfigError(f"TableLSTMConfig.task must be one of {', '.join(TASKS)}; got {self.task!r}")
        if self.min_rows > self.max_rows:
            raise ConfigError(f"TableLSTMConfig.min_rows must be <= max_rows; got {self.min_rows} > {self.max_rows}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TableLSTMConfig:
        """The config saved in a checkpoint; unknown keys raise ``ValueError``."""
        return config_from_dict(cls, values, "table LSTM")


KIND = CheckpointKind(
    "npi-gym/table-lstm-checkpoint", 1, "table LSTM checkpoint", inference=("env_id", "config", "vocabulary", "model"),
    training=("optimizer", "trainer"),
)
