"""The NPI paper's comparisons: seq2seq LSTMs beside the NPI on sorting and addition, and sample complexity.

Each seq2seq run of the config is trained on the NPI's training problems (the same env, seed, lengths
and count; ``npi-gym train seq2seq`` with the run's fields), continued if its checkpoint holds the same
config. The NPI beside it is the shipped checkpoint trained on those problems. Both are scored on the
same fresh problems per length (agents.evaluate's seeds): the NPI through ``env.step``, the seq2seq
model through its scoring path (its predicted output against the output the env's expert leaves);
``agreement`` plays the seq2seq agent through ``env.step`` too and counts the episodes where the two
verdicts agree. ``sample_complexity`` trains NPI and seq2seq on the same 1 ... 1,024 length-20 arrays.

    python benchmarks/seq2seq.py [train] [generalization] [agreement] [sample_complexity] [--config NAME] [--runs NAME ...]

Runs and lengths: benchmarks/configs/seq2seq.toml (``--config seq2seq_reduced`` for the reduced one).
Writes benchmarks/results/seq2seq.md, seq2seq.csv, seq2seq_agreement.csv, seq2seq_sample_complexity.csv
and seq2seq.png, seq2seq_sample_complexity.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import os
import shlex
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from agents.base import evaluate, run_episodes
from agents.baselines.seq2seq_agent import Seq2SeqAgent
from agents.baselines.seq2seq_config import KIND, Seq2SeqConfig
from agents.baselines.seq2seq_train import score, train
from agents.common.flags import ENV_FLAG, changed_fields, config_flags
from agents.common.seeds import evaluation_seed
from agents.npi import NPIAgent, NPIConfig, load_checkpoint
from agents.npi import train as train_npi
from agents.npi.shipped import pretrained_path
from common import RESULTS, RUNS, chosen, load_config, md_row, pyplot, read_csv, save_figure, write_csv, write_markdown
from npi_generalization import PAPER_SORT_NPI, PAPER_SORT_SEQ2SEQ
from npi_sample_complexity import PAPER_NPI, PAPER_SEQ2SEQ

STUDIES = ("train", "generalization", "agreement", "sample_complexity")
FOLDER = RUNS / "benchmarks" / "seq2seq"
GENERALIZATION = ["study", "model", "env", "length", "episodes", "solved", "accuracy", "seconds", "load_average"]
TRAINING = ["run", "env", "layout", "training_problems", "updates", "train_seconds", "validation"]
SAMPLES = ["model", "training_problems", "seed", "updates", "train_seconds", "episodes", "solved", "accuracy"]
PAPER_ADDITION = "NPI 100% to 3,000 digits; aligned seq2seq ~97% to about 1,000 digits, 0 past 2,000; stacked seq2seq barely passes 5 digits"


def seq2seq_run(name: str, cfg: Seq2SeqConfig) -> tuple[Path, dict[str, Any]]:
    """Train (or continue, or reuse) the run ``name`` of config ``cfg``; its checkpoint and summary."""
    path = FOLDER / f"{name}.pt"
    same = path.exists() and _same(KIND.header(path)["config"], dataclasses.asdict(cfg), Seq2SeqConfig.RESUMABLE)
    words = ["train", "seq2seq", *config_flags(changed_fields(cfg), rename=ENV_FLAG), "--out", str(path), *(["--resume"] if same else [])]
    print("npi-gym " + shlex.join(words), flush=True)
    summary = train(cfg, path, resume=same, progress=False)
    print(f"  {name}: {summary['updates']} updates in {summary['seconds']:.0f} s, held-out {100 * summary['validation']:.1f}%", flush=True)
    return path, summary


def _same(saved: dict[str, Any], wanted: dict[str, Any], resumable: frozenset[str]) -> bool:
    return all(saved.get(k) == v for k, v in wanted.items() if k not in resumable)


def runs(config: dict[str, Any]) -> dict[str, Seq2SeqConfig]:
    return {name: Seq2SeqConfig(**fields) for name, fields in config["train"].items()}


def train_all(config: dict[str, Any], names: list[str]) -> None:
    """Train the runs ``names``; the training table keeps the other runs' rows."""
    rows = {r["run"]: r for r in read_csv(RESULTS / "seq2seq_training.csv")}
    for name, cfg in runs(config).items():
        if name in names:
            _, s = seq2seq_run(name, cfg)
            values = [name, cfg.env_id, cfg.layout, s["problems"], s["updates"], f"{s['seconds']:.1f}", f"{s['validation']:.4f}"]
            rows[name] = dict(zip(TRAINING, values))
    write_csv("seq2seq_training.csv", TRAINING, [rows[n] for n in runs(config) if n in rows])


