"""The Neural Programmer paper's comparison: seq2seq LSTM and LSTM with attention on table questions.

Each run of the config (``npi-gym train table-lstm`` with its fields) is trained, or continued if its
checkpoint holds the same config, then answers fresh questions: on the paper's simplified task (one
column of 4-7 integers, scalar answers) with values in the training range and in the test range, and
on our settings' scalar questions (train split, then test split). Its answers are checked with the
env's ``answers_match``. The shipped Neural Programmer of the setting plays the same questions
through ``env.step`` beside it.

    python benchmarks/table_baselines.py [RUN ...] [--config NAME] [--questions N]

Runs: benchmarks/configs/table_baselines.toml (``--config table_baselines_reduced`` for the reduced one).
Writes benchmarks/results/table_baselines.md, .csv and .png.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.base import run_episodes
from agents.baselines.table_config import KIND, TableLSTMConfig
from agents.baselines.table_train import questions, score, train
from agents.common.flags import ENV_FLAG, changed_fields, config_flags
from agents.neural_programmer.agent import NeuralProgrammerAgent
from agents.neural_programmer.shipped import pretrained_path
from common import RESULTS, RUNS, chosen, load_config, md_row, pyplot, read_csv, save_figure, write_csv, write_markdown

FOLDER = RUNS / "benchmarks" / "table_baselines"
PURPOSES = ("test-in-range", "test")
FIELDS = ["run", "env", "task", "heads", "updates", "train_seconds", "purpose", "questions", "lstm_right", "lstm_accuracy",
          "np_right", "np_accuracy", "load_average"]
PAPER = {"test-in-range": 80, "test": 30}
"""the paper's best LSTM / attention accuracy (%) on its simplified task: values in [-10, 10], then tested on [-50, 50]"""


def run(name: str, fields: dict[str, Any], count: int) -> list[dict[str, object]]:
    """Train (or continue, or reuse) one run; its and the Neural Programmer's accuracy on the same questions."""
    fields = dict(fields)
    np_setting = fields.pop("np")
    cfg = TableLSTMConfig(**fields)
    path = FOLDER / f"{name}.pt"
    saved = KIND.header(path)["config"] if path.exists() else None
    same = saved is not None and all(saved.get(k) == v for k, v in dataclasses.asdict(cfg).items() if k not in cfg.RESUMABLE)
    words = ["train", "table-lstm", *config_flags(changed_fields(cfg), rename=ENV_FLAG), "--out", str(path), *(["--resume"] if same else [])]
    print("npi-gym " + shlex.join(words), flush=True)
    summary = train(cfg, path, resume=same, progress=False)
    print(f"  {name}: {summary['updates']} updates in {summary['seconds']:.0f} s", flush=True)
    from agents.baselines.table_train import load

    model, _ = load(path)
    agent = NeuralProgrammerAgent.load(pretrained_path(np_setting))
    rows = []
    for purpose in PURPOSES:
        env = gym.make(cfg.env_id, **({"split": "test"} if cfg.task == "env" and purpose == "test" else {}))
        chosen_questions = questions(cfg, count, purpose, env)
        right = sum(score(model, env, chosen_questions, cfg))
        env.close()
        played = run_episodes(agent, agent.env_id, chosen_questions)
        np_right = sum(e.solved for e in played)
        print(f"  {purpose}: LSTM {right}/{count}, Neural Programmer {np_right}/{count}", flush=True)
        rows.append(dict(zip(FIELDS, [name, cfg.env_id, cfg.task, cfg.heads, summary["updates"], f"{summary['seconds']:.1f}", purpose, count,
                                      right, f"{right / count:.4f}", np_right, f"{np_right / count:.4f}", f"{os.getloadavg()[0]:.1f}"])))
    return rows


