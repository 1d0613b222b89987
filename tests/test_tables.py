"""The table-question generator: templates, questions, programs, operations, and an independent evaluator."""

from __future__ import annotations

import collections
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npi_gym.envs import table as T

# ----------------------------------------------------------------------------------- independent evaluator
# The meaning of a keyword question, read straight off the paper's description in plain Python over
# lists of cells. It shares nothing with npi_gym.envs.table but the Table it reads cells from.

KEYWORDS = {
    "sum": "sum", "total": "sum", "total of": "sum", "sum of": "sum",
    "count": "count", "count of": "count", "how many": "count",
    "greater": ">", "greater than": ">", "bigger": ">", "bigger than": ">", "larger": ">", "larger than": ">",
    "lesser": "<", "lesser than": "<", "smaller": "<", "smaller than": "<", "under": "<",
    "print": "print", "display": "print", "show": "print",
    "diff": "diff", "difference": "diff", "difference between": "diff",
}


def table_cells(table: T.Table) -> dict[str, list]:
    """The table as {column letter: list of cells}, numbers as floats and words as 'word:k'."""
    rows, columns = table.values.shape
    cells = {}
    for c in range(columns):
        letter = "ABCDEFGHIJ"[c]
        if table.kinds[c] == "text":
            cells[letter] = [f"word:{table.words[r][c]}" for r in range(rows)]
        else:
            cells[letter] = [float(table.values[r][c]) for r in range(rows)]
    return cells


def evaluate(question: str, cells: dict[str, list]):
    """The answer to a keyword question: a float, or a frozenset of (row, column index) cells."""
    words = question.split()
    items = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i : i + 2])
        if pair in KEYWORDS:
            items.append(KEYWORDS[pair])
            i += 2
        elif words[i] in KEYWORDS:
            items.append(KEYWORDS[words[i]])
            i += 1
        else:
            items.append(words[i])
            i += 1
    rows = range(len(next(iter(cells.values()))))
    letters = list(cells)

    def aggregate(term: list[str], chosen: list[int]):
        if term[0] == "count":
            return float(len(chosen))
        if term[0] == "sum":
            return float(sum(cells[term[1]][r] for r in chosen))
        return frozenset((r, letters.index(term[1])) for r in chosen)

    if "diff" in items:
        at = items.index("diff")
        return aggregate(items[:at], list(rows)) - aggregate(items[at + 1 :], list(rows))
    start = max(i for i, item in enumerate(items) if item in ("sum", "count", "print"))
    conditions, term = items[:start], items[start:]

    def holds(condition: list[str], r: int) -> bool:
        if condition[0].startswith("word:"):
            return cells[condition[1]][r] == condition[0]
        op, number, letter = condition
        if isinstance(cells[letter][r], str):
            return False
        return cells[letter][r] > float(number) if op == ">" else cells[letter][r] < float(number)

    if not conditions:
        chosen = list(rows)
    elif "and" in conditions or "or" in conditions:
        join = "and" if "and" in conditions else "or"
        at = conditions.index(join)
        left, right = conditions[:at], conditions[at + 1 :]
        if join == "and":
            chosen = [r for r in rows if holds(left, r) and holds(right, r)]
        else:
            chosen = [r for r in rows if holds(left, r) or holds(right, r)]
    else:
        chosen = [r for r in rows if holds(conditions, r)]
    return aggregate(term, chosen)


def assert_agrees(example: T.Example) -> None:
    expected = evaluate(example.question, table_cells(example.table))
    if isinstance(expected, frozenset):
        assert example.answer == expected, example.question
    else:
        assert isinstance(example.answer, float)
        assert abs(example.answer - expected) < 1e-6, (example.question, example.answer, expected)


@pytest.mark.parametrize("setting", list(T.SETTINGS))
@pytest.mark.parametrize("split", T.SPLITS)
def test_generator_answers_agree_with_the_independent_evaluator(setting: str, split: str) -> None:
    examples = list(T.dataset(250, seed=11, setting=setting, split=split))
    for example in examples:
        assert_agrees(example)
    kinds = {type(e.answer) for e in examples}
    assert kinds == {float, frozenset}


