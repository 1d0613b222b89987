"""Bad make-time kwargs, reset options and cache files: each refused (or skipped) with a message saying what is accepted."""

from __future__ import annotations

import gc
import os
import re
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import npi_gym
from npi_gym.envs.addition import LENGTH_LIMIT as ADDITION_LIMIT
from npi_gym.envs.car import RenderSettings, StaleCacheWarning, ViewCache
from npi_gym.envs.car.cache import ORPHAN_AGE_S
from npi_gym.envs.sort import LENGTH_LIMIT as SORT_LIMIT
from npi_gym.envs.table import Example, Table, make_example

ADDITION, SORT, CAR, TABLE = (npi_gym.FAMILY_IDS[f][0] for f in ("addition", "sort", "car", "table"))
CAR_IDS = set(npi_gym.FAMILY_IDS["car"])
SMALL = 16


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """The env, the car's with small memory-only views unless the caller says otherwise."""
    if env_id in CAR_IDS:
        kwargs = {"image_size": SMALL, "cache_dir": False, **kwargs}
    return gym.make(env_id, **kwargs)


def refused(call: Any, bad: str, accepted: str) -> None:
    """``call()`` raises ValueError whose message names the bad value and what is accepted."""
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert bad in message and accepted in message, message


# ----------------------------------------------------------------- make-time kwargs
MAKE_CASES = [
    (ADDITION, {"recursive": "false"}, "'false'", "True or False"),
    (SORT, {"recursive": 1}, "1", "True or False"),
    (CAR, {"random_target": "no"}, "'no'", "True or False"),
    (CAR, {"start_azimuth": (-45.5, 45)}, "-45.5", "pair of integers"),
    (CAR, {"start_elevation": (0, 1e300)}, "1e+300", "pair of integers"),
    (CAR, {"target": (1e300, 15)}, "1e+300", "pair of integers"),
    (CAR, {"target": (-45.5, 15)}, "-45.5", "pair of integers"),
    (CAR, {"cache_dir": ""}, "''", "non-empty path"),
    (CAR, {"cache_dir": True}, "True", "non-empty path"),
    (CAR, {"image_size": 64.0}, "64.0", "integer >= 16 and <= 512"),
    (CAR, {"min_length": 5, "max_length": 3}, "3", "integer >= 5"),
    (CAR, {"max_length": 19}, "19", "<= 18"),
    (CAR, {"start_azimuth": (-180, 180)}, "(-180, 180)", "high - low < 360"),
    (CAR, {"min_length": 15, "start_azimuth": (0, 0)}, "15..18 moves", "possible lengths"),
    (CAR, {"program": "LGOTO", "max_length": 0}, "0..0 moves with LGOTO", "possible lengths"),
    (ADDITION, {"max_length": 10.5}, "10.5", "integer >= 1"),
    (ADDITION, {"max_length": ADDITION_LIMIT + 1}, str(ADDITION_LIMIT + 1), f"<= {ADDITION_LIMIT}"),
    (ADDITION, {"base": 10.0}, "10.0", "integer >= 2 and <= 10"),
    (SORT, {"max_length": 1000}, "1000", f"<= {SORT_LIMIT}"),
    (SORT, {"min_length": True}, "True", "integer >= 1"),
    (ADDITION, {"program": "RSHIFT"}, "never calls RSHIFT", "'ADD1'"),
    (SORT, {"program": "ACT"}, "'ACT'", "'BSTEP'"),
    (TABLE, {"word_variability": "false"}, "'false'", "True or False"),
    (TABLE, {"numeric_columns": 5.0}, "5.0", "an int in 1..10"),
]


@pytest.mark.parametrize("env_id, kwargs, bad, accepted", MAKE_CASES)
def test_bad_make_time_kwargs_are_refused(env_id: str, kwargs: dict, bad: str, accepted: str) -> None:
    refused(lambda: make(env_id, **kwargs), bad, accepted)


@pytest.mark.parametrize("env_id", npi_gym.PROGRAM_CALL_IDS)
@pytest.mark.parametrize("program", ["NOPE", ["ADD1"], 3, "RETURN"])
def test_make_time_program_names_the_programs_an_episode_can_open(env_id: str, program: Any) -> None:
    env = make(env_id)
    root = env.unwrapped.root
    refused(lambda: make(env_id, program=program), repr(program), repr(root))
    env.close()


