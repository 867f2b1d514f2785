"""The shape of the package: no import circles, and a CLI that starts without the heavy stacks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tokbench

PACKAGE = Path(tokbench.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").is_file() or (PACKAGE.parent / rel / "__init__.py").is_file()


def import_graph() -> dict[str, set[str]]:
    """module -> the tokbench modules it imports, at the top or inside a function (a lazy import still
    makes an arrow). ``from a.b import c`` points at ``a.b.c`` when ``c`` is a module, else at ``a.b``."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name.split(".")[0] == "tokbench")
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                if base.split(".")[0] != "tokbench":
                    continue
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    edges.add(sub if _is_module(sub) else base)
        edges.discard(name)
        graph[name] = {e for e in edges if _is_module(e)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted.

    >>> cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}})
    [['a', 'b']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

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
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_cycle_finder_finds_a_planted_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_known_arrows():
    graph = import_graph()
    assert "tokbench.tokenizer.base" in graph["tokbench.tokenizer.load"]
    assert "tokbench.metrics.kernels" in graph["tokbench.metrics.coverage"]  # `from tokbench.metrics import kernels`
    assert len(graph) > 50


def test_no_import_cycles():
    found = cycles(import_graph())
    assert found == [], "import circles (lazy imports count): " + "; ".join(" <-> ".join(c) for c in found)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    return set(out.stdout.split())


def test_importing_the_cli_loads_no_heavy_stack():
    # like tiktoken's test that blobfile stays lazy: `tokbench --help` must not pay for Numba or the solver
    loaded = _modules_after("import tokbench.cli.main")
    for heavy in ("numba", "numpy", "highspy", "torch", "transformers", "tokenizers", "scipy", "pandas", "matplotlib"):
        assert heavy not in loaded, f"import tokbench.cli.main imports {heavy}"


#: Rooms of the package from the ground floor up; an arrow between two rooms may only point down.
#: ("" is tokbench/__init__.py, which re-exports the top-level API.)
LAYERS = (
    {"version", "lazy", "errors", "files", "cache", "verified_cache", "progress", "provenance", "report"},
    {"tokenizer", "corpora", "engines"},
    {"metrics"},
    {"train", "mixture", "check", "transplant"},
    {"demo"},
    {"api"},
    {""},
    {"cli"},
    {"__main__"},
)


def test_imports_point_down_the_layers():
    floor = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}

    def room(module: str) -> str:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 else ""

    upward = []
    for a, targets in import_graph().items():
        for b in targets:
            ra, rb = room(a), room(b)
            assert ra in floor and rb in floor, f"room of {a} or {b} is missing from LAYERS"
            if ra != rb and floor[ra] != 0 and floor[rb] >= floor[ra]:
                upward.append(f"{a} -> {b}")
    assert upward == []
