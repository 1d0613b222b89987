"""The Neural Programmer-Interpreter agent: model, behavioural-cloning trainer, checkpoints, acting.

The names below are imported on first use, so ``agents.npi.cli`` and ``agents.npi.shipped`` load without torch.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_EXPORTS = {
    "NPI": "agents.npi.model",
    "NPIAgent": "agents.npi.agent",
    "NPIConfig": "agents.npi.config",
    "CheckpointError": "agents.common.checkpoints",
    "load_checkpoint": "agents.npi.checkpoint",
    "train": "agents.npi.train",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'agents.npi' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Keeps ``agents.npi.train`` the function when the import system binds the submodule of that name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if not (name in _EXPORTS and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
