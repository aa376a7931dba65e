"""The type stubs shipped with the compiled engine (engine/*.pyi) match the compiled modules:
every name a stub declares exists, and every public name of the module is declared."""

import ast
import importlib
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "engine"


def stub_names(path: Path):
    tree = ast.parse(path.read_text())
    top, classes = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            classes[node.name] = members
    return top, classes


@pytest.mark.parametrize("stub", sorted(p.name for p in ENGINE.glob("*.pyi")))
def test_stub_matches_compiled_module(stub):
    mod = importlib.import_module(f"engine.{stub[:-4]}")
    top, classes = stub_names(ENGINE / stub)
    public = {n for n in dir(mod) if not n.startswith("_") and not isinstance(getattr(mod, n), type(importlib))}
    public -= {"np", "numpy"}
    assert top <= set(dir(mod)), f"stub declares names the module lacks: {top - set(dir(mod))}"
    assert public <= top, f"module names missing from the stub: {public - top}"
    for cls, members in classes.items():
        obj = getattr(mod, cls)
        real = {n for n in dir(obj) if not n.startswith("_")}
        assert members - {"__init__"} <= real, f"{cls}: stub declares {members - real - {'__init__'}}"
        assert real <= members, f"{cls}: not in the stub: {real - members}"
