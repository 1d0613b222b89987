"""RL baselines on every task: success against env steps, per-length accuracy beside the trivial policy's.

Every (env, algorithm, seed) of configs/rl_baselines.toml trains with the shipped hyperparameters (a run
already in runs/rl/ is resumed, or reused once it has its budget), then plays fresh problems through
``agents.base.run_episodes`` beside the trivial policy (RETURN at once) and the random masked agent on
the very same problems. ``non-trivial`` is the accuracy over the problems the trivial policy does not
solve (an array already sorted needs no skill). A finished trial keeps its result in its run folder, so
the same command again only adds what is new. Writes results/CONFIG.md/.csv (rows of envs and algorithms
not chosen this time are kept) and one learning-curve plot per env (mean and range over seeds of the
evaluation success, from SB3's EvalCallback logs).

    python benchmarks/rl_baselines.py                      # everything at the YAMLs' budgets (days on a 2-core CPU)
    python benchmarks/rl_baselines.py --config rl_baselines_reduced   # every pair at a reduced budget
    python benchmarks/rl_baselines.py --config rl_curriculum          # MaskablePPO's curriculum on addition and sort
    python benchmarks/rl_baselines.py --envs NPI-Sort-v0 --algorithms ppo-mask
    python benchmarks/rl_baselines.py --config rl_baselines_smoke     # every pair wired end to end, tiny budgets
    python benchmarks/rl_baselines.py --ray                # the trials as Ray Tune trials on a local Ray
    python benchmarks/rl_baselines.py --ray --address HOST:6379   # ... on an existing cluster

With ``--ray`` the results are the same as serially (each trial seeds everything and runs one torch
thread); an interrupted sweep is restored by the same command and runs only its unfinished trials.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import torch

import sweep
from agents.base import run_episodes
from agents.baselines import RandomAgent, ReturnAtOnce, SB3Agent, algorithm
from agents.baselines.plots import STAGE, read_curves, training_seconds
from agents.baselines.train import MODEL, train
from agents.common.checkpoints import write_atomic
from agents.common.seeds import evaluation_seed
from agents.npi.shipped import pretrained_path
from common import (
    CAR_ID,
    CONFIGS,
    NP_PRETRAINED,
    RUNS,
    chosen,
    load_config,
    md_row,
    pyplot,
    read_result,
    save_figure,
    write_csv,
    write_markdown,
)
from npi_car import PAPER as PAPER_CAR
from npi_generalization import PAPER_SORT_NPI
from npi_gym.envs.table.settings import PAPER_SETTINGS
from npi_gym.registry import PROGRAM_CALL_IDS

HEADER = ["env", "agent", "seeds", "timesteps", "train_minutes", "length", "episodes", "accuracy", "min", "max", "trivial", "non_trivial", "paper"]
FLOORS = ("random", "trivial", "npi (shipped)", "neural-programmer (shipped)")
"""rows every invocation plays again for each env it runs: the floors and the shipped paper agents"""
RESULT = "result.json"
"""a finished trial's result, in its run folder: the same trial again reads it instead of playing again"""


def problems(lengths: list[int | None], episodes: list[int]) -> list[tuple[int, dict[str, Any]]]:
    """The evaluation problems of ``agents.evaluate`` (seed 0) at each length: (reset seed, options)."""
    return [
        (evaluation_seed(i, 0, n), {} if n is None else {"length": n}) for n, count in zip(lengths, episodes) for i in range(count)
    ]


def run_config(name: str) -> dict[str, Any]:
    """configs/NAME.toml, on top of the config its ``base`` names (keys, and each env's keys, override)."""
    config = load_config(name)
    if "base" not in config:
        return config
    base = run_config(config.pop("base"))
    envs = {env: {**spec, **config.get("envs", {}).get(env, {})} for env, spec in base["envs"].items()}
    return {**base, **config, "envs": envs}


def trials(envs: list[str], names: list[str], config_name: str = "rl_baselines", runs: Path | None = None) -> list[dict[str, Any]]:
    """One trial (plain data) per (env, algorithm, seed) of configs/CONFIG.toml, in table order.

    A budget missing from the config's ``timesteps`` is the shipped YAML's ``n_timesteps`` (None here);
    an env's ``episodes`` list gives the evaluation problems per length (default: ``episodes`` at each).
    """
    config = run_config(config_name)
    budgets = config.get("timesteps", {})
    runs = runs or RUNS / "rl" / config_name
    out = []
    for env_id in envs:
        spec = config["envs"][env_id]
        lengths = spec["lengths"] or [None]
        episodes = spec.get("episodes", [config["episodes"]] * len(lengths))
        if len(episodes) != len(lengths):
            raise ValueError(f"configs/{config_name}.toml: {env_id}: episodes {episodes} needs one count per length of {lengths}")
        out += [
            {"env_id": env_id, "algorithm": name, "seed": seed, "timesteps": budgets.get(name, budgets.get("default")),
             "env_kwargs": spec["env_kwargs"], "lengths": lengths, "episodes": episodes, "eval_episodes": config["eval_episodes"],
             "out": str(runs / name / env_id / f"seed-{seed}")}
            for name in names for seed in config["seeds"]
        ]
    return out


