"""Every setting of the Neural Programmer, its data and its training, in one dataclass.

Why the settings that are not the paper's have the values they have: benchmarks/results/neural_programmer_design.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from agents.common.configs import ABOVE_ZERO, NON_NEGATIVE, POSITIVE, SEED, SHARE, Bound, check_fields, config_from_dict
from agents.common.envs import check_env_family, first_env


@dataclass
class NPConfig:
    """Model, data and training settings; the paper's values are noted where it gives them."""

    RESUMABLE: ClassVar[frozenset[str]] = frozenset({"epochs", "eval_episodes", "stop_at", "threads"})
    """fields a resumed run may change; any other difference is refused"""
    BOUNDS: ClassVar[dict[str, Bound]] = {
        "seed": SEED, "examples": POSITIVE, "embed": POSITIVE, "hidden": POSITIVE, "init_scale": ABOVE_ZERO,
        "explore": SHARE, "explore_epochs": NON_NEGATIVE, "search": NON_NEGATIVE, "search_pool": NON_NEGATIVE,
        "search_pool_wording": NON_NEGATIVE, "search_explore": SHARE, "search_weight": NON_NEGATIVE,
        "epochs": POSITIVE, "batch_size": POSITIVE, "lr": ABOVE_ZERO, "huber_delta": ABOVE_ZERO,
        "lookup_weight": NON_NEGATIVE, "grad_clip": ABOVE_ZERO, "grad_noise_eta": NON_NEGATIVE,
        "eval_episodes": POSITIVE, "stop_at": NON_NEGATIVE, "threads": POSITIVE,
    }
    """accepted values of the number fields (checked with every field's type when a config is made)"""

    env_id: str = first_env(program_calls=False)
    """the table-question env whose setting (columns, words, text) the training questions come from"""
    seed: int = 0
    """seeds the training questions, initialisation, batch order, search and gradient noise"""
    examples: int = 50_000
    """training questions drawn from the generator's reproducible dataset (paper: 50,000)"""

    # model (paper: hidden size 256, simple RNNs, init U[-0.1, 0.1])
    embed: int = 64
    """word embeddings, shared by question words and column names"""
    hidden: int = 128
    """question RNN and history RNN state size"""
    init_scale: float = 0.2
    """weights are initialised U[-init_scale, init_scale] (paper: 0.1 with 256 hidden units)"""
    step_embedding: bool = True
    """add a learned vector per step to the history state the selector reads (not in the paper)"""
    question_attention: bool = True
    """the selector also reads an attention-weighted sum of the question RNN's states and word embeddings,
    attended from the history state (not in the paper; as in its successor, Neelakantan et al., ICLR 2017)"""
    last_step_writes: bool = True
    """the last step chooses among the writing operations only (sum, count, difference, assign; not in the paper)"""

    explore: float = 0.3
    """during training, mix this share of a uniform distribution over the allowed operations and columns into
    the selector's (not in the paper); the share falls linearly to 0 over ``explore_epochs``"""
    explore_epochs: float = 10.0
    """epochs over which the ``explore`` share falls to 0"""
    search: int = 8
    """hard programs sampled per training question from the selector's per-step choices (mixed with
    ``search_explore`` x uniform); those whose execution gives the answer are reinforced by their
    log-likelihood, and each question's last such program whenever the question comes round again (not in
    the paper; 0: no search)"""
    soft_until_found: bool = True
    """the soft answer loss trains only the questions without a remembered program; a question with one is
    trained on that program alone (not in the paper)"""
    search_pool: int = 32
    """the operation sequences of this many of the most often remembered programs are also tried on every
    training question that has no program yet, with columns and pivots drawn as search draws them (not in the
    paper)"""
    search_pool_wording: int = 4
    """and so are the this many most often remembered for questions of the same wording (numbers, text words
    and column names set aside)"""
    search_pool_redraw_last: bool = True
    """each pooled sequence is also tried with its last operation drawn from the selector's last step (not in
    the paper)"""
    search_explore: float = 0.3
    """share of uniform mixed into the per-step choices that search samples from"""
    search_weight: float = 10.0
    """weight of the mean log-likelihood of the answer-giving sampled programs, per training question"""

    # optimisation (paper: Adam with default settings, batch 50)
    epochs: int = 30
    """passes over the training questions"""
    batch_size: int = 50
    """training questions per update"""
    lr: float = 1e-3
    """Adam learning rate"""
    huber_delta: float = 10.0
    """Huber loss threshold on scalar answers (paper: tuned in {10, 25, 50})"""
    lookup_weight: float = 50.0
    """weight of the mean log-loss over cells of lookup answers (paper: tuned in {25, 50, 75, 100})"""
    grad_clip: float = 1.0
    """gradient norm threshold (paper: tuned in {1, 5, 50})"""
    grad_noise: bool = False
    """add Gaussian noise of variance grad_noise_eta * step^-0.55 to every gradient after clipping (the paper's)"""
    grad_noise_eta: float = 1.0
    """scale of the gradient noise"""

    # evaluation: real env episodes on held-out test-split questions after every epoch
    eval_episodes: int = 1000
    """held-out test-split questions played through the env after every epoch"""
    stop_at: float = 1.0
    """stop once an evaluation's accuracy reaches this (above 1.0: never stop early)"""

    threads: int = 1
    """torch threads"""

    def __post_init__(self) -> None:
        check_fields(self)
        check_env_family(self, program_calls=False)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> NPConfig:
        """A config from a dict; unknown keys raise ``ValueError``."""
        return config_from_dict(cls, values, "Neural Programmer")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
