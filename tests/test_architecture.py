"""The layout of docs/architecture.md holds: no module import cycle, and the import contracts of
pyproject.toml ([tool.importlinter]) are kept. Imports under ``if TYPE_CHECKING:`` are
annotations and do not count."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """One chain per direct import that the imported module leads back from, as
    ``(importer, imported, ..., importer)``."""
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                found.append((importer, *back))
    return found


def graph_of(package: str) -> grimp.ImportGraph:
    return grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)


def test_no_module_of_the_package_imports_itself_back():
    graph = graph_of("linter")
    assert len(graph.modules) > 50  # the package was found, not an empty graph
    assert cycles(graph) == []


def test_a_cycle_is_found_and_an_annotation_is_no_import(tmp_path, monkeypatch):
    package = tmp_path / "cyclic_demo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic_demo import b\n")
    (package / "b.py").write_text("def f():\n    from cyclic_demo import c\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cyclic_demo import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles(graph_of("cyclic_demo")) == []
    (package / "c.py").write_text("import cyclic_demo.a\n")  # a function-level import counts too
    assert ("cyclic_demo.a", "cyclic_demo.b", "cyclic_demo.c", "cyclic_demo.a") in cycles(graph_of("cyclic_demo"))


def test_the_import_contracts_are_kept():
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True))", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
