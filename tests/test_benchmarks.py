"""The benchmark scripts start from any working directory, and their shared module writes reports and reads run configs."""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(p for p in BENCHMARKS.glob("*.py") if p.name != "common.py")


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch):
    """The benchmarks' shared module, imported as the scripts import it."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import common

    return common


def _run(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_every_script_answers_help_from_another_directory(tmp_path: Path) -> None:
    assert len(SCRIPTS) >= 10
    with ThreadPoolExecutor(len(SCRIPTS)) as pool:
        done = list(pool.map(lambda script: _run(script, "--help", cwd=tmp_path), SCRIPTS))
    for script, result in zip(SCRIPTS, done):
        assert result.returncode == 0, f"{script.name} --help: {result.stderr}"
        assert "usage:" in result.stdout, script.name
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_env_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(BENCHMARKS / "train_pretrained.py", "NPI-Nothing-v0", cwd=tmp_path)
    assert result.returncode == 2
    assert "NPI-Nothing-v0" in result.stderr and "NPI-Addition-v0" in result.stderr


def test_reports_are_written_under_results(bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "results"
    monkeypatch.setattr(bench, "RESULTS", results)
    md = bench.write_markdown("report.md", ["# title", "", bench.md_row("a", 1, "")])
    assert md == results / "report.md"
    assert md.read_text() == "# title\n\n| a | 1 |  |\n"
    path = bench.write_csv("table.csv", ["env", "rate"], [["NPI-Sort-v0", "1.5"], {"rate": 2, "env": "CartPole-v1"}])
    with path.open() as f:
        assert list(csv.reader(f)) == [["env", "rate"], ["NPI-Sort-v0", "1.5"], ["CartPole-v1", "2"]]
    assert bench.read_csv(path) == [{"env": "NPI-Sort-v0", "rate": "1.5"}, {"env": "CartPole-v1", "rate": "2"}]
    assert bench.read_csv(results / "missing.csv") == []


def test_a_figure_is_saved_and_closed(bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    plt = bench.pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = bench.save_figure(fig, "curve.png", dpi=50)
    assert path.read_bytes().startswith(b"\x89PNG")
    assert fig.number not in plt.get_fignums()


def test_command_line_names_every_option_set(bench, monkeypatch: pytest.MonkeyPatch) -> None:
    args = argparse.Namespace(seconds=2.0, ids=None, skip_car=True, skip_tables=False, seeds=[0, 1])
    assert bench.command_line("/x/env_throughput.py", args) == (
        "python benchmarks/env_throughput.py --seconds 2 --skip-car --seeds 0 1"
    )
    monkeypatch.setattr(sys, "argv", ["/anywhere/npi_car.py", "--episodes", "5"])
    assert bench.command_line("/x/npi_car.py") == "python benchmarks/npi_car.py --episodes 5"


def test_run_configs_build_agent_configs(bench) -> None:
    from agents.npi.config import NPIConfig
    from npi_gym import ENV_IDS

    shipped = bench.load_config("npi_pretrained")
    for env_id in shipped:
        assert env_id in ENV_IDS
        assert bench.pretrained_path(env_id).is_file()
        assert NPIConfig(env_id=env_id, **bench.npi_run(env_id)).env_id == env_id
    with pytest.raises(ValueError, match="NPI-Nothing-v0"):
        bench.npi_run("NPI-Nothing-v0")
    assert bench.npi_flags("NPI-Canonicalize-v0")[:2] == ["--env-kwargs", '{"image_size": 32}']
    for spec in bench.load_config("npi_sample_complexity").values():
        for run in spec["runs"]:
            assert NPIConfig(**{**spec["config"], **run}).env_id in ENV_IDS


def test_neural_programmer_runs_name_known_settings(bench) -> None:
    import neural_programmer
    from agents.neural_programmer.config import NPConfig

    runs = bench.load_config("neural_programmer")
    assert set(runs["setting"]) <= set(neural_programmer.PAPER)
    one = neural_programmer.setting_config(NPConfig(), "1col")
    assert (one.env_id, one.epochs, one.stop_at) == ("NPI-Table-1Col-v0", 15, 2.0)
    assert neural_programmer.setting_config(NPConfig(), "5col").epochs == runs["default"]["epochs"]


def test_new_task_runs_build_agent_configs_within_the_envs_limits(bench) -> None:
    import gymnasium as gym

    from agents.npi.config import NPIConfig

    for task, spec in bench.load_config("npi_new_tasks").items():
        for run in spec["runs"]:
            cfg = NPIConfig(**{k: v for k, v in run.items() if k != "data"})
            limit = gym.make(cfg.env_id).unwrapped.length_limit
            assert max([*spec["lengths"], *map(int, spec["structured"])]) <= limit, task


def test_sample_complexity_points_run_apart_merge_into_one_table(bench, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import seq2seq

    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    monkeypatch.setattr(seq2seq, "RESULTS", tmp_path)
    monkeypatch.setattr(seq2seq, "FOLDER", tmp_path / "runs")
    spec = {"counts": [1, 4], "seeds": [0, 1]}

    def row(model: str, count: int, seed: int, solved: int) -> list[object]:
        return [model, count, seed, 10, 1.0, 100, solved, solved / 100]

    seq2seq._merge_sample_rows([row("NPI", 4, 1, 7), row("seq2seq", 4, 1, 0)], spec)
    seq2seq._merge_sample_rows([row("NPI", 1, 0, 3), row("seq2seq", 1, 0, 0), row("NPI", 9, 0, 1)], spec)
    seq2seq._merge_sample_rows([row("NPI", 4, 1, 8)], spec)  # a point run again replaces its row
    with (tmp_path / "seq2seq_sample_complexity.csv").open() as f:
        table = [(r["model"], r["training_problems"], r["seed"], r["solved"]) for r in csv.DictReader(f)]
    assert table == [("NPI", "1", "0", "3"), ("seq2seq", "1", "0", "0"), ("NPI", "4", "1", "8"), ("seq2seq", "4", "1", "0")]
