"""The contract every task env keeps (npi_gym.base.TaskEnv): the action check, order of calls, registry, settings."""

from __future__ import annotations

import re
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npi_gym
from npi_gym import FlatCalls, ProgramEnv, TaskEnv, tables
from npi_gym.envs import table as table_family
from npi_gym.envs.sort import SortEnv
from npi_gym.envs.table import PAPER_SETTINGS, Setting, TableEnv, setting_of
from npi_gym.registry import ENTRIES
from tests.conftest import ALL_IDS, assert_same

_ENVS: dict[tuple[str, str], gym.Env] = {}


def _env(env_id: str, mode: str) -> Any:
    """One reset env per (id, invalid_call mode), shared by the examples of a property test."""
    if (env_id, mode) not in _ENVS:
        env = gym.make(env_id, invalid_call=mode).unwrapped
        env.reset(seed=0)
        _ENVS[env_id, mode] = env
    return _ENVS[env_id, mode]


def _generator() -> Any:
    return (i for i in range(3))


def _bad_value(space: gym.Space) -> st.SearchStrategy:
    """Values of one action key that its space does not contain (and a few it may, filtered later)."""
    common = st.one_of(
        st.none(),
        st.floats(allow_nan=True),
        st.text(max_size=3),
        st.binary(min_size=0, max_size=4),
        st.builds(_generator),
        st.lists(st.integers(-3, 30), max_size=4),
    )
    if isinstance(space, gym.spaces.Discrete):
        n = int(space.n)
        return st.one_of(
            common,
            st.integers(max_value=-1),
            st.integers(min_value=n),
            st.builds(np.float64, st.integers(0, n - 1)),
            st.builds(lambda v: np.array([v]), st.integers(0, n - 1)),
            st.builds(np.uint64, st.integers(0, n - 1)),
        )
    size = len(space.nvec)
    return st.one_of(
        common,
        st.builds(bytes, st.lists(st.integers(0, 2), min_size=size, max_size=size)),
        st.lists(st.integers(-2, 40), min_size=0, max_size=size + 2).map(np.array),
        st.lists(st.integers(0, 2), min_size=size, max_size=size).map(lambda v: np.array(v, dtype=np.float32)),
        st.lists(st.integers(0, 2), min_size=size, max_size=size).map(lambda v: np.array(v, dtype=np.uint64)),
        st.lists(st.integers(0, 2), min_size=size, max_size=size).map(lambda v: np.array([v])),
        st.lists(st.integers(-5, -1), min_size=size, max_size=size).map(np.array),
    )


@st.composite
def _bad_action(draw: st.DrawFn, space: gym.spaces.Dict) -> Any:
    good = space.sample()
    kind = draw(st.sampled_from(["value", "extra key", "missing key", "not a dict"]))
    if kind == "not a dict":
        return draw(st.one_of(st.none(), st.integers(), st.binary(), st.builds(_generator), st.just(list(good.values()))))
    action = dict(good)
    if kind == "extra key":
        action[draw(st.sampled_from(["extra", "Program", "args2"]))] = 0
    elif kind == "missing key":
        del action[draw(st.sampled_from(sorted(action)))]
    else:
        key = draw(st.sampled_from(sorted(action)))
        action[key] = draw(_bad_value(space[key]))
    return action


def _snapshot(env: Any) -> tuple:
    state = (env._observation(), env._action_mask())
    if isinstance(env, ProgramEnv):
        return (*state, env.stack, env.steps, env._get_state())
    return state