def problems(length: int, episodes: int) -> list[tuple[int, dict[str, Any]]]:
    """The problems ``agents.evaluate`` plays at ``length`` (seed 0)."""
    return [(evaluation_seed(i, 0, length), {"length": length}) for i in range(episodes)]


def generalization(config: dict[str, Any], names: list[str]) -> None:
    """Every generalization study of the runs ``names``; the table keeps the other studies' rows."""
    studies = {study: spec for study, spec in config["generalization"].items() if spec["run"] in names}
    rows = [list(r.values()) for r in read_csv(RESULTS / "seq2seq.csv") if r["study"] in config["generalization"] and r["study"] not in studies]
    for study, spec in studies.items():
        cfg = runs(config)[spec["run"]]
        agent = Seq2SeqAgent.load(FOLDER / f"{spec['run']}.pt")
        env = gym.make(cfg.env_id, **cfg.env_kwargs)
        for length, episodes in sorted((int(n), e) for n, e in spec["seq2seq"].items()):
            began = time.perf_counter()
            right = score(agent.model, agent.task, env, problems(length, episodes), cfg.aligned)
            rows.append(_row(study, "seq2seq", cfg.env_id, length, episodes, sum(right), began))
        env.close()
        if "npi" in spec:
            npi = NPIAgent.load(pretrained_path(cfg.env_id))
            for length, episodes in sorted((int(n), e) for n, e in spec["npi"].items()):
                began = time.perf_counter()
                (r,) = evaluate(npi, cfg.env_id, [length], episodes)
                rows.append(_row(study, "NPI", cfg.env_id, length, episodes, r.solved, began))
    rows.sort(key=lambda r: list(config["generalization"]).index(r[0]))
    write_csv("seq2seq.csv", GENERALIZATION, rows)


def _row(study: str, model: str, env_id: str, length: int, episodes: int, solved: int, began: float) -> list[object]:
    seconds = time.perf_counter() - began
    print(f"  {study} {model} length {length}: {solved}/{episodes} in {seconds:.1f} s", flush=True)
    return [study, model, env_id, length, episodes, solved, f"{solved / episodes:.4f}", f"{seconds:.1f}", f"{os.getloadavg()[0]:.1f}"]


def agreement(config: dict[str, Any], names: list[str]) -> None:
    """The seq2seq agents of the runs ``names`` through env.step against the scoring path, episode by episode;
    the table keeps the other runs' rows."""
    spec = config["agreement"]
    rows = [list(r.values()) for r in read_csv(RESULTS / "seq2seq_agreement.csv") if r["run"] in spec["lengths"] and r["run"] not in names]
    for name, lengths in spec["lengths"].items():
        if name not in names:
            continue
        cfg = runs(config)[name]
        agent = Seq2SeqAgent.load(FOLDER / f"{name}.pt")
        env = gym.make(cfg.env_id, **cfg.env_kwargs)
        for length in lengths:
            chosen_problems = problems(length, spec["episodes"])
            played = [e.solved for e in run_episodes(agent, cfg.env_id, chosen_problems, **cfg.env_kwargs)]
            scored = score(agent.model, agent.task, env, chosen_problems, cfg.aligned)
            same = sum(a == b for a, b in zip(played, scored))
            print(f"  {name} length {length}: env {sum(played)}, scoring path {sum(scored)}, agree on {same}/{len(played)}", flush=True)
            rows.append([name, length, len(played), sum(played), sum(scored), same])
        env.close()
    rows.sort(key=lambda r: list(spec["lengths"]).index(r[0]))
    write_csv("seq2seq_agreement.csv", ["run", "length", "episodes", "solved_through_env", "solved_scoring_path", "agree"], rows)


