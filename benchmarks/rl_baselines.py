"""RL baselines on every task: success against env steps, per-length accuracy beside the trivial policy's.

Every (env, algorithm, seed) of configs/rl_baselines.toml trains with the shipped hyperparameters (a run
already in runs/rl/ is resumed, or reused once it has its budget), then plays fresh problems through
``agents.base.run_episodes`` beside the trivial policy (RETURN at once) and the random masked agent on
the very same problems. ``non-trivial`` is the accuracy over the problems the trivial policy does not
solve (an array already sorted needs no skill). Writes results/rl_baselines.md/.csv and one learning-curve
plot per env (mean and range over seeds of the evaluation success, from SB3's EvalCallback logs).

    python benchmarks/rl_baselines.py                      # everything (hours on a 2-core CPU)
    python benchmarks/rl_baselines.py --envs NPI-Sort-v0 --algorithms ppo-mask
    python benchmarks/rl_baselines.py --smoke              # every pair wired end to end, tiny budgets
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.base import Episode, run_episodes
from agents.baselines import RandomAgent, ReturnAtOnce, SB3Agent, algorithm
from agents.baselines.train import MODEL, train
from agents.common.seeds import evaluation_seed
from common import RUNS, chosen, command_line, load_config, md_row, pyplot, save_figure, write_csv, write_markdown
from npi_gym.registry import PROGRAM_CALL_IDS

HEADER = ["env", "agent", "seeds", "timesteps", "train_minutes", "length", "accuracy", "min", "max", "trivial", "non_trivial"]


def problems(lengths: list[int | None], episodes: int) -> list[tuple[int, dict[str, Any]]]:
    """The evaluation problems of ``agents.evaluate`` (seed 0) at each length: (reset seed, options)."""
    return [
        (evaluation_seed(i, 0, n), {} if n is None else {"length": n}) for n in lengths for i in range(episodes)
    ]


def train_run(
    name: str, env_id: str, seed: int, timesteps: int, env_kwargs: dict[str, Any], eval_episodes: int, smoke: bool
) -> tuple[Path, float]:
    """The model of one run (trained, resumed or reused) and the minutes this call trained."""
    out = RUNS / ("rl-smoke" if smoke else "rl") / name / env_id / f"seed-{seed}"
    start = time.perf_counter()
    resume = (out / "checkpoints").is_dir() and any((out / "checkpoints").glob("*.zip"))
    train(algorithm(name), env_id, out, timesteps=timesteps, seed=seed, resume=resume, env_kwargs=env_kwargs, eval_episodes=eval_episodes)
    return out / MODEL, (time.perf_counter() - start) / 60


def rows_for(label: str, env_id: str, per_seed: list[list[Episode]], trivial: list[Episode] | None, lengths: list[int | None],
             episodes: int, timesteps: int, minutes: float) -> list[list[Any]]:
    """One row per length: accuracy over seeds (mean, min, max), the trivial policy's, and over the problems it fails.

    ``trivial`` is None where the env has no trivial policy (the table envs: four steps, no RETURN).
    """
    rows = []
    for k, n in enumerate(lengths):
        cut = slice(k * episodes, (k + 1) * episodes)
        accs = [np.mean([e.solved for e in run[cut]]) for run in per_seed]
        hard = range(episodes) if trivial is None else [i for i, e in enumerate(trivial[cut]) if not e.solved]
        non_trivial = [np.mean([run[cut][i].solved for i in hard]) for run in per_seed] if hard else [float("nan")]
        rows.append([
            env_id, label, len(per_seed), timesteps, f"{minutes:.1f}", "any" if n is None else n, f"{100 * np.mean(accs):.1f}",
            f"{100 * min(accs):.1f}", f"{100 * max(accs):.1f}",
            "n/a" if trivial is None else f"{100 * np.mean([e.solved for e in trivial[cut]]):.1f}", f"{100 * np.mean(non_trivial):.1f}",
        ])
    return rows


def learning_curves(env_id: str, runs: dict[str, list[Path]], smoke: bool) -> None:
    """Evaluation success against env steps, per algorithm: mean and range over seeds."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, models in runs.items():
        logs = [np.load(m.parent / "eval" / "evaluations.npz") for m in models if (m.parent / "eval" / "evaluations.npz").is_file()]
        if not logs:
            continue
        steps = min((log["timesteps"] for log in logs), key=len)
        success = np.array([(log["results"][: len(steps)] >= 1.0).mean(axis=1) for log in logs])
        ax.plot(steps, success.mean(axis=0), label=name)
        ax.fill_between(steps, success.min(axis=0), success.max(axis=0), alpha=0.2)
    ax.set(xlabel="env steps", ylabel="evaluation success", title=env_id, ylim=(-0.02, 1.02))
    ax.legend(fontsize=7)
    save_figure(fig, f"rl_baselines{'_smoke' if smoke else ''}_{env_id}.png")


