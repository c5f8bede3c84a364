#!/usr/bin/env python3
"""Validates TLS-RPT report files (RFC 8460) written by `tlsobs report tlsrpt`.

Usage: validate_tlsrpt.py SCHEMA FILE...   (FILE: *.json.gz as written, or plain *.json)

Each file: gzip (RFC 1952) when named .gz; the JSON validates against SCHEMA (docs/tlsrpt.schema.json,
with format checks); the date range is one whole UTC day (4.2); each policy's failure-details sum to
its total-failure-session-count; and a .json.gz name follows 5.3: sender!policy-domain!begin!end!
unique-id.json.gz with begin/end the date range's bounds and policy-domain the report's one domain.
Prints one line per problem; exits 1 on any, 0 when every file is good, 77 without jsonschema.
"""
import calendar
import gzip
import json
import os
import re
import sys
import time

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema missing")
    sys.exit(77)

NAME = re.compile(r"^([A-Za-z0-9.-]+)!([^!/]+)!(\d+)!(\d+)!([A-Za-z0-9]+)\.json\.gz$")


def epoch(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def check(path, validator):
    errs = []
    raw = open(path, "rb").read()
    if path.endswith(".gz"):
        if raw[:2] != b"\x1f\x8b":
            return [f"{path}: not gzip"]
        raw = gzip.decompress(raw)
    try:
        doc = json.loads(raw)
    except ValueError as e:
        return [f"{path}: not JSON: {e}"]
    for e in validator.iter_errors(doc):
        errs.append(f"{path}: schema: {'/'.join(str(p) for p in e.absolute_path)}: {e.message}")
    if errs:
        return errs
    start, end = doc["date-range"]["start-datetime"], doc["date-range"]["end-datetime"]
    if not start.endswith("T00:00:00Z") or epoch(end) - epoch(start) != 86399:
        errs.append(f"{path}: date-range {start}..{end} is not one UTC day (RFC 8460 4.2)")
    domains = {p["policy"]["policy-domain"] for p in doc["policies"]}
    if len(domains) != 1:
        errs.append(f"{path}: policy domains {sorted(domains)}, want one per report")
    for p in doc["policies"]:
        failed = sum(d["failed-session-count"] for d in p.get("failure-details", []))
        if failed != p["summary"]["total-failure-session-count"]:
            errs.append(f"{path}: {p['policy']}: failure-details sum {failed} != "
                        f"total-failure-session-count {p['summary']['total-failure-session-count']}")
    base = os.path.basename(path)
    if base.endswith(".json.gz"):
        m = NAME.match(base)
        if not m:
            errs.append(f"{path}: name is not sender!policy-domain!begin!end!unique-id.json.gz (RFC 8460 5.3)")
        else:
            if m.group(2) not in domains:
                errs.append(f"{path}: policy-domain {m.group(2)} in the name, {sorted(domains)} in the report")
            if int(m.group(3)) != epoch(start) or int(m.group(4)) != epoch(end):
                errs.append(f"{path}: timestamps {m.group(3)}!{m.group(4)} != date-range {start}..{end}")
    return errs


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    schema = json.load(open(sys.argv[1]))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errs = []
    for path in sys.argv[2:]:
        errs += check(path, validator)
    for e in errs:
        print(e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
