"""Layers point one way (issue 13): the library never imports the command line, and the broker
never imports the Tradebot. Every module of the `nexus` package is parsed with `ast` and each
of its imports (top level or inside a function, absolute or relative) is checked."""

from __future__ import annotations

import ast
from pathlib import Path

import nexus

ROOT = Path(nexus.__file__).parent
CLI_MODULES = ("nexus.cli", "nexus.commands")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement in the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return _imports_of(path.read_text(encoding="utf-8"), package)


def _imports_of(source: str, package: str) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            # `from nexus import cli` imports the module nexus.cli
            out.extend((node.lineno, f"{mod}.{a.name}") for a in node.names)
    return out


def _within(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


MODULES = sorted((_module_name(p), p) for p in ROOT.rglob("*.py"))


def test_the_walk_sees_the_package_and_every_import_form():
    names = {m for m, _ in MODULES}
    assert {"nexus.cli", "nexus.commands.run", "nexus.feeds.lines", "nexus.broker.api", "nexus.tradebot.scheduler"} <= names
    source = "import nexus.cli\nfrom nexus import commands\ndef f():\n    from ..tradebot import store\n"
    found = {imp for _, imp in _imports_of(source, "nexus.broker")}
    assert {"nexus.cli", "nexus.commands", "nexus.tradebot.store"} <= found
    assert _within("nexus.commands.run", CLI_MODULES) and not _within("nexus.commandsx", CLI_MODULES)


def test_the_library_never_imports_the_command_line():
    bad = [f"{m}:{line} imports {imp}" for m, p in MODULES if not _within(m, CLI_MODULES)
           for line, imp in _imports(p) if _within(imp, CLI_MODULES)]
    assert bad == []


def test_the_broker_never_imports_the_tradebot():
    bad = [f"{m}:{line} imports {imp}" for m, p in MODULES if _within(m, ("nexus.broker",))
           for line, imp in _imports(p) if _within(imp, ("nexus.tradebot",))]
    assert bad == []
