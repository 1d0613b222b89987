"""NPI-Canonicalize-v0: bring the camera round a 3D car model to a canonical pose, seeing only pixels."""

from __future__ import annotations

import os
from typing import Any, Iterator, Literal

import numpy as np
from gymnasium import spaces

from npi_gym.base import short_repr
from npi_gym.core import ProgramEnv, check_bool, check_int
from npi_gym.envs.car.cache import ViewCache
from npi_gym.envs.car.render import (
    AZIMUTH_STEP,
    ELEVATIONS,
    N_AZIMUTHS,
    N_ELEVATIONS,
    RenderSettings,
    load_manifest,
    model_names,
)
from npi_gym.programs import Program, ProgramSet
from npi_gym.rendering import text_mask

LEFT, RIGHT, UP, DOWN = range(4)
ACT_ARGS = {"LEFT": (LEFT, 0, 0), "RIGHT": (RIGHT, 0, 0), "UP": (UP, 0, 0), "DOWN": (DOWN, 0, 0)}
RENDER_SIZE = 256
PANEL = 128
TARGET_INK = np.array([40, 170, 60], dtype=np.uint8)
CURRENT_INK = np.array([235, 120, 20], dtype=np.uint8)
PANEL_BACKGROUND = np.array([250, 250, 245], dtype=np.uint8)
AZIMUTH_DEGREES = range(-180, 361)
MAX_MOVES = N_AZIMUTHS // 2 + N_ELEVATIONS - 1
"""the most moves the expert needs: half a turn and the whole elevation range"""

PROGRAMS = ProgramSet(
    [
        Program("GOTO", calls=("HGOTO", "VGOTO"), doc="bring the camera to the target pose"),
        Program("HGOTO", calls=("LGOTO", "RGOTO"), doc="horizontal part: turn the shorter way round"),
        Program("LGOTO", calls=("ACT",), doc="move left until the azimuth matches"),
        Program("RGOTO", calls=("ACT",), doc="move right until the azimuth matches"),
        Program("VGOTO", calls=("UGOTO", "DGOTO"), doc="vertical part"),
        Program("UGOTO", calls=("ACT",), doc="move up until the elevation matches"),
        Program("DGOTO", calls=("ACT",), doc="move down until the elevation matches"),
        Program("ACT", primitive=True, args=ACT_ARGS, doc="move the camera 15 degrees left, right, up or down"),
    ]
)


def horizontal_plan(az_bin: int, target_az_bin: int) -> tuple[int | None, int]:
    """(direction, moves) the expert takes in azimuth: RIGHT, LEFT or None when it matches.

    It turns the shorter way round; exactly opposite (180 degrees) it turns right.
    """
    d = (target_az_bin - az_bin) % N_AZIMUTHS
    if d == 0:
        return None, 0
    return (RIGHT, d) if d <= N_AZIMUTHS // 2 else (LEFT, N_AZIMUTHS - d)


def vertical_plan(el_bin: int, target_el_bin: int) -> tuple[int | None, int]:
    """(direction, moves) the expert takes in elevation: UP, DOWN or None when it matches."""
    d = target_el_bin - el_bin
    return (None if d == 0 else UP if d > 0 else DOWN), abs(d)


