"""kb_index is domain code: it never imports the service layer or FastAPI."""

from __future__ import annotations

import ast
from pathlib import Path

import kb_index

FORBIDDEN = ("service", "fastapi", "starlette", "training")


def test_kb_index_does_not_import_service_or_web_frameworks() -> None:
    root = Path(kb_index.__file__).resolve().parent
    offenders = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
