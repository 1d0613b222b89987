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
    python benchmarks/rl_baselines.py --ray                # the trials as Ray Tune trials on a local Ray
    python benchmarks/rl_baselines.py --ray --address HOST:6379   # ... on an existing cluster

With ``--ray`` the results are the same as serially (each trial seeds everything and runs one torch
thread); an interrupted sweep is restored by the same command and runs only its unfinished trials.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import sweep
from agents.base import run_episodes
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


def trials(envs: list[str], names: list[str], smoke: bool, runs: Path | None = None) -> list[dict[str, Any]]:
    """One config (plain data) per (env, algorithm, seed) of configs/rl_baselines.toml, in table order."""
    config = load_config("rl_baselines")
    run = {**config, **(config["smoke"] if smoke else {})}
    runs = runs or RUNS / ("rl-smoke" if smoke else "rl")
    return [
        {"env_id": env_id, "algorithm": name, "seed": seed, "timesteps": run["timesteps"].get(name, run["timesteps"]["default"]),
         "env_kwargs": config["envs"][env_id]["env_kwargs"], "lengths": config["envs"][env_id]["lengths"] or [None],
         "episodes": run["episodes"], "eval_episodes": run["eval_episodes"], "out": str(runs / name / env_id / f"seed-{seed}")}
        for env_id in envs for name in names for seed in run["seeds"]
    ]


def run_trial(trial: dict[str, Any]) -> dict[str, Any]:
    """Train one (env, algorithm, seed) (resumed, or reused once it has its budget) and play the evaluation problems."""
    from stable_baselines3.common.utils import set_random_seed

    torch.set_num_threads(1)
    set_random_seed(trial["seed"])
    out = Path(trial["out"])
    start = time.perf_counter()
    resume = (out / "checkpoints").is_dir() and any((out / "checkpoints").glob("*.zip"))
    train(algorithm(trial["algorithm"]), trial["env_id"], out, timesteps=trial["timesteps"], seed=trial["seed"], resume=resume,
          env_kwargs=trial["env_kwargs"], eval_episodes=trial["eval_episodes"])
    minutes = (time.perf_counter() - start) / 60
    played = run_episodes(SB3Agent.load(out / MODEL), trial["env_id"], problems(trial["lengths"], trial["episodes"]), **trial["env_kwargs"])
    return {"solved": [e.solved for e in played], "train_minutes": minutes}


def rows_for(label: str, env_id: str, per_seed: list[list[bool]], trivial: list[bool] | None, lengths: list[int | None],
             episodes: int, timesteps: int, minutes: float) -> list[list[Any]]:
    """One row per length: accuracy over seeds (mean, min, max), the trivial policy's, and over the problems it fails.

    ``per_seed`` and ``trivial`` say which problems were solved; ``trivial`` is None where the env has no
    trivial policy (the table envs: four steps, no RETURN).
    """
    rows = []
    for k, n in enumerate(lengths):
        cut = slice(k * episodes, (k + 1) * episodes)
        accs = [np.mean(run[cut]) for run in per_seed]
        hard = range(episodes) if trivial is None else [i for i, solved in enumerate(trivial[cut]) if not solved]
        non_trivial = [np.mean([run[cut][i] for i in hard]) for run in per_seed] if hard else [float("nan")]
        rows.append([
            env_id, label, len(per_seed), timesteps, f"{minutes:.1f}", "any" if n is None else n, f"{100 * np.mean(accs):.1f}",
            f"{100 * min(accs):.1f}", f"{100 * max(accs):.1f}",
            "n/a" if trivial is None else f"{100 * np.mean(trivial[cut]):.1f}", f"{100 * np.mean(non_trivial):.1f}",
        ])
    return rows


