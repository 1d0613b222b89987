"""The training loop both papers' LSTM baselines share: batches, Adam, held-out checks, atomic resumable checkpoints."""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from agents.baselines.seq2seq_model import Batch, Seq2Seq
from agents.common.checkpoints import CheckpointError, CheckpointKind, require_training_state, restoring
from agents.common.logs import CsvLog
from agents.common.resume import check_resume

Batches = Callable[[np.random.Generator], Batch]
"""draws one training batch with the trainer's generator"""


def fit(
    cfg: Any, kind: CheckpointKind, out: str | Path, make_model: Callable[[], Seq2Seq], batches: Batches,
    validate: Callable[[Seq2Seq], float], meta: dict[str, Any], resume: bool = False, progress: bool = True,
) -> dict[str, Any]:
    """Train ``make_model()`` on ``batches`` until ``cfg.updates`` or ``cfg.stop_after_perfect`` perfect checks in a row.

    ``meta`` (what the model was built for: env id, vocabulary, ...) is saved with the weights; resuming
    from ``out`` refuses another ``meta`` or a config change outside ``RESUMABLE``. Returns updates,
    seconds and the last held-out accuracy.
    """
    out = Path(out)
    ckpt = None
    if resume and out.exists():
        ckpt = kind.load(out)
        require_training_state(out, ckpt)
        check_resume(out, ckpt["config"], cfg)
        differ = sorted(k for k in meta if ckpt.get(k) != meta[k])
        if differ:
            raise CheckpointError(
                f"{out} was trained for another {', '.join(differ)}: checkpoint {[ckpt.get(k) for k in differ]}, now {[meta[k] for k in differ]}"
            )
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng([cfg.seed, 3])
    state: dict[str, Any] = {"update": 0, "seconds": 0.0, "perfect_streak": 0, "validation": []}
    if ckpt is not None:
        with restoring(out, "training state"):
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            rng.bit_generator.state = ckpt["trainer"]["rng"]
            state = {k: v for k, v in ckpt["trainer"].items() if k != "rng"}
    out.parent.mkdir(parents=True, exist_ok=True)
    log = CsvLog(out.with_suffix(".csv"), ["update", "seconds", "load_average", "loss", "validation"], state["update"])
    start = time.perf_counter() - state["seconds"]

    def checkpoint() -> None:
        state["seconds"] = time.perf_counter() - start
        kind.save(out, {**meta, "config": asdict(cfg), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "trainer": {**state, "rng": rng.bit_generator.state}})

    def finished() -> bool:
        return (cfg.stop_after_perfect > 0 and state["perfect_streak"] >= cfg.stop_after_perfect) or state["update"] >= cfg.updates

    bar = tqdm(total=cfg.updates, initial=state["update"], disable=not progress, desc=type(cfg).__name__, dynamic_ncols=True)
    losses: list[float] = []
    model.train()
    while not finished():
        loss = model.loss(batches(rng))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        state["update"] += 1
        losses.append(loss.item())
        bar.update(1)
        if state["update"] % cfg.eval_every == 0 or state["update"] >= cfg.updates:
            accuracy = validate(model.eval())
            model.train()
            state["validation"].append([state["update"], accuracy])
            state["perfect_streak"] = state["perfect_streak"] + 1 if accuracy == 1.0 else 0
            seconds = time.perf_counter() - start
            log.write([state["update"], f"{seconds:.1f}", f"{os.getloadavg()[0]:.1f}", f"{np.mean(losses):.5f}", f"{accuracy:.4f}"])
            bar.set_postfix_str(f"loss {np.mean(losses):.4f} held-out {100 * accuracy:.1f}%")
            losses = []
            checkpoint()
    bar.close()
    checkpoint()
    last = state["validation"][-1][1] if state["validation"] else float("nan")
    return {"updates": state["update"], "seconds": state["seconds"], "validation": last}
