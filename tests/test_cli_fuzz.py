"""Fuzzed ``npi-gym`` command lines: every verb answers with an exit status (argparse's 0 or 2 included), never a traceback.

Tokens are drawn from the command tree's own verbs and flags, env ids, files of every kind and junk values;
the trainers, evaluations and the demo's tables are replaced by no-ops so that a valid command returns at once.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("torch")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import agents.base  # noqa: E402
import agents.cli  # noqa: E402
import npi_gym  # noqa: E402
from npi_gym import cli as env_cli  # noqa: E402
from tests.test_bad_cli_inputs import FILES, TRAINERS  # noqa: E402


def _parsers(parser: argparse.ArgumentParser) -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    """Every (sub)command of the tree with the words that select it."""
    yield [], parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                for words, deeper in _parsers(sub):
                    yield [name, *words], deeper


COMMANDS = list(_parsers(agents.cli.build_parser()))
PREFIXES = [words for words, _ in COMMANDS]
FLAGS = sorted({s for _, p in COMMANDS for a in p._actions for s in a.option_strings})
WORDS = sorted({w for words in PREFIXES for w in words})
JUNK = ["0", "-1", "1", "2", "3", "abc", "nan", "inf", "-inf", "1e300", "0.5", "", " ", "5,10", "1,2,3", "2,", ",",
        "true", "no", "maybe", '{"max_length": 3}', '{"x": 1}', "[1]", "{", "null", "9,2,5", "96+125", "4,x",
        "ADD1", "BSTEP", "JUNK", "test", "train", "é", "--", "-"]
FILE_NAMES = [*FILES, "missing.pt", "folder", "plain.txt", "folder/new.pt", "plain.txt/new.pt"]
TARGETS = {"env": [*npi_gym.ENV_IDS, "NPI-Nope-v0"], "checkpoint": FILE_NAMES}
"""what each positional argument is drawn from"""
TOKENS = st.sampled_from(FLAGS + WORDS + JUNK + [t for ts in TARGETS.values() for t in ts])
VALUES = st.one_of(st.sampled_from(["1", "2", "3", "0.5", "true", "{}", "test", "2,3", *FILE_NAMES]), st.sampled_from(JUNK))
LEAVES = [
    (words, [a.dest for a in p._actions if not a.option_strings], sorted({s for a in p._actions for s in a.option_strings} - {"-h", "--help"}))
    for words, p in COMMANDS if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions)
]
PLAY_INPUT = "expert\ncalls\nADD1\nRETURN\nRETURN\nRETURN\nRETURN\nnonsense\nreset\nquit\n"
SUMMARY = dict.fromkeys(
    ("updates", "seconds", "frames", "steps", "validation", "epochs", "data_seconds", "accuracy", "timesteps", "model", "curve",
     "problems"), 0
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    for name, source in FILES.items():
        shutil.copy(source, folder / name)
    (folder / "folder").mkdir()
    (folder / "plain.txt").write_text("not a checkpoint\n")
    return folder


def npi_gym(argv: list[str], workdir: Path) -> Any:
    """``npi-gym ARGV`` in ``workdir`` with the long-running parts replaced; its exit status."""
    with pytest.MonkeyPatch.context() as mp:
        for trainer in TRAINERS:
            mp.setattr(importlib.import_module(trainer), "train", lambda *a, **k: SUMMARY)
        mp.setattr(agents.base, "evaluate", lambda *a, **k: [])
        mp.setattr(agents.cli, "demo_table", lambda: "")
        mp.setattr(env_cli, "expert_table", lambda *a, **k: "")
        mp.setattr(sys, "stdin", io.StringIO(PLAY_INPUT))
        mp.setattr(sys, "stdout", io.StringIO())
        mp.setattr(sys, "stderr", io.StringIO())
        here = os.getcwd()
        os.chdir(workdir)
        try:
            return agents.cli.main(argv)
        except SystemExit as stop:
            return stop.code
        finally:
            os.chdir(here)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A leaf command with a target, some of its own flags with values, and now and then a stray token."""
    words, positionals, flags = draw(st.sampled_from(LEAVES))
    targets = [draw(st.sampled_from(TARGETS[dest])) for dest in positionals]
    pairs = draw(st.lists(st.tuples(st.sampled_from(flags), VALUES), max_size=3)) if flags else []
    stray = draw(st.lists(TOKENS, max_size=1)) if draw(st.integers(0, 3)) == 0 else []
    return [*words, *targets, *(t for pair in pairs for t in pair), *stray]


ARGV = st.one_of(command_lines(), st.builds(lambda prefix, tokens: prefix + tokens, st.sampled_from(PREFIXES), st.lists(TOKENS, max_size=7)))


@settings(
    max_examples=400, deadline=None, database=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=ARGV)
def test_no_command_line_ends_in_a_traceback(argv: list[str], workdir: Path) -> None:
    before = sorted(p.name for p in workdir.rglob("*"))
    assert npi_gym(argv, workdir) in (0, 2)
    assert sorted(p.name for p in workdir.rglob("*")) == before
