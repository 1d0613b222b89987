"""Generate the low-poly car models in ``cars/`` beside this script (rerunning reproduces every byte).

Each car is a few extruded side profiles: a body with a sloped nose and hood, a cabin with slanted
windshield and rear window, twelve-sided wheels, window insets, pale headlights and a dark grille in
front, red tail lights behind, the hood always longer than the trunk. One OBJ per car with a single
material whose diffuse map is a shared palette PNG; every face's UVs point at the centre of one flat
colour cell (pybullet ignores per-material `Kd` colours but honours `map_Kd`).

Axes: x forward (the front of the car is +x), y left, z up; metres; the ground is z = 0.

    python npi_gym/envs/car/assets/make_cars.py            # writes npi_gym/envs/car/assets/cars/
"""

from __future__ import annotations

import json
import math
import random
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent / "cars"
SEED = 20160301
N_MODELS = 48
CELL = 4  # palette cell width in pixels

Vec = tuple[float, float, float]

FIXED_COLOURS = {
    "glass": (38, 48, 62),
    "tire": (28, 28, 30),
    "hub": (178, 180, 186),
    "headlight": (255, 246, 205),
    "grille": (22, 22, 24),
    "taillight": (214, 18, 24),
    "arch": (16, 16, 18),
    "trim": (52, 52, 56),
    "white": (236, 236, 232),
    "black": (34, 34, 38),
}
BODY_COLOURS = {
    "blue": (38, 84, 186),
    "navy": (30, 44, 104),
    "sky": (92, 152, 212),
    "green": (40, 132, 70),
    "forest": (30, 82, 52),
    "lime": (142, 192, 52),
    "yellow": (232, 192, 40),
    "orange": (232, 122, 30),
    "teal": (30, 142, 142),
    "purple": (112, 62, 152),
    "silver": (160, 164, 172),
    "graphite": (82, 84, 92),
    "brown": (122, 82, 50),
    "mint": (120, 196, 160),
    "pink": (212, 112, 162),
    "olive": (112, 116, 48),
}
PALETTE = {**FIXED_COLOURS, **BODY_COLOURS}
CELL_INDEX = {name: i for i, name in enumerate(PALETTE)}

# Per body style: ranges (lo, hi) for each parameter, sampled uniformly.
STYLES: dict[str, dict[str, tuple[float, float]]] = {
    "sedan": dict(length=(4.3, 4.9), width=(1.74, 1.88), clear=(0.15, 0.2), belt=(0.74, 0.84),
                  roof=(1.36, 1.48), wheel=(0.30, 0.34), hood=(0.29, 0.33), trunk=(0.17, 0.21),
                  ws=(0.55, 0.72), rw=(0.42, 0.6), tumble=(0.1, 0.16)),
    "hatch": dict(length=(3.7, 4.2), width=(1.66, 1.78), clear=(0.14, 0.18), belt=(0.76, 0.84),
                  roof=(1.42, 1.52), wheel=(0.28, 0.32), hood=(0.25, 0.29), trunk=(0.03, 0.06),
                  ws=(0.6, 0.75), rw=(0.18, 0.32), tumble=(0.1, 0.15)),
    "wagon": dict(length=(4.5, 4.95), width=(1.76, 1.88), clear=(0.15, 0.2), belt=(0.76, 0.84),
                  roof=(1.42, 1.52), wheel=(0.31, 0.34), hood=(0.26, 0.3), trunk=(0.03, 0.05),
                  ws=(0.6, 0.72), rw=(0.08, 0.16), tumble=(0.1, 0.14)),
    "suv": dict(length=(4.3, 4.85), width=(1.84, 1.98), clear=(0.24, 0.3), belt=(1.0, 1.1),
                roof=(1.66, 1.82), wheel=(0.36, 0.41), hood=(0.25, 0.29), trunk=(0.03, 0.05),
                ws=(0.5, 0.62), rw=(0.08, 0.14), tumble=(0.08, 0.12)),
    "coupe": dict(length=(4.35, 4.7), width=(1.78, 1.9), clear=(0.13, 0.16), belt=(0.68, 0.74),
                  roof=(1.24, 1.32), wheel=(0.31, 0.34), hood=(0.33, 0.37), trunk=(0.12, 0.15),
                  ws=(0.65, 0.8), rw=(0.65, 0.85), tumble=(0.12, 0.18)),
    "sports": dict(length=(4.2, 4.55), width=(1.9, 2.0), clear=(0.09, 0.12), belt=(0.6, 0.66),
                   roof=(1.08, 1.16), wheel=(0.32, 0.35), hood=(0.34, 0.38), trunk=(0.1, 0.13),
                   ws=(0.7, 0.85), rw=(0.65, 0.8), tumble=(0.14, 0.2)),
    "van": dict(length=(4.5, 5.0), width=(1.84, 1.96), clear=(0.16, 0.2), belt=(0.94, 1.04),
                roof=(1.8, 1.95), wheel=(0.31, 0.34), hood=(0.17, 0.2), trunk=(0.02, 0.04),
                ws=(0.7, 0.85), rw=(0.04, 0.08), tumble=(0.06, 0.1)),
}


