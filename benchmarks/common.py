"""What the benchmark scripts share: where results and runs go, reports, plots, run configs, checkpoints, timing.

Paths come from this file's location, so a script writes the same files from any working directory.
"""

from __future__ import annotations

import argparse
import csv
import gc
import shlex
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym

import npi_gym  # noqa: F401  (registers the ids)
from agents.common.flags import config_flags
from agents.npi.shipped import pretrained_path

BENCHMARKS = Path(__file__).resolve().parent
RESULTS = BENCHMARKS / "results"
CONFIGS = BENCHMARKS / "configs"
RUNS = BENCHMARKS.parent / "runs"
"""training runs (checkpoints and their CSV logs), resumable, not committed"""
NP_PRETRAINED = BENCHMARKS.parent / "agents" / "neural_programmer" / "pretrained"
CAR_ID = "NPI-Canonicalize-v0"
CAR_TARGET = 50.0
"""the warm view cache's steps/s over the rate of one render per step"""


def command_line(script: str, args: argparse.Namespace | None = None) -> str:
    """``python benchmarks/SCRIPT ...``: with ``args``, every option set (its flag named after its dest), else as typed."""
    words = sys.argv[1:] if args is None else _flags(vars(args))
    return shlex.join(["python", f"benchmarks/{Path(script).name}", *words])


