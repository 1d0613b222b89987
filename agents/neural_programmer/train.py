"""Weakly supervised training: the answer alone, through soft execution; evaluation through env episodes."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from agents.base import run_episodes
from agents.common.checkpoints import require_training_state, restoring
from agents.common.logs import CsvLog
from agents.common.seeds import validation_seed
from agents.neural_programmer.agent import NeuralProgrammerAgent
from agents.neural_programmer.checkpoint import check_resumable, load_checkpoint, save_checkpoint, table_setting
from agents.neural_programmer.config import NPConfig
from agents.neural_programmer.model import (
    OP,
    STEPS,
    WRITES,
    Features,
    NeuralProgrammer,
    Selection,
    featurize,
    mix_uniform,
    soft_execute,
    stack_observations,
)
from npi_gym.envs.table import Example, Setting, dataset, is_word_token

LOG_EPSILON = 1e-7
POOL_REFRESH = 100
"""updates between recomputations of the search pools (``NPConfig.search_pool``) within an epoch"""


@dataclass
class Data:
    """The training questions as features, and their answers."""

    features: Features
    scalar: torch.Tensor  # (N,) scalar answers (0 for lookup questions)
    is_lookup: torch.Tensor  # (N,) bool
    cells: torch.Tensor  # (N, R, C) bool: the answer's cells (lookup questions)
    templates: frozenset[str]
    wordings: torch.Tensor  # (N,) the id of each question's wording (``wordings``)

    def __len__(self) -> int:
        return len(self.scalar)

    def batch(self, index: np.ndarray) -> tuple[Features, torch.Tensor, torch.Tensor, torch.Tensor]:
        index = torch.from_numpy(index)
        f = self.features[index]
        rows = f.values.shape[1]
        return f, self.scalar[index].to(f.values.dtype), self.is_lookup[index], self.cells[index, :rows].to(f.values.dtype)


def encode_examples(examples: Sequence[Example], env_id: str, chunk: int = 1000) -> Data:
    """Questions as the env ``env_id`` observes them, featurized, with their answers."""
    env = gym.make(env_id, split="train")
    rows = max(e.table.shape[0] for e in examples)
    parts = []
    for start in range(0, len(examples), chunk):
        steps = [env.reset(options={"example": e}) for e in examples[start : start + chunk]]
        parts.append(featurize(stack_observations([o for o, _ in steps], [i for _, i in steps]), rows=rows))
    columns = env.unwrapped.setting.max_columns
    env.close()
    features = Features(**{k: torch.cat([getattr(p, k) for p in parts]) for k in Features.__dataclass_fields__})
    cells = torch.zeros((len(examples), rows, columns), dtype=torch.bool)
    for n, e in enumerate(examples):
        for r, c in e.answer if isinstance(e.answer, frozenset) else ():
            cells[n, r, c] = True
    is_lookup = torch.tensor([isinstance(e.answer, frozenset) for e in examples])
    scalar = torch.tensor([0.0 if isinstance(e.answer, frozenset) else e.answer for e in examples], dtype=torch.float64)
    return Data(features, scalar, is_lookup, cells, frozenset(e.template for e in examples), wordings(features))


def wordings(f: Features) -> torch.Tensor:
    """An id per question (N,); questions that read alike once their numbers, text words and column names are
    set aside share one."""
    names = ((f.tokens[:, :, None] == f.column_names[:, None, :]) & f.column_mask[:, None, :]).any(-1)
    words = is_word_token(f.tokens)
    return torch.unique(torch.where(names, -1, torch.where(words, -2, f.tokens)), dim=0, return_inverse=True)[1]


def training_examples(cfg: NPConfig) -> list[Example]:
    """``cfg.examples`` questions of the env's setting from the generator's reproducible dataset."""
    return list(dataset(cfg.examples, cfg.seed, Setting(**table_setting(cfg.env_id)), "train"))


def answer_loss(
    out_scalar: torch.Tensor,
    out_lookup: torch.Tensor,
    scalar: torch.Tensor,
    is_lookup: torch.Tensor,
    cells: torch.Tensor,
    f: Features,
    cfg: NPConfig,
) -> torch.Tensor:
    """Per question (B,): Huber loss on scalar answers; ``lookup_weight`` x mean log-loss over the table's cells on lookups."""
    huber = F.huber_loss(out_scalar, scalar, reduction="none", delta=cfg.huber_delta)
    p = out_lookup.clamp(LOG_EPSILON, 1 - LOG_EPSILON)
    valid = (f.row_mask[:, :, None] & f.column_mask[:, None, :]).to(p.dtype)
    log_loss = -(cells * p.log() + (1 - cells) * (1 - p).log())
    lookup = (log_loss * valid).sum((1, 2)) / valid.sum((1, 2))
    return torch.where(is_lookup, cfg.lookup_weight * lookup, huber)


