"""TaskEnv: the contract every npi-gym task env keeps, whatever its task.

Make-time checks (unknown keyword arguments, ``invalid_call``, ``render_mode``; ``check_int`` and
``check_bool`` for the subclasses' own), the reset-option check (a dict of the listed names), the
step-after-done guard, the action check (the action space's own), ``info["action_mask"]``,
``expert_action``, ``flat_actions`` and ``flat_action_mask()`` (what ``FlatCalls`` enumerates).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

INVALID_CALL_MODES = ("noop", "raise")
INT64 = np.dtype(np.int64)


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in [low, high], or ``ValueError`` saying what ``name`` accepts (no bool, no float)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        if low <= value and (high is None or value <= high):
            return int(value)
    accepted = f">= {low}" if high is None else f">= {low} and <= {high}"
    raise ValueError(f"{name} must be an integer {accepted}, got {value!r}")


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool, or ``ValueError``: only ``True``/``False`` (``bool`` or ``np.bool_``), no truthy strings."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters (for error messages about large inputs)."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's digit limit for printing
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InvalidCall(Exception):
    """A call the task forbids (masked out, or meaningless here), raised when made with ``invalid_call="raise"``."""


class TaskEnv(gym.Env):
    """Base class of every npi-gym task env.

    A subclass builds its ``action_space`` (a ``Dict`` of ``Discrete`` and ``MultiDiscrete`` spaces)
    and ``observation_space``, then calls ``super().__init__(invalid_call, render_mode)``. It lists
    its ``reset_options`` and implements ``_begin`` (set up an episode from the checked options),
    ``_step`` (one checked action), ``_observation``, ``_action_mask``, ``_flat_action_mask``,
    ``_render``, ``expert_action`` and ``flat_actions``.
    """

    metadata: ClassVar[dict[str, Any]]
    flat_actions: tuple[dict[str, Any], ...]
    """every action the task declares (what ``FlatCalls`` enumerates)"""
    reset_options: ClassVar[tuple[str, ...]] = ()
    """the option names ``reset(options=...)`` accepts"""

    def __new__(cls, *args: Any, **kwargs: Any) -> TaskEnv:
        accepted = [
            name
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        unknown = sorted(set(kwargs) - set(accepted))
        if unknown:
            raise TypeError(f"{cls.__name__} got unknown keyword argument(s) {unknown}; accepted: {accepted}")
        return super().__new__(cls)

    def __init__(
        self,
        invalid_call: str = "noop",
        render_mode: str | None = None,
        value_names: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """``value_names``: what the values of a ``Discrete`` action key stand for, shown in action errors."""
        if invalid_call not in INVALID_CALL_MODES:
            raise ValueError(f"invalid_call must be 'noop' or 'raise', got {invalid_call!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}"
            )
        self.invalid_call = invalid_call
        self.render_mode = render_mode
        self._layout = _action_layout(self.action_space)
        self._action_keys = frozenset(self.action_space.spaces)
        self._action_form = _describe(self.action_space, value_names or {})
        self._started = False
        self._done = True

    # ----------------------------------------------------------------- gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        options = self._check_options(options)
        self._begin(options)
        self._started = True
        return self._observation(), self._info(None)

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("the episode is over: call reset() before step()")
        return self._step(self._read_action(action))

    def render(self) -> Any:
        if self.render_mode is None:
            return None
        self._require_reset("render()")
        return self._render()

    # ----------------------------------------------------------------- the contract
    def check_action(self, action: Any) -> tuple[Any, ...]:
        """The action's values in the action space's key order: an int per ``Discrete`` key, a tuple
        of ints per ``MultiDiscrete`` key; ``ValueError`` naming the space when the space does not
        contain it (booleans are not taken for ints)."""
        if type(action) is dict and action.keys() == self._action_keys:  # the common exact form, checked fast
            values = []
            for key, high in self._layout:
                value = action[key]
                if type(high) is int:
                    if type(value) is int or type(value) is np.int64:
                        value = int(value)
                        if 0 <= value < high:
                            values.append(value)
                            continue
                elif type(value) is np.ndarray and value.dtype is INT64 and value.shape == (len(high),):
                    ints = tuple(value.tolist())
                    if min(ints) >= 0 and all(map(int.__lt__, ints, high)):
                        values.append(ints)
                        continue
                break
            else:
                return tuple(values)
        if not (self.action_space.contains(action) and not any(_holds_bool(action[k]) for k in self._action_keys)):
            raise ValueError(
                f"action {action!r} is not in the action space {self.action_space}: expected {self._action_form}"
            )
        return tuple(
            int(action[key]) if type(high) is int else tuple(int(x) for x in np.asarray(action[key]))
            for key, high in self._layout
        )

    def expert_action(self) -> dict[str, Any] | None:
        """The reference solution's next action, as long as the agent has followed it; else None."""
        raise NotImplementedError

    def flat_action_mask(self) -> np.ndarray:
        """Which of ``flat_actions`` are valid now."""
        self._require_reset("flat_action_mask()")
        return self._flat_action_mask()

    # ----------------------------------------------------------------- task hooks (subclasses)
    def _read_action(self, action: Any) -> Any:
        """The action as ``_step`` takes it; ``check_action``'s values unless a subclass reads its own form."""
        return self.check_action(action)

    def _begin(self, options: dict[str, Any]) -> None:
        """Set up a new episode from the (name-checked) reset options."""
        raise NotImplementedError

    def _step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """One step with an action already checked, as ``_read_action`` returns it."""
        raise NotImplementedError

    def _observation(self) -> dict[str, Any]:
        raise NotImplementedError

    def _action_mask(self) -> dict[str, Any]:
        """Fresh masks for ``action_space.sample(mask=...)``: what is valid now."""
        raise NotImplementedError

    def _flat_action_mask(self) -> np.ndarray:
        raise NotImplementedError

    def _render(self) -> Any:
        """The frame of ``self.render_mode``."""
        raise NotImplementedError

    # ----------------------------------------------------------------- machinery
    def _check_options(self, options: Any) -> dict[str, Any]:
        """The reset options as a fresh dict, or ``ValueError``: a mapping (or None) of the names in ``reset_options``."""
        accepted = list(self.reset_options)
        if options is None:
            return {}
        if not isinstance(options, Mapping):
            raise ValueError(f"reset options must be a dict (or None) with keys among {accepted}, got {options!r}")
        unknown = [k for k in options if k not in self.reset_options]
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown}; accepted: {accepted}")
        return dict(options)

    def _info(self, reason: str | None) -> dict[str, Any]:
        info: dict[str, Any] = {"action_mask": self._action_mask()}
        if reason is not None:
            info["invalid_call"] = reason
        return info

    def _require_reset(self, what: str) -> None:
        if not self._started:
            raise RuntimeError(f"{type(self).__name__}.{what} needs an episode: call reset() first")


