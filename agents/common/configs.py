"""What the agents' config dataclasses share: checking their own fields, and rebuilding one from a saved dict.

A config declares the accepted range of its number fields once, in ``BOUNDS``; ``check_fields`` (called
from its ``__post_init__``) checks every field's type against its annotation, that floats are finite,
and the bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, TypeVar, get_origin, get_type_hints

T = TypeVar("T")


class ConfigError(ValueError):
    """A config field with a value it does not accept."""


@dataclass(frozen=True)
class Bound:
    """The accepted range of a number field: ``low <= value <= high`` (``low < value`` when ``open_low``)."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False

    def accepts(self, value: float) -> bool:
        above = self.low is None or (value > self.low if self.open_low else value >= self.low)
        return above and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.high is None:
            return f"{'>' if self.open_low else '>='} {self.low}"
        if self.low is None:
            return f"<= {self.high}"
        return f"in {'(' if self.open_low else '['}{self.low}, {self.high}]"


POSITIVE = Bound(1)
"""an integer count of at least 1"""
NON_NEGATIVE = Bound(0)
ABOVE_ZERO = Bound(0, open_low=True)
SHARE = Bound(0, 1)
"""a fraction in [0, 1]"""
SEED = Bound(0, 2**32 - 1)

_TYPES = {int: "an integer", float: "a finite number", bool: "true or false", str: "a string", dict: "a dict"}


@cache
def _annotations(cls: type) -> dict[str, type]:
    return {name: get_origin(hint) or hint for name, hint in get_type_hints(cls).items()}


def _type_ok(kind: type, value: Any) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    return isinstance(value, kind)


def check_fields(config: Any) -> None:
    """Raise ``ConfigError`` naming the first field of ``config`` whose value its type or ``BOUNDS`` refuses."""
    cls = type(config)
    kinds, bounds = _annotations(cls), getattr(cls, "BOUNDS", {})
    for f in fields(config):
        value, kind = getattr(config, f.name), kinds[f.name]
        bound = bounds.get(f.name)
        accepted = _TYPES.get(kind, kind.__name__) + (f" {bound}" if bound else "") + (" with string keys" if kind is dict else "")
        if not _type_ok(kind, value) or (bound is not None and not bound.accepts(value)):
            raise ConfigError(f"{cls.__name__}.{f.name} must be {accepted}; got {value!r}")


def config_from_dict(cls: type[T], values: dict[str, Any], what: str) -> T:
    """``cls(**values)``; unknown keys raise ``ValueError`` naming ``what`` config and the known fields."""
    if not isinstance(values, dict):
        raise ValueError(f"a {what} config is a dict of its fields; got {type(values).__name__}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {what} config field(s) {unknown}; known: {sorted(known)}")
    return cls(**values)
