"""Addition and sort: golden traces, the expert at every size, sub-program episodes, limits, bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import npi_gym
from npi_gym import InvalidCall
from npi_gym.traces import rollout
from tests.conftest import SCRATCH_PAD_IDS

PAPER_96_PLUS_125 = """\
ADD
  ADD1
    ACT WRITE OUT 1
    CARRY
      ACT PTR CARRY LEFT
      ACT WRITE CARRY 1
      ACT PTR CARRY RIGHT
  LSHIFT
    ACT PTR INP1 LEFT
    ACT PTR INP2 LEFT
    ACT PTR CARRY LEFT
    ACT PTR OUT LEFT
  ADD1
    ACT WRITE OUT 2
    CARRY
      ACT PTR CARRY LEFT
      ACT WRITE CARRY 1
      ACT PTR CARRY RIGHT
  LSHIFT
    ACT PTR INP1 LEFT
    ACT PTR INP2 LEFT
    ACT PTR CARRY LEFT
    ACT PTR OUT LEFT
  ADD1
    ACT WRITE OUT 2
  LSHIFT
    ACT PTR INP1 LEFT
    ACT PTR INP2 LEFT
    ACT PTR CARRY LEFT
    ACT PTR OUT LEFT"""


def out_row_value(env: gym.Env) -> int:
    base = env.unwrapped
    row = base.pad[3]
    return int("".join(str(d) for d in row if d != base.base) or "0")


def top_level(trace, depth: int = 1) -> list[str]:
    return [trace.programs.text(s.call) for s in trace.steps if s.depth == depth and s.call.program != 0]


def test_golden_trace_96_plus_125_is_the_papers_figure() -> None:
    env = gym.make("NPI-Addition-v0")
    trace = rollout(env, options={"problem": (96, 125)})
    assert trace.text() == PAPER_96_PLUS_125
    assert trace.reward == 1.0
    assert out_row_value(env) == 221


def test_golden_trace_9_2_5_has_three_rounds() -> None:
    env = gym.make("NPI-Sort-v0")
    trace = rollout(env, options={"problem": [9, 2, 5]})
    assert top_level(trace) == ["BUBBLE", "RESET"] * 3
    assert frames_of(trace, "BUBBLE") == [["ACT PTR 2 RIGHT", "BSTEP", "BSTEP", "RETURN"]] * 3
    assert frames_of(trace, "RESET") == [["LSHIFT", "LSHIFT", "ACT PTR 3 RIGHT", "RETURN"]] * 3
    assert list(env.unwrapped.array) == [2, 5, 9]
    assert trace.text().count("ACT SWAP 1 2") == 2


def frames_of(trace, name: str) -> list[list[str]]:
    """The calls made in each frame of program ``name``, in order."""
    return [
        [trace.programs.text(s.call) for s in steps]
        for call, steps in trace.frames()
        if trace.programs.names[call.program] == name
    ]


def test_recursive_variants_use_tail_calls() -> None:
    add = rollout(gym.make("NPI-Addition-Recursive-v0"), options={"problem": (96, 125)})
    assert frames_of(add, "ADD") == [["ADD1", "LSHIFT", "ADD", "RETURN"]] * 2 + [["ADD1", "LSHIFT", "RETURN"]]
    assert add.reward == 1.0
    sort = rollout(gym.make("NPI-Sort-Recursive-v0"), options={"problem": [9, 2, 5]})
    assert frames_of(sort, "BUBBLESORT") == [["BUBBLE", "RESET", "BUBBLESORT", "RETURN"]] * 2 + [
        ["BUBBLE", "RESET", "RETURN"]
    ]
    assert frames_of(sort, "BSTEP")[:2] == [["COMPSWAP", "RSHIFT", "BSTEP", "RETURN"], ["COMPSWAP", "RSHIFT", "RETURN"]]
    assert frames_of(sort, "LSHIFT")[:2] == [
        ["ACT PTR 1 LEFT", "ACT PTR 2 LEFT", "LSHIFT", "RETURN"],
        ["ACT PTR 1 LEFT", "ACT PTR 2 LEFT", "RETURN"],
    ]
    assert sort.reward == 1.0


ADDITION_LENGTHS = [1, 2, 3, 7, 20, 100, 1000]
SORT_LENGTHS = [2, 3, 5, 20, 60, 100]


@pytest.mark.parametrize("env_id", SCRATCH_PAD_IDS)
def test_expert_solves_every_size(env_id: str) -> None:
    lengths = ADDITION_LENGTHS if env_id in npi_gym.FAMILY_IDS["addition"] else SORT_LENGTHS
    env = gym.make(env_id)
    for length in lengths:
        for seed in range(3 if length <= 20 else 1):
            trace = rollout(env, seed=seed, options={"length": length})
            assert trace.reward == 1.0, (length, seed, env.unwrapped.problem)
            assert len(trace) <= env.unwrapped.step_budget
            if env_id in npi_gym.FAMILY_IDS["addition"]:
                a, b = env.unwrapped.problem
                assert max(map(len, (a, b))) == length
                assert out_row_value(env) == int(a) + int(b) if length <= 1000 else True
            else:
                assert len(env.unwrapped.array) == length
                assert list(env.unwrapped.array) == sorted(env.unwrapped.problem)


@pytest.mark.parametrize("env_id", SCRATCH_PAD_IDS)
def test_budget_is_about_twice_the_expert(env_id: str) -> None:
    env = gym.make(env_id)
    for seed in range(20):
        trace = rollout(env, seed=seed)
        assert len(trace) < env.unwrapped.step_budget <= 3.5 * len(trace) + 10


def expert_programs(env_id: str) -> list[str]:
    env = gym.make(env_id, min_length=4, max_length=4)
    names = set()
    for seed in range(5):
        trace = rollout(env, seed=seed)
        names |= {trace.programs.names[c.program] for c, _ in trace.frames()}
    return sorted(names)


@pytest.mark.parametrize("env_id", SCRATCH_PAD_IDS)
def test_subprogram_episodes_start_at_each_program(env_id: str) -> None:
    env = gym.make(env_id)
    programs = expert_programs(env_id)
    assert len(programs) >= 4
    for name in programs:
        for seed in range(5):
            trace = rollout(env, seed=seed, options={"program": name, "length": 5})
            assert env.unwrapped.programs.names[trace.opening.program] == name
            assert env.unwrapped.stack == ()
            assert trace.reward == 1.0, (name, seed)


@pytest.mark.parametrize("env_id", SCRATCH_PAD_IDS)
def test_subprogram_reward_needs_the_experts_end_state(env_id: str) -> None:
    env = gym.make(env_id)
    name = "LSHIFT"
    env.reset(seed=1, options={"program": name, "length": 6})
    _, reward, terminated, _, _ = env.step(env.unwrapped.call_to_action("RETURN"))
    assert terminated and reward == 0.0


def test_rshift_of_addition_is_never_called_and_says_so() -> None:
    env = gym.make("NPI-Addition-v0")
    with pytest.raises(ValueError, match="never calls RSHIFT"):
        env.reset(options={"program": "RSHIFT"})


def test_masked_call_is_a_noop_or_raises() -> None:
    env = gym.make("NPI-Addition-v0")
    obs, _ = env.reset(seed=0, options={"problem": (12, 34)})
    before = env.unwrapped.pad
    obs2, reward, terminated, truncated, info = env.step(env.unwrapped.call_to_action("CARRY"))
    assert "ADD may not call CARRY" in info["invalid_call"]
    assert np.array_equal(env.unwrapped.pad, before) and env.unwrapped.stack == ("ADD",)
    assert env.unwrapped.steps == 1 and not (terminated or truncated) and reward == 0.0
    strict = gym.make("NPI-Addition-v0", invalid_call="raise")
    strict.reset(seed=0, options={"problem": (12, 34)})
    with pytest.raises(InvalidCall, match="ADD may not call CARRY"):
        strict.step(strict.unwrapped.call_to_action("CARRY"))
    assert strict.unwrapped.steps == 0 and strict.unwrapped.stack == ("ADD",)
    strict.step(strict.unwrapped.expert_action())
    assert strict.unwrapped.stack == ("ADD", "ADD1")


def test_off_pad_move_and_undeclared_args_are_invalid() -> None:
    env = gym.make("NPI-Addition-v0", invalid_call="raise")
    env.reset(seed=0, options={"problem": (12, 34)})
    env.step(env.unwrapped.call_to_action("ADD1"))
    with pytest.raises(InvalidCall, match="right end of the pad"):
        env.step(env.unwrapped.call_to_action("ACT PTR OUT RIGHT"))
    with pytest.raises(InvalidCall, match="arguments not accepted"):
        env.step({"program": env.unwrapped.programs.ids["ACT"], "args": np.array([1, 0, 3])})
    small = gym.make("NPI-Addition-v0", base=2, invalid_call="raise")
    small.reset(seed=0, options={"problem": ("101", "11")})
    small.step(small.unwrapped.call_to_action("ADD1"))
    with pytest.raises(InvalidCall, match="not a digit in base 2"):
        small.step(small.unwrapped.call_to_action("ACT WRITE OUT 5"))


def test_invalid_call_does_not_derail_the_expert() -> None:
    env = gym.make("NPI-Sort-v0")
    env.reset(seed=0, options={"problem": [3, 1, 2]})
    def text() -> str:
        return env.unwrapped.programs.text(env.unwrapped.action_to_call(env.unwrapped.expert_action()))

    assert text() == "BUBBLE"
    assert "may not call" in env.step(env.unwrapped.call_to_action("BSTEP"))[4]["invalid_call"]
    env.step(env.unwrapped.call_to_action("BUBBLE"))
    assert "left end" in env.step(env.unwrapped.call_to_action("ACT PTR 1 LEFT"))[4]["invalid_call"]
    assert text() == "ACT PTR 2 RIGHT"


def test_expert_after_deviation_and_after_a_fresh_call() -> None:
    env = gym.make("NPI-Addition-v0")
    env.reset(seed=0, options={"problem": (5, 7)})
    env.step(env.unwrapped.call_to_action("LSHIFT"))
    assert env.unwrapped.expert_action() is not None
    env.step(env.unwrapped.call_to_action("ACT PTR INP2 LEFT"))
    assert env.unwrapped.expert_action() is None
    env.step(env.unwrapped.call_to_action("RETURN"))
    assert env.unwrapped.stack == ("ADD",)
    assert env.unwrapped.expert_action() is None
    env.step(env.unwrapped.call_to_action("ADD1"))
    assert env.unwrapped.programs.text(env.unwrapped.action_to_call(env.unwrapped.expert_action())).startswith(
        "ACT WRITE OUT"
    )


def test_depth_limit_truncates_runaway_recursion() -> None:
    env = gym.make("NPI-Addition-Recursive-v0")
    env.reset(seed=0, options={"problem": (1, 2)})
    limit = env.unwrapped.max_depth
    for depth in range(2, limit + 2):
        _, _, terminated, truncated, _ = env.step(env.unwrapped.call_to_action("ADD"))
        assert len(env.unwrapped.stack) == depth
        if truncated:
            break
    assert truncated and not terminated and len(env.unwrapped.stack) == limit + 1


def test_step_budget_truncates() -> None:
    env = gym.make("NPI-Sort-v0")
    env.reset(seed=0, options={"problem": [2, 1]})
    truncated = False
    for _ in range(env.unwrapped.step_budget):
        assert not truncated
        _, _, terminated, truncated, _ = env.step(env.unwrapped.call_to_action("ACT PTR 3 LEFT"))
    assert truncated and not terminated
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.unwrapped.call_to_action("RETURN"))


@pytest.mark.parametrize(
    "env_id, problem, message",
    [
        ("NPI-Addition-v0", ("9a", 1), "digits"),
        ("NPI-Addition-v0", (-3, 1), "non-negative"),
        ("NPI-Addition-v0", (1, 2, 3), "pair"),
        ("NPI-Addition-v0", "96+125", "pair"),
        ("NPI-Sort-v0", [], "non-empty"),
        ("NPI-Sort-v0", [1, 42], r"\[0, 9\]"),
        ("NPI-Sort-v0", [1, "x"], "integers"),
    ],
)
def test_impossible_problems_say_what_is_accepted(env_id: str, problem, message: str) -> None:
    env = gym.make(env_id)
    with pytest.raises(ValueError, match=message):
        env.reset(options={"problem": problem})


def test_bad_options_and_kwargs() -> None:
    env = gym.make("NPI-Sort-v0")
    with pytest.raises(ValueError, match="accepted"):
        env.reset(options={"lenght": 3})
    with pytest.raises(ValueError, match=r"length'\] must be an integer >= 1"):
        env.reset(options={"length": 0})
    with pytest.raises(ValueError, match="BUBBLE"):
        env.reset(options={"program": "ACT"})
    with pytest.raises(ValueError, match="max_length must be an integer >= 5"):
        gym.make("NPI-Sort-v0", min_length=5, max_length=2)
    with pytest.raises(ValueError, match="base"):
        gym.make("NPI-Addition-v0", base=16)
    with pytest.raises(ValueError, match="invalid_call"):
        gym.make("NPI-Addition-v0", invalid_call="ignore")


def test_addition_operands_have_independent_lengths() -> None:
    env = gym.make("NPI-Addition-v0", min_length=1, max_length=12)
    pairs = set()
    for seed in range(200):
        env.reset(seed=seed)
        a, b = env.unwrapped.problem
        pairs.add((len(a), len(b)))
        assert a == "0" or a[0] != "0"
    assert len(pairs) > 40 and any(x < y for x, y in pairs) and any(x > y for x, y in pairs)


def test_observation_is_fixed_size_whatever_the_problem() -> None:
    env = gym.make("NPI-Addition-v0")
    shapes = set()
    for length in (1, 50, 500):
        obs, _ = env.reset(seed=0, options={"length": length})
        shapes.add(tuple((k, np.shape(v)) for k, v in sorted(obs.items())))
    assert len(shapes) == 1
    obs, _ = env.reset(options={"problem": (96, 125)})
    assert list(obs["digits"]) == [6, 5, 10, 10]


def test_renderings_show_the_pad() -> None:
    env = gym.make("NPI-Addition-v0", render_mode="ansi")
    rollout(env, options={"problem": (96, 125)})
    text = env.render()
    assert "OUT" in text and "2  2  1" in text
    image = gym.make("NPI-Sort-v0", render_mode="rgb_array")
    image.reset(seed=0, options={"problem": [3, 1, 2]})
    frame = image.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    image.step(image.unwrapped.call_to_action("BUBBLE"))
    image.step(image.unwrapped.call_to_action("ACT PTR 2 RIGHT"))
    assert not np.array_equal(frame, image.render())
