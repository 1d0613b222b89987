"""NPI-Table-v0 and its variants: the Neural Programmer's table questions, one operation per step."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from npi_gym.core import InvalidCall
from npi_gym.tables import (
    COLUMN_NAMES,
    COLUMN_OPERATIONS,
    MAX_ABS_VALUE,
    MAX_NUMBERS,
    MAX_QUESTION_TOKENS,
    MAX_ROWS,
    OPERATIONS,
    PIVOT_OPERATIONS,
    STEPS,
    TOKEN_IDS,
    VOCABULARY,
    Answer,
    Example,
    Outputs,
    Setting,
    Step,
    Table,
    answer_of,
    answers_match,
    initial_outputs,
    is_number,
    lookup_cells,
    make_example,
    parse_question,
    run_step,
    sample_example,
    sample_layout,
    sample_table,
)

RESET_OPTIONS = ("question", "table", "example")
TABLE_ENV_IDS = {
    "NPI-Table-v0": {"numeric_columns": 5},
    "NPI-Table-1Col-v0": {"numeric_columns": 1},
    "NPI-Table-3Col-v0": {"numeric_columns": 3},
    "NPI-Table-5Col-v0": {"numeric_columns": 5},
    "NPI-Table-10Col-v0": {"numeric_columns": 10},
    "NPI-Table-Words-1Col-v0": {"numeric_columns": 1, "word_variability": True},
    "NPI-Table-Words-5Col-v0": {"numeric_columns": 5, "word_variability": True},
    "NPI-Table-Text-2Col-v0": {"numeric_columns": 1, "text_columns": 1},
    "NPI-Table-Text-5Col-v0": {"numeric_columns": 3, "text_columns": 2},
}
_TEXT_MATCH = OPERATIONS.index("text_match")
_USES_COLUMN = np.array([op in COLUMN_OPERATIONS for op in OPERATIONS])
_USES_PIVOT = np.array([op in PIVOT_OPERATIONS for op in OPERATIONS])


def register_table_envs() -> None:
    """Register every NPI-Table id with Gymnasium."""
    for env_id, kwargs in TABLE_ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point="npi_gym.envs.table:TableEnv", kwargs=kwargs)


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class TableEnv(gym.Env):
    """Answer a keyword question about a table in four steps of (operation, column, pivot).

    Observation: the question's token ids (numbers replaced by ``<num>``) and its numbers, the table
    padded to 120 rows and the setting's columns (``table`` numeric values, ``words`` token ids,
    masks), the column names' token ids, the step index, and the last step's row selector, scalar and lookup outputs. Reward 1.0
    after the fourth step when the answer is right, else 0.0. An action naming a column or pivot that
    does not exist, or ``text_match`` without text columns, does nothing (``info["invalid_call"]``
    says why) unless ``invalid_call="raise"``.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        numeric_columns: int = 5,
        text_columns: int = 0,
        word_variability: bool = False,
        split: str = "train",
        invalid_call: str = "noop",
        render_mode: str | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            accepted = [
                "numeric_columns", "text_columns", "word_variability", "split", "invalid_call", "render_mode",
            ]
            raise TypeError(f"TableEnv got unknown keyword argument(s) {sorted(unknown)}; accepted: {accepted}")
        self.setting = Setting(numeric_columns, text_columns, word_variability)
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if invalid_call not in ("noop", "raise"):
            raise ValueError(f"invalid_call must be 'noop' or 'raise', got {invalid_call!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.split = split
        self.invalid_call = invalid_call
        self.render_mode = render_mode
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
            for o, op in enumerate(OPERATIONS)
            for c in (range(columns) if op in COLUMN_OPERATIONS else (0,))
            for p in (range(MAX_NUMBERS) if op in PIVOT_OPERATIONS else (0,))
        )
        self._flat_arrays = tuple(np.array([a[k] for a in self.flat_actions]) for k in ("operation", "column", "pivot"))
        self.example: Example | None = None
        self._done = True

    # ----------------------------------------------------------------- gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        self.example = self._example(dict(options or {}))
        self._load()
        return self._observation(), self._info(None)

    def step(self, action: dict[str, Any]) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("the episode is over: call reset() before step()")
        example = self.example
        assert example is not None
        op, column, pivot = self._as_triple(action)
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

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.example is None:
            return None
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

    def flat_action_mask(self) -> np.ndarray:
        """Which of ``flat_actions`` are valid now."""
        return self._flat_mask

    # ----------------------------------------------------------------- machinery
    def _example(self, options: dict[str, Any]) -> Example:
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; accepted: {list(RESET_OPTIONS)}")
        if "example" in options:
            if len(options) > 1 or not isinstance(options["example"], Example):
                raise ValueError("options['example'] must be an npi_gym.tables.Example, given alone")
            example = options["example"]
            self._check_table(example.table)
            return example
        table = options.get("table")
        if table is not None:
            table = self._check_table(table if isinstance(table, Table) else Table.from_columns(table))
        if "question" not in options:
            return sample_example(self.np_random, self.setting, self.split, table)
        question = options["question"]
        if not isinstance(question, str):
            raise ValueError(f"options['question'] must be a string like 'greater 50.32 C sum A', got {question!r}")
        if table is None:
            table = self._table_for(question)
        return make_example(question, table)

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
        for column, kind in needs.items():
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
        ids = [TOKEN_IDS["<num>"] if is_number(t) else TOKEN_IDS[t] for t in example.tokens]
        question[: len(ids)] = ids
        numbers = np.zeros(MAX_NUMBERS, dtype=np.float32)
        numbers[: len(example.numbers)] = example.numbers
        values = np.zeros((MAX_ROWS, width), dtype=np.float32)
        values[:rows, :columns] = table.values
        words = np.zeros((MAX_ROWS, width), dtype=np.int64)
        words[:rows, :columns] = np.where(table.words >= 0, table.words + TOKEN_IDS["word:0"], 0)
        numeric = np.zeros(width, dtype=np.int8)
        numeric[:columns] = table.numeric
        names = np.zeros(width, dtype=np.int64)
        names[:columns] = [TOKEN_IDS[n] for n in table.names]
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

        operation = np.ones(len(OPERATIONS), dtype=np.int8)
        operation[_TEXT_MATCH] = int(not table.numeric.all())
        pivots = max(1, len(example.numbers))
        self._masks = {
            "operation": operation,
            "column": (np.arange(width) < columns).astype(np.int8),
            "pivot": (np.arange(MAX_NUMBERS) < pivots).astype(np.int8),
        }
        ops, cols, pivs = self._flat_arrays
        self._flat_mask = _readonly(
            operation.astype(bool)[ops]
            & (~_USES_COLUMN[ops] | (cols < columns))
            & (~_USES_PIVOT[ops] | (pivs < pivots))
        )

    def _as_triple(self, action: Any) -> tuple[int, int, int]:
        try:
            if set(action) == set(self.action_space.spaces):
                triple = []
                for key in ("operation", "column", "pivot"):
                    value = action[key]
                    if isinstance(value, np.ndarray) and value.shape == ():
                        value = value.item()
                    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                        break
                    if not 0 <= value < self.action_space[key].n:
                        break
                    triple.append(int(value))
                else:
                    return triple[0], triple[1], triple[2]
        except TypeError:
            pass
        raise ValueError(
            f"action {action!r} is not in the action space {self.action_space}: expected "
            f"{{'operation': an int in [0, {len(OPERATIONS)}) (one of {OPERATIONS}), "
            f"'column': an int in [0, {self.setting.max_columns}), 'pivot': an int in [0, {MAX_NUMBERS})}}"
        )

    def _why_invalid(self, op: int, column: int, pivot: int) -> str | None:
        example = self.example
        assert example is not None
        name = OPERATIONS[op]
        columns = example.table.shape[1]
        if op == _TEXT_MATCH and example.table.numeric.all():
            return "text_match needs a text column; this table has none"
        if name in COLUMN_OPERATIONS and column >= columns:
            return f"{name}: column {column} does not exist; this table has columns 0..{columns - 1}"
        pivots = max(1, len(example.numbers))
        if name in PIVOT_OPERATIONS and pivot >= pivots:
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

    def _info(self, reason: str | None) -> dict[str, Any]:
        info: dict[str, Any] = {"action_mask": {key: mask.copy() for key, mask in self._masks.items()}}
        if reason is not None:
            info["invalid_call"] = reason
        return info

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