def search_programs(
    model: NeuralProgrammer,
    f: Features,
    chosen: Selection,
    scalar: torch.Tensor,
    is_lookup: torch.Tensor,
    cells: torch.Tensor,
    cfg: NPConfig,
    generator: torch.Generator,
    pool: torch.Tensor | None = None,
    todo: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hard programs that give the answer: their questions' positions in the batch (K,), operations and
    columns (T, K), pivots (K, 2).

    Tried: ``cfg.search`` programs per question sampled from the per-step choices mixed with
    ``cfg.search_explore`` x uniform; and for the questions marked in ``todo`` (B,) the operation sequences
    of their row of ``pool`` (B, P, T; -1: no sequence), as they are and (``cfg.search_pool_redraw_last``)
    with the last operation drawn, their columns and pivots drawn in the same way.
    """
    with torch.no_grad():
        allowed_ops = f.operation_mask[None].expand_as(chosen.operations).clone()
        if model.last_step_writes:
            allowed_ops[-1] &= WRITES
        batch, samples = len(scalar), cfg.search
        width = pool.shape[1] if pool is not None and todo is not None else 0
        which, slot = (todo[:, None] & (pool[..., 0] >= 0)).nonzero().T if width else (torch.zeros(0, dtype=torch.long),) * 2

        def draw(probs: torch.Tensor, allowed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            """(..., B, X) choices -> ``samples`` draws of every question, flattened with the draw outermost
            (..., S * B), and one draw per pooled sequence (..., len(which))."""
            mixed = mix_uniform(probs, allowed, cfg.search_explore)
            flat = mixed.reshape(-1, mixed.shape[-1])
            drawn = torch.multinomial(flat, samples + width, replacement=True, generator=generator).view(*mixed.shape[:-1], -1)
            return drawn[..., :samples].movedim(-1, -2).flatten(-2), drawn[..., which, samples + slot]

        ops, pool_ops = draw(chosen.operations, allowed_ops)
        cols, pool_cols = draw(chosen.columns, f.column_mask[None].expand_as(chosen.columns))
        pivot_probs = chosen.pivots.movedim(1, 0)  # (2, B, K)
        pivots, pool_pivots = (x.T for x in draw(pivot_probs, f.pivot_mask[None].expand_as(pivot_probs)))
        copies = 1 + cfg.search_pool_redraw_last  # each pooled sequence as it is, then with its last operation drawn
        index = torch.cat([torch.arange(batch).repeat(samples), *[which] * copies])
        if width:
            pooled = pool[which, slot].T
            variants = [pooled, torch.cat([pooled[:-1], pool_ops[-1:]])][:copies]
            ops = torch.cat([ops, *variants], 1)
            cols = torch.cat([cols, *[pool_cols] * copies], 1)
            pivots = torch.cat([pivots, *[pool_pivots] * copies])
        fs = f[index]
        dtype = fs.values.dtype
        final = soft_execute(
            fs,
            F.one_hot(ops, chosen.operations.shape[-1]).to(dtype),
            F.one_hot(cols, chosen.columns.shape[-1]).to(dtype),
            F.one_hot(pivots, chosen.pivots.shape[-1]).to(dtype),
        )[-1]
        writes_lookup = ops[-1] == OP["assign"]
        valid = fs.row_mask[:, :, None] & fs.column_mask[:, None, :]
        same_cells = ((final.lookup > 0.5) == cells[index].bool()) | ~valid
        right = torch.where(
            is_lookup[index],
            writes_lookup & same_cells.flatten(1).all(1),
            ~writes_lookup & ((final.scalar - scalar[index]).abs() < 0.05),
        ) & WRITES[ops[-1]] & fs.operation_mask.gather(1, ops.T).all(1)
        keep = right.nonzero()[:, 0]
        return index[keep], ops[:, keep], cols[:, keep], pivots[keep]


@dataclass
class ProgramMemory:
    """For each training question, the last answer-giving program that search found for it."""

    operations: torch.Tensor  # (N, T)
    columns: torch.Tensor  # (N, T)
    pivots: torch.Tensor  # (N, 2)
    found: torch.Tensor  # (N,) bool

    @classmethod
    def empty(cls, questions: int) -> ProgramMemory:
        zeros = torch.zeros((questions, STEPS), dtype=torch.long)
        return cls(zeros, zeros.clone(), torch.zeros((questions, 2), dtype=torch.long), torch.zeros(questions, dtype=torch.bool))

    def remember(self, questions: torch.Tensor, operations: torch.Tensor, columns: torch.Tensor, pivots: torch.Tensor) -> None:
        self.operations[questions], self.columns[questions], self.pivots[questions] = operations.T, columns.T, pivots
        self.found[questions] = True

    def common_operations(self, count: int, groups: torch.Tensor | None = None) -> torch.Tensor:
        """For each group of questions (``groups`` (N,) ids; default: one group), the ``count`` operation
        sequences most often remembered for its questions, most frequent first: (G, count, T), -1 where fewer."""
        groups = torch.zeros(len(self.found), dtype=torch.long) if groups is None else groups
        out = torch.full((int(groups.max()) + 1, count, STEPS), -1, dtype=torch.long)
        if count == 0 or not self.found.any():
            return out
        pairs, times = torch.unique(torch.cat([groups[self.found, None], self.operations[self.found]], 1), dim=0, return_counts=True)
        pairs = pairs[torch.argsort(times, descending=True, stable=True)]
        pairs = pairs[torch.argsort(pairs[:, 0], stable=True)]  # by group, most frequent first within each
        group = pairs[:, 0].contiguous()
        rank = torch.arange(len(group)) - torch.searchsorted(group, group)
        keep = rank < count
        out[group[keep], rank[keep]] = pairs[keep, 1:]
        return out

    def recall(self, questions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Positions (K,) among ``questions`` with a program, and those programs (as ``search_programs`` gives them)."""
        rows = self.found[questions].nonzero()[:, 0]
        known = questions[rows]
        return rows, self.operations[known].T, self.columns[known].T, self.pivots[known]


@dataclass
class SearchPool:
    """Operation sequences that gave other training questions their answers, offered to questions without one."""

    shared: torch.Tensor  # (1, P, T): the most often remembered over all questions
    by_wording: torch.Tensor  # (W, Q, T): the most often remembered among the questions of each wording

    @classmethod
    def of(cls, memory: ProgramMemory, wordings: torch.Tensor, cfg: NPConfig) -> SearchPool:
        return cls(memory.common_operations(cfg.search_pool), memory.common_operations(cfg.search_pool_wording, wordings))

    def for_questions(self, wordings: torch.Tensor) -> torch.Tensor:
        """(B, P + Q, T) sequences for questions of these wordings (-1: none)."""
        return torch.cat([self.shared.expand(len(wordings), -1, -1), self.by_wording[wordings]], 1)


def batch_loss(
    model: NeuralProgrammer,
    data: Data,
    index: np.ndarray,
    memory: ProgramMemory,
    cfg: NPConfig,
    explore: float,
    generator: torch.Generator,
    pool: SearchPool | None = None,
) -> torch.Tensor:
    """The training loss of the questions at ``index``: the soft answer loss, and with ``cfg.search`` the
    log-likelihood of each question's remembered answer-giving program (searched for, and remembered, here;
    the questions without one also try the operation sequences ``pool`` offers them)."""
    f, scalar, is_lookup, cells = data.batch(index)
    chosen = model(f, explore)
    final = soft_execute(f, chosen.operations, chosen.columns, chosen.pivots)[-1]
    soft = answer_loss(final.scalar, final.lookup, scalar, is_lookup, cells, f, cfg)
    if not cfg.search:
        return soft.mean()
    questions = torch.from_numpy(index)
    todo = ~memory.found[questions]
    offered = None if pool is None else pool.for_questions(data.wordings[questions])
    rows, ops, cols, pivots = search_programs(model, f, chosen, scalar, is_lookup, cells, cfg, generator, offered, todo)
    memory.remember(questions[rows], ops, cols, pivots)
    rows, ops, cols, pivots = memory.recall(questions)
    if cfg.soft_until_found:
        soft = soft.index_fill(0, rows, 0.0)
    log_prob = model.program_log_prob(f[rows], ops, cols, pivots).sum() if len(rows) else soft.new_zeros(())
    return soft.mean() - cfg.search_weight * log_prob / len(index)


def add_gradient_noise(model: torch.nn.Module, step: int, eta: float, generator: torch.Generator) -> None:
    """Gaussian noise of variance eta * step^-0.55 on every gradient (Neelakantan et al., 2015)."""
    std = (eta * step**-0.55) ** 0.5
    for p in model.parameters():
        if p.grad is not None:
            p.grad.add_(torch.randn(p.grad.shape, generator=generator) * std)


def accuracy(model: NeuralProgrammer, env_id: str, episodes: int) -> float:
    """Share of held-out test-split questions answered right in real env episodes (the agent's hardmax actions)."""
    agent = NeuralProgrammerAgent(model, env_id)
    played = run_episodes(agent, env_id, [(validation_seed(i), {}) for i in range(episodes)], split="test")
    model.train()
    return sum(e.solved for e in played) / len(played)


def train(
    cfg: NPConfig,
    out: str | Path,
    resume: bool = False,
    progress: bool = True,
    examples: Sequence[Example] | None = None,
) -> dict[str, Any]:
    """Train on ``cfg.examples`` questions of ``cfg.env_id``; checkpoint to ``out`` (log: ``out``.csv).

    With ``resume`` and an existing ``out``, continue that run (refused if its settings differ, except
    the fields in ``NPConfig.RESUMABLE``); a finished run returns at once. ``examples`` replaces the
    generated training questions. Returns a summary of the run.
    """
    out = Path(out)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    model = NeuralProgrammer(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    noise = torch.Generator().manual_seed(cfg.seed)
    state: dict[str, Any] = {"update": 0, "seconds": 0.0, "data_seconds": 0.0, "curve": []}
    ckpt: dict[str, Any] = {}
    if resume and out.exists():
        ckpt = load_checkpoint(out)
        require_training_state(out, ckpt)
        check_resumable(out, ckpt, cfg)
        with restoring(out, "training state"):
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            noise.set_state(ckpt["noise_rng"])
        state = ckpt["trainer"]
    per_epoch = max(1, (cfg.examples if examples is None else len(examples)) // cfg.batch_size)
    total = cfg.epochs * per_epoch

    def finished() -> bool:
        return state["update"] >= total or bool(state["curve"] and state["curve"][-1][2] >= cfg.stop_at)

    def summary() -> dict[str, Any]:
        return {
            "updates": state["update"],
            "epochs": state["update"] / per_epoch,
            "seconds": state["seconds"],
            "data_seconds": state["data_seconds"],
            "accuracy": state["curve"][-1][2] if state["curve"] else float("nan"),
        }

    if finished():
        return summary()
    started = time.perf_counter()
    data = encode_examples(training_examples(cfg) if examples is None else examples, cfg.env_id)
    state["data_seconds"] = state["data_seconds"] or time.perf_counter() - started
    memory = ProgramMemory(**ckpt["programs"]) if "programs" in ckpt else ProgramMemory.empty(len(data))
    start = time.perf_counter() - state["seconds"]
    out.parent.mkdir(parents=True, exist_ok=True)
    log = CsvLog(out.with_suffix(".csv"), ["update", "epoch", "seconds", "loss", "accuracy"], state["update"])

    def checkpoint() -> None:
        state["seconds"] = time.perf_counter() - start
        save_checkpoint(
            out,
            {
                "config": cfg.to_dict(),
                "setting": table_setting(cfg.env_id),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "noise_rng": noise.get_state(),
                "trainer": state,
                "programs": asdict(memory),
                "train_templates": sorted(data.templates),
            },
        )

    bar = tqdm(total=total, initial=state["update"], disable=not progress, desc=f"Neural Programmer {cfg.env_id}", dynamic_ncols=True)
    model.train()
    losses: list[float] = []
    while not finished():
        epoch, position = divmod(state["update"], per_epoch)
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(data))
        index = np.sort(order[position * cfg.batch_size : (position + 1) * cfg.batch_size])
        explore = cfg.explore * max(0.0, 1 - state["update"] / max(1.0, cfg.explore_epochs * per_epoch))
        if position % POOL_REFRESH == 0:  # every run resumes at an epoch's start, so resuming refreshes it too
            pool = SearchPool.of(memory, data.wordings, cfg)
        loss = batch_loss(model, data, index, memory, cfg, explore, noise, pool)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        state["update"] += 1
        if cfg.grad_noise:
            add_gradient_noise(model, state["update"], cfg.grad_noise_eta, noise)
        optimizer.step()
        losses.append(loss.item())
        bar.update(1)
        if state["update"] % per_epoch == 0 or state["update"] == total:
            acc = accuracy(model, cfg.env_id, cfg.eval_episodes)
            seconds = time.perf_counter() - start
            state["curve"].append([state["update"], round(seconds, 1), acc])
            log.write([state["update"], f"{state['update'] / per_epoch:g}", f"{seconds:.1f}", f"{np.mean(losses):.4f}", f"{acc:.4f}"])
            bar.set_postfix_str(f"loss={np.mean(losses):.3f} held-out accuracy={100 * acc:.1f}%")
            losses = []
            checkpoint()
    bar.close()
    return summary()
