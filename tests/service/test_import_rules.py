"""Service modules import at the top: an import inside a function hides a dependency (and,
before the factories, hid import cycles) from readers and from import-linter."""

from __future__ import annotations

import ast
from pathlib import Path

import service


def _function_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_service_module_imports_inside_a_function() -> None:
    root = Path(service.__file__).resolve().parent
    offenders = [
        hit for path in sorted(root.rglob("*.py")) for hit in _function_level_imports(path)
    ]
    assert offenders == []


def test_the_check_finds_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\n\n\ndef f():\n    from json import dumps\n    return dumps\n")
    assert _function_level_imports(module) == ["m.py:5"]
