"""Arrows point down: the helper API the episodes import never pulls in the mirror or the
Sphinx tooling, so a learner's `pip install` needs neither; inside the mirror, the synthetic
snapshot's modules import each other without cycles, and the source interface imports no
source."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path


def test_helper_api_imports_neither_mirror_nor_lesson_tooling() -> None:
    code = (
        "import sys\n"
        "import satlesson.search, satlesson.items, satlesson.clip, satlesson.bands\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('satlesson.mirror', "
        "'satlesson.lesson', 'sphinx', 'stac_fastapi', 'pypgstac')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""


SYNTHETIC = "satlesson.mirror.synthetic"
ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "satlesson"


def _imports(path: Path, modules: set[str]) -> dict[str, set[str]]:
    """For one module: the synthetic modules it imports, at module level or inside a function
    (a function-level import dodges a cycle at import time but keeps it in the design), each
    with the names it takes from them."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name.removeprefix(SYNTHETIC + ".")
                if name in modules:
                    found.setdefault(name, set())
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == SYNTHETIC:  # from satlesson.mirror.synthetic import model
                for alias in node.names:
                    found.setdefault(alias.name, set())
            elif (name := node.module.removeprefix(SYNTHETIC + ".")) in modules:
                found.setdefault(name, set()).update(a.name for a in node.names)
    return found


def _synthetic_graph() -> dict[str, dict[str, set[str]]]:
    files = {p.stem: p for p in (PACKAGE / "mirror" / "synthetic").glob("*.py")
             if p.stem != "__init__"}  # fmt: skip
    return {name: _imports(path, set(files)) for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (module -> modules it imports), or None."""
    state: dict[str, str] = {}  # "open" while on the DFS stack, then "done"
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_synthetic_snapshot_has_no_import_cycles() -> None:
    graph = {m: set(deps) for m, deps in _synthetic_graph().items()}
    assert "model" in graph and "render" in graph  # the graph was read at all
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_synthetic_modules_use_each_others_public_names_only() -> None:
    private = sorted(f"{module} takes {name} from {dep}"
                     for module, deps in _synthetic_graph().items()
                     for dep, names in deps.items() for name in names
                     if name.startswith("_"))  # fmt: skip
    assert private == []
    # ... nor reach for them through the module: ``model._fields(...)``.
    for path in (PACKAGE / "mirror" / "synthetic").glob("*.py"):
        tree = ast.parse(path.read_text())
        modules = {alias.asname or alias.name for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) and node.module == SYNTHETIC
                   for alias in node.names}  # fmt: skip
        reached = [f"{n.value.id}.{n.attr}" for n in ast.walk(tree)
                   if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                   and n.value.id in modules and n.attr.startswith("_")]  # fmt: skip
        assert reached == [], path.name


def test_source_interface_imports_no_source() -> None:
    """``mirror/source.py`` is the interface: the synthetic and recorded sources import it."""
    imported = {node.module for node in ast.walk(ast.parse(
        (PACKAGE / "mirror" / "source.py").read_text()))
        if isinstance(node, ast.ImportFrom) and node.module}  # fmt: skip
    assert not any(m.startswith(("satlesson.mirror.synthetic", "satlesson.mirror.recorded"))
                   for m in imported), imported


def _readme_paths() -> set[str]:
    """Every path the README's "What is here" table names (bare names after a path are in
    that path's folder)."""
    text = (ROOT / "README.md").read_text().split("## What is here", 1)[1].split("\n## ", 1)[0]
    named: set[str] = set()
    for row in text.splitlines():
        if not row.startswith("| `"):
            continue
        where = row.split(" | ", 1)[0]
        folder = ""
        for name in re.findall(r"`([^`]+)`", where):
            if "/" in name.rstrip("/"):
                folder = name.rsplit("/", 1)[0] + "/" if not name.endswith("/") else ""
                named.add(name.rstrip("/"))
            else:
                named.add((folder + name).rstrip("/"))
    return named


def test_the_readme_names_every_room_of_the_package() -> None:
    named = _readme_paths()
    for path in named:
        assert (ROOT / path).exists(), f"the README names {path}, which does not exist"
    package = ROOT / "src" / "satlesson"
    folders = {p.parent for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    for folder in sorted(folders - {package, package / "mirror"}):
        assert folder.relative_to(ROOT).as_posix() in named, f"the README omits {folder}"
    for module in sorted([*package.glob("*.py"), *(package / "mirror").glob("*.py")]):
        if module.name != "__init__.py":
            assert module.relative_to(ROOT).as_posix() in named, f"the README omits {module}"
