"""Behavioural cloning of the expert: call frames as padded sequences, adaptive curriculum, checkpoints."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from agents.base import run_episodes
from agents.common.checkpoints import require_training_state, restoring
from agents.common.logs import CsvLog
from agents.common.resume import check_resume
from agents.common.seeds import training_seed, validation_seed
from agents.npi.agent import NPIAgent
from agents.npi.checkpoint import check_tasks, load_checkpoint, save_checkpoint, task_record
from agents.npi.config import NPIConfig
from agents.npi.data import CurriculumSampler, expert_frames, merge_frames
from agents.npi.model import NPI, Heads, Task
from npi_gym.core import ProgramEnv
from npi_gym.registry import PROGRAM_CALL_IDS
from npi_gym.structured import structured_families, structured_problem


def training_problems(cfg: NPIConfig) -> list[tuple[int, dict[str, Any]]]:
    """(seed, reset options) of every training problem: ``problems_per_length`` random ones per length,
    then ``structured_per_length`` per length of the env's structured families, taken in turn across all lengths."""
    rng = np.random.default_rng([cfg.seed, 1])
    lengths = range(cfg.min_length, cfg.max_length + 1)
    problems = [(training_seed(rng), {"length": length}) for length in lengths for _ in range(cfg.problems_per_length)]
    if cfg.structured_per_length:
        rng = np.random.default_rng([cfg.seed, 2])
        env = gym.make(cfg.env_id, **cfg.env_kwargs)
        families = list(structured_families(env))
        picks = [(length, families[i % len(families)]) for i, length in enumerate(np.repeat(lengths, cfg.structured_per_length))]
        problems += [(training_seed(rng), {"problem": structured_problem(env, family, int(n), rng)}) for n, family in picks]
        env.close()
    return problems


def validation_problems(cfg: NPIConfig) -> list[tuple[int, dict[str, Any]]]:
    """Held-out problems spread evenly over the training lengths."""
    lengths = np.linspace(cfg.min_length, cfg.max_length, cfg.eval_episodes).round().astype(int)
    return [(validation_seed(i, cfg.seed), {"length": int(n)}) for i, n in enumerate(lengths)]