# ----------------------------------------------------------------- reset options
@pytest.mark.parametrize("env_id", npi_gym.ENV_IDS)
@pytest.mark.parametrize("options", ["abc", 5, ["program"]])
def test_options_that_are_not_a_dict_are_refused(env_id: str, options: Any) -> None:
    env = make(env_id)
    refused(lambda: env.reset(options=options), repr(options), "must be a dict (or None)")


def program_call_option_cases() -> list[tuple[str, dict, str, str]]:
    cases = []
    for env_id in npi_gym.PROGRAM_CALL_IDS:
        cases += [
            (env_id, {"program": ["ADD1"]}, "['ADD1']", "must be one of"),
            (env_id, {"program": {"x": 1}}, "{'x': 1}", "must be one of"),
            (env_id, {"length": 2.5}, "2.5", "must be an integer >= 1"),
            (env_id, {"length": "3"}, "'3'", "must be an integer >= 1"),
        ]
    return cases


@pytest.mark.parametrize("env_id, options, bad, accepted", program_call_option_cases())
def test_bad_program_call_options_are_refused(env_id: str, options: dict, bad: str, accepted: str) -> None:
    env = make(env_id)
    refused(lambda: env.reset(seed=0, options=options), bad, accepted)


PROBLEM_CASES = [
    (ADDITION, {96: 0, 125: 0}, "{96: 0, 125: 0}", "a pair (tuple or list)"),
    (ADDITION, ("\u0663", "1"), "'\u0663'", "base-10 digits"),
    (ADDITION, (10 ** (ADDITION_LIMIT + 5), 1), "too large to show", f"at most {ADDITION_LIMIT} digits"),
    (ADDITION, ("1" * (ADDITION_LIMIT + 1), "1"), "...", f"at most {ADDITION_LIMIT} digits"),
    (ADDITION, {"length": ADDITION_LIMIT + 1}, "length", f"<= {ADDITION_LIMIT}"),
    (SORT, {"a": 1}, "{'a': 1}", "a non-empty list, tuple or 1-D array"),
    (SORT, {3: 1, 1: 2}, "{3: 1, 1: 2}", "a non-empty list, tuple or 1-D array"),
    (SORT, ["\u0663", "1"], "'\u0663'", "strings of ASCII digits"),
    (SORT, ["\u00b2"], "'\u00b2'", "strings of ASCII digits"),
    (SORT, [1] * (SORT_LIMIT + 1), "[1, 1,", f"at most {SORT_LIMIT} integers"),
    (SORT, [1.5, 2], "1.5", "integers in [0, 9]"),
    (CAR, ("sedan_00", (0, 15)), "('sedan_00', (0, 15))", "(model, (azimuth, elevation), (target"),
    (CAR, ("sedan_00", (0, 15), (0, 15), 1), "1)", "(model, (azimuth, elevation), (target"),
    (CAR, ("sedan_00", (0, 15, 30), (0, 15)), "(0, 15, 30)", "(model, (azimuth, elevation), (target"),
    (CAR, ("sedan_00", 0, (0, 15)), "('sedan_00', 0,", "(model, (azimuth, elevation), (target"),
    (CAR, "sedan_00", "'sedan_00'", "(model, (azimuth, elevation), (target"),
    (CAR, {"model": "sedan_00"}, "{'model'", "(model, (azimuth, elevation), (target"),
    (CAR, (["sedan_00"], (0, 15), (0, 15)), "['sedan_00']", "a model name and integer degrees"),
    (CAR, ("no_such_car", (0, 15), (0, 15)), "'no_such_car'", "known: ["),
    (CAR, ("sedan_00", (7, 15), (0, 15)), "(7, 15)", "multiples of 15"),
    (CAR, ("sedan_00", (0, 20), (0, 15)), "(0, 20)", "elevations in [-15, 0"),
    (CAR, ("sedan_00", (0, 90), (0, 15)), "(0, 90)", "elevations in [-15, 0"),
    (CAR, ("sedan_00", (-45.5, 15), (0, 15)), "-45.5", "integer degrees"),
    (CAR, ("sedan_00", (0, 15.0), (0, 15)), "15.0", "integer degrees"),
    (CAR, ("sedan_00", (1e300, 15), (0, 15)), "1e+300", "integer degrees"),
    (CAR, ("sedan_00", (15 * 10**6, 15), (0, 15)), "15000000", "in [-180, 360]"),
]