@pytest.mark.parametrize("mode", ["noop", "raise"])
@pytest.mark.parametrize("env_id", ALL_IDS)
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_actions_outside_the_space_raise_and_change_nothing(env_id: str, mode: str, data: st.DataObject) -> None:
    env = _env(env_id, mode)
    action = data.draw(_bad_action(env.action_space))
    if env.action_space.contains(action):
        return
    before = _snapshot(env)
    with pytest.raises(ValueError, match=re.escape(f"is not in the action space {env.action_space}")):
        env.step(action)
    assert_same(_snapshot(env), before)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_booleans_are_not_taken_for_ints(env_id: str) -> None:
    env = _env(env_id, "noop")
    action = env.action_space.sample()
    key = next(k for k, s in env.action_space.spaces.items() if isinstance(s, gym.spaces.Discrete))
    action[key] = True
    with pytest.raises(ValueError, match="action space"):
        env.step(action)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_every_form_the_space_contains_is_read_alike(env_id: str) -> None:
    """An int64 array, a tuple, an int32 array or a 0-d array: the same action, the same step."""
    first, second = gym.make(env_id).unwrapped, gym.make(env_id).unwrapped
    _, info = first.reset(seed=3)
    second.reset(seed=3)
    first.action_space.seed(3)
    for _ in range(5):
        action = first.action_space.sample(mask=info["action_mask"])
        other = {k: tuple(int(x) for x in v) if np.ndim(v) else np.array(v, dtype=np.int32) for k, v in action.items()}
        assert first.action_space.contains(other)
        out = first.step(action)
        assert_same(second.step(other), out)
        info = out[4]
        if out[2] or out[3]:
            break


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_masks_and_render_before_the_first_reset_say_to_reset(env_id: str) -> None:
    modes = gym.make(env_id).metadata["render_modes"]
    env = gym.make(env_id, render_mode=modes[0]).unwrapped
    with pytest.raises(RuntimeError, match=re.escape("flat_action_mask() needs an episode: call reset() first")):
        env.flat_action_mask()
    with pytest.raises(RuntimeError, match=re.escape("render() needs an episode: call reset() first")):
        env.render()
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(env.action_space.sample())


def test_a_program_without_its_expert_routine_is_refused_at_class_definition() -> None:
    with pytest.raises(TypeError, match=r"define expert_BUBBLE, expert_RSHIFT \(a generator"):

        class Incomplete(SortEnv):
            expert_BUBBLE = None  # type: ignore[assignment]
            expert_RSHIFT = None  # type: ignore[assignment]

    class Complete(SortEnv):
        pass

    assert Complete().reset(seed=0)


def test_the_sub_program_option_reaches_the_problem_hook() -> None:
    seen: list[Any] = []

    class Spy(SortEnv):
        def _sample_problem(self, length: int | None, program: str | None) -> tuple[int, ...]:
            seen.append(program)
            return super()._sample_problem(length, program)

    env = Spy()
    env.reset(seed=0, options={"program": "BSTEP", "length": 4})
    env.reset(seed=0)
    env.reset(seed=0, options={"program": "BUBBLESORT"})
    assert seen == ["BSTEP", None, None]
    from npi_gym.envs.car import CanonicalizeEnv

    assert "reset" not in vars(CanonicalizeEnv)


def test_flat_calls_takes_task_envs_only() -> None:
    with pytest.raises(TypeError, match="FlatCalls wraps npi-gym task envs .* got CartPoleEnv"):
        FlatCalls(gym.make("CartPole-v1"))
    assert all(isinstance(gym.make(i).unwrapped, TaskEnv) for i in ALL_IDS)


# ----------------------------------------------------------------------------------- registry and settings
def test_every_entry_is_registered_as_declared() -> None:
    assert npi_gym.ENV_IDS == tuple(e.id for e in ENTRIES)
    for e in ENTRIES:
        spec = gym.spec(e.id)
        assert spec.entry_point == e.entry_point and spec.kwargs == dict(e.kwargs)
    assert sorted(i for ids in npi_gym.FAMILY_IDS.values() for i in ids) == sorted(npi_gym.ENV_IDS)
    program_call = [i for i in npi_gym.ENV_IDS if isinstance(gym.make(i).unwrapped, ProgramEnv)]
    assert list(npi_gym.PROGRAM_CALL_IDS) == program_call


def test_setting_of_reads_the_spec_without_building_an_env(monkeypatch: pytest.MonkeyPatch) -> None:
    built = {row.env_id: gym.make(row.env_id).unwrapped.setting for row in PAPER_SETTINGS}

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("setting_of built an env")

    monkeypatch.setattr(TableEnv, "__init__", refuse)
    for row in PAPER_SETTINGS:
        assert setting_of(row.env_id) == row.setting == built[row.env_id] == table_family.SETTINGS[row.key]
    assert setting_of("NPI-Table-v0") == Setting() == Setting(5)
    for wrong in ("NPI-Sort-v0", "NPI-Nope-v0"):
        with pytest.raises(ValueError, match=re.escape(f"{wrong!r} is not a table env; the table env ids are NPI-Table-v0, NPI-Table-1Col-v0")):
            setting_of(wrong)