def _flags(options: Mapping[str, Any]) -> list[str]:
    words = []
    for dest, value in options.items():
        if value is None or value is False:
            continue
        words.append("--" + dest.replace("_", "-"))
        if value is not True:
            values = value if isinstance(value, list) else [value]
            words += [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    return words


def chosen(parser: argparse.ArgumentParser, given: Sequence[str], known: Sequence[str]) -> list[str]:
    """The names ``given`` on the command line, all ``known`` if none; an unknown one is a usage error."""
    unknown = [name for name in given if name not in known]
    if unknown:
        parser.error(f"unknown {unknown}; choose from {list(known)}")
    return list(given) or list(known)


def md_row(*cells: object) -> str:
    """One row of a Markdown table."""
    return "| " + " | ".join(map(str, cells)) + " |"


def write_markdown(name: str, lines: Sequence[str], echo: bool = False) -> Path:
    """Write ``lines`` as ``results/NAME`` (one line each, newline-terminated); print them too with ``echo``."""
    text = "\n".join(lines) + "\n"
    if echo:
        print(text)
    path = _result(name)
    path.write_text(text)
    return path


def write_csv(name: str, header: Sequence[str], rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> Path:
    """Write ``results/NAME``: the header, then each row (a sequence, or a mapping read in header order) as it comes."""
    path = _result(name)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        for row in rows:
            out.writerow([row[k] for k in header] if isinstance(row, Mapping) else row)
            f.flush()
    return path


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """The rows of a CSV file with a header, as dicts of text; no file, no rows."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def read_result(name: str) -> list[dict[str, str]]:
    """The rows of ``results/NAME`` (a CSV a benchmark wrote), as ``read_csv`` gives them."""
    return read_csv(RESULTS / name)


def _result(name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS / name


def pyplot() -> Any:
    """``matplotlib.pyplot`` drawing off screen (the Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, name: str, dpi: int = 120) -> Path:
    """Save ``fig`` as ``results/NAME`` and close it."""
    path = _result(name)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def load_config(name: str) -> dict[str, Any]:
    """The run config ``configs/NAME.toml`` as a dict."""
    with (CONFIGS / f"{name}.toml").open("rb") as f:
        return tomllib.load(f)


def npi_run(env_id: str) -> dict[str, Any]:
    """The NPIConfig fields (besides ``env_id``) the shipped checkpoint of ``env_id`` was trained with."""
    runs = load_config("npi_pretrained")
    if env_id not in runs:
        raise ValueError(f"no shipped NPI run for {env_id!r}; configs/npi_pretrained.toml has {sorted(runs)}")
    return runs[env_id]


def npi_flags(env_id: str) -> list[str]:
    """``npi_run(env_id)`` as ``npi-gym train npi`` flags."""
    return config_flags(npi_run(env_id))


def train_npi(env_id: str, out: Path) -> Path:
    """Train an NPI on ``env_id`` afresh with its shipped run's settings; the checkpoint at ``out``."""
    from agents.npi.config import NPIConfig
    from agents.npi.train import train

    print(f"npi-gym {shlex.join(['train', 'npi', '--env', env_id, *npi_flags(env_id), '--out', str(out)])}", flush=True)
    summary = train(NPIConfig(env_id=env_id, **npi_run(env_id)), out, progress=False)
    print(f"trained {env_id} for {summary['updates']} updates in {summary['seconds']:.0f} s; held-out episodes "
          f"solved: {100 * summary['validation']:.1f}%", flush=True)
    return out


def npi_checkpoint(env_id: str, retrain: bool) -> tuple[Path, dict[str, Any]]:
    """The shipped NPI checkpoint of ``env_id`` (or one retrained into runs/benchmarks/) and its trainer state."""
    from agents.npi.checkpoint import load_checkpoint

    path = pretrained_path(env_id)
    if retrain:
        path = train_npi(env_id, RUNS / "benchmarks" / path.name)
    trainer = load_checkpoint(path)["trainer"]
    print(f"{env_id}: {path}, trained for {trainer['update']} updates in {trainer['seconds']:.0f} s wall-clock", flush=True)
    return path, trainer


def steps_per_second(
    env: gym.Env, steps: int | None = None, seconds: float | None = None, seed: int = 0
) -> tuple[float, int, int]:
    """(steps/s of env time, steps, episodes) of seeded random masked actions: ``steps`` of them, or about ``seconds``.

    The timer covers ``env.step`` and ``env.reset``, not drawing the action.
    """
    if (steps is None) == (seconds is None):
        raise ValueError(f"give exactly one of steps and seconds, not steps={steps}, seconds={seconds}")
    env.action_space.seed(seed)
    start = time.perf_counter()
    _, info = env.reset(seed=seed)
    timed = time.perf_counter() - start
    done = episodes = 0
    deadline = time.perf_counter() + (seconds or 0.0)
    while (done < steps) if seconds is None else (time.perf_counter() < deadline):
        action = env.action_space.sample(mask=info.get("action_mask"))
        start = time.perf_counter()
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            _, info = env.reset()
            episodes += 1
        timed += time.perf_counter() - start
        done += 1
    return done / timed, done, episodes


def render_ms(image_size: int, frames: int = 600) -> float:
    """Milliseconds per car frame drawn by the renderer, the model loaded, poses cycling over the grid."""
    from npi_gym.envs.car import ELEVATIONS, N_AZIMUTHS, CarRenderer, RenderSettings

    renderer = CarRenderer(RenderSettings(image_size=image_size))
    renderer.render("sedan_00", 0, 0)
    start = time.perf_counter()
    for i in range(frames):
        renderer.render("sedan_00", 15 * (i % N_AZIMUTHS), ELEVATIONS[i % len(ELEVATIONS)])
    elapsed = time.perf_counter() - start
    renderer.close()
    return 1000 * elapsed / frames


def cache_rates(steps: int, image_size: int) -> dict[str, float]:
    """Car steps/s with a cold, a disk-only and a warm view cache, and the models rendered cold."""
    with tempfile.TemporaryDirectory() as cache_dir:
        env = gym.make(CAR_ID, image_size=image_size, cache_dir=cache_dir)
        cold = steps_per_second(env, steps)[0]
        rendered = env.unwrapped._cache.renders
        warm = steps_per_second(env, steps)[0]
        env.close()
        del env
        gc.collect()
        env = gym.make(CAR_ID, image_size=image_size, cache_dir=cache_dir)
        disk = steps_per_second(env, steps)[0]
        loaded = env.unwrapped._cache.disk_loads
        env.close()
    return {"cold": cold, "warm": warm, "disk": disk, "rendered": rendered, "loaded": loaded}


def car_rows(steps: int = 20000, image_size: int = 64) -> list[tuple[str, float, str]]:
    """(name, steps/s, note) rows: warm, disk and cold cache, and one render per step, from one run."""
    before = render_ms(image_size)
    r = cache_rates(steps, image_size)
    frame_ms = (before + render_ms(image_size)) / 2
    render_rate = 1000 / frame_ms
    return [
        (f"{CAR_ID} warm cache", r["warm"], f"{r['warm'] / render_rate:.0f}x the render-per-step rate (target {CAR_TARGET:g}x)"),
        (f"{CAR_ID} disk cache, fresh env", r["disk"], f"{r['loaded']} models loaded from disk"),
        (f"{CAR_ID} cold cache", r["cold"], f"{r['rendered']} models rendered on first use in {steps} steps"),
        (f"render one {image_size}px frame per step", render_rate, f"{frame_ms:.2f} ms per frame (TinyRenderer)"),
    ]
