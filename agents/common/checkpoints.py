"""Checkpoint files of every agent: a format header, a tensor checksum, atomic writes, one read per load, exports.

A checkpoint is a dict saved with ``torch.save`` whose ``format`` and ``version`` keys name its kind and
whose ``tensor_sha256`` key holds ``tensor_checksum`` of everything else; ``kind_of`` reads just enough of
a file to tell which agent wrote it. Every reason a file cannot be used is a ``CheckpointError``.
torch is imported on use.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

TRAINING_STATE = "optimizer"
"""the key only a resumable (training) checkpoint has"""
CHECKSUM = "tensor_sha256"
"""the key holding the checksum of a checkpoint's tensors"""
HEADER = ("format", "version", CHECKSUM)
UPGRADE = "python -m agents.common.upgrade"
"""the command that adds the checksum to a checkpoint of the version before it"""


class CheckpointError(Exception):
    """A checkpoint that cannot be used: missing, unreadable, truncated, altered, foreign, or made for something else."""


KINDS: dict[str, CheckpointKind] = {}
"""every kind defined so far, by format string (to name what a foreign file is)"""


@dataclass(frozen=True)
class CheckpointKind:
    """One agent's checkpoint format: the header it writes, the version this code reads, the keys it must hold."""

    format: str
    version: int
    name: str
    """what the agent's files are called in messages, e.g. NPI checkpoint"""
    article: str = "a"
    inference: tuple[str, ...] = ()
    """keys every checkpoint of this kind holds"""
    training: tuple[str, ...] = ()
    """keys a resumable checkpoint (one with ``TRAINING_STATE``) also holds"""
    unchecked_version: int | None = None
    """the last version written without a checksum: ``agents.common.upgrade`` converts it"""

    @property
    def called(self) -> str:
        """The name with its article, e.g. "an NPI checkpoint"."""
        return f"{self.article} {self.name}"

    def __post_init__(self) -> None:
        KINDS[self.format] = self

    def save(self, path: str | Path, payload: dict[str, Any]) -> Path:
        """Write ``payload`` under this kind's header and its tensors' checksum to ``path`` atomically."""
        payload = {k: v for k, v in payload.items() if k not in HEADER}
        return save_atomic(path, {"format": self.format, "version": self.version, CHECKSUM: tensor_checksum(payload), **payload})

    def load(self, path: str | Path) -> dict[str, Any]:
        """The whole checkpoint at ``path`` (one read), refused unless of this kind and version, intact and finite."""
        return verify_tensors(path, self.check(path, load_torch(path, self.name)))

    def header(self, path: str | Path) -> dict[str, Any]:
        """The checkpoint with its tensors memory-mapped, not read or verified (for its config and header)."""
        return self.check(path, load_torch(path, self.name, mmap=True))

    def check(self, path: str | Path, ckpt: Any) -> dict[str, Any]:
        """``ckpt`` as read from ``path`` if it is of this kind and version with every key; else ``CheckpointError``."""
        found = ckpt.get("format") if isinstance(ckpt, dict) else None
        if found != self.format:
            other = f"it is {KINDS[found].called}" if found in KINDS else f"no {self.format!r} header"
            raise CheckpointError(f"{path} is not {self.called} ({other})")
        version = ckpt.get("version")
        if version != self.version:
            how = (
                f"; add the checksum with '{UPGRADE} {path}'" if version == self.unchecked_version and self.unchecked_version is not None
                else ""
            )
            raise CheckpointError(
                f"{path} is {self.called} of format version {version!r}; this code reads version {self.version!r} only{how}"
            )
        wanted = (CHECKSUM, *self.inference, *(self.training if TRAINING_STATE in ckpt else ()))
        missing = [k for k in wanted if k not in ckpt]
        if missing:
            raise CheckpointError(f"{path} is {self.called} without the key(s) {missing}; it needs {list(wanted)}")
        return ckpt

    def export(self, source: str | Path, target: str | Path, keep: Iterable[str], trainer: Iterable[str] = ()) -> Path:
        """An inference-only copy of ``source``: the ``keep`` keys and the ``trainer`` summary keys, no training state."""
        ckpt = self.load(source)
        payload = {k: ckpt[k] for k in keep}
        if trainer:
            payload["trainer"] = {k: ckpt["trainer"][k] for k in trainer}
        return self.save(target, payload)


