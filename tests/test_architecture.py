"""Arrows point down: the helper API the episodes import never pulls in the mirror or the
Sphinx tooling, so a learner's `pip install` needs neither; the mirror's client (a learner's
kernel) imports no server code; only the command line imports the Sphinx tooling. The
import-linter contracts in pyproject.toml state these arrows (`lint-imports`, in `make test`);
the tests here show that a wrong import breaks them, and check at run time what an import
really loads. Inside the mirror, the synthetic snapshot's modules import each other without
cycles, and the snapshot interface imports no snapshot."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "satlesson"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _loaded(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    """The modules in one of the packages ``packages`` that importing ``modules`` loads."""
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(','.join(sorted(m for m in sys.modules for p in {packages!r}\n"
        "                         if m == p or m.startswith(p + '.'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return [m for m in result.stdout.strip().split(",") if m]


def test_helper_api_imports_neither_mirror_nor_lesson_tooling() -> None:
    helpers = [f"satlesson.{m}" for m in ("search", "items", "clip", "bands", "errors", "atomic",
                                           "settings", "lessondata")]  # fmt: skip
    assert _loaded(helpers, ("satlesson.mirror", "satlesson.lesson", "sphinx", "stac_fastapi",
                             "pypgstac")) == []
    assert _loaded(helpers, ("satlesson",)) != []  # the check sees what it loads


def test_mirror_client_loads_no_server_code() -> None:
    client = [f"satlesson.mirror.client.{m}" for m in ("urls", "routing", "gone", "login",
                                                        "kernel")]  # fmt: skip
    assert _loaded(client, ("satlesson.mirror.server", "satlesson.mirror.synthetic",
                            "satlesson.mirror.recorded", "stac_fastapi", "pypgstac", "psycopg",
                            "uvicorn", "starlette")) == []


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package under ``root/src`` with ``root/pyproject.toml``."""
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=root,
                          env={"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("copy")
    shutil.copy(ROOT / "pyproject.toml", root)
    shutil.copytree(PACKAGE, root / "src" / "satlesson",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_import_contracts_hold(package_copy: Path) -> None:
    result = _lint_imports(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("clip.py", "import satlesson.mirror.client.urls",
     "The helper API the episodes import needs neither the mirror nor the lesson tooling"),
    ("search.py", "import sphinx",
     "The helper API the episodes import needs neither the mirror nor the lesson tooling"),
    ("mirror/client/urls.py", "from satlesson.mirror import open_snapshot",  # server, indirectly
     "The mirror's client (a learner's kernel) imports no server code"),
    ("mirror/client/kernel.py", "import uvicorn",
     "The mirror's client (a learner's kernel) imports no server code"),
    ("facts/drift.py", "from satlesson.lesson import check",
     "Only the command line imports the Sphinx tooling"),
])  # fmt: skip
def test_a_wrong_import_breaks_its_contract(package_copy: Path, module: str, line: str,
                                            contract: str) -> None:
    path = package_copy / "src" / "satlesson" / module
    original = path.read_text()
    path.write_text(original + f"\n\ndef _wrong() -> None:\n    {line}  # noqa\n")
    try:
        result = _lint_imports(package_copy)
    finally:
        path.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in " ".join(result.stdout.split())


SYNTHETIC = "satlesson.mirror.synthetic"


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


def test_snapshot_interface_imports_no_snapshot() -> None:
    """``mirror/snapshot.py`` is the interface: the synthetic and recorded snapshots import it."""
    imported = {node.module for node in ast.walk(ast.parse(
        (PACKAGE / "mirror" / "snapshot.py").read_text()))
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
