"""Layers point down: no module of npi_gym imports agents, torch or pybullet when it is imported."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import npi_gym

FORBIDDEN = ("agents", "torch", "pybullet")

WALK = """
import importlib, json, sys
forbidden = {forbidden!r}
found = {{}}
for name in {modules!r}:
    importlib.import_module(name)
    for top in forbidden:
        if top in sys.modules and top not in found:
            found[top] = name
print(json.dumps(found))
"""


def npi_gym_modules() -> list[str]:
    """Every module of the npi_gym package, found on disk."""
    return ["npi_gym"] + [m.name for m in pkgutil.walk_packages(npi_gym.__path__, "npi_gym.")]


def test_the_walk_finds_every_family() -> None:
    modules = npi_gym_modules()
    assert {"npi_gym.core", "npi_gym.envs.car.render", "npi_gym.envs.car.cache"} <= set(modules)
    assert len(modules) > 10


def test_no_npi_gym_module_imports_agents_torch_or_pybullet() -> None:
    script = WALK.format(forbidden=FORBIDDEN, modules=npi_gym_modules())
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    first_importer = json.loads(result.stdout.strip().splitlines()[-1])
    assert first_importer == {}, f"imported at import time (module that first pulled it in): {first_importer}"


def test_the_walk_would_catch_a_module_that_imports_torch() -> None:
    script = WALK.format(forbidden=FORBIDDEN, modules=["json", "torch.nn"])
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"torch": "torch.nn"}


def imported_modules(source: str) -> set[str]:
    """Top-level names of every module an import statement in ``source`` names, inside functions too."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_npi_gym_source_imports_agents_or_torch_even_lazily() -> None:
    offenders = {
        str(path): sorted(imported_modules(path.read_text()) & {"agents", "torch"})
        for path in Path(npi_gym.__file__).parent.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_source_check_sees_imports_inside_functions() -> None:
    assert imported_modules("def f():\n    from agents.cli import main\n") == {"agents"}