def run_trial(trial: dict[str, Any]) -> dict[str, Any]:
    """Train one (env, algorithm, seed) (resumed, or reused once it has its budget) and play the evaluation problems.

    ``train_minutes`` is the training time of every session of the run, from SB3's logs.
    """
    from stable_baselines3.common.utils import set_random_seed

    out = Path(trial["out"])
    saved = json.loads((out / RESULT).read_text()) if (out / RESULT).is_file() else None
    if saved is not None and saved["trial"] == trial:
        return saved["result"]
    torch.set_num_threads(1)
    set_random_seed(trial["seed"])
    resume = (out / "checkpoints").is_dir() and any((out / "checkpoints").glob("*.zip"))
    trained = train(algorithm(trial["algorithm"]), trial["env_id"], out, timesteps=trial["timesteps"], seed=trial["seed"], resume=resume,
                    env_kwargs=trial["env_kwargs"], eval_episodes=trial["eval_episodes"])
    played = run_episodes(SB3Agent.load(out / MODEL), trial["env_id"], problems(trial["lengths"], trial["episodes"]), **trial["env_kwargs"])
    result = {"solved": [e.solved for e in played], "train_minutes": training_seconds(out / "logs") / 60, "timesteps": trained["timesteps"]}
    write_atomic(out / RESULT, lambda f: f.write(json.dumps({"trial": trial, "result": result}).encode()))
    return result


def rows_for(label: str, env_id: str, per_seed: list[list[bool]], trivial: list[bool] | None, lengths: list[int | None],
             episodes: list[int], timesteps: int, minutes: float) -> list[list[Any]]:
    """One row per length: accuracy over seeds (mean, min, max), the trivial policy's, and over the problems it fails.

    ``per_seed`` and ``trivial`` say which problems were solved; ``trivial`` is None where the env has no
    trivial policy (the table envs: four steps, no RETURN).
    """
    rows = []
    starts = np.cumsum([0, *episodes])
    for k, n in enumerate(lengths):
        cut = slice(starts[k], starts[k + 1])
        accs = [np.mean(run[cut]) for run in per_seed]
        hard = range(episodes[k]) if trivial is None else [i for i, solved in enumerate(trivial[cut]) if not solved]
        non_trivial = [np.mean([run[cut][i] for i in hard]) for run in per_seed] if hard else [float("nan")]
        rows.append([
            env_id, label, len(per_seed), timesteps, f"{minutes:.1f}", "any" if n is None else n, episodes[k],
            f"{100 * np.mean(accs):.1f}", f"{100 * min(accs):.1f}", f"{100 * max(accs):.1f}",
            "n/a" if trivial is None else f"{100 * np.mean(trivial[cut]):.1f}", f"{100 * np.mean(non_trivial):.1f}",
            paper_figure(env_id, label, n),
        ])
    return rows


