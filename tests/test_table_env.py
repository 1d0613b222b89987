"""NPI-Table env: expert, rewards, masks, flat actions, options, bad input, observations."""

from __future__ import annotations

import copy
import pickle
import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import npi_gym
from npi_gym import FlatCalls, InvalidCall
from npi_gym.envs import table as T
from npi_gym.envs.table import TABLE_ENV_IDS, TableEnv

SETTING_IDS = {row.key: row.env_id for row in T.PAPER_SETTINGS}


def run_expert(env: gym.Env, **reset: object) -> tuple[float, TableEnv]:
    env.reset(**reset)
    base = env.unwrapped
    rewards = []
    for _ in range(T.STEPS):
        _, reward, terminated, truncated, info = env.step(base.expert_action())
        assert "invalid_call" not in info
        rewards.append(reward)
    assert terminated and not truncated
    assert rewards[:-1] == [0.0] * (T.STEPS - 1)
    return rewards[-1], base


def test_every_setting_has_its_id() -> None:
    assert set(SETTING_IDS.values()) | {"NPI-Table-v0"} == set(TABLE_ENV_IDS)
    assert set(TABLE_ENV_IDS) <= set(npi_gym.ENV_IDS)
    for setting, env_id in SETTING_IDS.items():
        assert gym.make(env_id).unwrapped.setting == T.SETTINGS[setting]
    assert gym.make("NPI-Table-v0").unwrapped.setting == T.SETTINGS["5col"]


@pytest.mark.parametrize("env_id", list(SETTING_IDS.values()))
@pytest.mark.parametrize("split", ["train", "test"])
def test_the_expert_answers_every_question(env_id: str, split: str) -> None:
    env = gym.make(env_id, split=split)
    for seed in range(150):
        reward, base = run_expert(env, seed=seed)
        assert reward == 1.0, base.example.question
        assert base.expert_action() is None


def test_the_expert_answers_every_dataset_question() -> None:
    env = TableEnv(numeric_columns=3, text_columns=2)
    for example in T.dataset(300, seed=1, setting="text-5col"):
        reward, base = run_expert(env, options={"example": example})
        assert reward == 1.0 and base.prediction == example.answer


def test_rewards_judge_the_answer_not_the_program() -> None:
    env = TableEnv(numeric_columns=2)
    table = {"A": [1.0, 2.0, 3.0], "B": [10.0, 20.0, 30.0]}
    count, reset, sum_b = (
        {"operation": T.OPERATIONS.index(o), "column": c, "pivot": 0} for o, c in [("count", 0), ("reset", 0), ("sum", 1)]
    )
    env.reset(options={"question": "count", "table": table})
    results = [env.step(a) for a in (count, reset, reset, reset)]
    assert results[-1][1] == 1.0 and env.prediction == 3.0
    env.reset(options={"question": "count", "table": table})
    results = [env.step(a) for a in (reset, reset, reset, sum_b)]
    assert results[-1][1] == 0.0 and env.prediction == 60.0
    env.reset(options={"question": "count", "table": table})
    results = [env.step(a) for a in (reset,) * 4]
    assert results[-1][1] == 0.0 and env.prediction is None


def test_expert_stops_once_the_agent_deviates() -> None:
    env = TableEnv()
    env.reset(seed=0, options={"question": "greater 1 A sum B"})
    assert env.expert_action() == {"operation": T.OPERATIONS.index("reset"), "column": 0, "pivot": 0}
    env.step({"operation": T.OPERATIONS.index("count"), "column": 0, "pivot": 0})
    assert env.expert_action() is None
    env.reset(seed=0)
    assert env.expert_action() is not None


def test_lookup_answers_must_be_the_exact_cells() -> None:
    env = TableEnv(numeric_columns=2)
    table = {"A": [1.0, 2.0, 3.0], "B": [10.0, 20.0, 30.0]}
    ops = {o: i for i, o in enumerate(T.OPERATIONS)}
    env.reset(options={"question": "greater 1.5 A print B", "table": table})
    for op, column in [("reset", 0), ("reset", 0), ("greater", 0), ("assign", 1)]:
        _, reward, *_ = env.step({"operation": ops[op], "column": column, "pivot": 0})
    assert env.prediction == frozenset({(1, 1), (2, 1)}) and reward == 1.0
    env.reset(options={"question": "greater 1.5 A print B", "table": table})
    for op, column in [("reset", 0), ("reset", 0), ("greater", 0), ("assign", 0)]:
        _, reward, *_ = env.step({"operation": ops[op], "column": column, "pivot": 0})
    assert env.prediction == frozenset({(1, 0), (2, 0)}) and reward == 0.0


