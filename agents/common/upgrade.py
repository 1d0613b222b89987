"""Bring a checkpoint of an older format version to its kind's current one; every tensor is kept bit for bit.

    python -m agents.common.upgrade OLD.pt [NEW.pt]

rewrites OLD.pt in place (atomically) unless NEW.pt is given. The version just before the checksum
(each kind's ``unchecked_version``) gets its checksum; a version with a registered converter (a kind's
later layout changes, ``register_converter``) is converted, step by step; any other version is refused.
``load_current`` does the same conversion in memory, so old checkpoints keep loading.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from agents.common.checkpoints import CHECKSUM, HEADER, KINDS, CheckpointError, CheckpointKind, load_torch, verify_tensors

Converter = Callable[[dict[str, Any]], dict[str, Any]]
"""a checkpoint's payload (no header) in one version -> the same in the next version"""
CONVERTERS: dict[tuple[str, int], Converter] = {}
"""(format, version) -> the converter from that version to the next"""


def register_converter(kind: CheckpointKind, version: int, convert: Converter) -> None:
    """Declare how ``kind``'s checkpoints of ``version`` become version + 1."""
    CONVERTERS[(kind.format, version)] = convert


def _convert(kind: CheckpointKind, payload: dict[str, Any], version: int) -> dict[str, Any]:
    while version != kind.version:
        payload, version = CONVERTERS[(kind.format, version)](payload), version + 1
    return payload


def _convertible(kind: CheckpointKind, version: Any) -> bool:
    """Whether a checked checkpoint of ``version`` converts to the current one."""
    while isinstance(version, int) and (kind.format, version) in CONVERTERS:
        version += 1
    return version == kind.version


def load_current(kind: CheckpointKind, path: str | Path) -> dict[str, Any]:
    """``kind.load(path)``, except that an intact checkpoint of an older convertible version is converted in memory."""
    ckpt = load_torch(path, kind.name)
    version = ckpt.get("version") if isinstance(ckpt, dict) else None
    if ckpt.get("format") == kind.format and version != kind.version and CHECKSUM in ckpt and _convertible(kind, version):
        verify_tensors(path, ckpt)
        payload = _convert(kind, {k: v for k, v in ckpt.items() if k not in HEADER}, version)
        ckpt = {"format": kind.format, "version": kind.version, CHECKSUM: ckpt[CHECKSUM], **payload}
        return kind.check(path, ckpt)
    return verify_tensors(path, kind.check(path, ckpt))


def upgrade(source: str | Path, target: str | Path | None = None) -> Path:
    """Rewrite the old checkpoint ``source`` at ``target`` (default: in place) as its kind's current version."""
    import agents.cli  # noqa: F401  (defines every agent's checkpoint kind and converter)

    ckpt = load_torch(source, "checkpoint")
    kind = KINDS.get(ckpt.get("format")) if isinstance(ckpt, dict) else None
    if kind is None:
        raise CheckpointError(f"{source} is not a checkpoint of a known kind; known: {sorted(KINDS)}")
    version = ckpt.get("version")
    unchecked = kind.unchecked_version is not None and version == kind.unchecked_version
    if unchecked:
        version = version + 1
    elif CHECKSUM in ckpt and version != kind.version and _convertible(kind, version):
        verify_tensors(source, ckpt)
    else:
        later = sorted(v for f, v in CONVERTERS if f == kind.format)
        raise CheckpointError(
            f"{source} is {kind.called} of format version {version!r}; "
            f"only version {kind.unchecked_version!r} (no checksum) is converted to version {kind.version}"
            + (f", and versions {later} with their checksum" if later else "")
        )
    target = Path(source if target is None else target)
    kind.save(target, _convert(kind, {k: v for k, v in ckpt.items() if k not in HEADER}, version))
    kind.load(target)  # refuses what did not come out intact
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.common.upgrade", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path, nargs="?", help="where to write (default: rewrite SOURCE)")
    args = parser.parse_args(argv)
    try:
        print(f"wrote {upgrade(args.source, args.target)}")
    except CheckpointError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from agents.common.upgrade import main as main_of_the_module  # the module the agents register their converters with

    raise SystemExit(main_of_the_module())
