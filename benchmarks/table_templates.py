"""Distinct question templates per NPI-Table setting, against the Neural Programmer paper's table.

A template is a question with its numbers replaced by N (column letters, keywords and words word:k
kept). Counts: every template a setting's test tables allow (enumerated exactly), the distinct
templates in a sampled test set, and the share of those also in a sampled training set of the
paper's size (50,000 questions). Questions are drawn exactly as npi_gym.envs.table.dataset draws them,
without building the tables. Writes benchmarks/results/table_templates.md (about 3 minutes).

    python benchmarks/table_templates.py [--train 50000] [--test 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import re

import numpy as np

from common import command_line, write_markdown
from npi_gym.envs import table as T


def sampled_templates(setting: str, split: str, n: int, seed: int) -> set[str]:
    """The distinct templates among ``n`` questions drawn as the dataset draws them."""
    rng = np.random.default_rng(seed)
    found = set()
    for _ in range(n):
        kinds = T.sample_layout(rng, setting, split)
        _, _, tokens = T.sample_question(rng, setting, kinds, split)
        found.add(T.template_of(tokens))
    return found


def table_rows(train: int, test: int, seed: int) -> list[tuple]:
    """Per setting: (setting, paper count, enumerated, sampled test, seen % ours, seen % paper, words as W)."""
    rows = []
    for setting in T.SETTINGS:
        every = T.all_templates(setting)
        abstract = {re.sub(r"word:\d", "W", t) for t in every}
        test_set = sampled_templates(setting, "test", test, seed)
        train_set = sampled_templates(setting, "train", train, seed + 1)
        seen = 100.0 * len(test_set & train_set) / len(test_set)
        paper, paper_seen = T.PAPER[setting].test_templates, T.PAPER[setting].seen_in_training
        rows.append((setting, paper, len(every), len(test_set), seen, paper_seen, len(abstract)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=50_000, help="training questions sampled")
    parser.add_argument("--test", type=int, default=100_000, help="test questions sampled")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = table_rows(args.train, args.test, args.seed)
    lines = [
        "# NPI-Table: distinct question templates per setting",
        "",
        "A template is a question with its numbers replaced by N; column letters, keywords (or their",
        "synonyms) and words word:k are part of it. *Enumerated*: every template the setting's test tables",
        "allow, counted exactly. *Sampled*: distinct templates among "
        f"{args.test:,} test questions; *seen in training*: the share of those among {args.train:,} sampled",
        "training questions (the paper's training set size). Text settings place their text columns at",
        "random, so a template's letters vary with the layout; *words as W* counts text templates with",
        "the word abstracted.",
        "",
        "Reading: the paper's 23, 307, 1,231 and 1,368 are exactly the enumerated counts of the paper's",
        "templates. Its larger figures (10 columns, word variability on 5 columns) lie below the enumerated",
        "counts and near the distinct templates of a sampled test set of about 100,000 questions, which",
        "is how they read best. The paper does not spell out its text-match templates; ours allow one",
        "text-match condition wherever a comparison stands (comparison and logic categories), which gives",
        "fewer templates than the paper reports for text match. Our seen-in-training shares are lower",
        "than the paper's for 5 and 10 columns (with or without word variability): with the column count",
        "uniform in 1..max, training tables wide enough for the last columns are rare; the paper's training",
        "draw seems to have had more of them.",
        "",
        f"Command: `{command_line(__file__, args)}`",
        "",
        "| setting | paper: test templates | ours: enumerated | ours: sampled test set "
        "| seen in training: ours | seen in training: paper | enumerated, words as W |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for setting, paper, every, sampled, seen, paper_seen, abstract in rows:
        words = f"{abstract:,}" if T.SETTINGS[setting].text_columns else ""
        lines.append(
            f"| {T.PAPER[setting].label} | {paper:,} | {every:,} | {sampled:,} "
            f"| {seen:.2f}% | {paper_seen:.2f}% | {words} |"
        )
    write_markdown("table_templates.md", lines, echo=True)


if __name__ == "__main__":
    main()