@pytest.mark.parametrize("env_id, problem, bad, accepted", PROBLEM_CASES)
def test_malformed_problems_are_refused(env_id: str, problem: Any, bad: str, accepted: str) -> None:
    env = make(env_id)
    options = problem if isinstance(problem, dict) and "length" in problem else {"problem": problem}
    refused(lambda: env.reset(seed=0, options=options), bad, accepted)


def _example_with(**fields: Any) -> Example:
    table = Table.from_columns({"A": [1.0, 2.0]})
    good = make_example("greater 1.5 A sum A", table)
    given = {"table": table, "tokens": good.tokens, "query": good.query, "numbers": good.numbers, **fields}
    return Example(**given)


TABLE_CASES = [
    ({"table": 5}, "5", "an npi_gym.envs.table.Table or a mapping"),
    ({"table": "abc"}, "'abc'", "an npi_gym.envs.table.Table or a mapping"),
    ({"table": {"A": 5}}, "5", "must be a list of cells"),
    ({"table": {"A": [1.0], "C": [2.0]}}, "['A', 'C']", "named A, B, C"),
    ({"table": {"A": [True]}}, "column A", "all numbers or all words"),
    ({"table": {k: [1.0] for k in "ABCDEFGHIJ"}}, "got 10", "this env's tables have at most"),
    ({"question": 5}, "5", "must be a string like"),
    ({"question": ["sum", "A"]}, "['sum', 'A']", "must be a string like"),
    ({"question": "sum Z"}, "'Z'", "accepted:"),
    ({"example": 5}, "options['example']", "an npi_gym.envs.table.Example, given alone"),
    ({"example": _example_with(tokens=("greater", "1.5", "A", "sum", "A") + ("A",) * 40)}, "'A' after", "accepted:"),
    ({"example": _example_with(numbers=(1.0, 2.0, 3.0))}, "'greater 1.5 A sum A'", "made by make_example"),
    ({"example": _example_with(tokens=("foo",))}, "'foo'", "accepted:"),
    ({"example": _example_with(tokens=["sum", "A"])}, "['sum', 'A']", "a tuple of strings"),
]


@pytest.mark.parametrize("env_id", npi_gym.FAMILY_IDS["table"][:2])
@pytest.mark.parametrize("options, bad, accepted", TABLE_CASES)
def test_malformed_table_options_are_refused(env_id: str, options: dict, bad: str, accepted: str) -> None:
    env = make(env_id)
    refused(lambda: env.reset(seed=0, options=options), bad, accepted)


@pytest.mark.parametrize("env_id", npi_gym.ENV_IDS)
def test_render_and_flat_mask_before_reset_say_to_reset(env_id: str) -> None:
    env = make(env_id, render_mode="ansi").unwrapped
    for call, name in ((env.render, "render()"), (env.flat_action_mask, "flat_action_mask()")):
        with pytest.raises(RuntimeError, match=re.escape(name) + ".*call reset"):
            call()


# ----------------------------------------------------------------- make-time sub-programs and sizes
def expert_episode(env: gym.Env) -> float:
    """Follow the expert to the episode's end; its reward."""
    while True:
        action = env.unwrapped.expert_action()
        assert action is not None
        _, reward, terminated, truncated, info = env.step(action)
        assert "invalid_call" not in info
        if terminated or truncated:
            assert terminated and not truncated
            return reward


def episode_program_cases() -> list[tuple[str, str]]:
    cases = []
    for env_id in npi_gym.PROGRAM_CALL_IDS:
        env = make(env_id)
        cases += [(env_id, program) for program in env.unwrapped.episode_programs]
        env.close()
    return cases


