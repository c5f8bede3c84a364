#!/usr/bin/env python3
"""Writes docs/elasticsearch-component-template.json from docs/events.schema.json.

The component template maps every field the schema defines, for indices or data
streams named tlsobs-* (compose it into an index template). Types follow ECS:
dates, ip, keyword for strings, long for integers, geo_point for *.geo.location;
objects whose keys are data (anomaly counters, tlsobs.truncated.arrays, whose
keys hold dots) are `flattened`. Run after changing the schema; the test
tests/integration/es_template.sh fails when a field of the schema or of a real
event is not mapped.
Usage: scripts/gen-es-template.py [SCHEMA [OUT]]
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "docs", "events.schema.json")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "docs", "elasticsearch-component-template.json")


def resolve(schema, defs):
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = dict(defs[name], _ref=name)
    return schema


def leaf_type(s, path):
    if s.get("_ref") == "timestamp":
        return "date"
    if s.get("_ref") == "ip":
        return "ip"
    t = s.get("type")
    if isinstance(t, list):
        t = [x for x in t if x != "null"][0]
    if t is None:
        values = s.get("enum") or ([s["const"]] if "const" in s else [])
        t = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(values[0]), "string") \
            if values else "string"
    return {"integer": "long", "number": "double", "boolean": "boolean", "string": "keyword"}.get(t)


def walk(schema, defs, path, out):
    s = resolve(schema, defs)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in s.get(key, []):
            sub = resolve(sub, defs)
            if "then" in sub:
                walk(sub["then"], defs, path, out)
            elif "properties" in sub or "items" in sub or "type" in sub or "$ref" in sub:
                walk(sub, defs, path, out)
    if any(k in s for k in ("allOf", "anyOf", "oneOf")) and "properties" not in s and "items" not in s \
            and s.get("_ref") not in ("ip", "timestamp"):
        return
    if s.get("type") == "array" or "items" in s:
        if "items" in s:
            walk(s["items"], defs, path, out)
        elif path:
            out.setdefault(path, "keyword")
        return
    if path.endswith(".geo.location"):
        out[path] = "geo_point"
        return
    props = s.get("properties")
    if props:
        for k, v in props.items():
            walk(v, defs, f"{path}.{k}" if path else k, out)
        return
    if s.get("type") == "object" or isinstance(s.get("additionalProperties"), dict) or "patternProperties" in s:
        out[path] = "flattened"
        return
    t = leaf_type(s, path)
    if path and t:
        out.setdefault(path, t)


def nest(flat):
    root = {}
    for path in sorted(flat):
        node = root
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {"properties": {}})
            if "properties" not in node:
                raise SystemExit(f"{path}: {p} is both a field and an object")
            node = node["properties"]
        leaf = {"type": flat[path]}
        if flat[path] == "keyword":
            leaf["ignore_above"] = 4096
        node.setdefault(parts[-1], leaf)
    return root


def main():
    with open(SCHEMA) as f:
        schema = json.load(f)
    flat = {}
    walk(schema, schema["$defs"], "", flat)
    # Fields whose key is data, not a name: one flattened field instead of a mapping per key.
    for prefix in ("tlsobs.truncated", "tlsobs.smtp.anomalies", "tlsobs.stats"):
        for k in [k for k in flat if k.startswith(prefix + ".")]:
            if prefix != "tlsobs.stats":
                del flat[k]
        if prefix != "tlsobs.stats":
            flat[prefix] = "flattened"
    template = {
        "_meta": {"description": "tlsobs events (docs/events.md), ECS; compose into an index template for tlsobs-*",
                  "schema_version": schema["title"].split()[-1], "generated_from": "docs/events.schema.json"},
        "version": 1,
        "template": {
            "settings": {"index.mapping.total_fields.limit": 2000},
            "mappings": {"dynamic": "true", "date_detection": False, "properties": nest(flat)},
        },
    }
    with open(OUT, "w") as f:
        json.dump(template, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"{OUT}: {len(flat)} fields")


if __name__ == "__main__":
    main()