def main() -> None:
    config = load_config("rl_baselines")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="*", default=[], help=f"env ids (default: {', '.join(config['envs'])})")
    parser.add_argument("--algorithms", nargs="*", default=[], help=f"(default: {', '.join(config['algorithms'])})")
    parser.add_argument("--smoke", action="store_true", help="tiny budgets: wiring only")
    args = parser.parse_args()
    envs = chosen(parser, args.envs, list(config["envs"]))
    names = chosen(parser, args.algorithms, config["algorithms"])
    run = {**config, **(config["smoke"] if args.smoke else {})}
    torch.set_num_threads(1)
    rows: list[list[Any]] = []
    for env_id in envs:
        setting = config["envs"][env_id]
        env_kwargs, lengths = setting["env_kwargs"], setting["lengths"] or [None]
        episodes = run["episodes"]
        tasks = problems(lengths, episodes)
        make = gym.make(env_id, **env_kwargs)
        trivial = run_episodes(ReturnAtOnce(make), env_id, tasks, **env_kwargs) if env_id in PROGRAM_CALL_IDS else None
        floor = [run_episodes(RandomAgent(make, seed=s), env_id, tasks, **env_kwargs) for s in run["seeds"]]
        rows += rows_for("random", env_id, floor, trivial, lengths, episodes, 0, 0.0)
        for row in rows_for("trivial", env_id, [trivial], trivial, lengths, episodes, 0, 0.0) if trivial else ():
            rows.append(row)
        models: dict[str, list[Path]] = {}
        for name in names:
            budget = run["timesteps"].get(name, run["timesteps"]["default"])
            trained = [train_run(name, env_id, seed, budget, env_kwargs, run["eval_episodes"], args.smoke) for seed in run["seeds"]]
            models[name] = [model for model, _ in trained]
            played = [run_episodes(SB3Agent.load(model), env_id, tasks, **env_kwargs) for model in models[name]]
            rows += rows_for(name, env_id, played, trivial, lengths, episodes, budget, sum(m for _, m in trained))
            print(md_row(*rows[-1]), flush=True)
        learning_curves(env_id, models, args.smoke)
    suffix = "_smoke" if args.smoke else ""
    write_csv(f"rl_baselines{suffix}.csv", HEADER, rows)
    write_markdown(f"rl_baselines{suffix}.md", [
        "# RL baselines: accuracy through agents.evaluate's harness, beside the trivial policy",
        "",
        f"Command: `{command_line(__file__)}`. Accuracy: mean over seeds (min, max) on the same fresh problems for",
        "every agent; *trivial*: RETURN at once on those problems; *non-trivial*: accuracy over the problems the",
        "trivial policy fails. *train min*: the minutes this invocation trained (0 for a reused run).",
        "",
        md_row(*HEADER),
        md_row(*["---"] * len(HEADER)),
        *(md_row(*row) for row in rows),
    ], echo=True)


if __name__ == "__main__":
    main()
