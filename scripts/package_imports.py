"""Which packages of ``neutrino`` import which: the matrix behind docs/architecture.md's
"Package layout" table.

Reads every ``neutrino/**/*.py`` with ``ast`` (nothing is imported or run) and prints one
line per importing package: ``<package> -> <imported>[, ...]``, where a package is the
first name under ``neutrino`` (``services``, ``ovn``, ...) and a module at the root
(``config``, ``errors``, ...) counts as its own package. An import made inside a function
(a deferred import) is marked ``*``; ``--modules PKG`` lists, for one package, which of its
modules import what. Usage: ``python scripts/package_imports.py [--modules ovn]``.
"""

from __future__ import annotations

import argparse
import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "neutrino"


def package_of(dotted: str) -> str | None:
    """``neutrino.services.ports`` -> ``services``; None outside neutrino."""
    parts = dotted.split(".")
    if parts[0] != "neutrino" or len(parts) < 2:
        return None
    return parts[1]


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported neutrino module or package, deferred) for every import in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    found = []

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = deferred or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((a.name, deferred) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                # from neutrino.services import ports: the module neutrino.services.ports
                # (a name that is no module, e.g. a class, just adds one level more)
                found.extend((f"{child.module}.{a.name}", deferred) for a in child.names)
            visit(child, inner)
    visit(tree, False)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", metavar="PKG", help="per-module detail of one package")
    args = parser.parse_args()
    matrix: dict[str, dict[str, bool]] = defaultdict(dict)  # pkg -> imported -> deferred only
    detail: dict[str, set[str]] = defaultdict(set)
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        source = package_of(".".join(rel.parts))
        if source is None or source == "__init__":
            continue
        for dotted, deferred in imports(path):
            target = package_of(dotted)
            if target is None or target == source:
                continue
            matrix[source][target] = matrix[source].get(target, True) and deferred
            if args.modules == source:
                detail[str(rel)].add(".".join(dotted.split(".")[1:3]) + ("*" if deferred else ""))
    if args.modules:
        for module, names in sorted(detail.items()):
            print(f"{module} -> {', '.join(sorted(names))}")
        return
    for source in sorted(matrix):
        targets = matrix[source]
        print(f"{source} -> " + ", ".join(t + ("*" if targets[t] else "") for t in sorted(targets)))


if __name__ == "__main__":
    main()