# ----------------------------------------------------------------------------------- masks and flat actions
@pytest.mark.parametrize("env_id", ["NPI-Table-1Col-v0", "NPI-Table-10Col-v0", "NPI-Table-Text-5Col-v0"])
def test_masked_random_actions_are_always_valid(env_id: str) -> None:
    env = gym.make(env_id)
    env.action_space.seed(0)
    _, info = env.reset(seed=0)
    seen_columns = set()
    for _ in range(1000):
        action = env.action_space.sample(mask=info["action_mask"])
        _, _, terminated, _, info = env.step(action)
        assert "invalid_call" not in info
        seen_columns.add(int(action["column"]))
        if terminated:
            _, info = env.reset()
    assert seen_columns == set(range(env.unwrapped.setting.max_columns))


def test_masks_follow_the_table_and_question() -> None:
    env = TableEnv(numeric_columns=3, text_columns=2)
    _, info = env.reset(options={"question": "count", "table": {"A": [1.0], "B": [2.0]}})
    mask = info["action_mask"]
    assert mask["column"].tolist() == [1, 1, 0, 0, 0]
    assert mask["pivot"].tolist() == [1, 0]
    assert mask["operation"][T.OPERATIONS.index("text_match")] == 0 and mask["operation"].sum() == 9
    _, info = env.reset(options={"question": "greater 1 A or lesser 0 A count", "table": {"A": [1.0], "B": ["word:1"]}})
    assert info["action_mask"]["pivot"].tolist() == [1, 1]
    assert info["action_mask"]["operation"].all()


@pytest.mark.parametrize("env_id", ["NPI-Table-1Col-v0", "NPI-Table-5Col-v0", "NPI-Table-Text-5Col-v0"])
def test_flat_actions_cover_the_space_once_and_match_the_masks(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    actions = env.flat_actions
    columns, numbers = env.setting.max_columns, T.MAX_NUMBERS
    assert len(actions) == 3 * columns + 2 * columns * numbers + 5
    assert len({tuple(a.values()) for a in actions}) == len(actions)
    assert all(env.action_space.contains({k: np.int64(v) for k, v in a.items()}) for a in actions)
    for seed in range(30):
        _, info = env.reset(seed=seed)
        flat = env.flat_action_mask()
        mask = info["action_mask"]
        for action, valid in zip(actions, flat):
            allowed = all(mask[k][v] for k, v in action.items())
            assert allowed == valid
        assert flat.any()


def test_flat_calls_wrapper_drives_the_table_env() -> None:
    env = FlatCalls(gym.make("NPI-Table-Text-5Col-v0"))
    actions = [tuple(a.values()) for a in env.unwrapped.flat_actions]
    for seed in range(50):
        _, info = env.reset(seed=seed)
        np.testing.assert_array_equal(info["action_mask"], env.action_masks())
        for _ in range(T.STEPS):
            expert = tuple(env.unwrapped.expert_action().values())
            _, reward, terminated, _, info = env.step(actions.index(expert))
        assert terminated and reward == 1.0
    rng = np.random.default_rng(0)
    env.action_space.seed(1)
    _, info = env.reset(seed=0)
    for _ in range(500):
        _, _, terminated, _, info = env.step(env.action_space.sample(mask=info["action_mask"]))
        assert "invalid_call" not in info
        if terminated:
            _, info = env.reset(seed=int(rng.integers(1 << 20)))


def test_invalid_actions_do_nothing_or_raise() -> None:
    env = TableEnv(numeric_columns=3)
    obs, _ = env.reset(options={"question": "greater 1 A sum B", "table": {"A": [0.0, 2.0], "B": [5.0, 7.0]}})
    ops = {o: i for i, o in enumerate(T.OPERATIONS)}
    after, reward, terminated, _, info = env.step({"operation": ops["sum"], "column": 2, "pivot": 0})
    assert "column 2 does not exist" in info["invalid_call"]
    for key in ("row_selector", "scalar", "lookup"):
        np.testing.assert_array_equal(after[key], obs[key])
    assert after["step"] == 1 and reward == 0.0 and not terminated
    _, _, _, _, info = env.step({"operation": ops["greater"], "column": 0, "pivot": 1})
    assert "pivot 1 does not exist" in info["invalid_call"]
    _, _, _, _, info = env.step({"operation": ops["text_match"], "column": 0, "pivot": 0})
    assert "text_match needs a text column" in info["invalid_call"]
    _, _, terminated, _, info = env.step({"operation": ops["count"], "column": 2, "pivot": 1})
    assert "invalid_call" not in info and terminated and env.prediction == 2.0
    strict = TableEnv(numeric_columns=3, invalid_call="raise")
    strict.reset(options={"question": "count", "table": {"A": [1.0]}})
    with pytest.raises(InvalidCall, match="column 1 does not exist"):
        strict.step({"operation": ops["assign"], "column": 1, "pivot": 0})


@pytest.mark.parametrize(
    "action",
    [
        {"operation": 10, "column": 0, "pivot": 0},
        {"operation": 0, "column": 5, "pivot": 0},
        {"operation": 0, "column": 0, "pivot": 2},
        {"operation": 0, "column": 0},
        {"operation": 0.0, "column": 0, "pivot": 0},
        {"operation": True, "column": 0, "pivot": 0},
        {"operation": 0, "column": 0, "pivot": 0, "extra": 1},
        [0, 0, 0],
        3,
    ],
)
def test_malformed_actions_name_the_space(action: object) -> None:
    env = TableEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=re.escape("is not in the action space Dict(")) as error:
        env.step(action)
    assert "'operation': an int in [0, 10)" in str(error.value)


