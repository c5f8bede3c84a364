#!/usr/bin/env python3
"""The Elasticsearch component template against the schema and real events (see es_template.sh)."""
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TLSOBS_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
TLSOBS = os.environ.get("TLSOBS") or os.path.join(SRC, "build", "tlsobs")
TEMPLATE = os.path.join(SRC, "docs", "elasticsearch-component-template.json")
TYPES = {"keyword", "long", "double", "boolean", "date", "ip", "geo_point", "flattened", "object"}
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
POLICY = """sensor:
  name: es-template
policy:
  partners:
    - domain: example.net
      mode: enforced
      min_tls_version: "1.2"
      networks: [198.51.100.0/24]
"""


def leaves(props, prefix=""):
    for k, v in props.items():
        if "properties" in v:
            yield from leaves(v["properties"], prefix + k + ".")
        else:
            yield prefix + k, v.get("type")


def fits(t, v):
    if t == "long":
        return type(v) is int
    if t == "double":
        return type(v) in (int, float)
    if t == "boolean":
        return type(v) is bool
    if t == "keyword":
        return isinstance(v, (str, int, float, bool))
    if t == "date":
        return isinstance(v, str) and DATE.match(v)
    if t == "ip":
        try:
            ipaddress.ip_address(v)
            return True
        except ValueError:
            return False
    if t == "geo_point":
        return isinstance(v, dict) and set(v) == {"lat", "lon"}
    return True


def event_fields(e, prefix=""):
    """(path, value) of every leaf; arrays give each element; a geo location is one leaf."""
    if isinstance(e, dict) and not prefix.endswith("location."):
        for k, v in e.items():
            yield from event_fields(v, prefix + k + ".")
    elif isinstance(e, list):
        for v in e:
            yield from event_fields(v, prefix)
    else:
        yield prefix[:-1], e


def main():
    errs = []
    with open(TEMPLATE) as f:
        t = json.load(f)
    props = t.get("template", {}).get("mappings", {}).get("properties")
    if not isinstance(props, dict) or not props:
        print("FAIL template.mappings.properties missing")
        return 1
    mapped = dict(leaves(props))
    for path, typ in mapped.items():
        if typ not in TYPES:
            errs.append(f"{path}: unknown type {typ!r}")
    flattened = [p for p, typ in mapped.items() if typ == "flattened"]
    print(f"ok    the template is valid JSON with {len(mapped)} mapped fields")

    # The committed template is what the generator makes of the schema.
    with tempfile.TemporaryDirectory() as tmp:
        regen = os.path.join(tmp, "t.json")
        subprocess.run([sys.executable, os.path.join(SRC, "scripts", "gen-es-template.py"),
                        os.path.join(SRC, "docs", "events.schema.json"), regen], check=True, capture_output=True)
        with open(regen) as f:
            if json.load(f) != t:
                errs.append("docs/elasticsearch-component-template.json differs from scripts/gen-es-template.py's "
                            "output: run it after changing the schema")
        schema_fields = dict(leaves(json.load(open(regen))["template"]["mappings"]["properties"]))
    missing = sorted(set(schema_fields) - set(mapped))
    if missing:
        errs.append(f"schema fields not mapped: {missing[:10]}")
    else:
        print(f"ok    all {len(schema_fields)} fields of the schema are mapped")

    # Real events: every field mapped (or under a flattened field), every value of its type.
    if not os.access(TLSOBS, os.X_OK):
        print(f"skip  real events: {TLSOBS} not built")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = os.path.join(tmp, "p.yaml")
            with open(cfg, "w") as f:
                f.write(POLICY)
            p = subprocess.run([TLSOBS, "-q", "-c", cfg, "--set", "stats.interval=1", "-r",
                                os.path.join(SRC, "tests", "fixtures")], capture_output=True, text=True, timeout=600)
        seen, n = set(), 0
        for line in p.stdout.splitlines():
            n += 1
            for path, value in event_fields(json.loads(line)):
                if any(path == f or path.startswith(f + ".") for f in flattened):
                    continue
                typ = mapped.get(path)
                if typ is None:
                    if path not in seen:
                        errs.append(f"event field {path} is not mapped")
                    seen.add(path)
                elif not fits(typ, value):
                    errs.append(f"event field {path} = {value!r} does not fit {typ}")
                seen.add(path)
        print(f"ok    {n} events, {len(seen)} distinct fields checked against the mapping" if n else
              "FAIL  no events")
        if not n:
            errs.append("no events")
    for e in errs[:20]:
        print(f"FAIL  {e}")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
