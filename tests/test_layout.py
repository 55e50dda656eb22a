"""The layout is the architecture: data flows one way, and the package installs as ``leadscore``.

Every import in ``pipeline/`` and ``features/`` is read from the source (function-level
imports included, since those are where cycles hide), resolved to a module, and checked
against the order of the stages: tables in -> features -> model -> training -> scores ->
reviews. A module may import from an earlier layer or from its own subpackage, never from a
later one, and no chain of imports may come back to where it started.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"leadscore": ROOT / "pipeline", "leadscore.features": ROOT / "features"}

# The layer of each unit (a subpackage, or a module at the top of the package). An import
# must go to a lower layer, or stay inside its own unit.
LAYERS = {
    "errors": 0,
    "timestamps": 0,  # the one parser of user-given moments
    "words": 0,  # counts in words, for every layer's lines
    "config": 1,
    "tracking": 1,  # MLflow only: it knows nothing of leadscore's model
    "io": 2,  # files, engines and scratch space: knows nothing of what a lead is
    "features": 3,  # what a lead looks like at a moment: imports only the io layer below
    "data": 4,
    "charts": 5,  # draws tables it is given; writes through data.files
    "metrics": 5,  # pure metric logic over arrays: imports nothing else of leadscore
    "model": 6,
    "training": 7,
    "scoring": 8,
    "handoff": 9,  # reads a night's scores; nothing reads it back
    "reporting": 9,
    "serving": 10,  # one lead now: reads scoring and the registered model
    "monitoring": 10,  # reads nights, rebuilds their features, compares with the reference
    "cli": 11,
    "demo": 12,
    "__init__": 12,  # the public API
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join([package, *parts])
            if package == "leadscore" and parts[:1] == ["features"]:
                continue
            found[name] = path
    return found


MODULES = _modules()


def _unit(module: str) -> str:
    parts = module.split(".")
    if module == "leadscore":
        return "__init__"
    return parts[1]


def _resolve(target: str) -> str:
    """The module an imported name lives in (``from leadscore.model import registered``)."""
    while target not in MODULES and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{a.name}" for a in node.names] or [prefix]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ("pipeline", "features"):
                out.add(name)  # the folder names are not importable packages
            elif name.startswith("leadscore"):
                out.add(_resolve(name))
    out.discard(module)
    return out


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_module_is_in_a_known_layer():
    assert {_unit(m) for m in MODULES} <= set(LAYERS)


def test_nothing_imports_the_folder_names():
    bad = {m: sorted(t for t in ts if not t.startswith("leadscore")) for m, ts in GRAPH.items()}
    assert {m: ts for m, ts in bad.items() if ts} == {}


def test_features_import_only_the_io_layer_and_errors_below():
    below = ("leadscore.features", "leadscore.io", "leadscore.errors", "leadscore.timestamps")
    outside = {
        m: sorted(t for t in ts if not t.startswith(below))
        for m, ts in GRAPH.items()
        if m.startswith("leadscore.features")
    }
    assert {m: ts for m, ts in outside.items() if ts} == {}


def test_the_io_layer_imports_nothing_else_of_leadscore():
    outside = {
        m: sorted(t for t in ts if not t.startswith("leadscore.io"))
        for m, ts in GRAPH.items()
        if m.startswith("leadscore.io")
    }
    assert {m: ts for m, ts in outside.items() if ts} == {}


def test_no_import_goes_upward():
    upward = []
    for module, targets in GRAPH.items():
        for target in targets:
            here, there = _unit(module), _unit(target)
            if here != there and LAYERS[there] >= LAYERS[here]:
                upward.append(f"{module} -> {target}")
    assert upward == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                cycles.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycle():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_indirect_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_checker_sees_function_level_and_relative_imports(tmp_path):
    src = tmp_path / "mod.py"
    src.write_text(
        "def f():\n    from leadscore.scoring.batch import score_frame\n"
        "from .reasons import top_reasons\n"
    )
    got = _imports("leadscore.scoring.flat", src)
    assert got == {"leadscore.scoring.batch", "leadscore.scoring.reasons"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_installed_under_leadscore():
    setup = _pyproject()["tool"]["setuptools"]
    listed = set(setup["packages"])
    folders = {m for m, p in MODULES.items() if p.name == "__init__.py"}
    # Template folders hold data only, declared so setuptools packs them without a warning.
    templates = {"leadscore.reporting.templates", "leadscore.monitoring.templates"}
    assert listed == folders | templates
    assert all(p == "leadscore" or p.startswith("leadscore.") for p in listed)
    assert setup["package-dir"] == {"leadscore": "pipeline", "leadscore.features": "features"}


@pytest.mark.slow
def test_the_wheel_holds_only_leadscore(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "absent from the `packages` configuration" not in built.stdout + built.stderr
    (wheel,) = tmp_path.glob("leadscore-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"leadscore"}
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "leadscore/default.yaml" in names and "leadscore/features/table.py" in names
    # Templates and styles the pages are drawn with travel with the code.
    assert "leadscore/monitoring/templates/monitor.html.j2" in names
    assert "leadscore/reporting/report.css" in names


def test_no_module_is_over_600_lines():
    long = {m: n for m, p in MODULES.items() if (n := p.read_text().count("\n")) > 600}
    assert long == {}


def test_a_long_function_says_why_in_its_docstring():
    """About 60 lines at most; a longer one's docstring says why it stays whole."""
    unexplained = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                doc = ast.get_docstring(node) or ""
                if length > 66 and doc.count(".") < 2:
                    unexplained.append(f"{module}.{node.name} ({length} lines)")
    assert unexplained == []
