#!/usr/bin/env python3
"""Generate the typed Graph models, entra-backup-core/src/model/generated.rs.

Reads Microsoft's CSDL schema (entra-backup-core/schema/v1.0-Prod.csdl) and the catalog table
(entra-backup-core/src/catalog/table.rs). Generates one struct per entity type the catalog names (its
`entity_type`, `derived_types` and relationship `target_type`s, plus microsoft.graph.directoryObject and
microsoft.graph.entity, and their base types) and per complex type reachable from their properties, and
one enum per enum type reachable from them. The output goes through `rustfmt --edition 2024`.

Usage, from anywhere:
    python3 tools/gen_models.py           rewrite generated.rs
    python3 tools/gen_models.py --check   exit 1 if generated.rs is not what this would write

Python 3.11 standard library only.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "entra-backup-core"
SCHEMA = CORE / "schema" / "v1.0-Prod.csdl"
CATALOG = CORE / "src" / "catalog"
TABLE = CATALOG / "table.rs"
OUT = CORE / "src" / "model" / "generated.rs"

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
ROOT_NS = "microsoft.graph"
ALWAYS = ["microsoft.graph.directoryObject", "microsoft.graph.entity"]
DESCRIPTION = "Org.OData.Core.V1.Description"

# Edm primitive -> Rust. Anything not listed (Edm.Stream, geography, ...) is kept as raw JSON.
PRIMITIVES = {
    "Edm.String": "String",
    "Edm.Guid": "String",
    "Edm.DateTimeOffset": "String",
    "Edm.Date": "String",
    "Edm.TimeOfDay": "String",
    "Edm.Duration": "String",
    "Edm.Binary": "String",
    "Edm.Boolean": "bool",
    "Edm.Byte": "i32",
    "Edm.SByte": "i32",
    "Edm.Int16": "i32",
    "Edm.Int32": "i32",
    "Edm.Int64": "i64",
    # serde_json::Number keeps 1 and 1.0 apart, so a round trip writes back what Graph sent.
    "Edm.Single": "serde_json::Number",
    "Edm.Double": "serde_json::Number",
    "Edm.Decimal": "serde_json::Number",
}
RAW_JSON = "serde_json::Value"

# Names the model module itself uses (or that generated code must not shadow): a type whose Rust name
# would be one of these gets a `Graph` prefix (microsoft.graph.entity -> GraphEntity).
RESERVED_TYPE_NAMES = {"Entity", "Field", "String", "Vec", "Box", "Option", "Result", "Self"}
RUST_KEYWORDS = set(
    "as async await break const continue crate dyn else enum extern false fn for gen if impl in let loop "
    "match mod move mut pub ref return self Self static struct super trait true type unsafe use where "
    "while abstract become box do final macro override priv try typeof unsized virtual yield".split()
)
NOT_RAW = {"crate", "self", "Self", "super"}  # keywords that cannot be raw identifiers


@dataclass
class Prop:
    name: str
    type: str  # qualified, aliases resolved: "Collection(microsoft.graph.assignedLicense)"
    doc: str | None


@dataclass
class TypeDef:
    kind: str  # EntityType, ComplexType, EnumType
    qname: str
    base: str | None = None
    props: list[Prop] = field(default_factory=list)
    members: list[tuple[str, str | None]] = field(default_factory=list)
    flags: bool = False
    doc: str | None = None


# ---------------------------------------------------------------------------------------------------
# Schema


def first_sentence(text: str | None) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    text = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text, maxsplit=1)[0].strip()
    return text or None


def load_schema(path: Path) -> dict[str, TypeDef]:
    tree = ET.parse(path)
    schemas = list(tree.iter(EDM + "Schema"))
    aliases = {s.get("Alias"): s.get("Namespace") for s in schemas if s.get("Alias")}

    def resolve(name: str) -> str:
        m = re.fullmatch(r"Collection\((.+)\)", name)
        if m:
            return f"Collection({resolve(m.group(1))})"
        ns, _, local = name.rpartition(".")
        return f"{aliases.get(ns, ns)}.{local}" if ns else name

    def inline_doc(el: ET.Element) -> str | None:
        for a in el.findall(EDM + "Annotation"):
            if a.get("Term") == DESCRIPTION and a.get("String"):
                return a.get("String")
        return None

    docs: dict[str, str] = {}
    for s in schemas:
        for ann in s.iter(EDM + "Annotations"):
            target = ann.get("Target", "")
            if "(" in target:  # operations and their parameters
                continue
            doc = inline_doc(ann)
            if doc:
                head, sep, tail = target.partition("/")
                docs.setdefault(resolve(head) + sep + tail, doc)

    types: dict[str, TypeDef] = {}
    for s in schemas:
        ns = s.get("Namespace")
        for el in s:
            kind = el.tag.removeprefix(EDM)
            if kind not in ("EntityType", "ComplexType", "EnumType"):
                continue
            qname = f"{ns}.{el.get('Name')}"
            t = TypeDef(kind, qname, doc=first_sentence(docs.get(qname) or inline_doc(el)))
            if el.get("BaseType"):
                t.base = resolve(el.get("BaseType"))
            if kind == "EnumType":
                t.flags = el.get("IsFlags") == "true"
                for m in el.findall(EDM + "Member"):
                    name = m.get("Name")
                    t.members.append((name, first_sentence(docs.get(f"{qname}/{name}") or inline_doc(m))))
            else:
                # Navigation properties are links, not data: they stay in `extra`.
                for p in el.findall(EDM + "Property"):
                    name = p.get("Name")
                    doc = docs.get(f"{qname}/{name}") or inline_doc(p)
                    t.props.append(Prop(name, resolve(p.get("Type")), first_sentence(doc)))
            types[qname] = t
    return types


# ---------------------------------------------------------------------------------------------------
# Catalog


def catalog_entity_types() -> list[str]:
    """Every entity type the catalog table names, in the order it names them."""
    text = TABLE.read_text(encoding="utf-8")
    consts: dict[str, str] = {}
    for src in sorted(CATALOG.glob("*.rs")):
        for name, value in re.findall(
            r"\bconst\s+([A-Z][A-Z0-9_]*)\s*:\s*&(?:'static\s+)?str\s*=\s*\"([^\"]*)\"", src.read_text("utf-8")
        ):
            consts.setdefault(name, value)

    exprs = re.findall(r"\b(?:entity_type|target_type)\s*:\s*(\"[^\"]*\"|[A-Z][A-Z0-9_]*\b)", text)
    for items in re.findall(r"\bderived_types\s*:\s*&\[([^\]]*)\]", text):
        exprs += re.findall(r"\"[^\"]*\"|\b[A-Z][A-Z0-9_]*\b", items)

    names: list[str] = []
    for expr in exprs:
        if expr.startswith('"'):
            value = expr[1:-1]
        elif expr in consts:
            value = consts[expr]
        else:
            sys.exit(f"gen_models: {TABLE.name} names a type through {expr}, which is not a string constant")
        if value.startswith(ROOT_NS + ".") and value not in names:
            names.append(value)
    return names


# ---------------------------------------------------------------------------------------------------
# Naming


def upper_camel(name: str) -> str:
    """accessPackage -> AccessPackage, windows10_x64 -> Windows10X64, v10_15 -> V10_15."""
    out = []
    upper_next = True
    for i, c in enumerate(name):
        if c == "_":
            digits = 0 < i < len(name) - 1 and name[i - 1].isdigit() and name[i + 1].isdigit()
            if digits:
                out.append(c)
            else:
                upper_next = True
            continue
        out.append(c.upper() if upper_next else c)
        upper_next = False
    return "".join(out)


def snake(name: str) -> str:
    """onPremisesSamAccountName -> on_premises_sam_account_name, iOSDevice -> i_os_device."""
    out = []
    for i, c in enumerate(name):
        prev = name[i - 1] if i else ""
        nxt = name[i + 1] if i + 1 < len(name) else ""
        boundary = prev.islower() or prev.isdigit() or (prev.isupper() and nxt.islower())
        if c.isupper() and i and prev != "_" and boundary:
            out.append("_")
        out.append(c.lower())
    return re.sub(r"_+", "_", "".join(out)).strip("_") or "field"


def field_ident(name: str) -> str:
    s = snake(name)
    if s in NOT_RAW:
        return s + "_"
    if s in RUST_KEYWORDS:
        return "r#" + s
    if s[0].isdigit():
        return "_" + s
    return s


def rust_type_name(qname: str) -> str:
    ns, _, local = qname.rpartition(".")
    prefix = "".join(upper_camel(part) for part in ns.split(".")[2:])  # microsoft.graph.callRecords -> CallRecords
    name = prefix + upper_camel(local)
    return "Graph" + name if name in RESERVED_TYPE_NAMES else name


def unique(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    taken.add(name)
    return name


# ---------------------------------------------------------------------------------------------------
# Selection


def element_type(t: str) -> tuple[str, bool]:
    m = re.fullmatch(r"Collection\((.+)\)", t)
    return (m.group(1), True) if m else (t, False)


def lineage(types: dict[str, TypeDef], qname: str) -> list[TypeDef]:
    """The type and its base types, root first."""
    chain = []
    t = types.get(qname)
    while t is not None:
        chain.append(t)
        t = types.get(t.base) if t.base else None
    return chain[::-1]


def all_props(types: dict[str, TypeDef], qname: str) -> list[Prop]:
    seen: set[str] = set()
    props = []
    for t in lineage(types, qname):
        for p in t.props:
            if p.name not in seen:
                seen.add(p.name)
                props.append(p)
    return props


def select(types: dict[str, TypeDef], roots: list[str]) -> set[str]:
    chosen: set[str] = set()
    todo = list(roots)
    while todo:
        q = todo.pop()
        if q in chosen or q not in types:
            continue
        chosen.add(q)
        t = types[q]
        if t.base:
            todo.append(t.base)
        for p in t.props:
            todo.append(element_type(p.type)[0])
    return chosen


def boxed_edges(types: dict[str, TypeDef], structs: set[str]) -> set[tuple[str, str]]:
    """(owner, property) pairs that must be boxed: a single complex value whose type contains the owner."""
    edges = {
        q: {element_type(p.type)[0] for p in all_props(types, q) if not element_type(p.type)[1]} & structs
        for q in structs
    }

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            q = todo.pop()
            if q == goal:
                return True
            if q not in seen:
                seen.add(q)
                todo.extend(edges[q])
        return False

    boxed = set()
    for q in structs:
        for p in all_props(types, q):
            target, many = element_type(p.type)
            if not many and target in structs and reaches(target, q):
                boxed.add((q, p.name))
    return boxed


# ---------------------------------------------------------------------------------------------------
# Output


def doc_text(text: str) -> str:
    """Plain text made safe for rustdoc's Markdown: no stray links, HTML tags or bare URLs."""
    text = re.sub(r"([\\\[\]<>])", r"\\\1", text)
    return re.sub(r"(https?://[^\s)]+?)([.,;]?(?:\s|$))", lambda m: f"<{m.group(1)}>{m.group(2)}", text)