def bc_loss(
    heads: Heads, targets: torch.Tensor, mask: torch.Tensor, allowed: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean log-loss per step of (return flag, next program, three arguments), and per-step correctness.

    ``allowed`` ``[B, N]``: the programs each frame's program may call (RETURN excluded: the return
    head decides it), so program scores compete only among callable programs, as when acting.
    """
    ret, program, args = targets[..., 0], targets[..., 1], targets[..., 2:]
    calls = mask & (ret == 0)
    n = mask.sum()
    loss = F.binary_cross_entropy_with_logits(heads.ret[mask], ret[mask].float(), reduction="sum")
    scores = heads.programs.masked_fill(~allowed[:, None, :], -1e9)
    loss = loss + F.cross_entropy(scores[calls], program[calls], reduction="sum")
    args_ok = torch.ones_like(mask)
    for k, logits in enumerate(heads.args):
        loss = loss + F.cross_entropy(logits[calls], args[..., k][calls], reduction="sum")
        args_ok &= logits.argmax(-1) == args[..., k]
    with torch.no_grad():
        said_return = heads.ret > 0
        right_call = (scores.argmax(-1) == program) & args_ok
        correct = (said_return == (ret == 1)) & (said_return | right_call) & mask
    return loss / n, correct


def train(
    cfg: NPIConfig, out: str | Path, resume: bool = False, progress: bool = True
) -> dict[str, Any]:
    """Train one NPI on the expert traces of every env of ``cfg.env_id``; write the checkpoint to ``out`` (and ``out``.csv).

    With ``cfg.extend``, the model starts as that checkpoint with the new envs added, and only what they add
    (memory rows, encoders) is trained, on the frames of the programs they add (the others train nothing).
    With ``resume`` and an existing ``out``, continue that run from its update
    count (refused if ``cfg`` changes a setting outside ``NPIConfig.RESUMABLE``).
    Returns a summary: updates, seconds, last validation accuracy, frames and steps.
    """
    out = Path(out)
    ckpt = None
    if resume and out.exists():
        ckpt = load_checkpoint(out)
        require_training_state(out, ckpt)
        check_resume(out, ckpt["config"], cfg)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    base = _base(cfg) if ckpt is None else None
    envs = [_make(cfg.task(env_id)) for env_id in cfg.env_ids]
    records = [task_record(e.spec.id, cfg.task(e.spec.id).env_kwargs, e) for e in envs]
    kept = base["tasks"] if base is not None else (ckpt["tasks"][: len(ckpt["tasks"]) - len(envs)] if ckpt is not None else [])
    tasks = [Task(*_task(r)) for r in kept] + [Task(e.unwrapped.programs, e.observation_space) for e in envs]
    out.parent.mkdir(parents=True, exist_ok=True)
    model = NPI(cfg, tasks)
    new = range(len(kept), len(tasks))
    if base is not None:
        _load_base(model, cfg.extend, base)
    trainable = _freeze(model, len(kept)) if cfg.extend else list(model.parameters())
    optimizer = torch.optim.Adam(trainable, lr=cfg.lr, foreach=True)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, cfg.lr_decay_every, cfg.lr_decay)
    rng = np.random.default_rng(cfg.seed)
    size = len(model.memory)
    zeros = np.zeros(size).tolist()
    state = {"update": 0, "seconds": 0.0, "perfect_streak": 0, "error": zeros, "hits": zeros, "seen": zeros, "validation": []}
    if ckpt is not None:
        check_tasks(out, ckpt, [*kept, *records])
        with restoring(out, "training state"):
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
            rng.bit_generator.state = ckpt["trainer"]["rng"]
            state = {k: v for k, v in ckpt["trainer"].items() if k != "rng"}

    start = time.perf_counter() - state["seconds"]
    added = _added_rows(model, len(kept))
    frames = merge_frames(
        [
            expert_frames(
                env, training_problems(cfg.task(env.spec.id)), model.task_encoder(t).featurize, cfg.task(env.spec.id).short_frame,
                None if not cfg.extend else np.flatnonzero(model.rows[t].numpy() >= added),
            )
            for t, env in zip(new, envs)
        ],
        [model.rows[t].numpy() for t in new],
    )
    frames.buckets = [replace(b, task=new[b.task]) for b in frames.buckets]
    for env in envs:
        env.close()
    sampler = CurriculumSampler(frames, size, cfg.curriculum_temperature, cfg.replay_mistakes, rng, cfg.min_program_share)
    sampler.update(np.array(state["error"]))
    if ckpt is not None:
        with restoring(out, "training state"):
            sampler.load_state(ckpt["sampler"])
    allowed = [torch.from_numpy(t.programs.call_mask.copy()) for t in tasks]
    for a in allowed:
        a[:, 0] = False
    running = sorted(set(frames.program.tolist()))
    names = memory_labels(model)
    log = CsvLog(
        out.with_suffix(".csv"), ["update", "seconds", "load_average", "loss", "lr", "step_accuracy", *(names[p] for p in running), "validation"],
        state["update"],
    )

    def checkpoint() -> None:
        state.update(seconds=time.perf_counter() - start, hits=hits.tolist(), seen=seen.tolist())
        save_checkpoint(
            out,
            {
                "env_id": ",".join(r["env_id"] for r in (*kept, *records)),
                "tasks": [*kept, *records],
                "config": asdict(cfg),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "trainer": {**state, "rng": rng.bit_generator.state},
                "sampler": sampler.state(),
            },
        )

    hits, seen = np.array(state["hits"]), np.array(state["seen"])

    def finished() -> bool:
        perfect = cfg.stop_after_perfect > 0 and state["perfect_streak"] >= cfg.stop_after_perfect
        return perfect or state["update"] >= cfg.updates

    bar = tqdm(total=cfg.updates, initial=state["update"], disable=not progress, desc=f"NPI {cfg.env_id}", dynamic_ncols=True)
    model.train()
    while not finished():
        bucket, rows = sampler.sample(cfg.batch_frames)
        features, targets, mask, program = sampler.batch(bucket, rows)
        task = frames.buckets[bucket].task
        heads = model(features, program, task)
        loss, correct = bc_loss(heads, targets, mask, allowed[task][program])
        sampler.record(bucket, rows, (correct | ~mask).all(dim=1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, cfg.grad_clip)
        optimizer.step()
        scheduler.step()
        state["update"] += 1
        step_program = model.rows[task][program][:, None].expand_as(mask)[mask].numpy()
        hits += np.bincount(step_program, correct[mask].numpy(), minlength=size)
        seen += np.bincount(step_program, minlength=size)
        update = state["update"]
        if update % cfg.curriculum_every == 0:
            state["error"] = np.where(seen > 0, 1 - hits / np.maximum(seen, 1), state["error"]).tolist()
            sampler.update(np.array(state["error"]))
            bar.set_postfix_str(" ".join(f"{names[p]}={100 * (1 - state['error'][p]):.1f}" for p in running))
            hits[:], seen[:] = 0, 0
        validation = None
        if update % cfg.eval_every == 0 or update == cfg.updates:
            solved = [validate(model, cfg.task(env_id), t) for t, env_id in zip(new, cfg.env_ids)]
            validation = sum(solved) / sum(len(validation_problems(cfg.task(env_id))) for env_id in cfg.env_ids)
            model.train()
            state["validation"].append([update, validation])
            state["perfect_streak"] = state["perfect_streak"] + 1 if validation == 1.0 else 0
            each = "" if len(solved) == 1 else " (" + ", ".join(f"{e} {n}" for e, n in zip(cfg.env_ids, solved)) + ")"
            bar.write(f"update {update}: {100 * validation:.1f}% of the held-out episodes solved{each}")
        if update % cfg.log_every == 0 or validation is not None:
            log.write(
                [update, f"{time.perf_counter() - start:.1f}", f"{os.getloadavg()[0]:.1f}", f"{loss.item():.5f}", f"{scheduler.get_last_lr()[0]:.3g}",
                 f"{correct.sum().item() / mask.sum().item():.5f}",
                 *(f"{1 - state['error'][p]:.4f}" for p in running), "" if validation is None else f"{validation:.4f}"]
            )
        if validation is not None:
            checkpoint()
        bar.update(1)
    bar.close()
    checkpoint()
    last = state["validation"][-1][1] if state["validation"] else float("nan")
    return {"updates": state["update"], "seconds": state["seconds"], "validation": last, "frames": len(frames), "steps": frames.steps}


def memory_labels(model: NPI) -> list[str]:
    """A name per memory row: the program's, with ``/T`` (the first task that has it) where the name recurs."""
    names = [name for _, name in model.memory]
    owner: dict[int, int] = {}
    for t, rows in enumerate(model.rows):
        for r in rows.tolist():
            owner.setdefault(r, t)
    return [f"{n}/{owner[r]}" if names.count(n) > 1 else n for r, n in enumerate(names)]


