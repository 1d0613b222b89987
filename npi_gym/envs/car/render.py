"""Rendering of the shipped car models with pybullet's TinyRenderer.

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
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

AZIMUTH_STEP = 15
N_AZIMUTHS = 24
ELEVATIONS: tuple[int, ...] = tuple(range(-15, 76, 15))
N_ELEVATIONS = len(ELEVATIONS)
CACHE_VERSION = 1
CARS_DIR = Path(__file__).resolve().parent / "assets" / "cars"


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
