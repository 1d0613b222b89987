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


def npi_gym(*argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    """``npi-gym ARGV`` in a fresh interpreter; its stdout ends with whether torch got imported."""
    code = (
        "import sys; from agents.cli import main\n"
        "try:\n    status = main(sys.argv[1:])\nexcept SystemExit as e:\n    status = e.code\n"
        "print('torch imported:', 'torch' in sys.modules); sys.exit(status)"
    )
    return subprocess.run([sys.executable, "-c", code, *argv], input=stdin, capture_output=True, text=True)


def test_help_shows_one_tree_with_every_verb_and_agent() -> None:
    out = npi_gym("--help")
    assert out.returncode == 0
    for verb in ("list", "trace", "play", "demo", "train", "eval"):
        assert f"\n    {verb} " in out.stdout
    assert "npi-gym train npi " in out.stdout and "npi-gym train neural-programmer " in out.stdout
    train = npi_gym("train", "--help").stdout
    assert "npi " in train and "neural-programmer" in train


@pytest.mark.parametrize("argv,stdin", [
    (["--help"], ""),
    (["list"], ""),
    (["trace", "NPI-Sort-v0", "--problem", "3,1"], ""),
    (["play", "NPI-Addition-v0", "--problem", "4,5"], "ADD1\nquit\n"),
    (["train", "npi", "--help"], ""),
])
def test_env_verbs_and_help_do_not_import_torch(argv: list[str], stdin: str) -> None:
    out = npi_gym(*argv, stdin=stdin)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("torch imported: False")


@pytest.mark.parametrize("argv,message", [
    (["trace", "NPI-Table-1Col-v0"], "npi-gym trace: error: NPI-Table-1Col-v0 is not a program-call env"),
    (["trace", "NPI-Addition-v0", "--problem", "4,x"], "npi-gym trace: error:"),
    (["eval", "missing.pt"], "npi-gym eval: error: no checkpoint at missing.pt"),
    (["train", "npi", "--updates", "many"], "npi-gym train npi: error: argument --updates: invalid int value: 'many'"),
    (["frobnicate"], "npi-gym: error: argument VERB: invalid choice: 'frobnicate'"),
])
def test_errors_go_to_stderr_with_status_2(argv: list[str], message: str) -> None:
    out = npi_gym(*argv)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert "error" not in out.stdout