def _make(cfg: NPIConfig) -> gym.Env:
    env = gym.make(cfg.env_id, **cfg.env_kwargs)
    if not isinstance(env.unwrapped, ProgramEnv):
        raise ValueError(f"{cfg.env_id} is not a program-call env; the NPI trains on one of {', '.join(PROGRAM_CALL_IDS)}")
    return env


def _task(record: dict[str, Any]) -> tuple[Any, Any]:
    env = gym.make(record["env_id"], **record["env_kwargs"])
    env.close()
    return env.unwrapped.programs, env.observation_space


MODEL_FIELDS = ("hidden", "layers", "state_dim", "encoder_hidden", "program_dim", "key_dim")
"""the config fields that shape the network: an extended checkpoint's must be kept"""


def _base(cfg: NPIConfig) -> dict[str, Any] | None:
    """The checkpoint ``cfg.extend`` names (None without one), refused if it cannot be extended with ``cfg``."""
    if not cfg.extend:
        return None
    base = load_checkpoint(cfg.extend)
    saved = base["config"]
    differ = [f"{k}: checkpoint {saved[k]!r}, requested {getattr(cfg, k)!r}" for k in MODEL_FIELDS if saved[k] != getattr(cfg, k)]
    if differ:
        raise ValueError(f"--extend {cfg.extend}: the network settings must be the checkpoint's ({'; '.join(differ)})")
    have = [t["env_id"] for t in base["tasks"]]
    again = [e for e in cfg.env_ids if e in have]
    if again:
        raise ValueError(f"--extend {cfg.extend} already plays {again}; extend it with envs it was not trained on (it has {have})")
    return base


def _load_base(model: NPI, path: str | Path, base: dict[str, Any]) -> None:
    """Copy the extended checkpoint's weights into ``model``, whose first memory rows and encoders are its."""
    state = model.state_dict()
    with restoring(path, "weights"):
        for name, tensor in base["model"].items():
            if name in ("program_keys", "program_embeddings.weight"):
                state[name][: len(tensor)] = tensor
            elif state[name].shape != tensor.shape:
                raise ValueError(f"{name} has shape {tuple(tensor.shape)} there and {tuple(state[name].shape)} with the new envs")
            else:
                state[name] = tensor
        model.load_state_dict(state)


def _added_rows(model: NPI, kept: int) -> int:
    """The first memory row that the tasks after the first ``kept`` add (rows are numbered in task order)."""
    return 1 + max((int(r.max()) for r in model.rows[:kept]), default=-1)


def _freeze(model: NPI, kept: int) -> list[torch.nn.Parameter]:
    """Stop every parameter of the first ``kept`` tasks from training: the memory rows and encoders the later tasks add
    are all that trains (the rows through a gradient mask, the rest by ``requires_grad``). Returns what trains."""
    old_rows = _added_rows(model, kept)
    old_encoders = 1 + max(model.domain_of[:kept])
    trainable = [model.program_keys, model.program_embeddings.weight, *model.encoders[old_encoders:].parameters()]
    for p in model.parameters():
        p.requires_grad_(any(p is q for q in trainable))
    frozen = torch.arange(len(model.memory)) < old_rows
    for p in trainable[:2]:
        p.register_hook(lambda grad: grad.masked_fill(frozen[:, None], 0.0))
    return trainable


def validate(model: NPI, cfg: NPIConfig, task: int = 0) -> int:
    """How many of the held-out problems of ``cfg`` (one env) the current model's task ``task`` solves through ``env.step``."""
    env = gym.make(cfg.env_id, **cfg.env_kwargs)
    agent = NPIAgent(model.eval(), env.unwrapped.programs, cfg.env_id, cfg.env_kwargs, task)
    env.close()
    episodes = run_episodes(agent, cfg.env_id, validation_problems(cfg), **cfg.env_kwargs)
    return sum(e.solved for e in episodes)
