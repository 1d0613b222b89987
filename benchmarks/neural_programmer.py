"""The Neural Programmer's results table and its gradient-noise ablation, from real runs on this machine.

For each setting: train (50,000 generated questions), then play the test split through real env
episodes with the agent's hardmax choices. Reports accuracy beside the paper's, per question kind,
the share of test templates seen in training, and the measured training time. The ablation trains
the 5-column model with and without gradient noise on the same seeds and plots held-out accuracy
after every epoch.

    python benchmarks/neural_programmer.py                       # every setting, then the ablation
    python benchmarks/neural_programmer.py --settings 1col 5col --ship   # and export the shipped checkpoints

Epochs per setting: benchmarks/configs/neural_programmer.toml. Checkpoints go to runs/neural_programmer/
(resumed if present); results to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import gymnasium as gym

import npi_gym  # noqa: F401  (registers the ids)
from agents.base import EVAL_SEED, run_episodes
from agents.neural_programmer.agent import NeuralProgrammerAgent
from agents.neural_programmer.checkpoint import export_checkpoint, load_checkpoint
from agents.neural_programmer.config import NPConfig
from agents.neural_programmer.train import train
from common import NP_PRETRAINED, RUNS, command_line, load_config, pyplot, save_figure, write_csv, write_markdown
from npi_gym.envs.table import CATEGORIES, PAPER

NP_RUNS = RUNS / "neural_programmer"

def setting_config(base: NPConfig, name: str) -> NPConfig:
    """``base`` with the setting's env and its run's fields from configs/neural_programmer.toml."""
    runs = load_config("neural_programmer")
    return replace(base, env_id=PAPER[name].env_id, **{**runs["default"], **runs["setting"].get(name, {})})


def evaluate_setting(path: Path, env_id: str, episodes: int, seed: int) -> dict[str, Any]:
    """Test-split accuracy through env episodes, per category, and test templates seen in training."""
    agent = NeuralProgrammerAgent.load(path, env_id)
    problems = [(EVAL_SEED + 7919 * seed + i, {}) for i in range(episodes)]
    start = time.perf_counter()
    played = run_episodes(agent, env_id, problems, split="test")
    seconds = time.perf_counter() - start
    env = gym.make(env_id, split="test")
    examples = []
    for problem_seed, _ in problems:
        env.reset(seed=problem_seed)
        examples.append(env.unwrapped.example)
    env.close()
    solved, total = Counter(), Counter()
    for example, episode in zip(examples, played):
        total[example.query.category] += 1
        solved[example.query.category] += episode.solved
    seen = set(load_checkpoint(path)["train_templates"])
    templates = {e.template for e in examples}
    return {
        "accuracy": 100 * sum(e.solved for e in played) / len(played),
        "by_kind": {k: 100 * solved[k] / total[k] for k in sorted(total)},
        "test_templates": len(templates),
        "seen": 100 * len(templates & seen) / len(templates),
        "eval_seconds": seconds,
    }


def run_setting(name: str, cfg: NPConfig, args: argparse.Namespace) -> dict[str, Any]:
    path = NP_RUNS / f"{name}-seed{cfg.seed}.pt"
    summary = train(cfg, path, resume=True, progress=not args.quiet)
    result = evaluate_setting(path, cfg.env_id, args.episodes, args.seed)
    if args.ship and name in args.ship_settings:
        export_checkpoint(path, NP_PRETRAINED / f"{name}.pt")
    return {"setting": name, **summary, **result, "train_minutes": (summary["seconds"] + summary["data_seconds"]) / 60}


def results_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    kinds = CATEGORIES
    lines = [
        "| setting | env | paper: accuracy | ours: accuracy | "
        + " | ".join(f"ours: {k}" for k in kinds)
        + " | paper: test templates | ours: test templates in eval | paper: seen in training | ours: seen in training "
        "| epochs | training time (min) |",
        "|---|---|---:|---:|" + "---:|" * len(kinds) + "---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        paper = PAPER[r["setting"]]
        lines.append(
            f"| {paper.label} | {paper.env_id} | {paper.accuracy:.2f} | {r['accuracy']:.2f} | "
            + " | ".join(f"{r['by_kind'].get(k, float('nan')):.1f}" for k in kinds)
            + f" | {paper.test_templates:,} | {r['test_templates']:,} | {paper.seen_in_training:.2f} | {r['seen']:.2f} "
            f"| {r['epochs']:g} | {r['train_minutes']:.1f} |"
        )
    return "\n".join(lines)


def ablation(args: argparse.Namespace, base: NPConfig) -> list[dict[str, Any]]:
    """5 columns with and without gradient noise, same seeds; held-out accuracy after every epoch.

    Both runs have the 5-column setting's config but for the noise (they stop, like it, once a held-out
    evaluation is perfect); the run without noise is the setting's own run, so the table above and the
    ablation share it.
    """
    five = setting_config(base, "5col")
    epochs = five.epochs if args.ablation_epochs is None else args.ablation_epochs
    runs = []
    for seed in args.ablation_seeds:
        for noise in (True, False):
            cfg = replace(five, seed=seed, grad_noise=noise, epochs=epochs)
            path = NP_RUNS / (f"ablation-5col-seed{seed}-noise.pt" if noise else f"5col-seed{seed}.pt")
            train(cfg, path, resume=True, progress=not args.quiet)
            curve = load_checkpoint(path)["trainer"]["curve"]
            runs.append({"seed": seed, "noise": noise, "curve": curve})
    return runs


def plot_ablation(runs: list[dict[str, Any]], name: str, per_epoch: int) -> None:
    fig, ax = pyplot().subplots(figsize=(7, 4))
    seeds = sorted({run["seed"] for run in runs})
    for run in runs:
        epochs = [u / per_epoch for u, _, _ in run["curve"]]
        accuracy = [100 * a for _, _, a in run["curve"]]
        style = "-" if run["noise"] else "--"
        marker = "o^sDv"[seeds.index(run["seed"]) % 5]
        ax.plot(epochs, accuracy, style, marker=marker, markersize=3, color="C0" if run["noise"] else "C3",
                label=f"{'with' if run['noise'] else 'without'} gradient noise, seed {run['seed']}")
    ax.set_xlabel("epoch (50,000 questions)")
    ax.set_ylabel("held-out test-split accuracy (%)")
    ax.set_title("Neural Programmer, 5 columns: gradient noise ablation")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="*", default=list(PAPER), choices=list(PAPER))
    parser.add_argument("--episodes", type=int, default=2000, help="test-split episodes per setting")
    parser.add_argument("--seed", type=int, default=0, help="training seed and evaluation seed")
    parser.add_argument("--ship", action="store_true", help="export the 1col and 5col models to agents/neural_programmer/pretrained/")
    parser.add_argument("--ship-settings", nargs="*", default=["1col", "5col"])
    parser.add_argument("--ablation-seeds", nargs="*", type=int, default=[0, 1])
    parser.add_argument("--ablation-epochs", type=int, default=None, help="(default: the 5col setting's epochs)")
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    base = NPConfig(seed=args.seed)

    rows = []
    for name in args.settings:
        rows.append(run_setting(name, setting_config(base, name), args))
        print(results_table(rows[-1:], args), flush=True)
    header = ["setting", "env_id", "paper_accuracy", "accuracy", *CATEGORIES,
              "test_templates_in_eval", "seen_in_training", "paper_seen", "epochs", "updates", "train_minutes",
              "data_seconds", "eval_episodes"]
    write_csv("neural_programmer.csv", header, (
        [r["setting"], PAPER[r["setting"]].env_id, PAPER[r["setting"]].accuracy, f"{r['accuracy']:.2f}",
         *(f"{r['by_kind'].get(k, float('nan')):.2f}" for k in CATEGORIES),
         r["test_templates"], f"{r['seen']:.2f}", PAPER[r["setting"]].seen_in_training, f"{r['epochs']:g}", r["updates"],
         f"{r['train_minutes']:.1f}", f"{r['data_seconds']:.0f}", args.episodes]
        for r in rows
    ))

    text = [
        "# Neural Programmer: the paper's results table, reproduced",
        "",
        "Test-split accuracy through real env episodes (the agent's hardmax choices are the actions), "
        f"{args.episodes:,} questions per setting (seeds from agents.base.EVAL_SEED); paper figures from "
        "Neelakantan, Le & Sutskever (ICLR 2016), Table 2. *Seen in training*: the share of the distinct templates "
        "among the evaluated test questions that occur among the 50,000 training questions. Training time: "
        "data generation plus training (including the per-epoch held-out evaluation), measured on this machine "
        "(2 CPU cores shared with other jobs, torch threads = 1).",
        "",
        f"Command: `{command_line(__file__)}`",
        "",
        f"Config (NPConfig, besides env_id and epochs): `{ {k: v for k, v in base.to_dict().items() if k not in ('env_id', 'epochs')} }`",
        "",
        results_table(rows, args),
    ]
    if not args.no_ablation:
        runs = ablation(args, base)
        per_epoch = base.examples // base.batch_size
        plot_ablation(runs, "neural_programmer_noise.png", per_epoch)
        write_csv("neural_programmer_noise.csv", ["seed", "grad_noise", "update", "epoch", "seconds", "heldout_accuracy"], (
            [run["seed"], run["noise"], update, update / per_epoch, seconds, f"{acc:.4f}"]
            for run in runs
            for update, seconds, acc in run["curve"]
        ))
        text += [
            "",
            "## Gradient noise ablation (5 columns)",
            "",
            f"Same config and seeds ({', '.join(map(str, args.ablation_seeds))}), with and without Gaussian gradient "
            f"noise of variance {base.grad_noise_eta:g} x step^-0.55; held-out accuracy on {base.eval_episodes} test-split "
            "questions after every epoch; a run stops once that evaluation is perfect. Curves: "
            "`neural_programmer_noise.png`, data: `neural_programmer_noise.csv`.",
            "",
            "| seed | gradient noise | final held-out accuracy | best | epochs |",
            "|---:|---|---:|---:|---:|",
        ]
        for run in runs:
            accs = [a for _, _, a in run["curve"]]
            text.append(f"| {run['seed']} | {'yes' if run['noise'] else 'no'} | {100 * accs[-1]:.1f} | {100 * max(accs):.1f} | {len(accs)} |")
    write_markdown("neural_programmer.md", text, echo=True)


if __name__ == "__main__":
    main()
