"""Benchmark sweeps: the same tables serially and as Ray Tune trials, an interrupted sweep restored, and --ray without Ray."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
SERIAL = argparse.Namespace(ray=False, address=None, workers=None)


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The benchmarks' modules as the scripts import them, reports going to a temporary results folder."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import common
    import rl_baselines
    import sweep

    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    return argparse.Namespace(common=common, rl=rl_baselines, sweep=sweep)


def _python(*args: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


# runs a script as `python SCRIPT ARGS` would, with `import ray` failing
BLOCK_RAY = ("import os, runpy, sys; sys.modules['ray'] = None; sys.argv = sys.argv[1:]; "
             "sys.path.insert(0, os.path.dirname(sys.argv[0])); runpy.run_path(sys.argv[0], run_name='__main__')")


@pytest.mark.parametrize("script", ["rl_baselines.py", "npi_sample_complexity.py"])
def test_ray_asked_for_without_ray_is_a_usage_error_naming_the_install(script: str) -> None:
    result = _python("-c", BLOCK_RAY, str(BENCHMARKS / script), "--ray")
    assert result.returncode == 2, result.stderr
    assert "--ray needs Ray Tune" in result.stderr and "pip install 'npi-gym[ray]'" in result.stderr
    assert "leave out --ray" in result.stderr
    helped = _python("-c", BLOCK_RAY, str(BENCHMARKS / script), "--help")
    assert helped.returncode == 0 and "--ray" in helped.stdout, helped.stderr


def test_sweep_options_without_ray_are_refused(bench) -> None:
    parser = argparse.ArgumentParser()
    bench.sweep.add_options(parser)
    for words in (["--workers", "2"], ["--address", "10.0.0.1:6379"], ["--ray", "--workers", "0"]):
        with pytest.raises(SystemExit):
            bench.sweep.check_options(parser, parser.parse_args(words))


def test_trial_configs_are_data_and_name_their_experiment(bench, tmp_path: Path) -> None:
    configs = bench.rl.trials(["NPI-Sort-v0", "NPI-Table-1Col-v0"], ["ppo-mask", "a2c"], "rl_baselines_smoke", runs=tmp_path)
    assert [(c["env_id"], c["algorithm"]) for c in configs] == [
        ("NPI-Sort-v0", "ppo-mask"), ("NPI-Sort-v0", "a2c"), ("NPI-Table-1Col-v0", "ppo-mask"), ("NPI-Table-1Col-v0", "a2c")]
    assert configs[2]["lengths"] == [None] and all(c["out"].startswith(str(tmp_path)) for c in configs)
    path = bench.sweep.experiment_path(configs, "rl")
    assert path == bench.sweep.experiment_path([dict(c) for c in configs], "rl")
    assert path != bench.sweep.experiment_path(configs[:3], "rl")


def test_run_configs_inherit_their_base_and_budgets_default_to_the_yaml(bench) -> None:
    full = bench.rl.trials(["NPI-Sort-v0"], ["ppo-mask"], "rl_baselines")
    reduced = bench.rl.trials(["NPI-Sort-v0"], ["ppo-mask", "qrdqn"], "rl_baselines_reduced")
    base = bench.common.load_config("rl_baselines")
    assert {c["timesteps"] for c in full} == {None}  # the YAML's n_timesteps
    assert [c["seed"] for c in full] == base["seeds"] and full[0]["env_kwargs"] == base["envs"]["NPI-Sort-v0"]["env_kwargs"]
    assert {c["timesteps"] for c in reduced if c["algorithm"] == "ppo-mask"} == {30_000}
    assert reduced[0]["env_kwargs"] == full[0]["env_kwargs"] and reduced[0]["lengths"] != full[0]["lengths"]
    assert reduced[0]["episodes"] == [20] * len(reduced[0]["lengths"])
    (longest,) = [c for c in bench.rl.trials(["NPI-Sort-v0"], ["ppo-mask"], "rl_curriculum") if c["seed"] == 0]
    assert len(longest["episodes"]) == len(longest["lengths"]) and longest["episodes"][-1] < longest["episodes"][0]


def test_a_finished_trial_is_read_back_not_replayed_and_other_rows_are_kept(bench, tmp_path: Path) -> None:
    (trial,) = [c for c in bench.rl.trials(["NPI-Sort-v0"], ["a2c"], "rl_baselines_smoke", runs=tmp_path)]
    trial = {**trial, "lengths": [2], "episodes": [3]}
    first = bench.rl.run_trial(trial)
    assert first["timesteps"] >= trial["timesteps"] and len(first["solved"]) == 3
    model = Path(trial["out"]) / "model.zip"
    stamp = model.stat().st_mtime_ns
    assert bench.rl.run_trial(trial) == first and model.stat().st_mtime_ns == stamp  # read from result.json
    again = bench.rl.run_trial({**trial, "episodes": [5]})  # another evaluation: played again, not retrained
    assert len(again["solved"]) == 5 and again["timesteps"] == first["timesteps"]
    bench.common.write_csv("rl_test.csv", bench.rl.HEADER, [
        ["NPI-Sort-v0", "a2c", *[""] * 11], ["NPI-Sort-v0", "random", *[""] * 11], ["NPI-Sort-v0", "ppo", *[""] * 11]])
    kept = bench.rl.kept_rows("rl_test", [trial])
    assert [row[1] for row in kept] == ["ppo"]  # the run's own rows and its env's floors are made again


def test_shipped_agents_play_the_problems_in_the_env_they_were_trained_for(bench) -> None:
    """The car NPI reads 32-pixel frames; the grid's env is the default 64: it still plays the same problems."""
    tasks = bench.rl.problems([None], [2])
    played = bench.rl.play_shipped(bench.common.CAR_ID, tasks, {})
    assert list(played) == ["npi (shipped)"] and len(played["npi (shipped)"]) == 2


