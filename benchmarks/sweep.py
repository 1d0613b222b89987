"""A benchmark's trials run one after another, or as Ray Tune trials on a local Ray or an existing cluster.

A trial is a function of one config (plain JSON data: env, algorithm, seed, budget, where its run goes)
that returns a dict of JSON data; both ways the results pass through JSON, so they are the same. On Ray
each trial is a Tune trial of one CPU, and the experiment lives under runs/sweeps/NAME-DIGEST (the digest
of the trial configs): the same command after an interruption restores it (``tune.Tuner.restore``) and
runs only the trials that had not finished. Run as a script, this measures the speed-up of a local Ray
sweep of the RL baselines' smoke trials against the serial run, both in one run:

    python benchmarks/sweep.py --workers 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from common import BENCHMARKS, RUNS, command_line, md_row, write_markdown

Trial = Callable[[dict[str, Any]], dict[str, Any]]
INSTALL = "pip install 'npi-gym[ray]' (in a checkout: pip install -c constraints.txt -e '.[ray]', as `make test` does)"
SWEEPS = RUNS / "sweeps"
"""Tune's storage: one folder per experiment, restorable"""


def add_options(parser: argparse.ArgumentParser) -> None:
    """``--ray``, ``--address`` and ``--workers`` on a benchmark's command line."""
    group = parser.add_argument_group("sweep on Ray Tune")
    group.add_argument("--ray", action="store_true", help="run the trials as Ray Tune trials (default: one after another here)")
    group.add_argument("--address", help="an existing Ray cluster (`ray start --head` prints it; default: a local Ray)")
    group.add_argument("--workers", type=int, help="trials at once (default: one per CPU Ray has)")


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A usage error, before anything runs, for sweep options that cannot be honoured."""
    if (args.address is not None or args.workers is not None) and not args.ray:
        parser.error("--address and --workers go with --ray")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers takes a positive count of trials at once, not {args.workers}")
    if args.ray:
        try:
            import ray  # noqa: F401
            from ray import tune  # noqa: F401
        except ImportError as e:
            parser.error(f"--ray needs Ray Tune, which cannot be imported here ({e}); install it with {INSTALL}, "
                         "or leave out --ray to run the trials one after another")


def run(trial: Trial, configs: Sequence[dict[str, Any]], name: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """``trial(config)`` for every config, in order: serially, or on Ray with ``args.ray``."""
    if args.ray:
        return on_ray(trial, configs, name, address=args.address, workers=args.workers)
    return [_json(trial(dict(config))) for config in configs]


def experiment_path(configs: Sequence[dict[str, Any]], name: str, storage: Path = SWEEPS) -> Path:
    """Where the Tune experiment of these trials lives: the same trials, the same folder."""
    digest = hashlib.sha256(json.dumps(list(configs), sort_keys=True).encode()).hexdigest()[:12]
    return storage / f"{name}-{digest}"


def on_ray(
    trial: Trial, configs: Sequence[dict[str, Any]], name: str, address: str | None = None, workers: int | None = None,
    storage: Path = SWEEPS,
) -> list[dict[str, Any]]:
    """The trials as Ray Tune trials (one CPU each), restoring this sweep's experiment if one was interrupted."""
    import ray
    from ray import tune

    # save the experiment's state (which trials finished) at least every second, so a kill loses little
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1")
    path = experiment_path(configs, name, storage)
    paths = [str(BENCHMARKS), str(BENCHMARKS.parent), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    ray.init(address=address, runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}, include_dashboard=False)
    try:
        trainable = tune.with_resources(partial(_report, trial), {"cpu": 1})
        if tune.Tuner.can_restore(path):
            print(f"restoring the sweep {path}: only its trials that had not finished run", flush=True)
            tuner = tune.Tuner.restore(str(path), trainable, restart_errored=True)
        else:
            tuner = tune.Tuner(
                trainable,
                param_space={"trial": tune.grid_search(list(configs))},
                tune_config=tune.TuneConfig(max_concurrent_trials=workers),
                run_config=tune.RunConfig(name=path.name, storage_path=str(path.parent), verbose=1),
            )
        grid = tuner.fit()
    finally:
        ray.shutdown()
    done = {_key(r.config["trial"]): json.loads(r.metrics["result"]) for r in grid if r.error is None and "result" in (r.metrics or {})}
    missing = [c for c in configs if _key(c) not in done]
    if missing:
        raise RuntimeError(f"{len(missing)} of {len(configs)} trials did not finish (first: {missing[0]}); "
                           f"run the same command again to restore the sweep at {path} and run only those")
    return [done[_key(c)] for c in configs]


def _report(trial: Trial, config: dict[str, Any]) -> None:
    from ray import tune

    tune.report({"result": json.dumps(trial(config["trial"]))})


def _json(result: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(result))


def _key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Speed-up of a local Ray sweep of the RL baselines' smoke trials against the serial run")
    parser.add_argument("--workers", type=int, default=2, help="trials at once on the local Ray")
    parser.add_argument("--envs", nargs="*", default=["NPI-Sort-v0", "NPI-Sort-Recursive-v0"], help="envs of the smoke trials")
    parser.add_argument("--algorithms", nargs="*", default=["ppo-mask", "a2c", "ppo"], help="algorithms of the smoke trials")
    args = parser.parse_args()
    check_options(parser, argparse.Namespace(ray=True, address=None, workers=args.workers))
    import rl_baselines

    stamp = time.strftime("%Y%m%d-%H%M%S")
    times = {}
    for mode in ("serial", "ray"):
        configs = rl_baselines.trials(args.envs, args.algorithms, "rl_baselines_smoke", runs=RUNS / "sweep-speedup" / stamp / mode)
        start = time.perf_counter()
        results = on_ray(rl_baselines.run_trial, configs, "speedup", workers=args.workers) if mode == "ray" else \
            [_json(rl_baselines.run_trial(c)) for c in configs]
        times[mode] = time.perf_counter() - start
        print(f"{mode}: {len(results)} trials in {times[mode]:.1f} s", flush=True)
    write_markdown("sweep_speedup.md", [
        "# Speed-up of a local Ray sweep against the serial run",
        "",
        f"Command: `{command_line(__file__, args)}`, both in one run on this machine ({os.cpu_count()} cores, shared).",
        f"{len(configs)} smoke trials of benchmarks/rl_baselines.py (train from scratch, then evaluate); the Ray time",
        "includes starting the local Ray and its workers.",
        "",
        md_row("run", "trials", "wall-clock (s)", "speed-up"),
        md_row("---", "---:", "---:", "---:"),
        md_row("serial", len(configs), f"{times['serial']:.1f}", "1.00x"),
        md_row(f"Ray Tune, {args.workers} workers", len(configs), f"{times['ray']:.1f}", f"{times['serial'] / times['ray']:.2f}x"),
    ], echo=True)


if __name__ == "__main__":
    main()
