"""NPI-Canonicalize-v0: car assets, the pybullet renderer, the view cache and the env."""

from __future__ import annotations

import gc
import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import npi_gym
from npi_gym import InvalidCall
from npi_gym.envs.car import (
    CARS_DIR,
    ELEVATIONS,
    N_AZIMUTHS,
    N_ELEVATIONS,
    CanonicalizeEnv,
    CarRenderer,
    RenderSettings,
    StaleCacheWarning,
    ViewCache,
    default_cache_dir,
    load_manifest,
    model_names,
)

ENV_ID = "NPI-Canonicalize-v0"
HEADLIGHT = np.array([255.0, 246.0, 205.0])
TAILLIGHT = np.array([214.0, 18.0, 24.0])
SMALL = 16  # image size for tests of the task logic: cheap to render cold
START_POSES = [(az, el) for az in range(-75, 76, 15) for el in range(0, 61, 15)]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def lit_like(image: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Pixels whose colour is `base` under some shading factor (at least half lit)."""
    p = image.reshape(-1, 3).astype(float)
    k = p @ base / (base @ base)
    residual = np.linalg.norm(p - k[:, None] * base, axis=1) / np.maximum(np.linalg.norm(p, axis=1), 1.0)
    return ((k > 0.5) & (residual < 0.06)).reshape(image.shape[:2])


def expert_steps(start: tuple[int, int], target: tuple[int, int]) -> int:
    """The expert's calls from GOTO, returns included: 3 + (h + 3 or 1) + (v + 3 or 1)."""
    d = ((target[0] - start[0]) // 15) % 24
    h, v = min(d, 24 - d), abs(target[1] - start[1]) // 15
    return 3 + (h + 3 if h else 1) + (v + 3 if v else 1)


def run_expert(env: CanonicalizeEnv) -> tuple[float, int, list[str]]:
    """Follow the expert to the end of the episode: (reward, steps, calls made)."""
    calls = []
    while True:
        action = env.expert_action()
        assert action is not None
        calls.append(env.programs.text(env.action_to_call(action)))
        _, reward, terminated, truncated, info = env.step(action)
        assert "invalid_call" not in info
        if terminated or truncated:
            assert terminated and not truncated
            return reward, len(calls), calls


@pytest.fixture(scope="module")
def renderer() -> CarRenderer:
    r = CarRenderer()
    yield r
    r.close()


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NPI_GYM_CACHE_DIR", str(tmp_path))
    return tmp_path


# ----------------------------------------------------------------- assets
def test_manifest_has_a_fixed_split_of_distinct_models() -> None:
    manifest = load_manifest()
    assert len(manifest) >= 40
    train, test = model_names("train"), model_names("test")
    assert set(train).isdisjoint(test) and sorted(train + test) == sorted(model_names("all"))
    assert 0.2 <= len(test) / len(manifest) <= 0.3
    digests = set()
    for model in manifest.values():
        text = model.obj.read_text()
        assert 2_000 < len(text) < 16_000
        assert "map_Kd palette.png" in model.obj.with_suffix(".mtl").read_text()
        digests.add(hash(text))
    assert len(digests) == len(manifest)
    styles = {json_model["style"] for json_model in json.loads((CARS_DIR / "manifest.json").read_text())["models"]}
    assert len(styles) >= 5
    with pytest.raises(ValueError, match="split"):
        model_names("validation")


def test_generator_reproduces_the_shipped_files_byte_for_byte(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_cars", CARS_DIR.parent / "make_cars.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    shipped = sorted(p.name for p in CARS_DIR.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == shipped
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (CARS_DIR / name).read_bytes(), name


def test_front_and_rear_are_unmistakable_on_every_model(renderer: CarRenderer) -> None:
    """Headlights face the camera at azimuth 0 and tail lights at 180; side views put them at the ends."""
    for name in model_names("all"):
        for el in range(0, 61, 15):
            front, rear = renderer.render(name, 0, el), renderer.render(name, 180, el)
            assert lit_like(front, HEADLIGHT).sum() > lit_like(rear, HEADLIGHT).sum() + 5, (name, el)
            assert lit_like(rear, TAILLIGHT).sum() > lit_like(front, TAILLIGHT).sum() + 1, (name, el)
        for el in range(-15, 61, 15):
            for az, front_on_left in ((90, True), (270, False)):
                view = renderer.render(name, az, el)
                head = np.nonzero(lit_like(view, HEADLIGHT))[1]
                tail = np.nonzero(lit_like(view, TAILLIGHT))[1]
                assert len(head) and len(tail), (name, az, el)
                assert (head.mean() < tail.mean()) == front_on_left, (name, az, el)


# ----------------------------------------------------------------- renderer
def test_car_fills_most_of_the_frame_and_is_never_cut_off(renderer: CarRenderer) -> None:
    """The camera keeps one distance per model; seen head-on a car is narrower than its length."""
    for name in (model_names("train")[0], model_names("test")[0], "van_06", "sports_05"):
        extents = []
        for az in range(0, 360, 45):
            for el in ELEVATIONS:
                img = renderer.render(name, az, el).astype(int)
                sky = np.all(img == 255, axis=2)
                ground = np.all(img == img[-1, 0], axis=2)
                rows, cols = np.nonzero(~(sky | ground))
                extents.append(max(rows.max() - rows.min(), cols.max() - cols.min()) + 1)
                assert min(rows.min(), cols.min()) > 0, (name, az, el)
                assert max(rows.max(), cols.max()) < img.shape[0] - 1, (name, az, el)
        assert np.median(extents) >= 0.75 * 64 and min(extents) >= 0.4 * 64, (name, extents)


def test_render_is_deterministic_and_ignores_earlier_shadow_settings() -> None:
    import pybullet

    renderer = CarRenderer()
    first = renderer.render("sedan_00", 45, 30)
    assert first.shape == (64, 64, 3) and first.dtype == np.uint8
    view = pybullet.computeViewMatrix([6, 6, 6], [0, 0, 0.5], [0, 0, 1])
    proj = pybullet.computeProjectionMatrixFOV(40, 1, 0.1, 50)
    pybullet.getCameraImage(64, 64, view, proj, shadow=1, lightDirection=[0, 1, 0.2],
                            renderer=pybullet.ER_TINY_RENDERER, physicsClientId=renderer._client)
    np.testing.assert_array_equal(renderer.render("sedan_00", 45, 30), first)
    assert renderer.render("sedan_00", 45, 30, image_size=128).shape == (128, 128, 3)
    assert not np.array_equal(renderer.render("sedan_00", 60, 30), first)
    with pytest.raises(ValueError, match="elevation"):
        renderer.render("sedan_00", 0, 90)
    client = renderer._client
    renderer.close()
    assert not renderer.connected
    assert pybullet.getConnectionInfo(physicsClientId=client)["isConnected"] == 0


def test_importing_and_stepping_with_a_warm_cache_never_imports_pybullet(tmp_cache: Path) -> None:
    ViewCache(RenderSettings(image_size=SMALL)).views("sedan_00")
    code = (
        "import sys, gymnasium as gym, npi_gym\n"
        "assert 'pybullet' not in sys.modules\n"
        f"env = gym.make('{ENV_ID}', image_size={SMALL})\n"
        "obs, info = env.reset(seed=0, options={'problem': ('sedan_00', (30, 0), (0, 15))})\n"
        "env.step(env.unwrapped.expert_action())\n"
        "env.close()\n"
        "print('pybullet' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------- view cache
def test_views_are_rendered_once_then_loaded_from_disk(tmp_cache: Path) -> None:
    settings = RenderSettings(image_size=40)
    cache = ViewCache(settings)
    assert cache.cache_dir == tmp_cache
    first = cache.views("hatch_01").copy()
    assert first.shape == (N_AZIMUTHS, N_ELEVATIONS, 40, 40, 3)
    assert (cache.renders, cache.disk_loads) == (1, 0)
    files = list(tmp_cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz" and files[0].stat().st_size < 400_000
    assert cache.view("hatch_01", 3, 2) is not None and cache.renders == 1
    cache.close()
    gc.collect()
    again = ViewCache(settings)
    np.testing.assert_array_equal(again.views("hatch_01"), first)
    assert (again.renders, again.disk_loads) == (0, 1)
    assert not again.views("hatch_01").flags.writeable
    again.close()


def test_settings_and_sizes_have_their_own_files(tmp_cache: Path) -> None:
    small, large = ViewCache(RenderSettings(image_size=32)), ViewCache(RenderSettings(image_size=48))
    assert small.views("suv_03").shape[2:] == (32, 32, 3) and large.views("suv_03").shape[2:] == (48, 48, 3)
    assert small.path("suv_03") != large.path("suv_03")
    assert RenderSettings().key() != RenderSettings(fov_deg=50).key()
    assert len(list(tmp_cache.glob("*.npz"))) == 2
    assert not list(tmp_cache.glob("*.tmp"))


def _corrupt_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _corrupt_flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _corrupt_pixels(path: Path) -> None:
    with np.load(path) as d:
        arrays = dict(d)
    arrays["views"] = arrays["views"].copy()
    arrays["views"][0, 0, 0, 0] ^= 1
    np.savez_compressed(path, **arrays)


def _stale_version(path: Path) -> None:
    with np.load(path) as d:
        arrays = dict(d)
    meta = json.loads(str(arrays["meta"]))
    meta["version"] -= 1
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(path, **arrays)


def _stale_mesh(path: Path) -> None:
    with np.load(path) as d:
        arrays = dict(d)
    meta = json.loads(str(arrays["meta"]))
    meta["mesh_sha256"] = "0" * 64
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(path, **arrays)


@pytest.mark.parametrize("damage", [_corrupt_truncate, _corrupt_flip, _corrupt_pixels, _stale_version, _stale_mesh,
                                    lambda p: p.write_bytes(b"")])
def test_a_corrupted_or_stale_file_is_rebuilt_with_a_warning(tmp_cache: Path, damage) -> None:
    cache = ViewCache(RenderSettings(image_size=24))
    good = cache.views("coupe_04").copy()
    path = cache.path("coupe_04")
    cache.close()
    gc.collect()
    damage(path)
    fresh = ViewCache(RenderSettings(image_size=24))
    with pytest.warns(StaleCacheWarning, match="rebuilding"):
        rebuilt = fresh.views("coupe_04")
    np.testing.assert_array_equal(rebuilt, good)
    assert (fresh.renders, fresh.disk_loads) == (1, 0)
    del rebuilt
    fresh.close()
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reloaded = ViewCache(RenderSettings(image_size=24))
        np.testing.assert_array_equal(reloaded.views("coupe_04"), good)
        assert reloaded.disk_loads == 1


def test_an_unwritable_cache_dir_warns_and_keeps_views_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = ViewCache(RenderSettings(image_size=16), cache_dir=blocker / "sub")
    with pytest.warns(RuntimeWarning, match="memory only"):
        v = cache.views("van_06")
    assert v.shape[2:] == (16, 16, 3)
    assert cache.views("van_06") is v
    memory_only = ViewCache(RenderSettings(image_size=16), cache_dir=False)
    assert memory_only.path("van_06") is None


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NPI_GYM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "npi-gym"
    monkeypatch.setenv("NPI_GYM_CACHE_DIR", str(tmp_path / "own"))
    assert default_cache_dir() == tmp_path / "own"


def test_memory_is_bounded_per_cache(tmp_cache: Path) -> None:
    one_model = N_AZIMUTHS * N_ELEVATIONS * 16 * 16 * 3
    cache = ViewCache(RenderSettings(image_size=16), max_bytes=2 * one_model)
    for name in model_names()[:4]:
        cache.views(name)
    assert list(cache._views) == model_names()[2:4]


# ----------------------------------------------------------------- env
def test_observation_shows_image_and_target_never_the_pose() -> None:
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=1, options={"problem": ("sedan_00", (-45, 30), (0, 15))})
    assert set(obs) == {"image", "target", "program", "args"}
    assert obs["image"].shape == (64, 64, 3) and obs["image"].dtype == np.uint8
    assert obs["target"].tolist() == [0, ELEVATIONS.index(15)]
    assert set(info) <= {"action_mask", "invalid_call"}
    u = env.unwrapped
    np.testing.assert_array_equal(obs["image"], u._cache.view("sedan_00", N_AZIMUTHS - 3, ELEVATIONS.index(30)))
    seen = [obs["image"]]
    env.step(u.call_to_action("HGOTO"))
    env.step(u.call_to_action("RGOTO"))
    for _ in range(N_AZIMUTHS):
        obs, _, _, _, info = env.step(u.call_to_action("ACT RIGHT"))
        assert set(info) <= {"action_mask"}
        seen.append(obs["image"])
    assert u.pose == (-45, 30)
    np.testing.assert_array_equal(seen[0], seen[-1])
    assert len({img.tobytes() for img in seen}) == N_AZIMUTHS
    env.close()


def test_expert_solves_every_start_pose_on_every_model() -> None:
    env = CanonicalizeEnv(split="all", image_size=SMALL)
    for model in model_names("all"):
        for start in START_POSES:
            env.reset(options={"problem": (model, start, (0, 15))})
            reward, steps, calls = run_expert(env)
            assert reward == 1.0 and env.pose == (0, 15) and steps == expert_steps(start, (0, 15))
            assert sum(c.startswith("ACT") for c in calls) == (abs(start[0]) + abs(start[1] - 15)) // 15
    env.close()


def test_expert_solves_random_targets_and_its_step_count_is_exact() -> None:
    env = CanonicalizeEnv(random_target=True, start_azimuth=(-180, 165), start_elevation=(-15, 75),
                          image_size=SMALL)
    targets = set()
    for seed in range(300):
        env.reset(seed=seed)
        targets.add(env.target_pose)
        expected = expert_steps(env.pose, env.target_pose)
        assert env.step_budget == 2 * expected + 2
        reward, steps, _ = run_expert(env)
        assert reward == 1.0 and steps == expected
    assert len(targets) > 100
    env.close()


def test_when_a_coordinate_already_matches_the_expert_skips_that_part() -> None:
    env = CanonicalizeEnv()
    env.reset(options={"problem": ("sedan_00", (0, 45), (0, 15))})
    assert run_expert(env)[2] == ["HGOTO", "RETURN", "VGOTO", "DGOTO", "ACT DOWN", "ACT DOWN", "RETURN",
                                  "RETURN", "RETURN"]
    env.reset(options={"problem": ("sedan_00", (30, 15), (0, 15))})
    assert run_expert(env)[2] == ["HGOTO", "LGOTO", "ACT LEFT", "ACT LEFT", "RETURN", "RETURN", "VGOTO",
                                  "RETURN", "RETURN"]
    env.reset(options={"problem": ("sedan_00", (0, 15), (0, 15))})
    assert run_expert(env) == (1.0, 5, ["HGOTO", "RETURN", "VGOTO", "RETURN", "RETURN"])
    env.reset(options={"problem": ("sedan_00", (180, 15), (0, 15))})
    assert run_expert(env)[2][:2] == ["HGOTO", "RGOTO"]
    env.reset(options={"problem": ("sedan_00", (165, 15), (0, 15))})
    assert run_expert(env)[2][:2] == ["HGOTO", "LGOTO"]
    env.reset(options={"problem": ("sedan_00", (-165, 15), (0, 15))})
    assert run_expert(env)[2][:3] == ["HGOTO", "RGOTO", "ACT RIGHT"]
    env.close()


@pytest.mark.parametrize("program", ["HGOTO", "LGOTO", "RGOTO", "VGOTO", "UGOTO", "DGOTO"])
@pytest.mark.parametrize("random_target", [False, True])
def test_expert_solves_sub_program_episodes(program: str, random_target: bool) -> None:
    env = CanonicalizeEnv(random_target=random_target, image_size=SMALL)
    for seed in range(40):
        obs, _ = env.reset(seed=seed, options={"program": program})
        assert env.stack == (program,) and obs["program"] == env.programs.ids[program]
        assert run_expert(env)[0] == 1.0
    env.close()


def test_length_option_picks_the_number_of_moves() -> None:
    env = CanonicalizeEnv(image_size=SMALL)
    for length in (1, 2, 4, 8):
        for seed in range(10):
            env.reset(seed=seed, options={"length": length})
            assert sum(c.startswith("ACT") for c in run_expert(env)[2]) == length
    with pytest.raises(ValueError, match="possible lengths"):
        env.reset(options={"length": 30})
    env.close()


def test_invalid_moves_are_noops_or_raise() -> None:
    env = CanonicalizeEnv()
    env.reset(options={"problem": ("sedan_00", (0, 75), (0, 15))})
    env.step(env.call_to_action("VGOTO"))
    env.step(env.call_to_action("UGOTO"))
    obs, reward, terminated, truncated, info = env.step(env.call_to_action("ACT UP"))
    assert "highest elevation" in info["invalid_call"] and env.pose == (0, 75)
    strict = CanonicalizeEnv(invalid_call="raise")
    strict.reset(options={"problem": ("sedan_00", (0, -15), (0, 15))})
    strict.step(strict.call_to_action("VGOTO"))
    strict.step(strict.call_to_action("DGOTO"))
    with pytest.raises(InvalidCall, match="lowest elevation"):
        strict.step(strict.call_to_action("ACT DOWN"))
    env.close()
    strict.close()


def test_wrong_answers_are_not_rewarded_and_budget_truncates() -> None:
    env = CanonicalizeEnv()
    env.reset(options={"problem": ("sedan_00", (30, 15), (0, 15))})
    _, reward, terminated, _, _ = env.step(env.call_to_action("RETURN"))
    assert terminated and reward == 0.0
    env.reset(options={"problem": ("sedan_00", (30, 15), (0, 15))})
    env.step(env.call_to_action("HGOTO"))
    env.step(env.call_to_action("RGOTO"))
    truncated = False
    for _ in range(env.step_budget):
        _, _, terminated, truncated, _ = env.step(env.call_to_action("ACT RIGHT"))
        if truncated:
            break
    assert truncated and not terminated
    env.close()


def test_splits_draw_only_their_models() -> None:
    drawn = {}
    for split in ("train", "test", "all"):
        env = CanonicalizeEnv(split=split, image_size=SMALL)
        drawn[split] = {(env.reset(seed=s), env.model)[1] for s in range(200)}
        env.close()
    assert drawn["train"] <= set(model_names("train")) and len(drawn["train"]) > 20
    assert drawn["test"] == set(model_names("test"))
    assert drawn["all"] & set(model_names("test")) and drawn["all"] & set(model_names("train"))


def test_start_ranges_and_targets() -> None:
    env = CanonicalizeEnv(start_azimuth=(90, 120), start_elevation=(45, 60), target=(180, 30), image_size=SMALL)
    for seed in range(50):
        env.reset(seed=seed)
        assert env.target_pose == (180, 30)
        az, el = env.pose
        assert az in (90, 105, 120) and el in (45, 60)
    env.close()
    for kwargs in ({"start_azimuth": (0, 10)}, {"start_elevation": (0, 90)}, {"target": (0, 20)},
                   {"target": 5}, {"split": "val"}, {"image_size": 8}, {"start_azimuth": (-180, 180)}):
        with pytest.raises(ValueError):
            CanonicalizeEnv(**kwargs)
    env = CanonicalizeEnv()
    for problem in [("nope", (0, 0), (0, 15)), ("sedan_00", (7, 0), (0, 15)), ("sedan_00", (0, 90), (0, 15)),
                    "sedan_00"]:
        with pytest.raises(ValueError):
            env.reset(options={"problem": problem})
    env.close()


def test_image_size_128_works() -> None:
    env = gym.make(ENV_ID, image_size=128, split="test")
    obs, _ = env.reset(seed=0)
    assert obs["image"].shape == (128, 128, 3) and env.observation_space.contains(obs)
    env.close()


def test_rgb_array_frame_shows_the_target_and_record_video_works(tmp_path: Path) -> None:
    env = gym.make(ENV_ID, render_mode="rgb_array")
    env.reset(seed=0, options={"problem": ("suv_03", (45, 45), (0, 15))})
    frame = env.render()
    assert frame.shape == (256, 384, 3) and frame.dtype == np.uint8
    u = env.unwrapped
    env.step(u.call_to_action("HGOTO"))
    env.step(u.call_to_action("LGOTO"))
    env.step(u.call_to_action("ACT LEFT"))
    moved = env.render()
    assert not np.array_equal(frame[:, :256], moved[:, :256])
    np.testing.assert_array_equal(frame[:128, 256:], moved[:128, 256:])
    env.close()
    assert not u._cache.renderer.connected

    video = gym.wrappers.RecordVideo(gym.make(ENV_ID, render_mode="rgb_array"), str(tmp_path / "videos"),
                                     disable_logger=True)
    video.reset(seed=0, options={"problem": ("sedan_00", (45, 30), (0, 15))})
    while True:
        *_, terminated, truncated, _ = video.step(video.unwrapped.expert_action())
        if terminated or truncated:
            break
    video.close()
    files = list((tmp_path / "videos").glob("*.mp4"))
    assert len(files) == 1 and files[0].stat().st_size > 1000


def test_ansi_render_names_model_pose_and_target() -> None:
    env = gym.make(ENV_ID, render_mode="ansi", image_size=SMALL)
    env.reset(options={"problem": ("van_06", (-30, 0), (0, 15))})
    assert env.render().startswith("van_06: camera at azimuth -30, elevation 0; target 0, 15")
    env.close()


def test_close_disconnects_the_client() -> None:
    import pybullet

    env = gym.make(ENV_ID, render_mode="rgb_array", cache_dir=False, image_size=16)
    env.reset(seed=0)
    env.render()
    renderer = env.unwrapped._cache.renderer
    client = renderer._client
    assert pybullet.getConnectionInfo(physicsClientId=client)["isConnected"] == 1
    env.close()
    assert pybullet.getConnectionInfo(physicsClientId=client)["isConnected"] == 0


def test_make_reset_close_cycles_do_not_grow_memory() -> None:
    """1,000 make/reset/close cycles (views from the disk cache) grow RSS by under 20 MB.

    Small images keep the cold first run fast; benchmarks/car_throughput.py measures the default size.
    """
    def cycle(seed: int) -> None:
        env = gym.make(ENV_ID, split="all", image_size=SMALL)
        env.reset(seed=seed)
        env.close()

    for seed in range(48):
        cycle(seed)
    gc.collect()
    before = rss_bytes()
    for seed in range(1000):
        cycle(seed)
    gc.collect()
    assert rss_bytes() - before < 20 * 2**20


def test_registered_at_import() -> None:
    assert ENV_ID in npi_gym.ENV_IDS
