"""TableEnv (NPI-Table-v0 and the paper's settings): a table question answered in four steps of (operation, column, pivot)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from gymnasium import spaces

from npi_gym.base import InvalidCall, TaskEnv, short_repr
from npi_gym.envs.table.generator import Example, make_example, sample_example, sample_layout, sample_table
from npi_gym.envs.table.grid import COLUMN_NAMES, MAX_ABS_VALUE, MAX_ROWS, TABLE_FORM, Table
from npi_gym.envs.table.operations import (
    OPERATIONS,
    READS_COLUMN,
    STEPS,
    USES_PIVOT,
    Answer,
    Outputs,
    Step,
    answer_of,
    answers_match,
    available_operations,
    initial_outputs,
    lookup_cells,
    run_step,
    why_unavailable,
)
from npi_gym.envs.table.questions import (
    MAX_NUMBERS,
    MAX_QUESTION_TOKENS,
    VOCABULARY,
    encode_tokens,
    parse_question,
    word_tokens,
)
from npi_gym.envs.table.settings import Setting

RESET_OPTIONS = ("question", "table", "example")


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class TableEnv(TaskEnv):
    """Answer a keyword question about a table in four steps, as the Neural Programmer does.

    ## Description

    The Neural Programmer task (Neelakantan, Le & Sutskever, ICLR 2016): a synthetic table of
    numbers (and, in the text settings, words ``word:0``..``word:9``) and a keyword question about
    it, such as ``greater 50.32 C and lesser 20.21 E sum H``. Each step applies one operation
    (``sum``, ``count``, ``difference``, ``greater``, ``lesser``, ``and``, ``or``, ``assign``,
    ``reset``, ``text_match``) to one column, with one of the question's numbers as pivot; the
    answer is the output of the last step that wrote one (a scalar, or the cells ``assign`` marks).
    ``npi_gym.envs.table`` documents the generator's and the executor's rules.

    ## Action Space

    ``Dict({"column": Discrete(C), "operation": Discrete(10), "pivot": Discrete(2)})``, C the
    setting's most columns. ``column`` counts only for operations that read one and ``pivot`` only
    for ``greater``/``lesser``. A column or pivot the table or question lacks, or ``text_match``
    without a text column, is an invalid call: nothing changes, ``info["invalid_call"]`` says why and
    the step counts, or ``InvalidCall`` is raised with ``invalid_call="raise"``. An action outside the
    action space raises ``ValueError`` naming the space.

    ## Observation Space

    A ``Dict``: ``question`` (token ids, numbers replaced by ``<num>``, 0-padded), ``numbers`` and
    ``number_mask`` (the question's numbers), ``table`` (values, padded to 120 rows and C columns),
    ``words`` (token ids of the text cells), ``row_mask``, ``numeric_columns``, ``text_columns``,
    ``column_names`` (token ids), ``step`` (0..4), and the last step's ``row_selector``, ``scalar``
    and ``lookup`` outputs.

    ## Rewards

    1.0 after the fourth step when the answer is right (a scalar within 0.05 of the truth, a lookup
    the same set of cells), else 0.0.

    ## Starting State

    ``reset`` draws a table and a question of the setting and split. ``options`` may give a
    ``question`` (text; a random table of the setting that fits it unless ``table`` is given too), a
    ``table`` (an ``npi_gym.envs.table.Table`` or a mapping like ``{"A": [4.0, -1.5], "B":
    ["word:7", "word:2"]}``; with no question, a random question about it), or an ``example``
    (an ``Example``, given alone).

    ## Episode End

    The episode terminates after four steps; it is never truncated.

    ## Arguments

    ``numeric_columns`` (1..10, default 5), ``text_columns`` (default 0), ``word_variability``
    (keywords drawn from their synonyms), ``split`` ("train": 30..100 rows, values in [-100, 100],
    tables of 1..max columns of each kind; "test": 120 rows, values in [-200, 200], the most
    columns), ``invalid_call`` ("noop" or "raise"), ``render_mode`` ("ansi" or None).

    ## Registered Configurations

    ``NPI-Table-v0`` (the defaults: 5 numeric columns) and the paper's settings:
    ``NPI-Table-1Col-v0``, ``-3Col-v0``, ``-5Col-v0``, ``-10Col-v0`` (numeric columns),
    ``NPI-Table-Words-1Col-v0``, ``-Words-5Col-v0`` (word variability), ``NPI-Table-Text-2Col-v0``
    (1 numeric, 1 text column) and ``-Text-5Col-v0`` (3 numeric, 2 text).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    reset_options = RESET_OPTIONS

    def __init__(
        self,
        numeric_columns: int = 5,
        text_columns: int = 0,
        word_variability: bool = False,
        split: str = "train",
        invalid_call: str = "noop",
        render_mode: str | None = None,
    ) -> None:
        self.setting = Setting(numeric_columns, text_columns, word_variability)
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        self.split = split
        columns = self.setting.max_columns
        self.action_space = spaces.Dict(
            {
                "operation": spaces.Discrete(len(OPERATIONS)),
                "column": spaces.Discrete(columns),
                "pivot": spaces.Discrete(MAX_NUMBERS),
            }
        )
        vocab = len(VOCABULARY)
        bound = MAX_ABS_VALUE
        scalar_bound = 2 * MAX_ROWS * MAX_ABS_VALUE  # a difference of two sums at most
        self.observation_space = spaces.Dict(
            {
                "question": spaces.Box(0, vocab - 1, (MAX_QUESTION_TOKENS,), np.int64),
                "numbers": spaces.Box(-bound, bound, (MAX_NUMBERS,), np.float32),
                "number_mask": spaces.MultiBinary(MAX_NUMBERS),
                "table": spaces.Box(-bound, bound, (MAX_ROWS, columns), np.float32),
                "words": spaces.Box(0, vocab - 1, (MAX_ROWS, columns), np.int64),
                "row_mask": spaces.MultiBinary(MAX_ROWS),
                "numeric_columns": spaces.MultiBinary(columns),
                "text_columns": spaces.MultiBinary(columns),
                "column_names": spaces.Box(0, vocab - 1, (columns,), np.int64),
                "step": spaces.Discrete(STEPS + 1),
                "row_selector": spaces.MultiBinary(MAX_ROWS),
                "scalar": spaces.Box(-scalar_bound, scalar_bound, (1,), np.float32),
                "lookup": spaces.MultiBinary((MAX_ROWS, columns)),
            }
        )
        self.flat_actions: tuple[dict[str, int], ...] = tuple(
            {"operation": o, "column": c, "pivot": p}
            for o in range(len(OPERATIONS))
            for c in (range(columns) if READS_COLUMN[o] else (0,))
            for p in (range(MAX_NUMBERS) if USES_PIVOT[o] else (0,))
        )
        self._flat_arrays = tuple(np.array([a[k] for a in self.flat_actions]) for k in ("operation", "column", "pivot"))
        self.example: Example | None = None
        super().__init__(invalid_call=invalid_call, render_mode=render_mode, value_names={"operation": OPERATIONS})
        keys = list(self.action_space.spaces)
        self._order = tuple(keys.index(k) for k in ("operation", "column", "pivot"))

    # ----------------------------------------------------------------- episodes
    def _begin(self, options: dict[str, Any]) -> None:
        self.example = self._example(options)
        self._load()

    def _step(self, values: tuple[Any, ...]) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        example = self.example
        assert example is not None
        o, c, p = self._order
        op, column, pivot = values[o], values[c], values[p]
        reason = self._why_invalid(op, column, pivot)
        if reason is not None and self.invalid_call == "raise":
            raise InvalidCall(reason)
        t = len(self._steps)
        if reason is None:
            step = Step(OPERATIONS[op], column, pivot)
            outputs = run_step(step, self._outputs, example.table, example.numbers, self._question_words)
        else:
            step, outputs = None, self._outputs[-1]
        self._on_track = self._on_track and step == example.program[t]
        self._steps.append(step)
        self._outputs.append(outputs)
        terminated = len(self._steps) == STEPS
        self._done = terminated
        reward = 1.0 if terminated and answers_match(self.prediction, example.answer) else 0.0
        return self._observation(), reward, terminated, False, self._info(reason)

    def _render(self) -> str:
        return self._render_text()

    # ----------------------------------------------------------------- public helpers
    def expert_action(self) -> dict[str, int] | None:
        """The ground-truth program's next step while the agent has followed it; else None."""
        if self._done or not self._on_track or self.example is None:
            return None
        step = self.example.program[len(self._steps)]
        return {"operation": OPERATIONS.index(step.operation), "column": step.column, "pivot": step.pivot}

    @property
    def prediction(self) -> Answer | None:
        """The answer the steps so far wrote (a scalar or a set of (row, column) cells), or None."""
        return answer_of(self._steps, self._outputs[1:])

    def _flat_action_mask(self) -> np.ndarray:
        return self._flat_mask

    # ----------------------------------------------------------------- machinery
    def _example(self, options: dict[str, Any]) -> Example:
        if "example" in options:
            if len(options) > 1 or not isinstance(options["example"], Example):
                raise ValueError("options['example'] must be an npi_gym.envs.table.Example, given alone")
            example = options["example"]
            self._check_table(example.table)
            tokens = example.tokens
            if not (isinstance(tokens, tuple) and all(isinstance(t, str) for t in tokens)):
                raise ValueError(f"options['example'].tokens must be a tuple of strings, got {short_repr(tokens)}")
            remade = make_example(tokens, example.table)
            if (remade.query, remade.numbers) != (example.query, tuple(example.numbers)):
                raise ValueError(
                    "options['example'] must be made by make_example (or be consistent with it): its query "
                    f"and numbers disagree with its tokens {example.question!r}"
                )
            return example
        table = options.get("table")
        if table is not None:
            table = self._check_table(self._table_option(table))
        if "question" not in options:
            return sample_example(self.np_random, self.setting, self.split, table)
        question = options["question"]
        if not isinstance(question, str):
            raise ValueError(f"options['question'] must be a string like 'greater 50.32 C sum A', got {question!r}")
        if table is None:
            table = self._table_for(question)
        return make_example(question, table)

    def _table_option(self, table: Table | Mapping[str, Any]) -> Table:
        if isinstance(table, Table):
            return table
        try:
            return Table.from_columns(table)
        except ValueError as error:
            raise ValueError(
                f"options['table'] is an npi_gym.envs.table.Table or {TABLE_FORM} (at most "
                f"{self.setting.max_columns} columns in this env); {error}"
            ) from None

    def _check_table(self, table: Table) -> Table:
        if table.shape[1] > self.setting.max_columns:
            raise ValueError(
                f"this env's tables have at most {self.setting.max_columns} columns; got {table.shape[1]}"
            )
        return table

    def _table_for(self, question: str) -> Table:
        """A random table of this setting whose columns fit what the question needs."""
        needs = parse_question(question)[0].columns()
        kinds = list(sample_layout(self.np_random, self.setting, "test"))
        for column in needs:
            if column >= len(kinds):
                raise ValueError(
                    f"question {question!r} uses column {COLUMN_NAMES[column]}; this env's tables have "
                    f"columns A..{COLUMN_NAMES[len(kinds) - 1]}"
                )
        free = [i for i in range(len(kinds)) if i not in needs]
        pool = list(kinds)
        for kind in needs.values():
            if kind not in pool:
                raise ValueError(
                    f"question {question!r} needs more {kind} columns than this env's tables have "
                    f"({self.setting.numeric_columns} numeric, {self.setting.text_columns} text)"
                )
            pool.remove(kind)
        order = self.np_random.permutation(len(pool))
        for column, kind in needs.items():
            kinds[column] = kind
        for i, j in zip(free, order):
            kinds[i] = pool[j]
        return sample_table(self.np_random, kinds, self.split)

    def _load(self) -> None:
        example = self.example
        assert example is not None
        table = example.table
        rows, columns = table.shape
        width = self.setting.max_columns
        self._question_words = example.question_words
        self._steps: list[Step | None] = []
        self._outputs: list[Outputs] = [initial_outputs(table)]
        self._on_track = True
        self._done = False

        question = np.zeros(MAX_QUESTION_TOKENS, dtype=np.int64)
        ids = encode_tokens(example.tokens)
        question[: len(ids)] = ids
        numbers = np.zeros(MAX_NUMBERS, dtype=np.float32)
        numbers[: len(example.numbers)] = example.numbers
        values = np.zeros((MAX_ROWS, width), dtype=np.float32)
        values[:rows, :columns] = table.values
        words = np.zeros((MAX_ROWS, width), dtype=np.int64)
        words[:rows, :columns] = word_tokens(table.words)
        numeric = np.zeros(width, dtype=np.int8)
        numeric[:columns] = table.numeric
        names = np.zeros(width, dtype=np.int64)
        names[:columns] = encode_tokens(table.names)
        self._static = {
            "question": question,
            "numbers": numbers,
            "number_mask": (np.arange(MAX_NUMBERS) < len(example.numbers)).astype(np.int8),
            "table": values,
            "words": words,
            "row_mask": (np.arange(MAX_ROWS) < rows).astype(np.int8),
            "numeric_columns": numeric,
            "text_columns": ((np.arange(width) < columns) & (numeric == 0)).astype(np.int8),
            "column_names": names,
        }

        operation = available_operations(table)
        pivots = max(1, len(example.numbers))
        self._masks = {
            "operation": operation,
            "column": (np.arange(width) < columns).astype(np.int8),
            "pivot": (np.arange(MAX_NUMBERS) < pivots).astype(np.int8),
        }
        ops, cols, pivs = self._flat_arrays
        self._flat_mask = _readonly(
            operation.astype(bool)[ops]
            & (~READS_COLUMN[ops] | (cols < columns))
            & (~USES_PIVOT[ops] | (pivs < pivots))
        )

    def _why_invalid(self, op: int, column: int, pivot: int) -> str | None:
        example = self.example
        assert example is not None
        name = OPERATIONS[op]
        columns = example.table.shape[1]
        if not self._masks["operation"][op]:
            return why_unavailable(name, example.table)
        if READS_COLUMN[op] and column >= columns:
            return f"{name}: column {column} does not exist; this table has columns 0..{columns - 1}"
        pivots = max(1, len(example.numbers))
        if USES_PIVOT[op] and pivot >= pivots:
            return f"{name}: pivot {pivot} does not exist; this question has pivots 0..{pivots - 1}"
        return None

    def _observation(self) -> dict[str, Any]:
        out = self._outputs[-1]
        rows, columns = out.lookup.shape
        selector = np.zeros(MAX_ROWS, dtype=np.int8)
        selector[:rows] = out.selector > 0.5
        lookup = np.zeros((MAX_ROWS, self.setting.max_columns), dtype=np.int8)
        lookup[:rows, :columns] = out.lookup > 0.5
        obs = {key: value.copy() for key, value in self._static.items()}
        obs["step"] = np.int64(len(self._steps))
        obs["row_selector"] = selector
        obs["scalar"] = np.array([out.scalar], dtype=np.float32)
        obs["lookup"] = lookup
        return obs

    def _action_mask(self) -> dict[str, Any]:
        return {key: mask.copy() for key, mask in self._masks.items()}

    def _render_text(self, shown_rows: int = 5) -> str:
        example = self.example
        assert example is not None
        table = example.table
        rows, columns = table.shape
        done = ", ".join("(nothing)" if s is None else str(s) for s in self._steps) or "-"
        lines = [
            f"Q: {example.question}",
            f"step {len(self._steps)}/{STEPS}: {done}",
            "     " + "".join(f"{name:>10}" for name in table.names),
        ]
        for r in range(min(rows, shown_rows)):
            cells = [table.cell(r, c) for c in range(columns)]
            lines.append(f"{r:>4} " + "".join(f"{c:>10.2f}" if isinstance(c, float) else f"{c:>10}" for c in cells))
        if rows > shown_rows:
            lines.append(f"     ... {rows - shown_rows} more rows")
        out = self._outputs[-1]
        selected = np.flatnonzero(out.selector > 0.5).tolist()
        shown = ", ".join(map(str, selected[:20])) + (", ..." if len(selected) > 20 else "")
        lines.append(f"selected rows ({len(selected)} of {rows}): [{shown}]")
        lines.append(f"scalar: {out.scalar:.2f}  lookup cells: {len(lookup_cells(out.lookup))}")
        return "\n".join(lines)