def learning_curves(env_id: str, runs: dict[str, list[Path]], smoke: bool) -> None:
    """Evaluation success against env steps, per algorithm: mean and range over seeds of the run folders."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, folders in runs.items():
        logs = [np.load(out / "eval" / "evaluations.npz") for out in folders if (out / "eval" / "evaluations.npz").is_file()]
        if not logs:
            continue
        steps = min((log["timesteps"] for log in logs), key=len)
        success = np.array([(log["results"][: len(steps)] >= 1.0).mean(axis=1) for log in logs])
        ax.plot(steps, success.mean(axis=0), label=name)
        ax.fill_between(steps, success.min(axis=0), success.max(axis=0), alpha=0.2)
    ax.set(xlabel="env steps", ylabel="evaluation success", title=env_id, ylim=(-0.02, 1.02))
    ax.legend(fontsize=7)
    save_figure(fig, f"rl_baselines{'_smoke' if smoke else ''}_{env_id}.png")


def floors(env_id: str, trial: dict[str, Any], seeds: list[int]) -> tuple[list[bool] | None, list[list[bool]]]:
    """Which evaluation problems the trivial policy (None without one) and the random masked agent of each seed solve."""
    tasks, env_kwargs = problems(trial["lengths"], trial["episodes"]), trial["env_kwargs"]
    make = gym.make(env_id, **env_kwargs)
    trivial = run_episodes(ReturnAtOnce(make), env_id, tasks, **env_kwargs) if env_id in PROGRAM_CALL_IDS else None
    floor = [run_episodes(RandomAgent(make, seed=s), env_id, tasks, **env_kwargs) for s in seeds]
    return (None if trivial is None else [e.solved for e in trivial]), [[e.solved for e in run] for run in floor]


def tables(configs: list[dict[str, Any]], results: list[dict[str, Any]], smoke: bool) -> list[list[Any]]:
    """The rows of every env: the random and trivial floors, then each algorithm over its seeds; the learning curves drawn."""
    rows: list[list[Any]] = []
    for env_id in dict.fromkeys(c["env_id"] for c in configs):
        mine = [(c, r) for c, r in zip(configs, results) if c["env_id"] == env_id]
        first = mine[0][0]
        lengths, episodes = first["lengths"], first["episodes"]
        seeds = list(dict.fromkeys(c["seed"] for c, _ in mine))
        trivial, floor = floors(env_id, first, seeds)
        rows += rows_for("random", env_id, floor, trivial, lengths, episodes, 0, 0.0)
        rows += rows_for("trivial", env_id, [trivial], trivial, lengths, episodes, 0, 0.0) if trivial else []
        folders: dict[str, list[Path]] = {}
        for name in dict.fromkeys(c["algorithm"] for c, _ in mine):
            runs = [(c, r) for c, r in mine if c["algorithm"] == name]
            folders[name] = [Path(c["out"]) for c, _ in runs]
            rows += rows_for(name, env_id, [r["solved"] for _, r in runs], trivial, lengths, episodes, runs[0][0]["timesteps"],
                             sum(r["train_minutes"] for _, r in runs))
        learning_curves(env_id, folders, smoke)
    return rows


def main() -> None:
    config = load_config("rl_baselines")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="*", default=[], help=f"env ids (default: {', '.join(config['envs'])})")
    parser.add_argument("--algorithms", nargs="*", default=[], help=f"(default: {', '.join(config['algorithms'])})")
    parser.add_argument("--smoke", action="store_true", help="tiny budgets: wiring only")
    sweep.add_options(parser)
    args = parser.parse_args()
    sweep.check_options(parser, args)
    envs = chosen(parser, args.envs, list(config["envs"]))
    names = chosen(parser, args.algorithms, config["algorithms"])
    torch.set_num_threads(1)
    configs = trials(envs, names, args.smoke)
    suffix = "_smoke" if args.smoke else ""
    rows = tables(configs, sweep.run(run_trial, configs, f"rl_baselines{suffix}", args), args.smoke)
    write_csv(f"rl_baselines{suffix}.csv", HEADER, rows)
    write_markdown(f"rl_baselines{suffix}.md", [
        "# RL baselines: accuracy through agents.evaluate's harness, beside the trivial policy",
        "",
        f"Command: `{command_line(__file__)}`. Accuracy: mean over seeds (min, max) on the same fresh problems for",
        "every agent; *trivial*: RETURN at once on those problems; *non-trivial*: accuracy over the problems the",
        "trivial policy fails. *train min*: the minutes this invocation trained (0 for a reused run), summed over seeds.",
        "",
        md_row(*HEADER),
        md_row(*["---"] * len(HEADER)),
        *(md_row(*row) for row in rows),
    ], echo=True)


if __name__ == "__main__":
    main()