def _grid_range(name: str, span: Any, allowed: range | tuple[int, ...]) -> list[int]:
    """Degrees lo, lo + 15, ..., hi from a (lo, hi) pair of integers, checked against the grid."""
    accepted = (f"a (low, high) pair of integers with low <= high, multiples of {AZIMUTH_STEP} "
                f"in [{min(allowed)}, {max(allowed)}]")
    if not (isinstance(span, (tuple, list)) and len(span) == 2 and all(_is_int(x) for x in span)):
        raise ValueError(f"{name} must be {accepted}; got {short_repr(span)}")
    lo, hi = (int(x) for x in span)
    if lo > hi or lo % AZIMUTH_STEP or hi % AZIMUTH_STEP or lo not in allowed or hi not in allowed:
        raise ValueError(f"{name} must be {accepted}; got {span!r}")
    return list(range(lo, hi + 1, AZIMUTH_STEP))


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _az_bin(deg: int) -> int:
    return (deg // AZIMUTH_STEP) % N_AZIMUTHS


def _az_deg(az_bin: int) -> int:
    """Azimuth of a bin in degrees, in (-180, 180]."""
    deg = int(az_bin) * AZIMUTH_STEP
    return deg - 360 if deg > 180 else deg


def _el_bin(deg: int) -> int:
    return ELEVATIONS.index(deg)


class CanonicalizeEnv(ProgramEnv):
    """Canonicalise the viewpoint of a car, as in the NPI paper.

    ## Description
    The camera sits on a grid around one of 48 generated low-poly car models: azimuth in 24 bins of
    15 degrees (0 faces the car's front; RIGHT adds 15 degrees, moving the camera to its right round
    the car; LEFT subtracts; azimuth wraps round), elevation from -15 to 75 degrees in 15 degree steps
    (UP, DOWN). The agent sees pixels and the target pose, never the current pose, and must bring the
    camera to the target.

    ## Action Space
    ``Dict({"program": Discrete(9), "args": MultiDiscrete([4, 1, 1])})``: one program call per step.
    Programs (RETURN is 0): GOTO, HGOTO, LGOTO, RGOTO, VGOTO, UGOTO, DGOTO and the primitive
    ``ACT LEFT|RIGHT|UP|DOWN``. The expert: GOTO calls HGOTO then VGOTO. HGOTO calls LGOTO or RGOTO,
    whichever turns the shorter way (RGOTO at exactly 180 degrees), and returns at once when the
    azimuth already matches; VGOTO likewise calls UGOTO or DGOTO, or returns at once. LGOTO/RGOTO
    repeat ``ACT LEFT``/``ACT RIGHT`` until the azimuth matches; UGOTO/DGOTO repeat ``ACT UP``/``ACT
    DOWN`` while the target is above/below, so they return at once if called the wrong way.

    ## Observation Space
    ``image``: ``Box(0, 255, (image_size, image_size, 3), uint8)``, the rendered view; ``target``:
    ``MultiDiscrete([24, 7])``, the target pose as ``[azimuth bin, elevation bin]`` (elevation bin i is
    ``ELEVATIONS[i]``); ``program`` and ``args``: the running call.

    ## Rewards
    1.0 when GOTO returns with the camera at the target (in a sub-program episode: when the state
    equals the one the expert reaches from the same start), else 0.0.

    ## Starting State
    A model of the split and a start pose drawn from the start ranges. ``reset(options=...)`` accepts
    ``problem=(model, (azimuth, elevation), (target azimuth, target elevation))`` in degrees,
    ``length=n`` (a start pose the expert reaches in n moves) and ``program=...`` (a sub-program
    episode); a malformed option raises ``ValueError`` saying what is accepted.

    ## Episode End
    Terminated when the opening program returns. Truncated after twice the expert's steps (+2).
    Moving above 75 or below -15 degrees, a call the program table forbids or undeclared arguments is
    an invalid call: nothing changes and ``info["invalid_call"]`` says why (``invalid_call="raise"``
    raises ``InvalidCall``).

    ## Arguments
    ``image_size`` (pixels, an integer in 16-512, default 64), ``split`` ("train", "test" or "all":
    the car models an episode may draw), ``start_azimuth`` and ``start_elevation`` (inclusive
    ranges of integer degrees on the grid), ``target`` (the canonical pose in integer degrees) or
    ``random_target=True`` (True or False: a target drawn from the start ranges every episode),
    ``min_length`` and ``max_length`` (the moves the expert needs from the start pose, default
    0..18, the most on the grid: every start pose; ``options["length"]`` picks one count instead),
    ``program`` (the sub-program every reset opens unless ``options["program"]`` names another,
    e.g. ``"HGOTO"``; default GOTO), ``cache_dir`` (a non-empty path where rendered views are kept;
    default ``None``: ``$NPI_GYM_CACHE_DIR`` or the user's cache directory; ``False``: memory
    only), ``invalid_call`` ("noop" or "raise"), ``render_mode`` ("ansi" or "rgb_array"). A reset
    costs the same at every length (18 moves at most); the first reset of a model renders its 168
    views once (then they come from the cache).

    ## Registered Configurations
    ``NPI-Canonicalize-v0``: the defaults above (36 training models, start azimuth -75..75, elevation
    0..60, target (0, 15)).
    """

    programs = PROGRAMS
    root = "GOTO"

    def __init__(
        self,
        image_size: int = 64,
        split: str = "train",
        start_azimuth: tuple[int, int] = (-75, 75),
        start_elevation: tuple[int, int] = (0, 60),
        target: tuple[int, int] = (0, 15),
        random_target: bool = False,
        min_length: int = 0,
        max_length: int = MAX_MOVES,
        program: str | None = None,
        cache_dir: str | os.PathLike[str] | Literal[False] | None = None,
        invalid_call: str = "noop",
        render_mode: str | None = None,
    ) -> None:
        self.image_size = check_int("image_size", image_size, 16, 512)
        self.split = split
        self.models = model_names(split)
        start_az = _grid_range("start_azimuth", start_azimuth, AZIMUTH_DEGREES)
        if start_az[-1] - start_az[0] >= 360:
            raise ValueError(f"start_azimuth spans a full turn or more: {start_azimuth!r}; accepted: high - low < 360")
        start_el = _grid_range("start_elevation", start_elevation, ELEVATIONS)
        starts = [(_az_bin(a), _el_bin(e)) for a in start_az for e in start_el]
        self.random_target = check_bool("random_target", random_target)
        if random_target:
            targets = starts
        else:
            if not (isinstance(target, (tuple, list)) and len(target) == 2):
                raise ValueError(f"target must be an (azimuth, elevation) pair of integer degrees, got {target!r}")
            t_az = _grid_range("target azimuth", (target[0], target[0]), AZIMUTH_DEGREES)[0]
            t_el = _grid_range("target elevation", (target[1], target[1]), ELEVATIONS)[0]
            targets = [(_az_bin(t_az), _el_bin(t_el))]
        self.target = None if random_target else (_az_deg(targets[0][0]), ELEVATIONS[targets[0][1]])
        self._pairs = [(start, target) for start in starts for target in targets]
        plans = [(horizontal_plan(s[0], t[0]), vertical_plan(s[1], t[1])) for s, t in self._pairs]
        self._pair_moves = np.array([h[1] + v[1] for h, v in plans])
        self._pair_calls = {
            name: np.array([plan[k][0] == direction for plan in plans])
            for name, k, direction in (("LGOTO", 0, LEFT), ("RGOTO", 0, RIGHT), ("UGOTO", 1, UP), ("DGOTO", 1, DOWN))
        }
        self._set_length_bounds(min_length, max_length, smallest=0, largest=MAX_MOVES)
        self._in_bounds = (self._pair_moves >= self.min_length) & (self._pair_moves <= self.max_length)
        self._settings = RenderSettings(image_size=self.image_size)
        self._target_frame: tuple[tuple[str, int, int], np.ndarray] | None = None
        super().__init__(recursive=False, invalid_call=invalid_call, render_mode=render_mode, program=program)
        self._candidates(None, None if self.program == self.root else self.program)  # refuses bounds leaving none
        self._cache = ViewCache(self._settings, cache_dir=cache_dir)

    # ----------------------------------------------------------------- problem
    def _task_spaces(self) -> dict[str, spaces.Space]:
        size = self.image_size
        return {
            "image": spaces.Box(0, 255, (size, size, 3), dtype=np.uint8),
            "target": spaces.MultiDiscrete([N_AZIMUTHS, N_ELEVATIONS]),
        }

    def _sample_problem(self, length: int | None, program: str | None) -> tuple[str, tuple[int, int], tuple[int, int]]:
        rng = self.np_random
        model = self.models[int(rng.integers(len(self.models)))]
        candidates = self._candidates(length, program)
        pick = int(candidates[int(rng.integers(len(candidates)))])
        (s_az, s_el), (t_az, t_el) = self._pairs[pick]
        return model, (_az_deg(s_az), ELEVATIONS[s_el]), (_az_deg(t_az), ELEVATIONS[t_el])

    def _candidates(self, length: int | None, program: str | None) -> np.ndarray:
        """Indices of the (start, target) pairs of ``length`` moves (None: within the make-time bounds) in
        which the expert calls ``program``; ``ValueError`` when there is none."""
        ok = self._in_bounds if length is None else self._pair_moves == length
        if program in self._pair_calls:
            ok = ok & self._pair_calls[program]
        candidates = np.flatnonzero(ok)
        if len(candidates) == 0:
            moves = f"{self.min_length}..{self.max_length}" if length is None else length
            raise ValueError(f"no start pose in the start range needs {moves} moves"
                             f"{' with ' + program if program else ''}; possible lengths: {self._lengths(program)}")
        return candidates

    def _lengths(self, program: str | None) -> list[int]:
        """The move counts of the start and target pairs (those in which the expert calls ``program``)."""
        calls = self._pair_calls.get(program)
        return sorted(set((self._pair_moves if calls is None else self._pair_moves[calls]).tolist()))

    def _check_problem(self, problem: Any) -> tuple[str, tuple[int, int], tuple[int, int]]:
        accepted = ("(model, (azimuth, elevation), (target azimuth, target elevation)): a model name and integer "
                    f"degrees, azimuths multiples of {AZIMUTH_STEP} in [{min(AZIMUTH_DEGREES)}, {max(AZIMUTH_DEGREES)}], "
                    f"elevations in {list(ELEVATIONS)}, e.g. ('sedan_00', (-45, 30), (0, 15))")
        pair = (tuple, list)
        if not (isinstance(problem, pair) and len(problem) == 3 and isinstance(problem[0], str)
                and all(isinstance(p, pair) and len(p) == 2 and all(map(_is_int, p)) for p in problem[1:])):
            raise ValueError(f"a car problem is {accepted}; got {short_repr(problem)}")
        model, (s_az, s_el), (t_az, t_el) = problem
        if model not in load_manifest():
            raise ValueError(f"unknown car model {model!r}; known: {model_names('all')}")
        poses = [int(s_az), int(s_el), int(t_az), int(t_el)]
        if any(p % AZIMUTH_STEP for p in poses) or poses[0] not in AZIMUTH_DEGREES or poses[2] not in AZIMUTH_DEGREES \
                or poses[1] not in ELEVATIONS or poses[3] not in ELEVATIONS:
            raise ValueError(f"a car problem is {accepted}; got {problem!r}")
        s_az, s_el, t_az, t_el = poses
        return model, (_az_deg(_az_bin(s_az)), s_el), (_az_deg(_az_bin(t_az)), t_el)

    def _load(self, problem: tuple[str, tuple[int, int], tuple[int, int]]) -> None:
        self._model, start, target = problem
        self._az, self._el = _az_bin(start[0]), _el_bin(start[1])
        self._target_az, self._target_el = _az_bin(target[0]), _el_bin(target[1])
        self._target_obs = np.array([self._target_az, self._target_el], dtype=np.int64)
        self._cache.views(self._model)

    # ----------------------------------------------------------------- state
    @property
    def model(self) -> str:
        """The car model of the episode."""
        return self._model

    @property
    def pose(self) -> tuple[int, int]:
        """The camera's current (azimuth, elevation) in degrees; azimuth in (-180, 180]."""
        return _az_deg(self._az), ELEVATIONS[self._el]

    @property
    def pose_pairs(self) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """Every (start, target) pair an episode may draw, as ((azimuth bin, elevation bin), (the same of the target))."""
        return list(self._pairs)

    @property
    def target_pose(self) -> tuple[int, int]:
        """The episode's target (azimuth, elevation) in degrees."""
        return _az_deg(self._target_az), ELEVATIONS[self._target_el]

    def _get_state(self) -> tuple:
        return self._az, self._el

    def _set_state(self, state: tuple) -> None:
        self._az, self._el = state

    def _act(self, args: tuple[int, int, int]) -> str | None:
        move = args[0]
        if move == LEFT or move == RIGHT:
            self._az = (self._az + (1 if move == RIGHT else -1)) % N_AZIMUTHS
            return None
        el = self._el + (1 if move == UP else -1)
        if not 0 <= el < N_ELEVATIONS:
            return f"the camera is already at the {'highest' if move == UP else 'lowest'} elevation " \
                   f"({ELEVATIONS[self._el]} degrees)"
        self._el = el
        return None

    def _observe(self) -> dict[str, Any]:
        return {"image": self._cache.view(self._model, self._az, self._el).copy(), "target": self._target_obs.copy()}

    def _solved(self) -> bool:
        return self._az == self._target_az and self._el == self._target_el

    # ----------------------------------------------------------------- expert
    def expert_GOTO(self) -> Iterator[str]:
        yield "HGOTO"
        yield "VGOTO"

    def expert_HGOTO(self) -> Iterator[str]:
        direction, _ = horizontal_plan(self._az, self._target_az)
        if direction is not None:
            yield "RGOTO" if direction == RIGHT else "LGOTO"

    def expert_VGOTO(self) -> Iterator[str]:
        direction, _ = vertical_plan(self._el, self._target_el)
        if direction is not None:
            yield "UGOTO" if direction == UP else "DGOTO"

    def expert_LGOTO(self) -> Iterator[str]:
        while self._az != self._target_az:
            yield "ACT LEFT"

    def expert_RGOTO(self) -> Iterator[str]:
        while self._az != self._target_az:
            yield "ACT RIGHT"

    def expert_UGOTO(self) -> Iterator[str]:
        while self._el < self._target_el:
            yield "ACT UP"

    def expert_DGOTO(self) -> Iterator[str]:
        while self._el > self._target_el:
            yield "ACT DOWN"

    # ----------------------------------------------------------------- rendering
    def _render_text(self) -> str:
        (az, el), (t_az, t_el) = self.pose, self.target_pose
        return (f"{self._model}: camera at azimuth {az}, elevation {el}; target {t_az}, {t_el}   "
                f"stack: {' > '.join(self.stack) or '(returned)'}\n")

    def _render_image(self) -> np.ndarray:
        """The current view at 256 px beside a panel: the target view and a dial of both azimuths."""
        renderer = self._cache.renderer
        main = renderer.render(self._model, *self.pose, image_size=RENDER_SIZE)
        if self._solved():
            _border(main, TARGET_INK, 4)
        key = (self._model, *self.target_pose)
        if self._target_frame is None or self._target_frame[0] != key:
            self._target_frame = (key, renderer.render(self._model, *self.target_pose, image_size=PANEL))
        thumb = self._target_frame[1].copy()
        _border(thumb, TARGET_INK, 3)
        dial = np.empty((RENDER_SIZE - PANEL, PANEL, 3), dtype=np.uint8)
        dial[:] = PANEL_BACKGROUND
        _draw_dial(dial, self.pose, self.target_pose)
        return np.concatenate([main, np.concatenate([thumb, dial], axis=0)], axis=1)

    def close(self) -> None:
        self._cache.close()
        self._target_frame = None
        super().close()


def _border(image: np.ndarray, colour: np.ndarray, width: int) -> None:
    image[:width], image[-width:], image[:, :width], image[:, -width:] = colour, colour, colour, colour


def _line(image: np.ndarray, centre: tuple[float, float], angle_deg: float, length: float,
          colour: np.ndarray) -> None:
    """A 3-pixel-wide ray on a top-down dial: 0 degrees points up (the car's front), 90 left."""
    a = np.radians(angle_deg)
    t = np.linspace(0.0, length, int(length * 2) + 1)
    rows = np.round(centre[0] - t * np.cos(a)).astype(int)
    cols = np.round(centre[1] - t * np.sin(a)).astype(int)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r, c = np.clip(rows + dr, 0, image.shape[0] - 1), np.clip(cols + dc, 0, image.shape[1] - 1)
            image[r, c] = colour


def _text(image: np.ndarray, top: int, left: int, text: str, colour: np.ndarray) -> None:
    mask = text_mask(text)
    image[top:top + mask.shape[0], left:left + mask.shape[1]][mask] = colour


def _draw_dial(panel: np.ndarray, pose: tuple[int, int], target: tuple[int, int]) -> None:
    """A top view of the azimuths (a car outline, front up) and both poses written out in degrees."""
    h, w = panel.shape[:2]
    centre, radius = (h * 0.4, w / 2), min(h, w) * 0.33
    yy, xx = np.mgrid[:h, :w]
    ring = np.abs(np.hypot(yy - centre[0], xx - centre[1]) - radius) < 1.0
    panel[ring] = (170, 170, 170)
    body = (np.abs(yy - centre[0]) < 11) & (np.abs(xx - centre[1]) < 5)
    panel[body] = (110, 110, 120)
    panel[(np.abs(yy - (centre[0] - 9)) < 2) & (np.abs(xx - centre[1]) < 5)] = (250, 230, 160)
    _line(panel, centre, target[0], radius, TARGET_INK)
    _line(panel, centre, pose[0], radius * 0.8, CURRENT_INK)
    _text(panel, h - 34, 8, f"{target[0]} {target[1]}", TARGET_INK)
    _text(panel, h - 17, 8, f"{pose[0]} {pose[1]}", CURRENT_INK)