def test_the_leaderboard_splits_training_sizes_from_longer_ones(bench) -> None:
    config = bench.rl.run_config("rl_baselines_reduced")
    blank = dict.fromkeys(bench.rl.HEADER, "")

    def row(env, agent, length, accuracy, non_trivial, paper=""):
        return list({**blank, "env": env, "agent": agent, "length": length, "accuracy": accuracy, "non_trivial": non_trivial,
                     "paper": paper}.values())

    rows = [row("NPI-Sort-v0", "ppo", 2, "90.0", "80.0"), row("NPI-Sort-v0", "ppo", 4, "70.0", "60.0"),
            row("NPI-Sort-v0", "ppo", 10, "5.0", "5.0"), row("NPI-Table-1Col-v0", "ppo", "any", "40.0", "40.0"),
            row("NPI-Sort-v0", "npi (shipped)", 2, "100.0", "100.0"), row("NPI-Sort-v0", "npi (shipped)", 10, "100.0", "100.0", "100"),
            row("NPI-Table-1Col-v0", "neural-programmer (shipped)", "any", "95.0", "95.0", "89.5")]
    lines = bench.rl.leaderboard(rows, config)
    assert lines[0].startswith("| agent | NPI-Sort-v0 (2, 3, 4, 10) | NPI-Table-1Col-v0 (its own problems) |")
    assert lines[2] == "| npi (shipped) | 100 (100) · 100 |  |"  # the floors and paper agents first, then the learners
    assert lines[3] == "| neural-programmer (shipped) |  | 95 (95) |"
    assert lines[4] == "| ppo | 80 (70) · 5 | 40 (40) |"  # max_length 4: lengths 2 and 4 within, 10 beyond
    assert lines[5] == "| paper (its NPI or Neural Programmer) | – · 100 | 89.5 |"  # no paper figure at length 2; one decimal


def test_training_time_sums_the_last_elapsed_time_of_every_session(tmp_path: Path) -> None:
    from agents.baselines.plots import training_seconds

    for session, elapsed in (("session-1", ["3", "", "40"]), ("session-2", ["5", "12"]), ("session-10", ["7"])):
        (tmp_path / session).mkdir()
        lines = ["time/time_elapsed,time/total_timesteps", *(f"{e},{100 * i}" for i, e in enumerate(elapsed))]
        (tmp_path / session / "progress.csv").write_text("\n".join(lines) + "\n")
    assert training_seconds(tmp_path) == 40 + 12 + 7


def test_npi_sample_complexity_runs_are_sweep_trials(bench) -> None:
    import json

    import npi_sample_complexity

    studies = bench.common.load_config("npi_sample_complexity")
    configs = npi_sample_complexity.trials(studies)
    assert len(configs) == sum(len(spec["runs"]) for spec in studies.values())
    assert json.loads(json.dumps(configs)) == configs  # plain data, as Tune's param space and the digest take it
    assert len({c["out"] for c in configs}) == len(configs)