def test_the_paper_table_holds_the_papers_figures() -> None:
    assert [(r.key, r.accuracy, r.test_templates, r.seen_in_training) for r in PAPER_SETTINGS] == [
        ("1col", 100.0, 23, 100.0),
        ("3col", 99.02, 307, 100.0),
        ("5col", 99.11, 1231, 98.62),
        ("10col", 99.13, 7900, 62.44),
        ("words-1col", 96.49, 1368, 100.0),
        ("words-5col", 88.99, 24000, 31.31),
        ("text-2col", 99.11, 1125, 97.42),
        ("text-5col", 98.03, 14600, 31.02),
    ]
    assert set(table_family.TABLE_ENV_IDS) == {"NPI-Table-v0", *(r.env_id for r in PAPER_SETTINGS)}
    assert set(table_family.TABLE_ENV_IDS) == set(npi_gym.FAMILY_IDS["table"])


def test_the_old_import_path_names_the_same_objects() -> None:
    for name in tables.__all__:
        assert getattr(tables, name) is getattr(table_family, name)
    from npi_gym.envs.table import TableEnv as again

    assert again is TableEnv and gym.spec("NPI-Table-v0").entry_point == "npi_gym.envs.table:TableEnv"


# ----------------------------------------------------------------------------------- table family
def test_operation_sets_derive_from_the_operation_table() -> None:
    T = table_family
    assert T.OPERATIONS == tuple(op.name for op in T.OPERATION_TABLE)
    assert T.SCALAR_OPERATIONS == {"sum", "count", "difference"} and T.LOOKUP_OPERATIONS == {"assign"}
    assert T.COLUMN_OPERATIONS == {"sum", "greater", "lesser", "assign", "text_match"}
    assert T.PIVOT_OPERATIONS == {"greater", "lesser"}
    env = TableEnv(numeric_columns=2, text_columns=1)
    expected = sum((3 if op.reads_column else 1) * (2 if op.pivot else 1) for op in T.OPERATION_TABLE)
    assert len(env.flat_actions) == expected
    env.reset(seed=0, options={"question": "count", "table": {"A": [1.0], "B": [2.0]}})
    assert not env._action_mask()["operation"][T.OPERATION_IDS["text_match"]]


def test_tokens_encode_and_decode_in_one_place() -> None:
    T = table_family
    words = np.arange(-1, T.NUM_WORDS)
    tokens = T.word_tokens(words)
    assert tokens[0] == T.PAD_TOKEN and [T.VOCABULARY[t] for t in tokens[1:]] == list(T.WORDS)
    assert T.word_ids(tokens).tolist() == words.tolist()
    assert T.is_word_token(tokens).tolist() == [False, *[True] * T.NUM_WORDS]
    assert T.encode_tokens(["greater", "-3.50", "A", "word:2"]) == [
        T.TOKEN_IDS["greater"], T.NUMBER_TOKEN, T.TOKEN_IDS["A"], T.TOKEN_IDS["word:2"]
    ]


@pytest.mark.parametrize(
    "table, why",
    [
        ({"A": [1.0, 2.0], "B": [1.0]}, "every column needs the same number of rows; got lengths [1, 2]"),
        (np.zeros((3, 2)), "columns are given as a mapping of names to lists of cells"),
        ([[1.0, 2.0], [3.0]], "columns are given as a mapping"),
        ({"A": 5}, "column A must be a list of cells; got 5"),
        ({"A": np.zeros((3, 2))}, "column A must be a list of cells"),
        ({"A": [[1.0, 2.0], [3.0]]}, "column A: cells are all numbers or all words word:k"),
        ({"B": [1.0]}, "columns are named A, B, C, ... in order"),
    ],
)
def test_a_malformed_custom_table_says_what_is_accepted(table: Any, why: str) -> None:
    with pytest.raises(ValueError) as error:
        TableEnv().reset(seed=0, options={"question": "sum A", "table": table})
    message = str(error.value)
    assert message.startswith("options['table'] is an npi_gym.envs.table.Table or a mapping of columns named A, B")
    assert "at most 5 columns in this env" in message and why in message


def test_a_ragged_table_says_it_needs_rectangular_arrays() -> None:
    with pytest.raises(ValueError, match="rectangular arrays of shape \\(rows, columns\\)"):
        table_family.Table([[1.0, 2.0], [3.0]], [[-1, -1], [-1]], ("number", "number"))
