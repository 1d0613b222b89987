"""The view cache of the car models: every grid view rendered once, kept in memory and on disk."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import stat
import tempfile
import time
import warnings
import weakref
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from npi_gym.envs.car.render import CACHE_VERSION, N_AZIMUTHS, N_ELEVATIONS, CarRenderer, RenderSettings, load_manifest


def default_cache_dir() -> Path:
    """$NPI_GYM_CACHE_DIR, else $XDG_CACHE_HOME/npi-gym, else ~/.cache/npi-gym."""
    if os.environ.get("NPI_GYM_CACHE_DIR"):
        return Path(os.environ["NPI_GYM_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "npi-gym"


@functools.cache
def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _views_checksum(views: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(views).data).hexdigest()


TMP_PREFIX, TMP_SUFFIX = ".", ".npz.tmp"
"""a cache file is written as ``.<model>-<random>.npz.tmp`` beside its final path, then renamed"""
ORPHAN_AGE_S = 600.0
"""a temporary file older than this is left from an interrupted save, removed at the next save"""


def check_cache_dir(cache_dir: Any) -> Path | None:
    """The cache folder (None: memory only) from a path, ``None`` (the default folder) or ``False``."""
    if cache_dir is None:
        return default_cache_dir()
    if cache_dir is False:
        return None
    if isinstance(cache_dir, (str, os.PathLike)) and not isinstance(cache_dir, bool) and os.fspath(cache_dir):
        return Path(cache_dir)
    raise ValueError(
        "cache_dir must be a non-empty path (str or os.PathLike), None (the default folder) or False "
        f"(memory only), got {cache_dir!r}"
    )


def _regular_file(path: Path) -> bool | None:
    """Whether ``path`` is a regular file (None: nothing there, or it cannot be reached), found by
    ``os.stat`` without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return None


class StaleCacheWarning(UserWarning):
    """A cache file was unreadable, corrupted or written for other settings; it is rebuilt."""


_SHARED: weakref.WeakValueDictionary[tuple[str, str], np.ndarray] = weakref.WeakValueDictionary()


class ViewCache:
    """All grid views of each model: rendered on first use, kept in memory and on disk.

    Arrays are shared (read-only) between caches of the same process while any of them holds one;
    each cache keeps the most recently used models up to `max_bytes`.
    Disk files are `<model>-<settings key>.npz` holding the views, the expected metadata (cache
    version, settings, mesh digest) and a checksum; a file that fails any check is reported with a
    `StaleCacheWarning` and rebuilt. Only regular files are read or replaced: anything else at a
    cache path (a FIFO, a device, a folder) is skipped with a `StaleCacheWarning`, never opened, and
    the views stay in memory. A save writes a temporary file and renames it; temporary files older
    than `ORPHAN_AGE_S` (left by interrupted saves) are removed at the next save. `cache_dir=False`
    keeps views in memory only.
    """

    def __init__(self, settings: RenderSettings = RenderSettings(),
                 cache_dir: str | os.PathLike[str] | Literal[False] | None = None, max_bytes: int = 256 << 20) -> None:
        self.settings = settings
        self.cache_dir = check_cache_dir(cache_dir)
        self.max_bytes = max_bytes
        self._views: OrderedDict[str, np.ndarray] = OrderedDict()
        self._renderer: CarRenderer | None = None
        self.renders = 0
        self.disk_loads = 0

    def __getstate__(self) -> dict[str, Any]:
        """Copies keep the settings; they fetch views again (shared in-process, else from disk)."""
        return {"settings": self.settings, "cache_dir": self.cache_dir or False, "max_bytes": self.max_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    @property
    def renderer(self) -> CarRenderer:
        if self._renderer is None:
            self._renderer = CarRenderer(self.settings)
        return self._renderer

    def path(self, name: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{name}-{self.settings.image_size}px-{self.settings.key()}.npz"

    def _meta(self, name: str) -> dict[str, Any]:
        meta = {"version": CACHE_VERSION, "model": name, "settings": dataclasses.asdict(self.settings),
                "mesh_sha256": _file_digest(load_manifest()[name].obj)}
        return json.loads(json.dumps(meta))

    def views(self, name: str) -> np.ndarray:
        """The (N_AZIMUTHS, N_ELEVATIONS, H, W, 3) views of model `name`."""
        views = self._views.get(name)
        if views is not None:
            self._views.move_to_end(name)
            return views
        key = (name, self.settings.key())
        views = _SHARED.get(key)
        path = self.path(name)
        if views is None:
            views = self._load(name)
            if views is None:
                views = self.renderer.render_views(name)
                self.renders += 1
                self._store(name, views)
            _SHARED[key] = views
        elif path is not None and _regular_file(path) is None:
            self._store(name, views)
        self._views[name] = views
        while len(self._views) > 1 and sum(v.nbytes for v in self._views.values()) > self.max_bytes:
            self._views.popitem(last=False)
        return views

    def view(self, name: str, az_bin: int, el_bin: int) -> np.ndarray:
        return self.views(name)[az_bin % N_AZIMUTHS, el_bin]

    def warm(self, names: Iterable[str]) -> None:
        """Bring the views of `names` into memory now."""
        for name in names:
            self.views(name)

    def _load(self, name: str) -> np.ndarray | None:
        path = self.path(name)
        if path is None:
            return None
        regular = _regular_file(path)
        if regular is None:
            return None
        if not regular:
            warnings.warn(f"npi-gym view cache {path} is not a regular file; skipping it (views kept in memory)",
                          StaleCacheWarning, stacklevel=3)
            return None
        try:
            with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                views = data["views"]
                checksum = str(data["checksum"])
            expected = self._meta(name)
            if meta != expected:
                raise ValueError("written for another model, version, mesh or render settings")
            shape = (N_AZIMUTHS, N_ELEVATIONS, self.settings.image_size, self.settings.image_size, 3)
            if views.shape != shape or views.dtype != np.uint8:
                raise ValueError(f"views have shape {views.shape} {views.dtype}, expected {shape} uint8")
            if _views_checksum(views) != checksum:
                raise ValueError("checksum mismatch")
        except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile, zlib.error) as exc:
            warnings.warn(f"npi-gym view cache {path} is unusable ({exc}); rebuilding it", StaleCacheWarning,
                          stacklevel=3)
            return None
        views.flags.writeable = False
        self.disk_loads += 1
        return views

    def _store(self, name: str, views: np.ndarray) -> None:
        path = self.path(name)
        if path is None or _regular_file(path) is False:
            return
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _remove_orphans(path.parent)
            fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{name}-", suffix=TMP_SUFFIX, dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                np.savez_compressed(f, views=views, meta=np.array(json.dumps(self._meta(name), sort_keys=True)),
                                    checksum=np.array(_views_checksum(views)))
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            warnings.warn(f"npi-gym could not write the view cache {path} ({exc}); keeping views in memory only",
                          RuntimeWarning, stacklevel=3)
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def close(self) -> None:
        """Drop this cache's references and disconnect its renderer."""
        self._views.clear()
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def _remove_orphans(folder: Path) -> None:
    """Remove this cache's temporary files in ``folder`` older than ``ORPHAN_AGE_S`` (regular files only)."""
    cutoff = time.time() - ORPHAN_AGE_S
    for tmp in folder.glob(f"{TMP_PREFIX}*{TMP_SUFFIX}"):
        try:
            info = os.lstat(tmp)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                tmp.unlink()
        except OSError:
            pass