def sample_complexity(config: dict[str, Any], counts: list[int] | None = None, seeds: list[int] | None = None) -> None:
    """NPI and seq2seq trained on the same ``count`` length-n arrays, scored on the same fresh arrays; only the
    ``counts`` and ``seeds`` given (default: the config's), the table keeping the other points' rows."""
    spec = config["sample_complexity"]
    npi_fields = {**load_config("npi_sample_complexity")["sort"]["config"], **spec.get("npi", {})}
    test = problems(spec["length"], spec["episodes"])
    points = [(c, s) for c in spec["counts"] for s in spec["seeds"] if c in (counts or spec["counts"]) and s in (seeds or spec["seeds"])]
    for count, seed in points:
        npi_cfg = NPIConfig(**{**npi_fields, "problems_per_length": count, "seed": seed})
        path = FOLDER / f"sample-npi-{count}-{seed}.pt"
        same = path.exists() and _same(load_checkpoint(path)["config"], dataclasses.asdict(npi_cfg), NPIConfig.RESUMABLE)
        s = train_npi(npi_cfg, path, resume=same, progress=False)
        played = run_episodes(NPIAgent.load(path), npi_cfg.env_id, test)
        rows = [_sample_row("NPI", count, seed, s, [e.solved for e in played])]
        cfg = Seq2SeqConfig(**{**spec["seq2seq"], "problems_per_length": count, "seed": seed})
        path, s = seq2seq_run(f"sample-seq2seq-{count}-{seed}", cfg)
        agent = Seq2SeqAgent.load(path)
        env = gym.make(cfg.env_id)
        rows.append(_sample_row("seq2seq", count, seed, s, score(agent.model, agent.task, env, test, False)))
        env.close()
        _merge_sample_rows(rows, spec)