class Mesh:
    """Triangle-fan polygons with flat normals and one palette colour per face."""

    def __init__(self) -> None:
        self.verts: dict[tuple[float, ...], int] = {}
        self.normals: dict[tuple[float, ...], int] = {}
        self.faces: list[tuple[list[int], int, int]] = []  # vertex ids, normal id, colour cell
        self.colours_used: set[int] = set()

    def poly(self, pts: list[Vec], colour: str, outward: Vec) -> None:
        """Add a planar convex polygon, wound so its normal agrees with `outward`."""
        n = _normal(pts)
        if _dot(n, outward) < 0:
            pts = pts[::-1]
            n = (-n[0], -n[1], -n[2])
        vids = [self._id(self.verts, _round(p)) for p in pts]
        nid = self._id(self.normals, _round(n))
        cell = CELL_INDEX[colour]
        self.colours_used.add(cell)
        self.faces.append((vids, nid, cell))

    def solid(self, rings: list[list[Vec]], colour: str, caps: tuple[str, str] | None = None) -> None:
        """A closed convex solid lofted through two rings of matching points (a prism or frustum)."""
        a, b = rings
        centre = _mean(a + b)
        m = len(a)
        for i in range(m):
            quad = [a[i], a[(i + 1) % m], b[(i + 1) % m], b[i]]
            self.poly(quad, colour, _sub(_mean(quad), centre))
        cap_a, cap_b = caps or (colour, colour)
        self.poly(a, cap_a, _sub(_mean(a), centre))
        self.poly(b, cap_b, _sub(_mean(b), centre))

    @staticmethod
    def _id(table: dict[tuple[float, ...], int], key: tuple[float, ...]) -> int:
        if key not in table:
            table[key] = len(table) + 1
        return table[key]

    def obj_text(self, name: str) -> str:
        lines = [f"# {name}: generated by npi_gym/envs/car/assets/make_cars.py", f"mtllib {name}.mtl", f"o {name}"]
        lines += ["v " + " ".join(_fmt(c) for c in v) for v in self.verts]
        cells = sorted(self.colours_used)
        vt_of = {cell: i + 1 for i, cell in enumerate(cells)}
        lines += [f"vt {_fmt((cell + 0.5) / len(PALETTE))} 0.5" for cell in cells]
        lines += ["vn " + " ".join(_fmt(c) for c in n) for n in self.normals]
        lines.append("usemtl palette")
        for vids, nid, cell in self.faces:
            lines.append("f " + " ".join(f"{v}/{vt_of[cell]}/{nid}" for v in vids))
        return "\n".join(lines) + "\n"

    def bounds(self) -> tuple[list[float], list[float]]:
        return ([min(v[k] for v in self.verts) for k in range(3)],
                [max(v[k] for v in self.verts) for k in range(3)])

    def triangles(self) -> int:
        return sum(len(vids) - 2 for vids, _, _ in self.faces)


def _sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _mean(pts: list[Vec]) -> Vec:
    n = len(pts)
    return (sum(p[0] for p in pts) / n, sum(p[1] for p in pts) / n, sum(p[2] for p in pts) / n)


def _normal(pts: list[Vec]) -> Vec:
    """Newell's method: the unit normal of a planar polygon, by its winding."""
    nx = ny = nz = 0.0
    for i, p in enumerate(pts):
        q = pts[(i + 1) % len(pts)]
        nx += (p[1] - q[1]) * (p[2] + q[2])
        ny += (p[2] - q[2]) * (p[0] + q[0])
        nz += (p[0] - q[0]) * (p[1] + q[1])
    s = math.sqrt(nx * nx + ny * ny + nz * nz)
    return (nx / s, ny / s, nz / s)


def _round(v: Vec) -> tuple[float, ...]:
    return tuple(round(c, 3) + 0.0 for c in v)


