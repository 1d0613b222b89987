"""Add the tensor checksum to a checkpoint written before checkpoints carried one; every tensor is kept bit for bit.

    python -m agents.common.upgrade OLD.pt [NEW.pt]

rewrites OLD.pt in place (atomically) unless NEW.pt is given. Only the version just before the checksum
(each kind's ``unchecked_version``) is converted; any other version is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from agents.common.checkpoints import HEADER, KINDS, CheckpointError, load_torch


def upgrade(source: str | Path, target: str | Path | None = None) -> Path:
    """Rewrite the unchecked checkpoint ``source`` at ``target`` (default: in place) as its kind's current version."""
    import agents.cli  # noqa: F401  (defines every agent's checkpoint kind)

    ckpt = load_torch(source, "checkpoint")
    kind = KINDS.get(ckpt.get("format")) if isinstance(ckpt, dict) else None
    if kind is None:
        raise CheckpointError(f"{source} is not a checkpoint of a known kind; known: {sorted(KINDS)}")
    if kind.unchecked_version is None or ckpt.get("version") != kind.unchecked_version:
        raise CheckpointError(
            f"{source} is {kind.called} of format version {ckpt.get('version')!r}; "
            f"only version {kind.unchecked_version!r} (no checksum) is converted to version {kind.version}"
        )
    target = Path(source if target is None else target)
    kind.save(target, {k: v for k, v in ckpt.items() if k not in HEADER})
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
    raise SystemExit(main())
