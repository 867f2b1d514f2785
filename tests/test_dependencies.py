"""Every package tokbench's code imports is declared: a core dependency (or one it pulls in), or an extra.

A fresh `pip install tokbench` only has what pyproject.toml names; an import that works here because the
development venv happens to hold the package (scipy once did) breaks for users. The check reads every
import statement of the package's source, not only the ones a test happens to execute."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(requirements: list[str]) -> set[str]:
    """Distributions the requirements install, with their own (non-extra) requirements, as far as installed."""
    seen: set[str] = set()
    stack = [Requirement(r) for r in requirements]
    while stack:
        req = stack.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = _canon(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            stack += [Requirement(r) for r in (metadata.requires(name) or [])]
        except metadata.PackageNotFoundError:
            pass
    return seen


def _imported_top_level() -> dict[str, str]:
    """Top-level module name -> one file importing it, over every module of the package."""
    out: dict[str, str] = {}
    for path in sorted((ROOT / "tokbench").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for n in names:
                out.setdefault(n.split(".")[0], str(path.relative_to(ROOT)))
    return out


def test_every_import_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = _closure(project["dependencies"])
    # Extras: only the distributions they name (their code is imported lazily, behind the extra).
    extras = {_canon(Requirement(r).name) for reqs in project["optional-dependencies"].values() for r in reqs}
    dists_of = metadata.packages_distributions()
    missing = []
    for module, where in sorted(_imported_top_level().items()):
        if module in sys.stdlib_module_names or module in ("tokbench", "__future__"):
            continue
        dists = {_canon(d) for d in dists_of.get(module, [])}
        if not dists & (core | extras):
            missing.append(f"{module} (imported in {where}; installed by: {sorted(dists) or 'nothing here'})")
    assert not missing, "imports that pyproject.toml does not declare: " + "; ".join(missing)