def report(config_name: str) -> None:
    rows = read_csv(RESULTS / "table_baselines.csv")
    lines = [
        "# LSTM baselines on table questions (Neelakantan, Le & Sutskever 2016)",
        "",
        f"Config: `benchmarks/configs/{config_name}.toml`; command: `python benchmarks/table_baselines.py --config {config_name}`.",
        "3 × 256 LSTM encoder–decoder over the question and the flattened table (a number enters as a token plus its",
        "value), the answer written as characters; with attention, every decoder state attends over the encoder's",
        "states with 1, 5 or 10 heads. Answers are checked with the env's `answers_match` (within 0.05). The shipped",
        "Neural Programmer of the setting answers the same questions through `env.step`. 2 shared CPU cores, 1 torch thread.",
        "",
        "Task paper: one column of 4-7 integers, questions with a scalar answer; test-in-range: values in [-10, 10]",
        "(as in training), test: values in [-50, 50]. Task env: the setting's own questions with a scalar answer;",
        "test-in-range: its train split (fresh questions), test: its test split (120 rows, values in [-200, 200]).",
        "",
        "| run | task | env | heads | updates | training (s) | questions | LSTM, in range | LSTM, test "
        "| Neural Programmer, in range | Neural Programmer, test | paper LSTM (best) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    by_run: dict[str, dict[str, dict[str, str]]] = {}
    for r in rows:
        by_run.setdefault(r["run"], {})[r["purpose"]] = r
    for name, purposes in by_run.items():
        first = next(iter(purposes.values()))
        cells = [f"{100 * float(purposes[p][k]):.1f}%" if p in purposes else "" for k in ("lstm_accuracy", "np_accuracy") for p in PURPOSES]
        paper = f"{PAPER['test-in-range']}% / {PAPER['test']}%" if first["task"] == "paper" else ""
        lines.append(md_row(name, first["task"], first["env"], first["heads"], first["updates"], f"{float(first['train_seconds']):.0f}",
                            first["questions"], *cells, paper))
    lines += ["", "Paper: the best LSTM or attention model reaches about 80% on its simplified task and about 30% when the",
              "test values are in [-50, 50]; the Neural Programmer 100% there."]
    write_markdown("table_baselines.md", lines)
    plot(by_run)


def plot(by_run: dict[str, dict[str, dict[str, str]]]) -> None:
    fig, ax = pyplot().subplots(figsize=(max(6, 1.1 * len(by_run)), 4))
    names = list(by_run)
    x = np.arange(len(names))
    for k, (purpose, key, label) in enumerate(
        [("test-in-range", "lstm_accuracy", "LSTM, in range"), ("test", "lstm_accuracy", "LSTM, test"),
         ("test-in-range", "np_accuracy", "Neural Programmer, in range"), ("test", "np_accuracy", "Neural Programmer, test")]
    ):
        ax.bar(x + (k - 1.5) * 0.2, [100 * float(by_run[n][purpose][key]) if purpose in by_run[n] else 0 for n in names], 0.2, label=label)
    for purpose, style in (("test-in-range", "--"), ("test", ":")):
        ax.axhline(PAPER[purpose], color="black", linestyle=style, linewidth=0.8, label=f"paper LSTM best, {purpose}")
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=7)
    ax.set(ylabel="accuracy (%)", ylim=(0, 105), title="Table questions: LSTM baselines and the Neural Programmer")
    ax.legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, "table_baselines.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", metavar="RUN", help="runs of the config to train and score (default: all)")
    parser.add_argument("--config", default="table_baselines", help="run config in benchmarks/configs/ (default: %(default)s)")
    parser.add_argument("--questions", type=int, help="test questions per run and purpose (default: the config's)")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the Markdown and plot from the CSV")
    args = parser.parse_args()
    config = load_config(args.config)
    torch.set_num_threads(1)
    start = time.perf_counter()
    if not args.report_only:
        order = list(config["train"])
        for name in chosen(parser, args.runs, order):  # the CSV is rewritten after each run, other runs' rows kept
            rows = [r for r in read_csv(RESULTS / "table_baselines.csv") if r["run"] != name]
            rows += run(name, config["train"][name], args.questions or config["questions"])
            write_csv("table_baselines.csv", FIELDS, sorted(rows, key=lambda r: order.index(r["run"]) if r["run"] in order else len(order)))
    report(args.config)
    print(f"total wall-clock: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
