"""Every hyperparameter of the NPI agent, its data and its training, in one dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.configs import config_from_dict


def _(default: Any, help: str) -> Any:
    """A field with its help text (shown by ``npi-gym train npi --help``)."""
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class NPIConfig:
    """Model, data and training settings; the paper's values are noted where it gives them."""

    env_id: str = _("NPI-Addition-v0", "environment whose expert traces train the agent")
    env_kwargs: dict[str, Any] = _({}, "extra gym.make keyword arguments, as JSON")
    seed: int = _(0, "seeds the training problems, initialisation and batch sampling")

    # data
    min_length: int = _(1, "shortest training problem")
    max_length: int = _(20, "longest training problem")
    problems_per_length: int = _(32, "expert traces per training length")

    # model (paper: LSTM 2 x 256; key, embedding and encoder sizes not given)
    hidden: int = _(128, "LSTM units per layer")
    layers: int = _(2, "LSTM layers")
    state_dim: int = _(128, "size of the encoder output s_t")
    encoder_hidden: int = _(128, "hidden width of the encoder")
    program_dim: int = _(64, "program embedding size")
    key_dim: int = _(32, "program key size")

    # optimisation (paper: Adam lr 1e-4, batch 1, lr x 0.95 every 10,000 steps)
    updates: int = _(4000, "maximum gradient updates")
    batch_frames: int = _(64, "call frames per batch; each frame is one padded, masked sequence")
    lr: float = _(1e-3, "Adam learning rate")
    lr_decay: float = _(0.5, "learning-rate factor applied every lr_decay_every updates")
    lr_decay_every: int = _(1000, "updates between learning-rate decays")
    grad_clip: float = _(1.0, "gradient norm clip")
    short_frame: int = _(8, "frames up to this many steps share batches across programs; longer ones are grouped by length")

    # adaptive curriculum (paper: softmax over per-program error, re-estimated every 1,000 steps)
    curriculum_temperature: float = _(0.25, "frames are drawn with weight exp(program error / temperature)")
    curriculum_every: int = _(100, "updates between re-estimates of per-program error")
    replay_mistakes: float = _(0.25, "fraction of each batch drawn from frames the model last got wrong")
    min_program_share: float = _(0.05, "each program's frames get at least this share of the draws (one top-level frame per trace)")

    # selection on whole episodes through the env: per-step accuracy is a misleading target
    eval_every: int = _(250, "updates between held-out evaluations through env.step")
    eval_episodes: int = _(100, "held-out problems per evaluation, spread over the training lengths")
    stop_after_perfect: int = _(5, "stop once this many evaluations in a row solve every held-out problem (0: never)")

    threads: int = _(1, "torch threads")
    log_every: int = _(50, "updates between CSV log rows")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "NPIConfig":
        """The config saved in a checkpoint; unknown keys raise ``ValueError``."""
        return config_from_dict(cls, values, "NPI")