def _merge_sample_rows(rows: list[list[object]], spec: dict[str, Any]) -> None:
    """Write ``rows`` into the sample-complexity table in place of the same (model, count, seed), under a lock:
    several processes may each run some of the points."""
    path = RESULTS / "seq2seq_sample_complexity.csv"
    FOLDER.mkdir(parents=True, exist_ok=True)
    with open(FOLDER / "sample_complexity.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        new = {(str(r[0]), str(r[1]), str(r[2])): r for r in rows}
        kept = [list(r.values()) for r in read_csv(path) if (r["model"], r["training_problems"], r["seed"]) not in new]
        merged = kept + list(new.values())
        merged.sort(key=lambda r: (int(r[1]), int(r[2]), str(r[0])))
        write_csv(path.name, SAMPLES, [r for r in merged if int(r[1]) in spec["counts"] and int(r[2]) in spec["seeds"]])


def _sample_row(model: str, count: int, seed: int, summary: dict[str, Any], solved: list[bool]) -> list[object]:
    trained = f"{summary['updates']} updates, {summary['seconds']:.0f} s"
    print(f"  {model} on {count} arrays, seed {seed}: {sum(solved)}/{len(solved)} ({trained})", flush=True)
    return [model, count, seed, summary["updates"], f"{summary['seconds']:.1f}", len(solved), sum(solved), f"{np.mean(solved):.4f}"]


# ------------------------------------------------------------------------------------------- report
def report(config_name: str) -> None:
    general = read_csv(RESULTS / "seq2seq.csv")
    training = read_csv(RESULTS / "seq2seq_training.csv")
    agree = read_csv(RESULTS / "seq2seq_agreement.csv")
    samples = read_csv(RESULTS / "seq2seq_sample_complexity.csv")
    lines = [
        "# seq2seq LSTM baselines beside the NPI (Reed & de Freitas 2016)",
        "",
        f"Config: `benchmarks/configs/{config_name}.toml`; command: `python benchmarks/seq2seq.py --config {config_name}`",
        "(its studies may run as separate commands; the report is made from every results CSV present).",
        "2 × 256 LSTM encoder–decoder (aligned addition: one 2 × 256 LSTM over the columns), trained on the NPI's",
        "training problems; 2 shared CPU cores, 1 torch thread. The NPI is the shipped checkpoint trained on the same",
        "problems; both scored on the same fresh problems per length (the seq2seq model by its scoring path).",
        "",
        "## Training",
        "",
        "| run | env | layout | training problems | updates | wall-clock (s) | held-out at the training lengths |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    lines += [md_row(r["run"], r["env"], r["layout"], r["training_problems"], r["updates"], f"{float(r['train_seconds']):.0f}",
                     f"{100 * float(r['validation']):.0f}%") for r in training]
    for study in dict.fromkeys(r["study"] for r in general):
        mine = [r for r in general if r["study"] == study]
        by = {(r["model"], int(r["length"])): r for r in mine}
        lengths = sorted({int(r["length"]) for r in mine})
        paper = study == "sort"
        lines += ["", f"## {study}", "", "| length | seq2seq | NPI |" + (" paper NPI | paper seq2seq |" if paper else ""),
                  "|---:|---:|---:|" + ("---:|---:|" if paper else "")]
        for n in lengths:
            cells = [_cell(by.get(("seq2seq", n))), _cell(by.get(("NPI", n)))]
            if paper:
                cells += [f"{PAPER_SORT_NPI[n]}%" if n in PAPER_SORT_NPI else "", f"{PAPER_SORT_SEQ2SEQ[n]}%" if n in PAPER_SORT_SEQ2SEQ else ""]
            lines.append(md_row(n, *cells))
        if not paper:
            lines += ["", f"Paper: {PAPER_ADDITION}."]
    if agree:
        lines += ["", "## Scoring path against env.step", "",
                  "| run | length | episodes | solved through env.step | by the scoring path | agree |", "|---|---:|---:|---:|---:|---:|"]
        lines += [md_row(r["run"], r["length"], r["episodes"], r["solved_through_env"], r["solved_scoring_path"], r["agree"]) for r in agree]
    if samples:
        lines += ["", "## Sample complexity: sorting length-20 arrays", "",
                  "| training arrays | NPI (mean of seeds) | seq2seq (mean of seeds) | seeds | paper NPI | paper seq2seq |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for count, models in _sample_means(samples).items():
            lines.append(md_row(count, *(f"{100 * models[m][0]:.0f}%" if m in models else "" for m in ("NPI", "seq2seq")),
                                max(len(v[1]) for v in models.values()),
                                f"{PAPER_NPI[count]}%" if count in PAPER_NPI else "", f"{PAPER_SEQ2SEQ[count]}%" if count in PAPER_SEQ2SEQ else ""))
        seconds = {m: sum(float(r["train_seconds"]) for r in samples if r["model"] == m) for m in ("NPI", "seq2seq")}
        lines += ["", f"Training wall-clock in all: NPI {seconds['NPI']:.0f} s, seq2seq {seconds['seq2seq']:.0f} s."]
    write_markdown("seq2seq.md", lines)
    plot(general, samples)


def _cell(row: dict[str, str] | None) -> str:
    return "" if row is None else f"{100 * float(row['accuracy']):.0f}% ({row['episodes']})"


def _sample_means(samples: list[dict[str, str]]) -> dict[int, dict[str, tuple[float, list[float]]]]:
    out: dict[int, dict[str, list[float]]] = {}
    for r in samples:
        out.setdefault(int(r["training_problems"]), {}).setdefault(r["model"], []).append(float(r["accuracy"]))
    return {k: {m: (float(np.mean(v)), v) for m, v in models.items()} for k, models in sorted(out.items())}


def plot(general: list[dict[str, str]], samples: list[dict[str, str]]) -> None:
    plt = pyplot()
    fig, (srt, add) = plt.subplots(1, 2, figsize=(11, 4))
    for study in dict.fromkeys(r["study"] for r in general):
        ax = srt if study == "sort" else add
        for model in ("seq2seq", "NPI"):
            mine = [r for r in general if r["study"] == study and r["model"] == model]
            if mine:
                label = f"ours: {model}" + ("" if study == "sort" else f" ({study})" if model == "seq2seq" else "")
                ax.plot([int(r["length"]) for r in mine], [100 * float(r["accuracy"]) for r in mine], "o-", label=label)
    srt.plot(list(PAPER_SORT_NPI), list(PAPER_SORT_NPI.values()), "s--", color="gray", label="paper NPI")
    srt.plot(list(PAPER_SORT_SEQ2SEQ), list(PAPER_SORT_SEQ2SEQ.values()), "x:", color="black", label="paper seq2seq")
    add.set_xscale("log")
    for ax, title, unit in ((srt, "Bubble sort", "elements"), (add, "Addition", "digits")):
        ax.axvspan(1, 20, color="green", alpha=0.08, label="training lengths")
        ax.set(title=title, xlabel=f"length ({unit})", ylabel="per-sequence accuracy (%)", ylim=(-5, 105))
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, "seq2seq.png")
    if samples:
        fig, ax = plt.subplots(figsize=(6, 4))
        for model, marker in (("NPI", "o-"), ("seq2seq", "^-")):
            means = {k: v[model] for k, v in _sample_means(samples).items() if model in v}
            ax.errorbar(list(means), [100 * m for m, _ in means.values()], yerr=[100 * float(np.std(s)) for _, s in means.values()],
                        fmt=marker, capsize=3, label=f"ours: {model}")
        ax.plot(list(PAPER_NPI), list(PAPER_NPI.values()), "s--", color="gray", label="paper NPI")
        ax.plot(list(PAPER_SEQ2SEQ), list(PAPER_SEQ2SEQ.values()), "x:", color="black", label="paper seq2seq")
        ax.set_xscale("log", base=2)
        ax.set(title="Sorting length-20 arrays (mean, std over seeds)", xlabel="training arrays", ylabel="per-sequence accuracy (%)",
               ylim=(-5, 105))
        ax.legend(fontsize=8)
        fig.tight_layout()
        save_figure(fig, "seq2seq_sample_complexity.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("studies", nargs="*", metavar="STUDY", help=f"studies to run (default: all of {list(STUDIES)})")
    parser.add_argument("--config", default="seq2seq", help="run config in benchmarks/configs/ (default: %(default)s)")
    parser.add_argument("--runs", nargs="+", help="train and score only these runs of the config; the tables keep the others' rows (default: all)")
    parser.add_argument("--counts", nargs="+", type=int, help="sample_complexity: only these training-set sizes; the table keeps the others' rows")
    parser.add_argument("--seeds", nargs="+", type=int, help="sample_complexity: only these seeds; the table keeps the others' rows")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the Markdown and plots from the CSVs")
    args = parser.parse_args()
    config = load_config(args.config)
    torch.set_num_threads(1)
    start = time.perf_counter()
    if not args.report_only:
        names = chosen(parser, args.runs or [], list(config["train"]))
        for study in chosen(parser, args.studies, list(STUDIES)):
            if study == "sample_complexity":
                sample_complexity(config, args.counts, args.seeds)
            else:
                {"train": train_all, "generalization": generalization, "agreement": agreement}[study](config, names)
    report(args.config)
    print(f"total wall-clock: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