def _fmt(x: float) -> str:
    s = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _lerp(a: Vec, b: Vec, t: float) -> Vec:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def decal(mesh: Mesh, quad: list[Vec], u: tuple[float, float], v: tuple[float, float], colour: str,
          lift: float = 0.012) -> None:
    """A flat inset on the face `quad` (corners p00, p10, p11, p01), lifted off it along its normal.

    `u` runs p00 -> p10 and `v` runs p00 -> p01, both as fractions of the face.
    """
    p00, p10, p11, p01 = quad

    def at(s: float, t: float) -> Vec:
        return _lerp(_lerp(p00, p10, s), _lerp(p01, p11, s), t)

    n = _normal(quad)
    pts = [at(u[0], v[0]), at(u[1], v[0]), at(u[1], v[1]), at(u[0], v[1])]
    pts = [(p[0] + n[0] * lift, p[1] + n[1] * lift, p[2] + n[2] * lift) for p in pts]
    mesh.poly(pts, colour, n)


def outward_quad(mesh_centre: Vec, quad: list[Vec]) -> list[Vec]:
    """Return `quad` reordered (mirrored in u) so its Newell normal points away from `mesh_centre`."""
    if _dot(_normal(quad), _sub(_mean(quad), mesh_centre)) < 0:
        return [quad[1], quad[0], quad[3], quad[2]]
    return quad


def sample(rng: random.Random, style: str) -> dict[str, float]:
    return {k: round(rng.uniform(lo, hi), 3) for k, (lo, hi) in STYLES[style].items()}


def build_car(p: dict[str, float], body_colour: str, roof_colour: str) -> Mesh:
    mesh = Mesh()
    L, W, zb, belt = p["length"], p["width"], p["clear"], p["belt"]
    xf, xr = L / 2, -L / 2
    hw = W / 2

    # Body: a convex side profile (x, z), extruded across the width.
    z_fascia = zb + 0.62 * (belt - zb)
    nose_dx = 0.3 * (belt - zb) + 0.12
    z_hood_front = belt - 0.07
    z_tail = belt - 0.1
    profile = [
        (xr, zb), (xf - 0.06, zb), (xf, z_fascia), (xf - nose_dx, z_hood_front),
        (xr + 0.2, belt), (xr, z_tail),
    ]
    left = [(x, hw, z) for x, z in profile]
    right = [(x, -hw, z) for x, z in profile]
    body_centre = _mean(left + right)
    mesh.solid([left, right], body_colour)

    def body_face(i: int) -> list[Vec]:
        """The outward quad of profile edge i -> i+1 (u across the width, v along the edge)."""
        j = (i + 1) % len(profile)
        q = [right[i], left[i], left[j], right[j]]
        return outward_quad(body_centre, q)

    fascia, nose, deck, rear = body_face(1), body_face(2), body_face(4), body_face(5)
    for u in ((0.04, 0.28), (0.72, 0.96)):
        decal(mesh, fascia, u, (0.58, 0.97), "headlight")
        decal(mesh, nose, u, (0.0, 0.8), "headlight")
        decal(mesh, deck, u, (0.2, 1.0), "taillight")
    decal(mesh, fascia, (0.31, 0.69), (0.22, 0.82), "grille")
    decal(mesh, fascia, (0.05, 0.95), (0.0, 0.14), "trim")
    # the rear face runs from the tail top down to the bottom: v = 0 is the top edge
    for u in ((0.04, 0.3), (0.7, 0.96)):
        decal(mesh, rear, u, (0.08, 0.38), "taillight")
    decal(mesh, rear, (0.04, 0.96), (0.78, 1.0), "trim")
    # Bottom face: dark underbody.
    decal(mesh, body_face(0), (0.0, 1.0), (0.0, 1.0), "trim", lift=0.004)

    # Cabin: a frustum between the base (on the hood line) and the narrower roof.
    hood_len, trunk_len = p["hood"] * L, p["trunk"] * L
    if hood_len <= trunk_len:
        raise ValueError("the hood must be longer than the trunk")
    x_cf, x_cr = xf - hood_len, xr + trunk_len
    x_rf, x_rr = x_cf - p["ws"], x_cr + p["rw"]
    if x_rf - x_rr < 0.3:
        raise ValueError("roof too short")
    z0, z1 = belt - 0.05, p["roof"]
    wb = hw - 0.05
    wt = wb - p["tumble"]
    base = [(x_cf, wb, z0), (x_cr, wb, z0), (x_cr, -wb, z0), (x_cf, -wb, z0)]
    top = [(x_rf, wt, z1), (x_rr, wt, z1), (x_rr, -wt, z1), (x_rf, -wt, z1)]
    mesh.solid([base, top], body_colour, caps=(body_colour, roof_colour))
    cab_centre = _mean(base + top)
    windshield = outward_quad(cab_centre, [base[3], base[0], top[0], top[3]])
    rear_window = outward_quad(cab_centre, [base[1], base[2], top[2], top[1]])
    decal(mesh, windshield, (0.07, 0.93), (0.1, 0.9), "glass")
    decal(mesh, rear_window, (0.09, 0.91), (0.14, 0.86), "glass")
    for side in (1, -1):
        bf, br, tr, tf = (base[0], base[1], top[1], top[0]) if side == 1 else (
            base[3], base[2], top[2], top[3])
        quad = outward_quad(cab_centre, [bf, br, tr, tf])
        for u in ((0.05, 0.47), (0.53, 0.95)):
            decal(mesh, quad, u, (0.12, 0.86), "glass")

    # Side markers: headlight and tail-light corners wrap round onto the flanks.
    for side in (1, -1):
        y = side * (hw + 0.012)
        out = (0.0, side, 0.0)
        zh0, zh1 = z_fascia - 0.16, z_fascia - 0.01
        mesh.poly([(xf - 0.34, y, zh0), (xf - 0.03, y, zh0), (xf - 0.03, y, zh1), (xf - 0.34, y, zh1)],
                  "headlight", out)
        zt0, zt1 = z_tail - 0.02 - 0.32 * (z_tail - zb), z_tail - 0.02
        mesh.poly([(xr + 0.02, y, zt0), (xr + 0.32, y, zt0), (xr + 0.32, y, zt1), (xr + 0.02, y, zt1)],
                  "taillight", out)

    # Wheels: 12-sided cylinders with a hub cap, dark arches behind them on the body sides.
    r = p["wheel"]
    wheel_w = 0.2 + 0.1 * (r - 0.28)
    axle_f, axle_r = xf - (0.55 + 1.1 * r), xr + (0.5 + 1.0 * r)
    for x_w in (axle_f, axle_r):
        for side in (1, -1):
            y_out, y_in = side * (hw + 0.02), side * (hw + 0.02 - wheel_w)
            ring = [(x_w + r * math.cos(2 * math.pi * k / 12), 0.0, r + r * math.sin(2 * math.pi * k / 12))
                    for k in range(12)]
            outer = [(x, y_out, z) for x, _, z in ring]
            inner = [(x, y_in, z) for x, _, z in ring]
            mesh.solid([outer, inner], "tire")
            hub = [(x_w + (x - x_w) * 0.55, y_out + side * 0.01, r + (z - r) * 0.55) for x, _, z in ring]
            mesh.poly(hub, "hub", (0.0, side, 0.0))
            ra = r + 0.06
            arch = [(x_w + ra * math.cos(math.pi * k / 8), side * (hw + 0.004), r + ra * math.sin(math.pi * k / 8))
                    for k in range(9)]
            arch += [(x_w - ra, side * (hw + 0.004), zb), (x_w + ra, side * (hw + 0.004), zb)]
            mesh.poly(arch, "arch", (0.0, side, 0.0))
    return mesh