@pytest.mark.parametrize("env_id, program", episode_program_cases())
def test_make_time_program_opens_every_reset_and_the_expert_solves_it(env_id: str, program: str) -> None:
    env = make(env_id, program=program)
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        assert env.unwrapped.stack == (program,) and obs["program"] == env.unwrapped.programs.ids[program]
        assert expert_episode(env) == 1.0
    root = env.unwrapped.root
    env.reset(seed=0, options={"program": root})
    assert env.unwrapped.stack == (root,)
    env.reset()
    assert env.unwrapped.stack == (program,)
    env.close()


def test_the_default_program_draws_the_same_problems_as_before() -> None:
    for env_id in npi_gym.PROGRAM_CALL_IDS:
        default, explicit = make(env_id), make(env_id, program=make(env_id).unwrapped.root)
        for seed in range(5):
            default.reset(seed=seed)
            explicit.reset(seed=seed)
            assert default.unwrapped.problem == explicit.unwrapped.problem


@pytest.mark.parametrize("moves", [0, 3, 7])
def test_car_length_bounds_at_make_time_pick_the_moves(moves: int) -> None:
    env = make(CAR, min_length=moves, max_length=moves)
    for seed in range(5):
        env.reset(seed=seed)
        (az, el), (t_az, t_el) = env.unwrapped.pose, env.unwrapped.target_pose
        d = ((t_az - az) // 15) % 24
        assert min(d, 24 - d) + abs(t_el - el) // 15 == moves


def test_the_largest_sizes_reset() -> None:
    for env_id, limit in ((ADDITION, ADDITION_LIMIT), (SORT, SORT_LIMIT)):
        env = make(env_id, min_length=limit, max_length=limit)
        env.reset(seed=0)
        assert env.unwrapped.step_budget > limit


# ----------------------------------------------------------------- view cache files
FIFO_SCRIPT = """
import sys, warnings
from npi_gym.envs.car import RenderSettings, StaleCacheWarning, ViewCache
cache = ViewCache(RenderSettings(image_size=16), cache_dir=sys.argv[1])
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    cache.views("sedan_00")
messages = [str(w.message) for w in seen if issubclass(w.category, StaleCacheWarning)]
print(cache.renders, messages)
"""


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_a_cache_path_that_is_not_a_regular_file_is_skipped_with_a_warning(tmp_path: Path, kind: str) -> None:
    path = ViewCache(RenderSettings(image_size=16), cache_dir=tmp_path).path("sedan_00")
    {"fifo": os.mkfifo, "directory": os.mkdir, "device": lambda p: os.symlink("/dev/zero", p)}[kind](path)
    before = os.lstat(path)
    done = subprocess.run(
        [sys.executable, "-c", FIFO_SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 ") and "is not a regular file; skipping it" in done.stdout, done.stdout
    after = os.lstat(path)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_orphan_temporary_files_are_removed_at_the_next_save(tmp_path: Path) -> None:
    old = time.time() - ORPHAN_AGE_S - 60
    orphan, fresh = tmp_path / ".sedan_00-k3j2.npz.tmp", tmp_path / ".coupe_04-a8x1.npz.tmp"
    others = [tmp_path / ".notes.txt", tmp_path / "mine.npz.tmp"]
    for p in (orphan, fresh, *others):
        p.write_bytes(b"partial")
    for p in (orphan, *others):
        os.utime(p, (old, old))
    cache = ViewCache(RenderSettings(image_size=16), cache_dir=tmp_path)
    cache.views("van_06")
    names = {p.name for p in tmp_path.iterdir()}
    assert orphan.name not in names and fresh.name in names
    assert {p.name for p in others} <= names and cache.path("van_06").name in names
    cache.close()


def test_a_truncated_cache_file_is_rebuilt_and_closed(tmp_path: Path) -> None:
    cache = ViewCache(RenderSettings(image_size=16), cache_dir=tmp_path)
    cache.views("hatch_01")
    path = cache.path("hatch_01")
    cache.close()
    data = path.read_bytes()
    fresh = ViewCache(RenderSettings(image_size=16), cache_dir=tmp_path)
    for cut in (len(data) // 2, len(data) - 30, 100):
        path.write_bytes(data[:cut])
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            assert fresh._load("hatch_01") is None
            gc.collect()
        kinds = [w.category for w in seen]
        assert StaleCacheWarning in kinds and ResourceWarning not in kinds, [str(w.message) for w in seen]