def docs(lines: list[str], text: str | None, indent: str) -> None:
    if text:
        lines.append(f"{indent}/// {doc_text(text)}")


def generate() -> str:
    types = load_schema(SCHEMA)
    named = catalog_entity_types()
    missing = [q for q in named if q not in types]
    wanted = [q for q in named if q in types] + ALWAYS
    chosen = select(types, wanted)
    structs = {q for q in chosen if types[q].kind != "EnumType"}
    enums = {q for q in chosen if types[q].kind == "EnumType" and not types[q].flags}
    names = {q: rust_type_name(q) for q in chosen}
    clash = sorted({n for n in names.values() if list(names.values()).count(n) > 1})
    if clash:
        sys.exit(f"gen_models: two schema types map to the Rust name(s) {', '.join(clash)}")
    boxed = boxed_edges(types, structs)

    def rust_type(owner: str, p: Prop) -> str:
        target, many = element_type(p.type)
        t = types.get(target)
        if target in PRIMITIVES:
            inner = PRIMITIVES[target]
        elif t is None:
            inner = RAW_JSON
        elif t.kind == "EnumType":
            inner = "String" if t.flags else names[target]
        else:
            inner = names[target]
            if (owner, p.name) in boxed:
                inner = f"Box<{inner}>"
        return f"Vec<{inner}>" if many else inner

    entities = sorted((q for q in structs if types[q].kind == "EntityType"), key=lambda q: names[q])
    out = [
        "// Generated by tools/gen_models.py from schema/v1.0-Prod.csdl. Do not edit.",
        "// Regenerate from the workspace root: python3 tools/gen_models.py (--check to verify).",
        "//",
        "// Entity types: those src/catalog/table.rs names (entity_type, derived_types, target_type), plus",
        "// microsoft.graph.directoryObject and microsoft.graph.entity, and their base types; with every",
        "// complex and enum type their properties reach. Flags enums are plain strings.",
    ]
    if missing:
        out.append("//")
        out.append("// Skipped, named in the catalog but not in the v1.0 schema (beta only):")
        out.extend(f"// - {q}" for q in missing)
    out += [
        "",
        "use super::{Entity, Field};",
        "",
        "/// Qualified names of the generated entity types, sorted.",
        "pub(super) const ENTITY_TYPE_NAMES: &[&str] = &[",
    ]
    out += [f'    "{q}",' for q in sorted(entities)]
    out += [
        "];",
        "",
        "/// Deserializes `value` as the struct of `entity_type` and serializes it back.",
        "pub(super) fn dispatch_round_trip(",
        "    entity_type: &str,",
        "    value: &serde_json::Value,",
        ") -> Option<Result<serde_json::Value, serde_json::Error>> {",
        "    Some(match entity_type {",
    ]
    out += [f"        {names[q]}::ODATA_TYPE => super::round_trip_as::<{names[q]}>(value)," for q in entities]
    out += ["        _ => return None,", "    })", "}"]
    out += [
        "",
        "/// The JSON property names of `entity_type` and its base types (navigation properties excluded).",
        "pub(super) fn dispatch_properties(entity_type: &str) -> Option<&'static [&'static str]> {",
        "    Some(match entity_type {",
    ]
    for q in entities:
        props = ", ".join(f'"{p.name}"' for p in all_props(types, q))
        out.append(f'        "{q}" => &[{props}],')
    out += ["        _ => return None,", "    })", "}"]

    for q in sorted(structs, key=lambda q: names[q]):
        t = types[q]
        kind = "entity" if t.kind == "EntityType" else "complex"
        out.append("")
        out.append("model! {")
        out.append(f"    /// `{q}`" + (f": {doc_text(t.doc)}" if t.doc else ""))
        out.append(f'    {kind} {names[q]} = "{q}" {{')
        taken = {"extra"}
        for p in all_props(types, q):
            docs(out, p.doc, "        ")
            out.append(f'        {unique(field_ident(p.name), taken)}: {rust_type(q, p)} = "{p.name}",')
        out.append("    }")
        out.append("}")

    for q in sorted(enums, key=lambda q: names[q]):
        t = types[q]
        out.append("")
        out.append("string_enum! {")
        out.append(f"    /// `{q}`" + (f": {doc_text(t.doc)}" if t.doc else ""))
        out.append(f"    {names[q]} {{")
        taken = {"Other"}
        for member, doc in t.members:
            docs(out, doc, "        ")
            out.append(f'        {unique(upper_camel(member), taken)} = "{member}",')
        out.append("    }")
        out.append("}")

    return rustfmt("\n".join(out) + "\n")


def rustfmt(text: str) -> str:
    try:
        done = subprocess.run(
            ["rustfmt", "--edition", "2024"],
            input=text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=OUT.parent,
        )
    except FileNotFoundError:
        sys.exit("gen_models: rustfmt not found (rustup component add rustfmt)")
    if done.returncode != 0:
        sys.exit(f"gen_models: rustfmt failed:\n{done.stderr}")
    return done.stdout


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    text = generate()
    current = OUT.read_text(encoding="utf-8") if OUT.exists() else None
    if argv == ["--check"]:
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python3 tools/gen_models.py", file=sys.stderr)
            return 1
        return 0
    if current != text:
        OUT.write_text(text, encoding="utf-8", newline="\n")
    lines = text.count("\n")
    print(f"{OUT.relative_to(ROOT)}: {lines} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