def test_a_tiny_sweep_gives_the_same_tables_serially_and_on_ray(bench, tmp_path: Path) -> None:
    pytest.importorskip("ray.tune")
    from stable_baselines3 import A2C

    (base,) = bench.rl.trials(["NPI-Sort-v0"], ["a2c"], "rl_baselines_smoke")
    configs = {mode: [{**base, "seed": s, "lengths": [2, 3], "episodes": [3, 3], "out": str(tmp_path / mode / f"seed-{s}")} for s in (0, 1)]
               for mode in ("serial", "ray")}
    serial = bench.sweep.run(bench.rl.run_trial, configs["serial"], "test", SERIAL)
    on_ray = bench.sweep.on_ray(bench.rl.run_trial, configs["ray"], "test", workers=2, storage=tmp_path / "sweeps")
    assert [r["solved"] for r in on_ray] == [r["solved"] for r in serial]
    minutes = bench.rl.HEADER.index("train_minutes")
    tables = {mode: [row[:minutes] + row[minutes + 1:] for row in bench.rl.tables(configs[mode], r, "rl_baselines_smoke")]
              for mode, r in (("serial", serial), ("ray", on_ray))}
    assert tables["ray"] == tables["serial"] and len(tables["serial"]) == 4 * 2  # random, trivial, the shipped NPI, a2c at two lengths
    npi = [row for row in tables["serial"] if row[1] == "npi (shipped)"]
    assert [row[bench.rl.HEADER.index("accuracy") - 1] for row in npi] == ["100.0", "100.0"]  # one column fewer: minutes cut
    for s in (0, 1):  # the very same weights: the trials are deterministic wherever they run
        weights = [A2C.load(tmp_path / mode / f"seed-{s}" / "model.zip", device="cpu").policy.state_dict() for mode in ("serial", "ray")]
        assert all((weights[0][k] == weights[1][k]).all() for k in weights[0])
    assert (tmp_path / "results" / "rl_baselines_smoke_NPI-Sort-v0.png").is_file()
    assert len(list((tmp_path / "sweeps").glob("test-*"))) == 1


TOY = '''
import os, signal, time
from pathlib import Path


def trial(config):
    """Counts its runs in a file; the one marked ``interrupt`` sends Ctrl-C (SIGINT) to the sweep on its first run and waits."""
    runs = Path(config["folder"]) / f"ran-{config['k']}"
    first = not runs.exists()
    with runs.open("a") as f:
        f.write("x")
    if config["interrupt"] and first:
        os.kill(int((Path(config["folder"]) / "driver.pid").read_text()), signal.SIGINT)
        time.sleep(120)
    return {"square": config["k"] ** 2}
'''

DRIVER = '''
import os, sys
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import sweep, toy
folder = Path(sys.argv[1])
(folder / "driver.pid").write_text(str(os.getpid()))
configs = [{"k": k, "interrupt": k == 2, "folder": str(folder)} for k in range(4)]
try:
    print("RESULTS", [r["square"] for r in sweep.on_ray(toy.trial, configs, "toy", workers=1, storage=folder / "sweeps")])
except RuntimeError as e:
    print("UNFINISHED", e)
'''


def test_an_interrupted_sweep_runs_only_its_unfinished_trials_when_run_again(tmp_path: Path) -> None:
    pytest.importorskip("ray.tune")
    (tmp_path / "toy.py").write_text(textwrap.dedent(TOY))
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    first = _python(str(tmp_path / "driver.py"), str(tmp_path), str(BENCHMARKS), env=env)
    assert "UNFINISHED" in first.stdout and "run the same command again" in first.stdout, first.stdout + first.stderr
    assert [(tmp_path / f"ran-{k}").exists() for k in range(4)] == [True, True, True, False]
    again = _python(str(tmp_path / "driver.py"), str(tmp_path), str(BENCHMARKS), env=env)
    assert "RESULTS [0, 1, 4, 9]" in again.stdout, again.stdout + again.stderr
    # the finished trials ran once; the interrupted one again, the one never started once
    assert [len((tmp_path / f"ran-{k}").read_text()) for k in range(4)] == [1, 1, 2, 1]