PLAIN = ["sum", "count", "print", "greater", "lesser", "diff"]


@st.composite
def question_and_table(draw):
    """Small tables with small integer values (so comparisons hit ties) and questions over them."""
    columns = draw(st.integers(1, 4))
    kinds = draw(st.lists(st.sampled_from(["number", "text"]), min_size=columns, max_size=columns))
    if "number" not in kinds:
        kinds[0] = "number"
    rows = draw(st.integers(1, 6))
    data = {}
    for c, kind in enumerate(kinds):
        if kind == "text":
            cells = st.sampled_from(["word:0", "word:1", "word:2"])
            data["ABCD"[c]] = draw(st.lists(cells, min_size=rows, max_size=rows))
        else:
            data["ABCD"[c]] = draw(st.lists(st.integers(-3, 3).map(float), min_size=rows, max_size=rows))
    numeric = [k for k, v in data.items() if isinstance(v[0], float)]
    text = [k for k, v in data.items() if isinstance(v[0], str)]
    synonyms = collections.defaultdict(list)
    for phrase, meaning in KEYWORDS.items():
        synonyms[meaning].append(phrase)

    def say(meaning: str) -> str:
        return draw(st.sampled_from(synonyms[meaning]))

    def condition(kind: str) -> str:
        if kind == "text":
            return f"word:{draw(st.integers(0, 2))} {draw(st.sampled_from(text))}"
        number = draw(st.sampled_from(["-2", "0", "1.5", "3.00", "2"]))
        return f"{say(kind)} {number} {draw(st.sampled_from(numeric))}"

    def term(ops: list[str]) -> str:
        op = draw(st.sampled_from(ops))
        return say(op) + ("" if op == "count" else " " + draw(st.sampled_from(numeric)))

    if draw(st.booleans()):
        question = f"{term(['sum', 'count'])} {say('diff')} {term(['sum', 'count'])}"
    else:
        kinds_ = [">", "<"] + (["text"] if text else [])
        chosen = draw(st.lists(st.sampled_from(kinds_), max_size=2).filter(lambda ks: ks.count("text") < 2))
        parts = [condition(k) for k in chosen]
        prefix = f" {draw(st.sampled_from(['and', 'or']))} ".join(parts)
        question = (prefix + " " if prefix else "") + term(["sum", "count", "print"])
    return question, data


@settings(max_examples=300, deadline=None)
@given(question_and_table())
def test_any_question_agrees_with_the_independent_evaluator(case) -> None:
    question, data = case
    example = T.make_example(question, T.Table.from_columns(data))
    assert_agrees(example)


# ----------------------------------------------------------------------------------- templates
PAPER_SINGLE_COLUMN = """\
sum A | count | print A
greater N A sum A | lesser N A sum A | greater N A count | lesser N A count | greater N A print A | lesser N A print A
greater N A and lesser N A sum A | lesser N A and greater N A sum A
greater N A or lesser N A sum A | lesser N A or greater N A sum A
greater N A and lesser N A count | lesser N A and greater N A count
greater N A or lesser N A count | lesser N A or greater N A count
greater N A and lesser N A print A | lesser N A and greater N A print A
greater N A or lesser N A print A | lesser N A or greater N A print A
sum A diff count | count diff sum A"""


def test_the_23_single_column_templates_are_the_papers() -> None:
    paper = {t.strip() for line in PAPER_SINGLE_COLUMN.splitlines() for t in line.split("|")}
    assert len(paper) == 23
    assert T.all_templates("1col") == paper
    sampled = {e.template for e in T.dataset(2000, seed=0, setting="1col", split="test")}
    assert sampled == paper


def test_categories_are_drawn_uniformly_then_templates_within() -> None:
    counts = collections.Counter()
    for example in T.dataset(4000, seed=1, setting="1col"):
        q = example.query
        counts["arithmetic" if len(q.terms) == 2 else ("aggregation", "comparison", "logic")[len(q.conditions)]] += 1
    for category in T.CATEGORIES:
        assert 0.22 < counts[category] / 4000 < 0.28, counts


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 10])
def test_multi_column_template_counts(n: int) -> None:
    # aggregation n+1+n, comparison 2n^2+2n+2n^2, logic 4(n^3 + n^2 + n^3), arithmetic 2n
    assert len(T.all_templates(T.Setting(n))) == 8 * n**3 + 8 * n**2 + 6 * n + 1