def test_stepping_a_finished_episode_is_an_error() -> None:
    env = TableEnv()
    env.reset(seed=0)
    for _ in range(T.STEPS):
        env.step(env.expert_action())
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.flat_actions[0])


# ----------------------------------------------------------------------------------- options and bad input
def test_a_given_question_and_table() -> None:
    env = TableEnv(numeric_columns=2, text_columns=1)
    table = {"A": ["word:2", "word:3", "word:2"], "B": [4.0, -1.0, 2.5], "C": [1.0, 1.0, 1.0]}
    obs, _ = env.reset(options={"question": "word:2 A and bigger than 3 B total of C", "table": table})
    assert env.example.answer == 1.0
    assert obs["numbers"].tolist() == [3.0, 0.0] and obs["number_mask"].tolist() == [1, 0]
    reward, _ = run_expert(env, options={"question": "word:2 A and bigger than 3 B total of C", "table": table})
    assert reward == 1.0


def test_a_given_question_gets_a_fitting_random_table() -> None:
    env = TableEnv(numeric_columns=3, text_columns=2, split="test")
    for seed in range(20):
        env.reset(seed=seed, options={"question": "word:4 E and greater 10 A print D"})
        kinds = env.example.table.kinds
        assert kinds[4] == "text" and kinds[0] == kinds[3] == "number"
        assert sorted(kinds) == ["number"] * 3 + ["text"] * 2 and env.example.table.shape[0] == 120
        assert run_expert(env, seed=seed, options={"question": "word:4 E and greater 10 A print D"})[0] == 1.0


def test_a_given_table_gets_a_random_question() -> None:
    env = TableEnv(numeric_columns=2)
    table = T.Table.from_columns({"A": [1.0, 2.0], "B": [3.0, 4.0]})
    questions = set()
    for seed in range(40):
        env.reset(seed=seed, options={"table": table})
        assert env.example.table is table
        questions.add(env.example.template)
    assert len(questions) > 10


@pytest.mark.parametrize(
    "options, error, why",
    [
        ({"question": "count", "table": {"A": ["word:1"], "B": ["word:2"]}}, ValueError, "at least one numeric column"),
        ({"question": "word:1 A count", "table": {"A": [1.0], "B": ["word:2"]}}, ValueError, "needs column A to be text"),
        ({"question": "sum F"}, ValueError, "this env's tables have columns A..E"),
        ({"question": "word:1 A count"}, ValueError, "needs more text columns than this env's tables have (5 numeric"),
        ({"question": "sum A", "table": {c: [1.0] for c in "ABCDEF"}}, ValueError, "at most 5 columns"),
        ({"question": 3}, ValueError, "must be a string like"),
        ({"question": "mean A"}, ValueError, "unknown word 'mean'"),
        ({"example": "sum A"}, ValueError, "must be an npi_gym.envs.table.Example"),
        ({"problem": (1, 2)}, ValueError, "accepted: ['question', 'table', 'example']"),
    ],
)
def test_bad_reset_options_say_what_is_accepted(options: dict, error: type, why: str) -> None:
    with pytest.raises(error, match=re.escape(why)):
        TableEnv().reset(seed=0, options=options)


@pytest.mark.parametrize(
    "kwargs, error, why",
    [
        ({"numeric_columns": 11}, ValueError, "numeric_columns must be an int in 1..10"),
        ({"numeric_columns": 0}, ValueError, "numeric_columns must be an int in 1..10"),
        ({"text_columns": 6}, ValueError, "text_columns must be an int in 0..5"),
        ({"split": "validation"}, ValueError, "split must be 'train' or 'test'"),
        ({"invalid_call": "ignore"}, ValueError, "invalid_call must be 'noop' or 'raise'"),
        ({"render_mode": "human"}, ValueError, "render_mode must be one of ['ansi']"),
        ({"columns": 5}, TypeError, "accepted: ['numeric_columns', 'text_columns'"),
    ],
)
def test_bad_settings_say_what_is_accepted(kwargs: dict, error: type, why: str) -> None:
    with pytest.raises(error, match=re.escape(why)):
        gym.make("NPI-Table-v0", **kwargs)