def png_bytes(width: int, height: int, rows: list[bytes]) -> bytes:
    """A minimal RGB PNG (deterministic: fixed compression level, no timestamps)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def palette_png() -> bytes:
    row = b"".join(bytes(rgb) * CELL for rgb in PALETTE.values())
    return png_bytes(CELL * len(PALETTE), CELL, [row] * CELL)


MTL = "newmtl palette\nKa 0 0 0\nKd 1 1 1\nKs 0 0 0\nmap_Kd palette.png\n"


def models() -> list[dict]:
    """The fixed list of model specs: name, style, colours, parameters, split."""
    rng = random.Random(SEED)
    styles = list(STYLES)
    bodies = list(BODY_COLOURS) * -(-N_MODELS // len(BODY_COLOURS))
    rng.shuffle(bodies)  # every colour about equally often, in both splits
    out = []
    for i in range(N_MODELS):
        style = styles[i % len(styles)]
        params = sample(rng, style)
        body = bodies[i]
        roof_pick = rng.random()
        roof = "white" if roof_pick < 0.12 else "black" if roof_pick < 0.24 else body
        out.append(dict(name=f"{style}_{i:02d}", style=style, body=body, roof=roof, params=params,
                        split="test" if i % 4 == 3 else "train"))
    return out


def main(out: Path = OUT) -> None:
    """Write the palette, every model's OBJ and MTL, and the manifest into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "palette.png").write_bytes(palette_png())
    entries = []
    for spec in models():
        name = spec["name"]
        mesh = build_car(spec["params"], spec["body"], spec["roof"])
        (out / f"{name}.obj").write_text(mesh.obj_text(name))
        (out / f"{name}.mtl").write_text(MTL)
        lo, hi = mesh.bounds()
        entries.append(dict(name=name, obj=f"{name}.obj", split=spec["split"], style=spec["style"],
                            body=spec["body"], roof=spec["roof"], triangles=mesh.triangles(),
                            bounds_min=lo, bounds_max=hi))
    manifest = {"version": 1, "generator": "npi_gym/envs/car/assets/make_cars.py", "seed": SEED, "models": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