def test_template_counts_that_the_paper_determines() -> None:
    assert len(T.all_templates("3col")) == 307
    assert len(T.all_templates("5col")) == 1231
    assert len(T.all_templates("words-1col")) == 1368


def test_sampled_templates_are_among_the_enumerated_ones() -> None:
    for setting in ("5col", "words-5col", "text-5col", "text-2col"):
        every = T.all_templates(setting)
        for example in T.dataset(300, seed=2, setting=setting, split="test"):
            assert example.template in every


def test_word_variability_uses_every_synonym_and_only_with_the_setting() -> None:
    tokens = collections.Counter(t for e in T.dataset(3000, seed=3, setting="words-1col") for t in e.tokens)
    for phrase in KEYWORDS:
        for word in phrase.split():
            if phrase != "diff":
                assert tokens[word] > 0, phrase
    assert tokens["diff"] == 0
    plain = {t for e in T.dataset(500, seed=3, setting="5col") for t in e.tokens}
    assert plain & {"total", "how", "bigger", "under", "display", "difference"} == set()


def test_text_settings_ask_text_matches_over_text_columns() -> None:
    examples = list(T.dataset(1000, seed=4, setting="text-5col"))
    texts = [e.table.kinds.count("text") for e in examples]
    numbers = [e.table.kinds.count("number") for e in examples]
    assert set(texts) == {1, 2} and set(numbers) == {1, 2, 3}
    matches = [e for e in examples if any(t.startswith("word:") for t in e.tokens)]
    assert 0.15 < len(matches) / len(examples) < 0.35
    assert all(any(s.operation == "text_match" for s in e.program) for e in matches)
    test = list(T.dataset(50, seed=4, setting="text-5col", split="test"))
    assert all(sorted(e.table.kinds) == ["number"] * 3 + ["text"] * 2 for e in test)
    assert len({e.table.kinds for e in test}) > 1
    pairs = {next(T.dataset(1, seed=s, setting="text-2col")).table.kinds for s in range(20)}
    assert pairs == {("number", "text"), ("text", "number")}


@pytest.mark.parametrize("setting", ["1col", "5col", "10col", "text-5col"])
def test_tables_follow_the_paper_per_split(setting: str) -> None:
    config = T.SETTINGS[setting]
    train = list(T.dataset(400, seed=5, setting=setting, split="train"))
    rows = [e.table.shape[0] for e in train]
    assert min(rows) >= 30 and max(rows) <= 100 and len(set(rows)) > 30
    assert {e.table.shape[1] for e in train} == set(
        range(1 + (config.text_columns > 0), config.max_columns + 1)
    )
    values = np.concatenate([e.table.values[:, e.table.numeric].ravel() for e in train])
    assert np.abs(values).max() <= 100 and np.abs(values).max() > 99
    assert np.all(np.round(values, 2) == values)
    test = list(T.dataset(50, seed=5, setting=setting, split="test"))
    assert {e.table.shape for e in test} == {(120, config.max_columns)}
    values = np.concatenate([e.table.values[:, e.table.numeric].ravel() for e in test])
    assert 190 < np.abs(values).max() <= 200
    numbers = [n for e in test for n in e.numbers]
    assert max(abs(n) for n in numbers) > 100


def test_same_column_ranges_are_ordered() -> None:
    for example in T.dataset(3000, seed=6, setting="1col"):
        q = example.query
        if len(q.conditions) == 2:
            low = example.numbers[[c.kind for c in q.conditions].index("greater")]
            high = example.numbers[[c.kind for c in q.conditions].index("lesser")]
            assert (low <= high) if q.connective == "and" else (low >= high), example.question


def test_dataset_is_reproducible_per_seed() -> None:
    def fingerprint(seed: int) -> list:
        examples = T.dataset(30, seed, "text-5col")
        return [(e.question, e.table.values.tobytes(), e.table.words.tobytes()) for e in examples]

    assert fingerprint(9) == fingerprint(9)
    assert fingerprint(9) != fingerprint(10)


