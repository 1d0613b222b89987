"""Rendering of the shipped car models with pybullet's TinyRenderer, and a cache of their views.

Poses live on a grid: azimuth in 24 bins of 15 degrees (0 looks at the front of the car, increasing
azimuth moves the camera to its right), elevation in 15 degree steps from -15 to 75 degrees. Every view
of a model is rendered once (`CarRenderer.render_views`) and kept by `ViewCache`, in memory and on disk,
so a step after warm-up is an array lookup. pybullet is imported only when a frame is rendered.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import tempfile
import warnings
import weakref
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

AZIMUTH_STEP = 15
N_AZIMUTHS = 24
ELEVATIONS: tuple[int, ...] = tuple(range(-15, 76, 15))
N_ELEVATIONS = len(ELEVATIONS)
CACHE_VERSION = 1
_HERE = Path(__file__).resolve().parent
# A wheel carries the meshes inside the package (npi_gym/assets); a source checkout keeps them at its root.
CARS_DIR = next(
    (d for d in (_HERE / "assets" / "cars", _HERE.parent / "assets" / "cars") if d.is_dir()),
    _HERE.parent / "assets" / "cars",
)


@dataclass(frozen=True)
class CarModel:
    """One entry of the manifest: a mesh file and its axis-aligned bounds."""

    name: str
    obj: Path
    split: str
    bounds_min: tuple[float, float, float]
    bounds_max: tuple[float, float, float]


@functools.cache
def load_manifest(cars_dir: Path = CARS_DIR) -> dict[str, CarModel]:
    """All shipped car models by name, in manifest order."""
    data = json.loads((cars_dir / "manifest.json").read_text())
    return {
        m["name"]: CarModel(m["name"], cars_dir / m["obj"], m["split"], tuple(m["bounds_min"]),
                            tuple(m["bounds_max"]))
        for m in data["models"]
    }


def model_names(split: str = "all") -> list[str]:
    """Names of the models in a split: "train", "test" or "all"."""
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', not {split!r}")
    return [name for name, m in load_manifest().items() if split == "all" or m.split == split]


def azimuth_deg(az_bin: int) -> int:
    return (az_bin % N_AZIMUTHS) * AZIMUTH_STEP


@dataclass(frozen=True)
class RenderSettings:
    """Everything that changes a rendered frame (part of the disk cache key)."""

    image_size: int = 64
    fov_deg: float = 40.0
    margin: float = 0.04
    light_direction: tuple[float, float, float] = (0.5, 0.0, 1.0)
    light_color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    light_distance: float = 10.0
    ambient: float = 0.7
    diffuse: float = 0.4
    specular: float = 0.0
    ground_rgba: tuple[float, float, float, float] = (0.56, 0.58, 0.54, 1.0)

    def key(self) -> str:
        """A short stable digest of these settings and the cache version."""
        blob = json.dumps([CACHE_VERSION, dataclasses.asdict(self)], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_size(self, image_size: int) -> RenderSettings:
        return dataclasses.replace(self, image_size=image_size)


def camera_direction(az_deg: float, el_deg: float) -> np.ndarray:
    """Unit vector from the car's centre towards the camera."""
    a, e = math.radians(az_deg), math.radians(el_deg)
    return np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])


