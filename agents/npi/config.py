"""Every hyperparameter of the NPI agent, its data and its training, in one dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from agents.common.configs import ABOVE_ZERO, NON_NEGATIVE, POSITIVE, SEED, SHARE, Bound, ConfigError, check_fields, config_from_dict
from agents.common.envs import check_env_family, first_env

PER_ENV = ("env_kwargs", "min_length", "max_length", "problems_per_length", "structured_per_length", "short_frame", "eval_episodes")
"""the settings ``per_env`` may give one env of several"""


@dataclass
class NPIConfig:
    """Model, data and training settings; the paper's values are noted where it gives them."""

    RESUMABLE: ClassVar[frozenset[str]] = frozenset({"updates", "eval_episodes", "stop_after_perfect", "threads", "log_every"})
    """fields a resumed run may change; any other difference is refused"""
    BOUNDS: ClassVar[dict[str, Bound]] = {
        "seed": SEED, "min_length": POSITIVE, "max_length": POSITIVE, "problems_per_length": POSITIVE,
        "structured_per_length": NON_NEGATIVE,
        "hidden": POSITIVE, "layers": POSITIVE, "state_dim": POSITIVE, "encoder_hidden": POSITIVE,
        "program_dim": POSITIVE, "key_dim": POSITIVE, "updates": POSITIVE, "batch_frames": POSITIVE,
        "lr": ABOVE_ZERO, "lr_decay": Bound(0, 1, open_low=True), "lr_decay_every": POSITIVE, "grad_clip": ABOVE_ZERO,
        "short_frame": NON_NEGATIVE, "curriculum_temperature": ABOVE_ZERO, "curriculum_every": POSITIVE,
        "replay_mistakes": SHARE, "min_program_share": SHARE, "eval_every": POSITIVE, "eval_episodes": POSITIVE,
        "stop_after_perfect": NON_NEGATIVE, "threads": POSITIVE, "log_every": POSITIVE,
    }
    """accepted values of the number fields (checked with every field's type when a config is made)"""

    env_id: str = first_env(program_calls=True)
    """program-call environment whose expert traces train the agent; several, comma-separated, train one NPI on all of them"""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """extra gym.make keyword arguments, as JSON"""
    per_env: dict[str, Any] = field(default_factory=dict)
    """settings of single envs of env_id, as JSON {env id: {setting: value}}; a setting is one of env_kwargs, min_length,
    max_length, problems_per_length, structured_per_length, short_frame, eval_episodes"""
    extend: str = ""
    """a checkpoint to extend: its weights are loaded and kept as they are, only the memory rows (keys and embeddings) of
    programs it lacks are trained (and encoders of observations it lacks); it keeps playing its own envs"""
    seed: int = 0
    """seeds the training problems, initialisation and batch sampling"""

    # data
    min_length: int = 1
    """shortest training problem"""
    max_length: int = 20
    """longest training problem"""
    problems_per_length: int = 32
    """expert traces per training length"""
    structured_per_length: int = 0
    """more expert traces per training length, of the env's structured problem families in turn (npi_gym.structured)"""

    # model (paper: LSTM 2 x 256; key, embedding and encoder sizes not given)
    hidden: int = 128
    """LSTM units per layer"""
    layers: int = 2
    """LSTM layers"""
    state_dim: int = 128
    """size of the encoder output s_t"""
    encoder_hidden: int = 128
    """hidden width of the encoder"""
    program_dim: int = 64
    """program embedding size"""
    key_dim: int = 32
    """program key size"""

    # optimisation (paper: Adam lr 1e-4, batch 1, lr x 0.95 every 10,000 steps)
    updates: int = 4000
    """maximum gradient updates"""
    batch_frames: int = 64
    """call frames per batch; each frame is one padded, masked sequence"""
    lr: float = 1e-3
    """Adam learning rate"""
    lr_decay: float = 0.5
    """learning-rate factor applied every lr_decay_every updates"""
    lr_decay_every: int = 1000
    """updates between learning-rate decays"""
    grad_clip: float = 1.0
    """gradient norm clip"""
    short_frame: int = 8
    """frames up to this many steps share batches across programs; longer ones are grouped by length"""

    # adaptive curriculum (paper: softmax over per-program error, re-estimated every 1,000 steps)
    curriculum_temperature: float = 0.25
    """frames are drawn with weight exp(program error / temperature)"""
    curriculum_every: int = 100
    """updates between re-estimates of per-program error"""
    replay_mistakes: float = 0.25
    """fraction of each batch drawn from frames the model last got wrong"""
    min_program_share: float = 0.05
    """each program's frames get at least this share of the draws (one top-level frame per trace)"""

    # selection on whole episodes through the env: per-step accuracy is a misleading target
    eval_every: int = 250
    """updates between held-out evaluations through env.step"""
    eval_episodes: int = 100
    """held-out problems per evaluation, spread over the training lengths"""
    stop_after_perfect: int = 5
    """stop once this many evaluations in a row solve every held-out problem (0: never)"""

    threads: int = 1
    """torch threads"""
    log_every: int = 50
    """updates between CSV log rows"""

    def __post_init__(self) -> None:
        check_fields(self)
        ids = self.env_ids
        if len(ids) > 1 or self.per_env:
            for env_id in ids:
                if not env_id or ids.count(env_id) > 1:
                    raise ConfigError(f"NPIConfig.env_id must list distinct env ids separated by commas; got {self.env_id!r}")
            unknown = sorted(set(self.per_env) - set(ids))
            if unknown:
                raise ConfigError(f"NPIConfig.per_env names {unknown}, which env_id ({self.env_id!r}) does not list")
            for env_id, settings in self.per_env.items():
                wrong = sorted(set(settings) - set(PER_ENV)) if isinstance(settings, dict) else settings
                if wrong:
                    raise ConfigError(f"NPIConfig.per_env[{env_id!r}] may set {', '.join(PER_ENV)}; got {wrong!r}")
            for env_id in ids:
                self.task(env_id)
        else:
            check_env_family(self, program_calls=True)
            if self.min_length > self.max_length:
                raise ConfigError(
                    f"NPIConfig.min_length must be <= max_length; got min_length {self.min_length} > max_length {self.max_length}"
                )

    @property
    def env_ids(self) -> list[str]:
        """The envs of ``env_id``, in order."""
        return [e.strip() for e in self.env_id.split(",")]

    def task(self, env_id: str) -> NPIConfig:
        """The config of one env of ``env_id``: its ``per_env`` settings applied (checked as any config)."""
        return replace(self, env_id=env_id, per_env={}, **self.per_env.get(env_id, {}))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> NPIConfig:
        """The config saved in a checkpoint; unknown keys raise ``ValueError``."""
        return config_from_dict(cls, values, "NPI")
