"""A config dataclass as command-line flags: one flag per field, help from the field's own docstring.

Booleans take true/false/yes/no/1/0, dict fields a JSON object; a flag not given stays ``None`` in the
namespace, so ``given`` can tell an explicit setting from a default (what ``--resume`` needs).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import textwrap
from functools import cache
from typing import Any, Callable, Mapping

BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


ENV_FLAG = {"env_id": "env"}
"""every config's ``env_id`` field is the ``--env`` flag"""


def parse_bool(text: str) -> bool:
    """``true``/``yes``/``1`` or ``false``/``no``/``0`` (any case); anything else is refused."""
    try:
        return BOOLEANS[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(BOOLEANS)}; got {text!r}") from None


def parse_json_object(text: str) -> dict[str, Any]:
    """A JSON object such as ``{"max_length": 30}``; other JSON values are refused."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"key\": 1}}'; {text!r} is not JSON ({e})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"key\": 1}}'; got {type(value).__name__} {text!r}")
    return value


@cache
def field_docs(cls: type) -> dict[str, str]:
    """Each field's docstring (the string literal right below it in the class body), by field name."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    names = {f.name for f in dataclasses.fields(cls)}
    docs = {}
    for node, after in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id in names:
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def default_of(f: dataclasses.Field) -> Any:
    """A field's default value (``MISSING`` when it has none)."""
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default  # type: ignore[misc]


def _parser_for(value: Any) -> Callable[[str], Any]:
    if isinstance(value, bool):
        return parse_bool
    if isinstance(value, dict):
        return parse_json_object
    return type(value)


def add_config_flags(parser: argparse.ArgumentParser, cls: type, rename: Mapping[str, str] | None = None) -> None:
    """One ``--field-name`` flag per field of ``cls`` (``rename`` maps field names to other flag names)."""
    docs, rename = field_docs(cls), rename or {}
    for f in dataclasses.fields(cls):
        default = default_of(f)
        flag = "--" + rename.get(f.name, f.name.replace("_", "-"))
        metavar = "true|false" if isinstance(default, bool) else "JSON" if isinstance(default, dict) else flag[2:].upper().replace("-", "_")
        help_ = f"{docs.get(f.name, '')} (default: {json.dumps(default) if isinstance(default, dict) else default})"
        parser.add_argument(flag, dest=f.name, type=_parser_for(default), default=None, metavar=metavar, help=help_.replace("%", "%%"))


def config_flags(fields: Mapping[str, Any], rename: Mapping[str, str] | None = None) -> list[str]:
    """The command-line words that ``add_config_flags`` reads back as these field values."""
    words, rename = [], rename or {}
    for name, value in fields.items():
        text = json.dumps(value) if isinstance(value, dict) else str(value).lower() if isinstance(value, bool) else str(value)
        words += ["--" + rename.get(name, name.replace("_", "-")), text]
    return words


def changed_fields(cfg: Any) -> dict[str, Any]:
    """The fields of a config dataclass that differ from their defaults."""
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if getattr(cfg, f.name) != default_of(f)}


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` set explicitly on the command line."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}