# ----------------------------------------------------------------------------------- observation, render, copies
def test_observation_shows_the_question_table_and_outputs() -> None:
    env = TableEnv(numeric_columns=2, text_columns=1)
    table = {"A": [4.0, -1.0], "B": ["word:7", "word:2"], "C": [1.5, 2.5]}
    obs, _ = env.reset(options={"question": "greater 0 A sum C", "table": table})
    assert env.observation_space.contains(obs)
    tokens = [T.VOCABULARY[i] for i in obs["question"] if i]
    assert tokens == ["greater", "<num>", "A", "sum", "C"] and obs["question"][5:].sum() == 0
    assert obs["table"][:2].tolist() == [[4.0, 0.0, 1.5], [-1.0, 0.0, 2.5]] and not obs["table"][2:].any()
    assert [T.VOCABULARY[i] for i in obs["words"][:2, 1]] == ["word:7", "word:2"] and not obs["words"][:, [0, 2]].any()
    assert obs["row_mask"].sum() == 2 and obs["numeric_columns"].tolist() == [1, 0, 1]
    assert obs["text_columns"].tolist() == [0, 1, 0]
    assert [T.VOCABULARY[i] for i in obs["column_names"]] == ["A", "B", "C"]
    assert obs["step"] == 0 and obs["row_selector"].tolist()[:3] == [1, 1, 0]
    for _ in range(3):
        obs, *_ = env.step(env.expert_action())
    assert obs["step"] == 3 and obs["row_selector"][:2].tolist() == [1, 0]
    obs, *_ = env.step(env.expert_action())
    assert obs["scalar"].tolist() == [1.5] and not obs["row_selector"].any()
    train, test = TableEnv(split="train"), TableEnv(split="test")
    assert train.observation_space == test.observation_space


def test_render_shows_question_rows_and_selection() -> None:
    env = gym.make("NPI-Table-Text-5Col-v0", render_mode="ansi")
    env.reset(seed=4, options={"question": "greater 0 A count"})
    for _ in range(3):
        env.step(env.unwrapped.expert_action())
    text = env.render()
    table = env.unwrapped.example.table
    selected = [r for r in range(table.shape[0]) if table.values[r, 0] > 0]
    assert text.startswith("Q: greater 0 A count\nstep 3/4: reset, reset, greater(A, N0)")
    assert f"selected rows ({len(selected)} of {table.shape[0]}): [{', '.join(map(str, selected[:20]))}" in text
    assert f"{table.values[0, 0]:.2f}" in text and f"... {table.shape[0] - 5} more rows" in text
    quiet = TableEnv()
    quiet.reset(seed=0)
    assert quiet.render() is None


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda e: pickle.loads(pickle.dumps(e))], ids=["deepcopy", "pickle"])
def test_copies_mid_episode_finish_alike(clone) -> None:
    env = TableEnv(numeric_columns=3, text_columns=2)
    env.reset(seed=12)
    env.step(env.expert_action())
    twin = clone(env)
    assert twin.expert_action() == env.expert_action() and twin.example.question == env.example.question
    for _ in range(T.STEPS - 1):
        a, b = env.step(env.expert_action()), twin.step(twin.expert_action())
        np.testing.assert_array_equal(a[0]["row_selector"], b[0]["row_selector"])
    assert a[1:4] == b[1:4] == (1.0, True, False)


def test_seeded_resets_repeat_and_differ() -> None:
    a, b = TableEnv(), TableEnv()
    def draws(env: TableEnv) -> list:
        return [env.reset(seed=s) and (env.example.question, env.example.table.values.tobytes()) for s in range(20)]

    assert draws(a) == draws(b) and len(set(draws(a))) == 20
    obs_a, _ = a.reset(seed=3)
    obs_b, _ = b.reset(seed=3)
    for key in obs_a:
        np.testing.assert_array_equal(obs_a[key], obs_b[key])


def test_check_env_on_the_test_split_and_text_tables() -> None:
    for kwargs in ({"split": "test"}, {"numeric_columns": 3, "text_columns": 2, "render_mode": "ansi"}):
        check_env(gym.make("NPI-Table-v0", **kwargs).unwrapped, skip_render_check=False)