# ----------------------------------------------------------------------------------- programs
def test_programs_have_four_steps_and_the_last_writes_the_answer() -> None:
    for example in T.dataset(500, seed=7, setting="text-5col"):
        assert len(example.program) == T.STEPS
        assert example.program[-1].operation in T.SCALAR_OPERATIONS | T.LOOKUP_OPERATIONS
        query = example.query
        if len(query.terms) == 1:
            padding = T.STEPS - len(query.conditions) - (query.connective is not None) - 1
            assert [s.operation for s in example.program[:padding]] == ["reset"] * padding
            assert "reset" not in [s.operation for s in example.program[padding:]]


@pytest.mark.parametrize(
    "question, program",
    [
        ("sum A diff count", ["sum(A)", "reset", "count", "difference"]),
        ("count diff sum B", ["count", "reset", "sum(B)", "difference"]),
        ("count", ["reset", "reset", "reset", "count"]),
        ("greater 1 B print A", ["reset", "reset", "greater(B, N0)", "assign(A)"]),
        ("larger than 1 A or under 2 B how many", ["greater(A, N0)", "lesser(B, N1)", "or", "count"]),
        ("word:3 C and smaller -1 A total of B", ["text_match(C)", "lesser(A, N0)", "and", "sum(B)"]),
    ],
)
def test_questions_compile_to_the_papers_programs(question: str, program: list[str]) -> None:
    query, _ = T.parse_question(question)
    assert [str(s) for s in query.program()] == program


def test_rendering_and_parsing_round_trip() -> None:
    rng = np.random.default_rng(0)
    for kinds in [("number", "text", "number"), ("text", "number")]:
        for category in T.CATEGORIES:
            for shape in T.shapes(category, text=True):
                for query in T.fillings(shape, kinds):
                    count = sum(c.kind != "text" for c in query.conditions)
                    used = tuple(float(x) for x in np.round(rng.uniform(-200, 200, count), 2))
                    tokens = T.render(query, used, T.sample_phrases(rng, query))
                    assert T.parse_question(tokens) == (query, used)


@pytest.mark.parametrize(
    "question, why",
    [
        ("", "expected sum, count or print"),
        ("sum", "expected a column"),
        ("greater A sum B", "expected a number"),
        ("sum A and", "unexpected"),
        ("print A diff count", "diff joins two"),
        ("greater 3 A sum B diff count", "diff joins two"),
        ("average A", "unknown word 'average'"),
        ("greater 3 A and sum B", "expected a condition after and"),
        ("word:1 A or word:2 A count", "one word:k at most"),
        ("greater 1e9 A count", "unknown word '1e9'"),
        ("greater 2000000 A count", "numbers lie in [-1e+06, 1e+06]"),
    ],
)
def test_bad_questions_say_what_is_accepted(question: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)) as error:
        T.parse_question(question)
    assert "accepted" in str(error.value)


def test_questions_must_fit_their_table() -> None:
    table = T.Table.from_columns({"A": [1.0, 2.0], "B": ["word:1", "word:2"]})
    with pytest.raises(ValueError, match="uses column C"):
        T.make_example("sum C", table)
    with pytest.raises(ValueError, match="needs column B to be numeric"):
        T.make_example("sum B", table)
    with pytest.raises(ValueError, match="needs column A to be text"):
        T.make_example("word:1 A count", table)
    assert T.make_example("word:1 B sum A", table).answer == 1.0