def learning_curves(env_id: str, runs: dict[str, list[Path]], name: str) -> None:
    """Evaluation success against env steps, per algorithm: mean and range over seeds of the run folders;
    with a Curriculum, each seed's mean stage on the right axis (where a learner stalls)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    stages = [points for folders in runs.values() for out in folders if (points := read_curves(out / "logs")[STAGE])]
    if stages:
        right = ax.twinx()
        for points in stages:
            right.plot(*zip(*points), color="gray", linewidth=0.8, alpha=0.6)
        right.set_ylabel("curriculum stage (grey: each seed)")
    for k, (algo, folders) in enumerate(runs.items()):
        logs = [np.load(out / "eval" / "evaluations.npz") for out in folders if (out / "eval" / "evaluations.npz").is_file()]
        if not logs:
            continue
        by_step = [dict(zip(log["timesteps"].tolist(), (log["results"] >= 1.0).mean(axis=1))) for log in logs]
        steps = sorted(set.intersection(*(set(seed) for seed in by_step)))  # the evaluations every seed has
        success = np.array([[seed[t] for t in steps] for seed in by_step]).reshape(len(by_step), len(steps))
        ax.plot(steps, success.mean(axis=0), label=algo, linestyle=("-", "--", ":", "-.")[k % 4])  # learners that all RETURN at once overlap
        ax.fill_between(steps, success.min(axis=0), success.max(axis=0), alpha=0.2)
    ax.set(xlabel="env steps", ylabel="evaluation success", title=env_id, ylim=(-0.02, 1.02))
    ax.legend(fontsize=7)
    save_figure(fig, f"{name}_{env_id}.png")


def floors(env_id: str, trial: dict[str, Any], seeds: list[int]) -> tuple[list[bool] | None, list[list[bool]]]:
    """Which evaluation problems the trivial policy (None without one) and the random masked agent of each seed solve."""
    tasks, env_kwargs = problems(trial["lengths"], trial["episodes"]), trial["env_kwargs"]
    make = gym.make(env_id, **env_kwargs)
    trivial = run_episodes(ReturnAtOnce(make), env_id, tasks, **env_kwargs) if env_id in PROGRAM_CALL_IDS else None
    floor = [run_episodes(RandomAgent(make, seed=s), env_id, tasks, **env_kwargs) for s in seeds]
    return (None if trivial is None else [e.solved for e in trivial]), [[e.solved for e in run] for run in floor]


def shipped_agents(env_id: str) -> dict[str, Callable[[], Any]]:
    """The paper agents shipped for ``env_id``, by row label: the NPI (trained on traces), the Neural Programmer (on answers)."""
    from agents.neural_programmer.agent import NeuralProgrammerAgent
    from agents.npi import NPIAgent

    found: dict[str, Callable[[], Any]] = {}
    if pretrained_path(env_id).is_file():
        found["npi (shipped)"] = lambda: NPIAgent.load(pretrained_path(env_id), env_id)
    table = {row.env_id: NP_PRETRAINED / f"{row.key}.pt" for row in PAPER_SETTINGS}.get(env_id)
    if table is not None and table.is_file():
        found["neural-programmer (shipped)"] = lambda: NeuralProgrammerAgent.load(table, env_id)
    return found


def play_shipped(env_id: str, tasks: list[tuple[int, dict[str, Any]]], env_kwargs: dict[str, Any]) -> dict[str, list[bool]]:
    """Which of ``tasks`` each shipped paper agent solves, its env made with the kwargs it was trained with
    (the car NPI's 32-pixel frames) updated by ``env_kwargs``."""
    played = {}
    for label, load in shipped_agents(env_id).items():
        agent = load()
        kwargs = {**getattr(agent, "env_kwargs", {}), **env_kwargs}
        played[label] = [e.solved for e in run_episodes(agent, env_id, tasks, **kwargs)]
    return played


def paper_figure(env_id: str, label: str, length: int | None) -> str:
    """The paper's accuracy for this agent, env and length, where the paper reports one."""
    if label == "npi (shipped)":
        if env_id.startswith("NPI-Sort"):
            return str(PAPER_SORT_NPI.get(length, "")) if length is not None else ""
        if env_id.startswith("NPI-Addition"):
            return "100"  # every length tried, to 3,000 digits
        if env_id == CAR_ID:
            return str(PAPER_CAR["seen models"])  # the env's default split: the models trained on
    if label == "neural-programmer (shipped)":
        return next((str(row.accuracy) for row in PAPER_SETTINGS if row.env_id == env_id), "")
    return ""


def tables(configs: list[dict[str, Any]], results: list[dict[str, Any]], name: str) -> list[list[Any]]:
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
        tasks = problems(lengths, episodes)
        for label, played in play_shipped(env_id, tasks, first["env_kwargs"]).items():
            rows += rows_for(label, env_id, [played], trivial, lengths, episodes, 0, 0.0)
        folders: dict[str, list[Path]] = {}
        for algo in dict.fromkeys(c["algorithm"] for c, _ in mine):
            runs = [(c, r) for c, r in mine if c["algorithm"] == algo]
            folders[algo] = [Path(c["out"]) for c, _ in runs]
            rows += rows_for(algo, env_id, [r["solved"] for _, r in runs], trivial, lengths, episodes, runs[0][1]["timesteps"],
                             sum(r["train_minutes"] for _, r in runs))
        learning_curves(env_id, folders, name)
    return rows


def kept_rows(name: str, configs: list[dict[str, Any]]) -> list[list[Any]]:
    """The rows of results/NAME.csv whose (env, algorithm) this invocation does not run (the floors go with their env)."""
    ran = {(c["env_id"], c["algorithm"]) for c in configs}
    envs = {env for env, _ in ran}
    return [[r[k] for k in HEADER] for r in read_result(f"{name}.csv") if list(r) == HEADER
            and (r["env"], r["agent"]) not in ran and not (r["env"] in envs and r["agent"] in FLOORS)]


def leaderboard(rows: list[list[Any]], config: dict[str, Any]) -> list[str]:
    """One line per agent, one column per env: accuracy within the training sizes (non-trivial), then beyond them.

    Within: the lengths up to the env's ``max_length`` (every problem where it has none); each figure is
    the mean over those lengths of the table's per-length figure.
    """
    col = {name: HEADER.index(name) for name in ("accuracy", "non_trivial", "length")}
    envs = [env for env in config["envs"] if any(r[0] == env for r in rows)]
    seen = list(dict.fromkeys(r[1] for r in rows))
    agents = [a for a in FLOORS if a in seen] + [a for a in seen if a not in FLOORS]

    col["paper"] = HEADER.index("paper")

    def split(env: str, agents: tuple[str, ...]) -> tuple[list[list[Any]], list[list[Any]]]:
        mine = [r for r in rows if r[0] == env and r[1] in agents]
        top = config["envs"][env]["env_kwargs"].get("max_length")
        inside = [r for r in mine if top is None or str(r[col["length"]]) == "any" or int(r[col["length"]]) <= top]
        return inside, [r for r in mine if r not in inside]

    def mean(picked: list[list[Any]], key: str) -> str:
        figures = [float(r[col[key]]) for r in picked if str(r[col[key]]) not in ("", "nan")]
        return f"{np.mean(figures):.{1 if key == 'paper' else 0}f}".removesuffix(".0") if figures else "–"

    def cell(env: str, agent: str) -> str:
        inside, beyond = split(env, (agent,))
        if not inside + beyond:
            return ""
        return f"{mean(inside, 'accuracy')} ({mean(inside, 'non_trivial')})" + (f" · {mean(beyond, 'accuracy')}" if beyond else "")

    def paper(env: str) -> str:
        inside, beyond = split(env, ("npi (shipped)", "neural-programmer (shipped)"))
        return mean(inside, "paper") + (f" · {mean(beyond, 'paper')}" if beyond else "")

    lengths = [f"{env} ({', '.join(str(n) for n in config['envs'][env]['lengths']) or 'its own problems'})" for env in envs]
    return [md_row("agent", *lengths), md_row(*["---"] * (len(envs) + 1)),
            *(md_row(agent, *(cell(env, agent) for env in envs)) for agent in agents),
            md_row("paper (its NPI or Neural Programmer)", *(paper(env) for env in envs))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="rl_baselines", help="configs/NAME.toml (default: %(default)s)")
    parser.add_argument("--envs", nargs="*", default=[], help="env ids (default: every env of the config)")
    parser.add_argument("--algorithms", nargs="*", default=[], help="(default: every algorithm of the config)")
    sweep.add_options(parser)
    args = parser.parse_args()
    sweep.check_options(parser, args)
    if not (CONFIGS / f"{args.config}.toml").is_file():
        parser.error(f"no configs/{args.config}.toml; choose from {sorted(p.stem for p in CONFIGS.glob('rl_*.toml'))}")
    config = run_config(args.config)
    envs = chosen(parser, args.envs, list(config["envs"]))
    names = chosen(parser, args.algorithms, config["algorithms"])
    torch.set_num_threads(1)
    configs = trials(envs, names, args.config)
    rows = tables(configs, sweep.run(run_trial, configs, args.config, args), args.config)
    order = {env: i for i, env in enumerate(config["envs"])}
    agents = [*FLOORS, *config["algorithms"]]
    rows = sorted(kept_rows(args.config, configs) + rows, key=lambda r: (order[r[0]], agents.index(r[1])))
    write_csv(f"{args.config}.csv", HEADER, rows)
    write_markdown(f"{args.config}_leaderboard.md", [
        f"# Leaderboard: `python benchmarks/rl_baselines.py --config {args.config}`",
        "",
        "Accuracy % within the training sizes (in brackets: on the problems RETURN at once fails), then `·` beyond",
        "them; means over the lengths of each range, every agent on the same fresh problems (results/"
        f"{args.config}.md has each length, seed spread and the papers' figures).",
        "",
        *leaderboard(rows, config),
    ], echo=True)
    write_markdown(f"{args.config}.md", [
        "# RL baselines: accuracy through agents.evaluate's harness, beside the trivial policy",
        "",
        f"Command: `python benchmarks/rl_baselines.py --config {args.config}` (configs/{args.config}.toml). Accuracy: mean",
        "over seeds (min, max) on the same fresh problems for every agent; *trivial*: RETURN at once on those",
        "problems; *non-trivial*: accuracy over the problems the trivial policy fails. *train minutes*: SB3's",
        "training time of every seed's run, summed over seeds (one torch thread each). *npi (shipped)* and",
        "*neural-programmer (shipped)*: the checkpoints in agents/*/pretrained/, trained from traces and from answers,",
        "on the same problems; *paper*: the paper's figure for that agent (NPI sort by length, NPI addition 100% to",
        "3,000 digits, NPI car on the models trained on, Neural Programmer per setting).",
        "",
        md_row(*HEADER),
        md_row(*["---"] * len(HEADER)),
        *(md_row(*row) for row in rows),
    ], echo=True)


if __name__ == "__main__":
    main()