@contextmanager
def restoring(path: str | Path, what: str) -> Iterator[None]:
    """Turn an error raised while restoring ``what`` (config, weights, training state) from ``path`` into ``CheckpointError``."""
    try:
        yield
    except CheckpointError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        raise CheckpointError(f"{path}: its {what} cannot be restored ({type(e).__name__}: {e})") from None


def _tensors(value: Any, name: str = "") -> Iterator[tuple[str, Any]]:
    """Every tensor in nested dicts, lists and tuples with its path (e.g. ``model.fc.weight``), dict keys in sorted order."""
    import torch

    if isinstance(value, torch.Tensor):
        yield name, value
    elif isinstance(value, dict):
        for key in sorted(value, key=repr):
            yield from _tensors(value[key], f"{name}.{key}" if name else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _tensors(item, f"{name}.{i}" if name else str(i))


def tensor_checksum(payload: Any) -> str:
    """sha256 over every tensor's path, dtype, shape and bytes, in a fixed order (what ``tensor_sha256`` holds)."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in _tensors(payload):
        data = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}:{data.size}\n".encode())
        digest.update(data.tobytes())
    return digest.hexdigest()


def verify_tensors(path: str | Path, ckpt: dict[str, Any]) -> dict[str, Any]:
    """``ckpt`` if its tensors match its stored checksum and its floating-point ones are finite; else ``CheckpointError``."""
    payload = {k: v for k, v in ckpt.items() if k not in HEADER}
    if tensor_checksum(payload) != ckpt[CHECKSUM]:
        raise CheckpointError(
            f"{path} is corrupted: its tensors do not match the checksum stored with them ({CHECKSUM}); "
            "restore the file from a good copy or retrain it"
        )
    bad = [name for name, t in _tensors(payload) if (t.is_floating_point() or t.is_complex()) and not bool(t.isfinite().all())]
    if bad:
        raise CheckpointError(f"{path} holds non-finite (NaN or infinite) values in {bad[:5]}; only finite weights are accepted")
    return ckpt


def require_training_state(path: str | Path, ckpt: dict[str, Any]) -> None:
    """Refuse to resume from an exported (inference-only) checkpoint."""
    if TRAINING_STATE not in ckpt:
        raise CheckpointError(f"{path} is an exported (inference-only) checkpoint; it cannot be resumed")


def kind_of(path: str | Path) -> CheckpointKind:
    """The kind of the checkpoint at ``path``, from its header (tensors are memory-mapped, not read)."""
    ckpt = load_torch(path, "checkpoint", mmap=True)
    found = ckpt.get("format") if isinstance(ckpt, dict) else None
    if found not in KINDS:
        known = ", ".join(f"{k.name} ({f!r})" for f, k in KINDS.items())
        raise CheckpointError(f"{path} is not a checkpoint of a known kind (format {found!r}); known: {known}")
    return KINDS[found]


def save_atomic(path: str | Path, payload: Any) -> Path:
    """``torch.save`` to ``path`` atomically: a crash leaves the previous file intact (and a temporary file that
    the next save of ``path`` removes)."""
    import torch

    return write_atomic(path, lambda f: torch.save(payload, f))


def write_atomic(path: str | Path, write: Callable[[BinaryIO], Any]) -> Path:
    """``write(file)`` into a temporary file beside ``path``, then renamed onto it: ``path`` is the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for orphan in orphans(path):
        orphan.unlink(missing_ok=True)
    return path


def orphans(path: Path) -> list[Path]:
    """The temporary files an interrupted ``save_atomic`` of ``path`` left beside it (``NAME.XXXXXXXX.tmp``)."""
    pattern = re.compile(re.escape(path.name) + r"\.[a-z0-9_]{8}\.tmp")
    return [p for p in path.parent.iterdir() if pattern.fullmatch(p.name) and p.is_file() and not p.is_symlink()]


def load_torch(path: str | Path, what: str, error: type[Exception] = CheckpointError, mmap: bool = False) -> Any:
    """``torch.load`` (tensors and plain data only), raising ``error`` that names ``what`` was expected."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise error(f"no checkpoint at {path}" + (" (it is a folder)" if path.is_dir() else ""))
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as e:
        raise error(f"{path} is not a readable {what} (truncated or corrupted?): {type(e).__name__}: {e}") from None
