"""The paper's table settings, declared once: key, env id, columns and word variability, and the paper's figures.

Registration of the NPI-Table ids, ``SETTINGS``, ``TABLE_ENV_IDS``, ``setting_of`` and the benchmarks'
paper columns all derive from ``PAPER_SETTINGS``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import gymnasium as gym
import numpy as np

from npi_gym.envs.table.grid import MAX_COLUMNS

ENTRY_POINT = "npi_gym.envs.table:TableEnv"
DEFAULT_ENV_ID = "NPI-Table-v0"
"""the TableEnv with its defaults: 5 numeric columns, the paper's keywords"""


@dataclass(frozen=True)
class Setting:
    """Most numeric and text columns of a table, and whether keywords vary (word variability)."""

    numeric_columns: int = 5
    text_columns: int = 0
    word_variability: bool = False

    def __post_init__(self) -> None:
        n, t = self.numeric_columns, self.text_columns
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 1 <= n <= MAX_COLUMNS:
            raise ValueError(f"numeric_columns must be an int in 1..{MAX_COLUMNS}, got {n!r}")
        if not isinstance(t, (int, np.integer)) or isinstance(t, bool) or not 0 <= t <= MAX_COLUMNS - n:
            raise ValueError(
                f"text_columns must be an int in 0..{MAX_COLUMNS - n} (at most {MAX_COLUMNS} columns in "
                f"all), got {t!r}"
            )
        if not isinstance(self.word_variability, (bool, np.bool_)):
            raise ValueError(f"word_variability must be True or False, got {self.word_variability!r}")

    @property
    def max_columns(self) -> int:
        return self.numeric_columns + self.text_columns


@dataclass(frozen=True)
class PaperSetting:
    """One setting of the paper: its key, env id and Setting, and what the paper reports for it.

    ``accuracy``: test accuracy (%); ``test_templates``: distinct templates among the test questions;
    ``seen_in_training``: the share of those templates also seen in training (%).
    """

    key: str
    env_id: str
    setting: Setting
    label: str
    accuracy: float
    test_templates: int
    seen_in_training: float


PAPER_SETTINGS: tuple[PaperSetting, ...] = (
    PaperSetting("1col", "NPI-Table-1Col-v0", Setting(1), "single column", 100.0, 23, 100.0),
    PaperSetting("3col", "NPI-Table-3Col-v0", Setting(3), "3 columns", 99.02, 307, 100.0),
    PaperSetting("5col", "NPI-Table-5Col-v0", Setting(5), "5 columns", 99.11, 1231, 98.62),
    PaperSetting("10col", "NPI-Table-10Col-v0", Setting(10), "10 columns", 99.13, 7900, 62.44),
    PaperSetting(
        "words-1col", "NPI-Table-Words-1Col-v0", Setting(1, word_variability=True),
        "word variability, 1 column", 96.49, 1368, 100.0,
    ),
    PaperSetting(
        "words-5col", "NPI-Table-Words-5Col-v0", Setting(5, word_variability=True),
        "word variability, 5 columns", 88.99, 24000, 31.31,
    ),
    PaperSetting("text-2col", "NPI-Table-Text-2Col-v0", Setting(1, 1), "text match, 2 columns", 99.11, 1125, 97.42),
    PaperSetting("text-5col", "NPI-Table-Text-5Col-v0", Setting(3, 2), "text match, 5 columns", 98.03, 14600, 31.02),
)
PAPER: dict[str, PaperSetting] = {row.key: row for row in PAPER_SETTINGS}
SETTINGS: dict[str, Setting] = {row.key: row.setting for row in PAPER_SETTINGS}
TABLE_ENV_IDS: dict[str, dict[str, Any]] = {
    DEFAULT_ENV_ID: asdict(Setting()),
    **{row.env_id: asdict(row.setting) for row in PAPER_SETTINGS},
}
"""every registered NPI-Table id and its make-time kwargs"""
_SETTING_FIELDS = tuple(f.name for f in fields(Setting))


def setting_of(env_id: str) -> Setting:
    """The Setting an NPI-Table id is registered with, read from its spec (no env is built)."""
    spec = gym.registry.get(env_id)
    if spec is None or spec.entry_point not in (ENTRY_POINT, _table_env_class()):
        raise ValueError(f"{env_id!r} is not a table env; the table env ids are {', '.join(TABLE_ENV_IDS)}")
    return Setting(**{k: v for k, v in spec.kwargs.items() if k in _SETTING_FIELDS})


def _table_env_class() -> type:
    from npi_gym.envs.table.env import TableEnv

    return TableEnv


def resolve(setting: Setting | str) -> Setting:
    """A Setting, or the Setting of a key of ``SETTINGS``."""
    if isinstance(setting, Setting):
        return setting
    if setting not in SETTINGS:
        raise ValueError(f"setting must be a Setting or one of {list(SETTINGS)}, got {setting!r}")
    return SETTINGS[setting]