def _action_layout(space: gym.Space) -> tuple[tuple[str, Any], ...]:
    """(key, n) per ``Discrete`` key and (key, highs) per ``MultiDiscrete`` key, in the space's order."""
    if not isinstance(space, spaces.Dict):
        raise TypeError(f"a TaskEnv's action space is a Dict of Discrete and MultiDiscrete spaces, got {space}")
    layout: list[tuple[str, Any]] = []
    for key, sub in space.spaces.items():
        if isinstance(sub, spaces.Discrete) and sub.start == 0:
            layout.append((key, int(sub.n)))
        elif isinstance(sub, spaces.MultiDiscrete) and sub.nvec.ndim == 1 and not np.any(sub.start):
            layout.append((key, tuple(int(n) for n in sub.nvec)))
        else:
            raise TypeError(f"action key {key!r}: Discrete or 1-D MultiDiscrete spaces starting at 0 only, got {sub}")
    return tuple(layout)


def _describe(space: spaces.Dict, value_names: Mapping[str, Sequence[str]]) -> str:
    parts = []
    for key, high in _action_layout(space):
        if isinstance(high, int):
            names = f" (one of {tuple(value_names[key])})" if key in value_names else ""
            parts.append(f"{key!r}: an int in [0, {high}){names}")
        else:
            parts.append(f"{key!r}: {len(high)} ints below {list(high)}")
    return "{" + ", ".join(parts) + "}"


def _holds_bool(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype == bool
    if isinstance(value, (list, tuple)):
        return any(isinstance(x, (bool, np.bool_)) for x in value)
    return isinstance(value, (bool, np.bool_))
