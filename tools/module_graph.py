#!/usr/bin/env python3
"""Draw which top-level module of each crate uses which, and fail on an import cycle.

A module "uses" another when its files name `crate::other` (in a `use` or a path). Cycles between
top-level modules make code hard to change (neither side can be understood, tested or moved alone), so
`--check` (scripts/test) fails on any. Without `--check` it prints the graph of each crate, the one
docs/architecture.md shows.

Usage: python3 tools/module_graph.py [--check]
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CRATES = ["entra-backup-core", "entra-backup-sim", "entra-backup-cli", "entra-backup-py"]
CRATE_PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
# `use crate::{a, b::c}`: every name at the top of the braces.
CRATE_BRACES = re.compile(r"\bcrate::\{([^;]*?)\};", re.S)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def roots(src: Path) -> list[Path]:
    return [p for p in (src / "lib.rs", src / "main.rs") if p.exists()]


def module_of(src: Path, file: Path) -> str | None:
    """The top-level module a file belongs to (None for the crate root)."""
    rel = file.relative_to(src)
    if rel.parts[0] in ("lib.rs", "main.rs"):
        return None
    first = rel.parts[0]
    return first[:-3] if first.endswith(".rs") else first


def graph(crate: str) -> dict[str, set[str]]:
    src = ROOT / crate / "src"
    edges: dict[str, set[str]] = {}
    for file in sorted(src.rglob("*.rs")):
        module = module_of(src, file)
        if module is None:
            continue
        text = strip_comments(file.read_text())
        # Test modules may reach anywhere: they are not part of the import structure.
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
        used = set(CRATE_PATH.findall(text))
        # `super::x` that climbs to the crate root names the top-level module `x` (the simulator's
        # modules were one level down before it became a crate, and still say so).
        rel = file.relative_to(src).with_suffix("")
        depth = len(rel.parts) - (1 if rel.name == "mod" else 0)
        climb = "super::" * depth
        used |= set(re.findall(r"(?<![:\w])" + re.escape(climb) + r"([a-z_][a-z0-9_]*)\b", text))
        braces_lists = CRATE_BRACES.findall(text)
        braces_lists += re.findall(r"(?<![:\w])" + re.escape(climb) + r"\{([^;]*?)\};", text, flags=re.S)
        for braces in braces_lists:
            for part in re.split(r",(?![^{]*\})", braces):
                name = part.strip().split("::")[0].strip("{} \n")
                if re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                    used.add(name)
        edges.setdefault(module, set())
        for other in used - {module, "self", "super"}:
            edges[module].add(other)
    known = set(edges)
    return {m: {o for o in uses if o in known} for m, uses in edges.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    check = "--check" in sys.argv[1:]
    failed = False
    for crate in CRATES:
        if not (ROOT / crate / "src").exists():
            continue
        edges = graph(crate)
        found = cycles(edges)
        if check:
            for c in found:
                users = "; ".join(f"{m} uses {', '.join(sorted(edges[m] & set(c)))}" for m in c)
                print(f"{crate}: import cycle between {', '.join(c)} ({users})", file=sys.stderr)
                failed = True
        else:
            print(f"{crate}:")
            for m in sorted(edges):
                print(f"  {m} -> {', '.join(sorted(edges[m])) or '(nothing)'}")
            for c in found:
                print(f"  CYCLE: {', '.join(c)}")
    if check and not failed:
        print("no import cycles between top-level modules")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
