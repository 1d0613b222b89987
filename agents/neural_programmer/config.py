"""Every setting of the Neural Programmer, its data and its training, in one dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from agents.configs import config_from_dict


@dataclass
class NPConfig:
    """Model, data and training settings; the paper's values are noted where it gives them."""

    env_id: str = "NPI-Table-5Col-v0"
    """the NPI-Table env whose setting (columns, words, text) the training questions come from"""
    seed: int = 0
    examples: int = 50_000
    """training questions drawn by ``npi_gym.tables.dataset`` (paper: 50,000)"""

    # model (paper: hidden size 256, simple RNNs, init U[-0.1, 0.1])
    embed: int = 64
    """word embeddings, shared by question words and column names"""
    hidden: int = 128
    """question RNN and history RNN state size"""
    init_scale: float = 0.2
    """weights are initialised U[-init_scale, init_scale] (paper: 0.1 with 256 hidden units; with fewer units
    0.1 gives recurrent weights that forget all but the last few words of the question; not the paper's value)"""
    step_embedding: bool = True
    """add a learned vector per step to the history state the selector reads (not in the paper)"""
    question_attention: bool = True
    """the selector also reads an attention-weighted sum of the question RNN's states and word embeddings,
    attended from the history state (not in this paper; its successor, Neelakantan et al., ICLR 2017, attends
    over the question at every step): a step can read the column name in its own slot of the question, as the
    same embedding the column's name has, instead of decoding it from q"""
    last_step_writes: bool = True
    """the last step chooses among the writing operations only (sum, count, difference, assign; not in the paper):
    the answer is always the last step's, and a question whose answer is 0 cannot be fitted by ending on a
    row-selecting step, whose scalar output is 0"""

    explore: float = 0.3
    """during training, mix this share of a uniform distribution over the allowed operations and columns into
    the selector's (not in the paper): every choice keeps a path for the gradient while the selector is still
    forming; the share falls linearly to 0 over ``explore_epochs`` (1 column: 80% held-out accuracy after 15
    epochs with 0.3, 71% without)"""
    explore_epochs: float = 10.0
    search: int = 8
    """hard programs sampled per training question from the selector's per-step choices (mixed with
    ``search_explore`` x uniform); those whose execution gives the answer are reinforced by their log-likelihood
    (not in the paper; still the answer alone), and each training question's last such program is reinforced
    every time the question comes round again. A program whose parts pay off only together (sum, reset, count,
    difference for "sum A diff count") is found this way, where the soft gradient of each part alone leads
    away from it: without search that question stayed at 0%, with it 1 column reaches 100% in 10 epochs"""
    soft_until_found: bool = True
    """the soft answer loss trains only the questions without a remembered program; a question with one is
    trained on that program alone (not in the paper). The soft mixture that fits a count best is not the
    program that computes it: with the soft loss on every question, 3 columns kept answering "greater N A or
    lesser N B count" with "count, lesser, greater, count" although search had found "greater, lesser, or,
    count" for 1,237 of its training questions"""
    search_pool: int = 32
    """the operation sequences of this many of the most often remembered programs are also tried on every
    training question that has no program yet, with columns and pivots drawn as search draws them (not in the
    paper)"""
    search_pool_wording: int = 4
    """and so are the this many most often remembered for questions of the same wording (numbers, text words
    and column names set aside). Selection reads only the question, so questions worded alike share one program
    distribution: without these pools, 3 columns had found "sum, reset, count, difference" for 798 of its "sum A
    diff count" questions while the soft loss on the others kept the model on "sum, reset, reset, sum" (0% on
    that wording); with the shared pool alone, 10 columns' "count reset sum difference" stayed out of the top 32
    behind the many equivalent programs of the aggregation questions"""
    search_pool_redraw_last: bool = True
    """each pooled sequence is also tried with its last operation drawn from the selector's last step (not in
    the paper): questions that ask different things of the same rows ("... sum A", "... count", "... print A")
    share the steps that select them. Without it, text match on 2 columns found "greater, text_match, or, sum"
    for nearly every "greater N A or word:k B sum A" question but the "... count" questions stayed at 2 in 10,
    held there by the soft answer loss (97.0% on the test split; 100% with it)"""
    search_explore: float = 0.3
    search_weight: float = 10.0
    """weight of the mean log-likelihood of the answer-giving sampled programs, per training question"""

    # optimisation (paper: Adam with default settings, batch 50)
    epochs: int = 30
    batch_size: int = 50
    lr: float = 1e-3
    huber_delta: float = 10.0
    """Huber loss threshold on scalar answers (paper: tuned in {10, 25, 50})"""
    lookup_weight: float = 50.0
    """weight of the mean log-loss over cells of lookup answers (paper: tuned in {25, 50, 75, 100})"""
    grad_clip: float = 1.0
    """gradient norm threshold (paper: tuned in {1, 5, 50})"""
    grad_noise: bool = False
    """add Gaussian noise of variance grad_noise_eta * step^-0.55 to every gradient after clipping (the paper's;
    off by default here: on 1 column it held held-out accuracy at 19% for the first 3 epochs, against 50% without)"""
    grad_noise_eta: float = 1.0

    # evaluation: real env episodes on held-out test-split questions after every epoch
    eval_episodes: int = 1000
    stop_at: float = 1.0
    """stop once an evaluation's accuracy reaches this (above 1.0: never stop early)"""

    threads: int = 1

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "NPConfig":
        """A config from a dict; unknown keys raise ``ValueError``."""
        return config_from_dict(cls, values, "Neural Programmer")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