def camera_distance(model: CarModel, settings: RenderSettings) -> float:
    """The closest fixed distance at which the model's box fits the frame from every grid pose."""
    lo, hi = np.array(model.bounds_min), np.array(model.bounds_max)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    q = corners - (lo + hi) / 2
    back = np.array([camera_direction(azimuth_deg(a), el) for a in range(N_AZIMUTHS) for el in ELEVATIONS])
    right = np.cross(-back, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    up = np.cross(right, -back)
    extent = np.maximum(np.abs(q @ right.T), np.abs(q @ up.T))
    t = math.tan(math.radians(settings.fov_deg) / 2) * (1 - settings.margin)
    return float(np.max(extent / t + q @ back.T))


class CarRenderer:
    """A pybullet DIRECT client (TinyRenderer) that renders one car model at a time."""

    def __init__(self, settings: RenderSettings = RenderSettings()) -> None:
        self.settings = settings
        self._client: int | None = None
        self._disconnect: weakref.finalize | None = None
        self._model: str | None = None
        self._centre = np.zeros(3)
        self._distance = 1.0

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _pb(self) -> Any:
        import pybullet

        if self._client is None:
            self._client = pybullet.connect(pybullet.DIRECT)
            self._disconnect = weakref.finalize(self, pybullet.disconnect, physicsClientId=self._client)
            self._model = None
        return pybullet

    def _load(self, name: str) -> Any:
        pb = self._pb()
        if self._model == name:
            return pb
        model = load_manifest()[name]
        cid = self._client
        pb.resetSimulation(physicsClientId=cid)
        s = 200.0
        ground = pb.createVisualShape(
            pb.GEOM_MESH, vertices=[[-s, -s, 0], [s, -s, 0], [s, s, 0], [-s, s, 0]], indices=[0, 1, 2, 0, 2, 3],
            normals=[[0, 0, 1]] * 4, rgbaColor=list(self.settings.ground_rgba), physicsClientId=cid)
        pb.createMultiBody(baseVisualShapeIndex=ground, physicsClientId=cid)
        car = pb.createVisualShape(pb.GEOM_MESH, fileName=str(model.obj), physicsClientId=cid)
        pb.createMultiBody(baseVisualShapeIndex=car, physicsClientId=cid)
        self._centre = (np.array(model.bounds_min) + np.array(model.bounds_max)) / 2
        self._distance = camera_distance(model, self.settings)
        self._model = name
        return pb

    def render(self, name: str, az_deg: float, el_deg: float, image_size: int | None = None) -> np.ndarray:
        """One frame (uint8, size x size x 3) of model `name` seen from (azimuth, elevation) in degrees."""
        if not -90 < el_deg < 90:
            raise ValueError(f"elevation must lie strictly between -90 and 90 degrees, not {el_deg}")
        pb = self._load(name)
        s = self.settings
        size = image_size or s.image_size
        eye = self._centre + self._distance * camera_direction(az_deg, el_deg)
        view = pb.computeViewMatrix(eye.tolist(), self._centre.tolist(), [0.0, 0.0, 1.0])
        proj = pb.computeProjectionMatrixFOV(s.fov_deg, 1.0, 0.05, self._distance + 300.0)
        _, _, rgba, _, _ = pb.getCameraImage(
            size, size, view, proj, lightDirection=list(s.light_direction), lightColor=list(s.light_color),
            lightDistance=s.light_distance, shadow=0, lightAmbientCoeff=s.ambient,
            lightDiffuseCoeff=s.diffuse, lightSpecularCoeff=s.specular, renderer=pb.ER_TINY_RENDERER,
            physicsClientId=self._client)
        return np.ascontiguousarray(np.asarray(rgba, dtype=np.uint8).reshape(size, size, 4)[:, :, :3])

    def render_views(self, name: str) -> np.ndarray:
        """Every grid view of one model: uint8 array (N_AZIMUTHS, N_ELEVATIONS, H, W, 3)."""
        size = self.settings.image_size
        out = np.empty((N_AZIMUTHS, N_ELEVATIONS, size, size, 3), dtype=np.uint8)
        for a in range(N_AZIMUTHS):
            for e, el in enumerate(ELEVATIONS):
                out[a, e] = self.render(name, azimuth_deg(a), el)
        out.flags.writeable = False
        return out

    def close(self) -> None:
        """Disconnect the pybullet client (a later render reconnects)."""
        if self._disconnect is not None:
            self._disconnect()
        self._client = self._disconnect = self._model = None

    def __getstate__(self) -> dict[str, Any]:
        """Copies share no client: they connect their own on first render."""
        return {"settings": self.settings}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["settings"])  # type: ignore[misc]


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


class StaleCacheWarning(UserWarning):
    """A cache file was unreadable, corrupted or written for other settings; it is rebuilt."""


_SHARED: weakref.WeakValueDictionary[tuple[str, str], np.ndarray] = weakref.WeakValueDictionary()


class ViewCache:
    """All grid views of each model: rendered on first use, kept in memory and on disk.

    Arrays are shared (read-only) between caches of the same process while any of them holds one;
    each cache keeps the most recently used models up to `max_bytes`.
    Disk files are `<model>-<settings key>.npz` holding the views, the expected metadata (cache
    version, settings, mesh digest) and a checksum; a file that fails any check is reported with a
    `StaleCacheWarning` and rebuilt. `cache_dir=False` keeps views in memory only.
    """

    def __init__(self, settings: RenderSettings = RenderSettings(),
                 cache_dir: str | os.PathLike[str] | Literal[False] | None = None, max_bytes: int = 256 << 20) -> None:
        self.settings = settings
        if cache_dir is None:
            cache_dir = default_cache_dir()
        self.cache_dir = None if cache_dir is False else Path(cache_dir)
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
        elif path is not None and not path.exists():
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
        if path is None or not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
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
        if path is None:
            return
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".npz.tmp", dir=path.parent)
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
