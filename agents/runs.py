"""Old import path of ``save_atomic``, ``load_torch`` and ``CsvLog`` (now in ``agents.common``); kept for one release."""

from agents.common.checkpoints import load_torch, save_atomic
from agents.common.logs import CsvLog

__all__ = ["CsvLog", "load_torch", "save_atomic"]