@pytest.mark.parametrize(
    "columns, why",
    [
        ({"A": ["word:1", "word:2"]}, "at least one numeric column"),
        ({"A": [1.0] * 121}, "1..120 rows"),
        ({"A": [1.0], "C": [2.0]}, "named A, B, C"),
        ({"A": [1.0, 2.0], "B": [1.0]}, "same number of rows"),
        ({"A": [1.0, "word:1"]}, "all numbers or all words"),
        ({"A": [1.0], "B": ["word:12"]}, "word:0..word:9"),
        ({"A": [float("nan")]}, "finite numbers in [-1e+06, 1e+06]"),
        ({"A": [2e6]}, "finite numbers in [-1e+06, 1e+06]"),
    ],
)
def test_bad_tables_say_what_is_accepted(columns: dict, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        T.Table.from_columns(columns)


@pytest.mark.parametrize(
    "kwargs, why",
    [
        ({"numeric_columns": 0}, "numeric_columns must be an int in 1..10"),
        ({"numeric_columns": 11}, "numeric_columns must be an int in 1..10"),
        ({"numeric_columns": 2.0}, "numeric_columns must be an int in 1..10"),
        ({"numeric_columns": 8, "text_columns": 3}, "text_columns must be an int in 0..2"),
        ({"text_columns": -1}, "text_columns must be an int in 0..5"),
        ({"word_variability": "yes"}, "word_variability must be True or False"),
    ],
)
def test_out_of_range_settings_say_what_is_accepted(kwargs: dict, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        T.Setting(**kwargs)


def test_unknown_setting_and_split_names() -> None:
    with pytest.raises(ValueError, match="one of \\['1col'"):
        next(T.dataset(1, setting="7col"))
    with pytest.raises(ValueError, match="split must be one of"):
        next(T.dataset(1, split="validation"))


# ----------------------------------------------------------------------------------- operations
def small_table() -> T.Table:
    return T.Table.from_columns(
        {"A": [5.0, -2.0, 3.0, 0.0], "B": ["word:1", "word:2", "word:1", "word:0"], "C": [1.0, 2.0, 3.0, 4.0]}
    )


def run(program: list[T.Step], numbers=(), words=()) -> tuple[T.Outputs, ...]:
    return T.execute(program, small_table(), numbers, T.question_word_flags(words))


def test_operations_over_all_columns_and_batches() -> None:
    selector = np.array([1.0, 0.0, 1.0, 1.0])
    values = np.array([[5.0, 0, 1], [-2, 0, 2], [3, 0, 3], [0, 0, 4]])
    np.testing.assert_allclose(T.op_sum(selector, values), [8, 0, 8])
    assert T.op_count(selector) == 3
    numeric = np.array([[True, False, True]] * 4)
    np.testing.assert_array_equal(T.op_greater(values, numeric, 2.0)[:, 0], [1, 0, 1, 0])
    np.testing.assert_array_equal(T.op_greater(values, numeric, -5.0)[:, 1], [0, 0, 0, 0])
    np.testing.assert_array_equal(T.op_lesser(values, numeric, 3.0)[:, 2], [1, 1, 0, 0])
    np.testing.assert_array_equal(T.op_and(selector, [0, 1, 1, 0]), [0, 0, 1, 0])
    np.testing.assert_array_equal(T.op_or(selector, [0, 1, 1, 0]), [1, 1, 1, 1])
    np.testing.assert_array_equal(T.op_assign(selector, np.ones((4, 3)))[:, 1], selector)
    words = np.array([[-1, 1, -1], [-1, 2, -1], [-1, 1, -1], [-1, 0, -1]])
    np.testing.assert_array_equal(T.op_text_match(words, T.question_word_flags([1, 0]))[:, 1], [1, 0, 1, 1])
    assert T.op_difference(10.0, 3.0) == 7.0
    batch_selectors = np.stack([selector, 1 - selector])
    batch_values = np.stack([values, 2 * values])
    pivots = np.array([2.0, -1.0])
    np.testing.assert_allclose(T.op_sum(batch_selectors, batch_values)[1], T.op_sum(1 - selector, 2 * values))
    np.testing.assert_array_equal(
        T.op_greater(batch_values, numeric, pivots)[1], T.op_greater(2 * values, numeric, -1.0)
    )
    batch_words = np.stack([words, words])
    flags = np.stack([T.question_word_flags([1]), T.question_word_flags([2])])
    np.testing.assert_array_equal(T.op_text_match(batch_words, flags)[1, :, 1], [0, 1, 0, 0])


def test_steps_before_step_zero_read_the_initial_state() -> None:
    out = run([T.Step("and"), T.Step("or"), T.Step("difference"), T.Step("count")])
    np.testing.assert_array_equal(out[0].selector, [1, 1, 1, 1])
    np.testing.assert_array_equal(out[1].selector, [1, 1, 1, 1])
    assert out[2].scalar == 0.0
    assert out[3].scalar == 0.0  # difference wrote, so no row is selected


def test_difference_is_t_minus_3_minus_t_minus_1() -> None:
    out = run([T.Step("sum", 0), T.Step("reset"), T.Step("count"), T.Step("difference")])
    assert out[3].scalar == 6.0 - 4.0
    assert T.answer_of([T.Step("sum", 0), T.Step("reset"), T.Step("count"), T.Step("difference")], out) == 2.0


def test_writing_clears_the_selector_and_selecting_clears_the_outputs() -> None:
    out = run([T.Step("sum", 0), T.Step("count"), T.Step("greater", 0), T.Step("assign", 2)], numbers=[1.0])
    assert out[0].scalar == 6.0 and not out[0].selector.any()
    assert out[1].scalar == 0.0
    assert out[2].scalar == 0.0 and not out[2].lookup.any()
    assert T.lookup_cells(out[3].lookup) == {(0, 2), (2, 2)}  # the rows greater selected, in column C
    steps = [T.Step("greater", 0), T.Step("assign", 2), T.Step("reset"), T.Step("reset")]
    out = run(steps, numbers=[1.0])
    assert not out[2].lookup.any()
    assert T.answer_of(steps, out) == frozenset({(0, 2), (2, 2)})


def test_comparisons_ignore_the_selection_and_are_strict() -> None:
    out = run([T.Step("lesser", 0), T.Step("greater", 0), T.Step("and"), T.Step("count")], numbers=[3.0])
    np.testing.assert_array_equal(out[1].selector, [1, 0, 0, 0])
    assert out[3].scalar == 0.0
    out = run([T.Step("lesser", 0, 1), T.Step("greater", 0, 0), T.Step("and"), T.Step("count")], numbers=[-2.0, 5.0])
    assert out[3].scalar == 2.0  # -2 < x < 5: 3 and 0


def test_no_number_means_pivot_minus_one() -> None:
    out = run([T.Step("greater", 0), T.Step("count"), T.Step("lesser", 0), T.Step("count")])
    assert out[1].scalar == 3.0  # 5, 3, 0 > -1
    assert out[3].scalar == 1.0  # -2 < -1


def test_kind_mismatches_are_empty_not_errors() -> None:
    out = run([T.Step("sum", 1), T.Step("reset"), T.Step("text_match", 0), T.Step("greater", 1)], words=[1])
    assert out[0].scalar == 0.0
    assert not out[2].selector.any() and not out[3].selector.any()
    out = run([T.Step("text_match", 1), T.Step("sum", 2), T.Step("reset"), T.Step("assign", 1)], words=[1])
    assert out[1].scalar == 4.0
    assert T.lookup_cells(out[3].lookup) == {(r, 1) for r in range(4)}


def test_no_writing_step_means_no_answer() -> None:
    steps = [T.Step("reset")] * 4
    assert T.answer_of(steps, run(steps)) is None
    assert T.answer_of([T.Step("count"), None, None, None], run([T.Step("count")] * 4)) == 4.0


def test_answers_match_to_the_first_decimal_place() -> None:
    assert T.answers_match(10.04, 10.0) and T.answers_match(9.96, 10.0)
    assert not T.answers_match(10.06, 10.0) and not T.answers_match(None, 0.0)
    assert not T.answers_match(frozenset(), 0.0)
    assert T.answers_match(frozenset({(1, 2)}), frozenset({(1, 2)}))
    assert not T.answers_match(frozenset({(1, 2), (2, 2)}), frozenset({(1, 2)}))
    assert not T.answers_match(0.0, frozenset())


@pytest.mark.parametrize(
    "question, category",
    [
        ("sum A", "aggregation"),
        ("greater 5.5 A count", "comparison"),
        ("greater 5.5 A and lesser 9.0 B print C", "logic"),
        ("sum A diff count", "arithmetic"),
    ],
)
def test_query_category_follows_its_conditions_and_terms(question: str, category: str) -> None:
    assert T.parse_question(question)[0].category == category
