#!/usr/bin/env python3
"""Write docs/api.md: the public API of the library crate `entra_backup`, as rustdoc sees it.

Reads rustdoc's JSON output (on stable Rust through RUSTC_BOOTSTRAP, as docs.rs and cargo-public-api do)
and lists every public module and item, with signatures of functions and methods, fields of structs,
variants of enums and methods of traits. A change to the public API shows up as a diff of that file in
review; `--check` (scripts/test) fails when the checked-in file is not current.

Usage: python3 tools/api_doc.py [--check]        (needs cargo; uses CARGO_TARGET_DIR)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "api.md"
CRATE = "entra-backup-core"
LIB = "entra_backup"


def rustdoc_json() -> dict:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    env = dict(os.environ, RUSTC_BOOTSTRAP="1", RUSTDOCFLAGS="")
    subprocess.run(
        ["cargo", "rustdoc", "-q", "-p", CRATE, "--lib", "--", "-Z", "unstable-options", "--output-format", "json",
         "--cap-lints", "allow"],
        cwd=ROOT, env=env, check=True,
    )
    return json.loads((target / "doc" / f"{LIB}.json").read_text())


class Api:
    def __init__(self, doc: dict):
        self.index = doc["index"]
        self.paths = doc["paths"]
        self.root = str(doc["root"])

    def item(self, id_) -> dict | None:
        return self.index.get(str(id_))

    # ---- types -------------------------------------------------------------------------------
    def path(self, p: dict) -> str:
        name = p.get("path") or p.get("name") or "?"
        return name + self.args(p.get("args"))

    def args(self, a) -> str:
        if not a:
            return ""
        if "angle_bracketed" in a:
            ab = a["angle_bracketed"]
            parts = []
            for g in ab.get("args", []):
                if "type" in g:
                    parts.append(self.ty(g["type"]))
                elif "lifetime" in g:
                    parts.append(g["lifetime"])
                elif "const" in g:
                    parts.append(str(g["const"].get("expr", "_")))
                else:
                    parts.append("_")
            for c in ab.get("constraints", []):
                binding = c.get("binding", {})
                if "equality" in binding:
                    eq = binding["equality"]
                    parts.append(f"{c['name']} = {self.ty(eq['type']) if 'type' in eq else '_'}")
                elif "constraint" in binding:
                    parts.append(f"{c['name']}: {self.bounds(binding['constraint'])}")
            return f"<{', '.join(parts)}>" if parts else ""
        if "parenthesized" in a:
            pa = a["parenthesized"]
            out = f"({', '.join(self.ty(t) for t in pa.get('inputs', []))})"
            if pa.get("output"):
                out += f" -> {self.ty(pa['output'])}"
            return out
        return ""

    def bounds(self, bounds: list) -> str:
        out = []
        for b in bounds:
            if "trait_bound" in b:
                tb = b["trait_bound"]
                prefix = "?" if tb.get("modifier") == "maybe" else ""
                out.append(prefix + self.path(tb["trait"]))
            elif "outlives" in b:
                out.append(b["outlives"])
            else:
                out.append("_")
        return " + ".join(out)

    def ty(self, t) -> str:
        if t is None:
            return "()"
        if isinstance(t, str):
            return "_" if t == "infer" else t
        (kind, v), = t.items()
        if kind == "resolved_path":
            return self.path(v)
        if kind == "primitive" or kind == "generic":
            return v
        if kind == "borrowed_ref":
            lt = f"{v['lifetime']} " if v.get("lifetime") else ""
            return f"&{lt}{'mut ' if v.get('is_mutable') else ''}{self.ty(v['type'])}"
        if kind == "raw_pointer":
            return f"*{'mut' if v.get('is_mutable') else 'const'} {self.ty(v['type'])}"
        if kind == "tuple":
            inner = ", ".join(self.ty(x) for x in v)
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        if kind == "slice":
            return f"[{self.ty(v)}]"
        if kind == "array":
            return f"[{self.ty(v['type'])}; {v['len']}]"
        if kind == "impl_trait":
            return f"impl {self.bounds(v)}"
        if kind == "dyn_trait":
            traits = " + ".join(self.path(p["trait"]) for p in v.get("traits", []))
            if v.get("lifetime"):
                traits += f" + {v['lifetime']}"
            return f"dyn {traits}"
        if kind == "qualified_path":
            trait = v.get("trait")
            self_ty = self.ty(v["self_type"])
            return f"<{self_ty} as {self.path(trait)}>::{v['name']}" if trait else f"{self_ty}::{v['name']}"
        if kind == "function_pointer":
            sig = v["sig"]
            ins = ", ".join(self.ty(x[1]) for x in sig["inputs"])
            out = f" -> {self.ty(sig['output'])}" if sig.get("output") else ""
            return f"fn({ins}){out}"
        return "_"

    def generics(self, g: dict) -> str:
        params = []
        for p in g.get("params", []):
            kind = p.get("kind", {})
            if "lifetime" in kind:
                if not p["name"].startswith("'_"):
                    params.append(p["name"])
            elif "type" in kind:
                if kind["type"].get("is_synthetic"):
                    continue  # `impl Trait` in argument position
                b = self.bounds(kind["type"].get("bounds", []))
                params.append(f"{p['name']}: {b}" if b else p["name"])
            elif "const" in kind:
                params.append(f"const {p['name']}: {self.ty(kind['const']['type'])}")
        return f"<{', '.join(params)}>" if params else ""

    def fn_sig(self, name: str, f: dict) -> str:
        h = f.get("header", {})
        quals = "".join(q for q, on in (("const ", h.get("is_const")), ("async ", h.get("is_async")),
                                         ("unsafe ", h.get("is_unsafe"))) if on)
        ins = []
        for arg_name, t in f["sig"]["inputs"]:
            if arg_name == "self":
                s = self.ty(t)
                ins.append({"Self": "self", "&Self": "&self", "&mut Self": "&mut self"}.get(s, f"self: {s}"))
            else:
                ins.append(f"{arg_name}: {self.ty(t)}")
        out = f" -> {self.ty(f['sig']['output'])}" if f["sig"].get("output") else ""
        return f"{quals}fn {name}{self.generics(f.get('generics', {}))}({', '.join(ins)}){out}"

    # ---- items -------------------------------------------------------------------------------
    @staticmethod
    def summary(item: dict) -> str:
        paragraphs = (item.get("docs") or "").strip().split("\n\n")
        prose = [p for p in paragraphs if p and not p.startswith(("#", "```"))]
        return prose[0].replace("\n", " ").strip() if prose else ""

    def public(self, item: dict) -> bool:
        return item.get("visibility") == "public" and not any(
            a == "#[doc(hidden)]" or "doc(hidden)" in str(a) for a in item.get("attrs", [])
        )

    def methods(self, impl_ids: list, out: list, indent: str) -> None:
        seen = set()
        for impl_id in impl_ids:
            impl = self.item(impl_id)
            if not impl:
                continue
            inner = impl["inner"]["impl"]
            if inner.get("is_synthetic") or inner.get("blanket_impl"):
                continue
            if inner.get("trait"):
                trait = self.path(inner["trait"])
                if trait.split("<")[0] in ("From", "TryFrom", "Default", "Display", "Error", "Debug", "Clone",
                                           "PartialEq", "Eq", "Hash", "Serialize", "Deserialize", "PartialOrd",
                                           "Ord", "Copy", "StructuralPartialEq", "Drop", "FromStr", "AsRef",
                                           "Deref", "Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe",
                                           "Freeze"):
                    # Derived and conversion traits: one line, no methods.
                    if "is_negative" in inner and inner["is_negative"]:
                        continue
                    continue
                out.append(f"{indent}- impl {trait}")
                continue
            for mid in inner.get("items", []):
                m = self.item(mid)
                if not m or not self.public(m) or "function" not in m["inner"] or m["name"] in seen:
                    continue
                seen.add(m["name"])
                out.append(f"{indent}- `{self.fn_sig(m['name'], m['inner']['function'])}`")

    def render_item(self, name: str, item: dict, out: list) -> None:
        (kind, inner), = item["inner"].items()
        doc = self.summary(item)
        tail = f": {doc}" if doc else ""
        if kind == "function":
            out.append(f"- `{self.fn_sig(name, inner)}`{tail}")
        elif kind == "struct":
            out.append(f"- struct `{name}{self.generics(inner.get('generics', {}))}`{tail}")
            fields = inner.get("kind", {})
            plain = fields.get("plain") if isinstance(fields, dict) else None
            if plain:
                for fid in plain.get("fields", []):
                    f = self.item(fid)
                    if f and self.public(f):
                        out.append(f"  - field `{f['name']}: {self.ty(f['inner']['struct_field'])}`")
                if plain.get("has_stripped_fields"):
                    out.append("  - (private fields)")
            self.methods(inner.get("impls", []), out, "  ")
        elif kind == "enum":
            out.append(f"- enum `{name}{self.generics(inner.get('generics', {}))}`{tail}")
            names = [self.item(v)["name"] for v in inner.get("variants", []) if self.item(v)]
            if names:
                out.append(f"  - variants: {', '.join(f'`{n}`' for n in names)}")
            self.methods(inner.get("impls", []), out, "  ")
        elif kind == "trait":
            out.append(f"- trait `{name}{self.generics(inner.get('generics', {}))}`{tail}")
            for mid in inner.get("items", []):
                m = self.item(mid)
                if m and "function" in m["inner"]:
                    out.append(f"  - `{self.fn_sig(m['name'], m['inner']['function'])}`")
                elif m and "assoc_type" in m["inner"]:
                    out.append(f"  - type `{m['name']}`")
        elif kind == "type_alias":
            out.append(f"- type `{name}{self.generics(inner.get('generics', {}))} = {self.ty(inner['type'])}`{tail}")
        elif kind in ("constant", "static"):
            t = inner.get("type")
            out.append(f"- {'const' if kind == 'constant' else 'static'} `{name}: {self.ty(t)}`{tail}")
        elif kind == "macro":
            out.append(f"- macro `{name}!`{tail}")
        else:
            out.append(f"- {kind} `{name}`{tail}")

    def module(self, path: str, mod_id: str, out: list, seen: set) -> None:
        if mod_id in seen:
            return
        seen.add(mod_id)
        mod = self.item(mod_id)
        entries, submodules = [], []
        for iid in mod["inner"]["module"]["items"]:
            it = self.item(iid)
            if not it or not self.public(it):
                continue
            if "use" in it["inner"]:
                use = it["inner"]["use"]
                target = self.item(use["id"]) if use.get("id") is not None else None
                if use.get("is_glob"):
                    entries.append(("~", f"- `pub use {use['source']}::*`"))
                elif target and target.get("crate_id") == 0 and "module" not in target["inner"]:
                    lines: list = []
                    self.render_item(use["name"], target, lines)
                    entries.append((use["name"], "\n".join(lines)))
                else:
                    entries.append((use["name"], f"- `pub use {use['source']}`" + (
                        "" if use["source"].endswith(use["name"]) else f" as `{use['name']}`")))
                continue
            if "module" in it["inner"]:
                submodules.append((it["name"], str(iid)))
                continue
            if "impl" in it["inner"]:
                continue
            lines = []
            self.render_item(it["name"], it, lines)
            entries.append((it["name"], "\n".join(lines)))
        out.append(f"\n## `{path}`\n")
        doc = self.summary(mod)
        if doc:
            out.append(f"{doc}\n")
        for _, text in sorted(entries, key=lambda e: e[0].lower()):
            out.append(text)
        for name, sid in sorted(submodules):
            self.module(f"{path}::{name}", sid, out, seen)


def render(doc: dict) -> str:
    api = Api(doc)
    out = [
        "# The public API of `entra_backup`",
        "",
        "Generated by `python3 tools/api_doc.py` from rustdoc's JSON; do not edit. `scripts/test` fails when it",
        "is not current, so every change to the public API shows up here, in review. Derived and conversion",
        "traits (Debug, Clone, From, ...) are left out; the documentation (`cargo doc --open`) has everything.",
    ]
    api.module(LIB, api.root, out, set())
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    check = "--check" in sys.argv[1:]
    text = render(rustdoc_json())
    if check:
        current = OUT.read_text() if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is not current: run python3 tools/api_doc.py and commit it", file=sys.stderr)
            return 1
        print(f"{OUT.relative_to(ROOT)} is current")
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
