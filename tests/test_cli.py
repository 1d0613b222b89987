"""The npi-gym command: list, trace, play, and its error messages."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from npi_gym import cli
from tests.test_scratchpad import PAPER_96_PLUS_125


def run(argv: list[str], stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    args = cli.build_parser().parse_args(argv)
    if args.verb == "play":
        code = cli.cmd_play(args, out, io.StringIO(stdin))
    else:
        code = {"list": cli.cmd_list, "trace": cli.cmd_trace}[args.verb](args, out)
    return code, out.getvalue()


def test_list_shows_every_id_with_programs_and_keys() -> None:
    code, text = run(["list"])
    assert code == 0
    for env_id in ("NPI-Addition-v0", "NPI-Sort-Recursive-v0"):
        assert env_id in text
    assert "BUBBLESORT  calls BUBBLE, RESET, BUBBLESORT" in text
    assert "observation: args, digits, program" in text


def test_trace_prints_the_papers_figure() -> None:
    code, text = run(["trace", "NPI-Addition-v0", "--problem", "96,125"])
    assert code == 0 and text.startswith(PAPER_96_PLUS_125 + "\n")
    code, text = run(["trace", "NPI-Sort-v0", "--problem", "9,2,5", "--json"])
    data = json.loads(text)
    assert data["problem"] == [9, 2, 5] and data["reward"] == 1.0 and data["steps"][0]["call"] == "BUBBLE"


def test_trace_of_a_subprogram() -> None:
    code, text = run(["trace", "NPI-Sort-v0", "--length", "4", "--program", "RESET", "--seed", "0"])
    assert text.splitlines()[0] == "RESET" and "reward 1.0" in text


def test_play_takes_calls_by_name() -> None:
    session = "expert\nADD1\nACT WRITE OUT 9\nnonsense\nACT PTR OUT RIGHT\nRETURN\nLSHIFT\nquit\n"
    code, text = run(["play", "NPI-Addition-v0", "--problem", "4,5"], session)
    assert code == 0
    assert "expert: ADD1" in text
    assert "[9]" in text
    assert "unknown call 'nonsense'" in text
    assert "invalid call (nothing changed): pointer OUT is already at the right end" in text
    assert text.count("stack: ADD > LSHIFT") == 1


def test_bad_problem_is_a_clean_error() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "npi_gym.cli", "trace", "NPI-Addition-v0", "--problem", "4,x"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "base-10 digits" in out.stderr


@pytest.mark.parametrize("env_id", ["NPI-Addition-v0", "NPI-Sort-v0"])
def test_expert_table_reports_full_success(env_id: str) -> None:
    table = cli.expert_table([env_id], episodes=3)
    assert f"| {env_id} | 3 | 100% |" in table
