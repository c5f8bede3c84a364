#!/usr/bin/env python3
"""Schema test: every event of every capture against docs/events.schema.json, plus the cross-event contract.

Runs tlsobs on each capture of tests/fixtures, of the lab corpus and of the public
corpus (each part skipped cleanly when absent), and once over the whole fixtures
directory with a one-second stats interval (history alerts, periodic tlsobs.stats).
Public captures run with tls.implicit_ports=465,443 so their HTTPS sessions are
reported. Every line of standard output must be a JSON object that validates
against the schema (draft 2020-12, formats checked). Then, over all events of all
runs:
  * event.id is unique, and follows the documented scheme (session "<sid>-s",
    alerts "<sid>-a<n>", certificate "<sid>-c", stats "<run>-m<n>");
  * tlsobs.schema_version is present and equals the schema's version;
  * event.kind is an ECS allowed value, and each event.type is allowed by ECS for
    each of the event's categories (the ECS categorisation table below);
  * network.community_id matches ^1:[A-Za-z0-9+/]{27}=$, equals an independent
    computation from source/destination (hashlib, below), is the same on a session
    and on each of its alerts, and, when tshark is installed, is one of the
    Community IDs tshark computes for the capture.
Exits 0 when all pass, 1 on any failure, 77 when the binary is missing.
"""
import base64
import glob
import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from jsonschema import Draft202012Validator, FormatChecker

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TLSOBS_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
TLSOBS = os.environ.get("TLSOBS") or os.path.join(SRC, "build-schema", "tlsobs")
FIX = os.path.join(SRC, "tests", "fixtures")
CORPUS = os.environ.get("TLSOBS_CORPUS") or os.path.abspath(os.path.join(SRC, "..", "shared", "corpus"))
LAB = os.path.join(CORPUS, "lab")
PUBLIC = os.path.join(CORPUS, "public")
SCHEMA = os.path.join(SRC, "docs", "events.schema.json")
SCHEMA_VERSION = "1.4.0"

COMMUNITY_ID = re.compile(r"^1:[A-Za-z0-9+/]{27}=$")
EVENT_ID = {
    "tlsobs.session": re.compile(r"^(S[0-9A-Z]{18})-s$"),
    "tlsobs.alert": re.compile(r"^(S[0-9A-Z]{18})-a([1-9][0-9]*)$"),
    "tlsobs.certificate": re.compile(r"^(S[0-9A-Z]{18})-c$"),
    "tlsobs.stats": re.compile(r"^(S[0-9A-Z]{8}0{10})-m([1-9][0-9]*)$"),
    "tlsobs.policy": re.compile(r"^(S[0-9A-Z]{8}0{10})-p([1-9][0-9]*)$"),
}
# A configuration with partners: the run starts with a tlsobs.policy policy_loaded event listing them.
POLICY_YAML = """sensor:
  name: schema-test
policy:
  partners:
    - domain: example.net
      mode: enforced
      min_tls_version: "1.2"
      require_valid_certificate: true
      mx: [mx1.example.net, "*.mail.example.net"]
      networks: [198.51.100.0/24, "2001:db8::/32"]
    - domain: example.org
      mode: opportunistic
      relaxed_until: 2026-12-24T00:00:00Z
"""
ECS_KINDS = {"alert", "asset", "enrichment", "event", "metric", "state", "pipeline_error", "signal"}
# ECS 8.x event.category -> allowed event.type values (ecs/schemas/event.yml, expected_event_types).
ECS_CATEGORY_TYPES = {
    "api": {"access", "admin", "allowed", "change", "creation", "deletion", "denied", "end", "info", "start", "user"},
    "authentication": {"start", "end", "info"},
    "configuration": {"access", "change", "creation", "deletion", "info"},
    "database": {"access", "change", "info", "error"},
    "driver": {"change", "end", "info", "start"},
    "email": {"info"},
    "file": {"access", "change", "creation", "deletion", "info"},
    "host": {"access", "change", "end", "info", "start"},
    "iam": {"admin", "change", "creation", "deletion", "group", "info", "user"},
    "intrusion_detection": {"allowed", "denied", "info"},
    "library": {"start"},
    "malware": {"info"},
    "network": {"access", "allowed", "connection", "denied", "end", "info", "protocol", "start"},
    "package": {"access", "change", "deletion", "info", "installation", "start"},
    "process": {"access", "change", "end", "info", "start"},
    "registry": {"access", "change", "creation", "deletion"},
    "session": {"start", "end", "info"},
    "threat": {"indicator"},
    "vulnerability": {"info"},
    "web": {"access", "error", "info"},
}


class Report:
    def __init__(self):
        self.failures = 0

    def ok(self, name, detail=""):
        print(f"ok    {name}{': ' + detail if detail else ''}")

    def fail(self, name, errs):
        self.failures += 1
        print(f"FAIL  {name}")
        for e in errs[:15]:
            print(f"        {e}")
        if len(errs) > 15:
            print(f"        ... {len(errs) - 15} more")

    def skip(self, name, why):
        print(f"skip  {name}: {why}")


def community_id(saddr, sport, daddr, dport, proto=6, seed=0):
    """Community ID v1, written from the spec (corelight/community-id-spec), independently of the sensor."""
    a, b = ipaddress.ip_address(saddr).packed, ipaddress.ip_address(daddr).packed
    if (a, sport) > (b, dport):
        a, b, sport, dport = b, a, dport, sport
    data = seed.to_bytes(2, "big") + a + b + bytes([proto, 0]) + sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def tshark_community_ids(path):
    """The Community IDs tshark computes for a capture (its dissector is off by default), or None without tshark."""
    if not shutil.which("tshark"):
        return None
    p = subprocess.run(["tshark", "-n", "-r", path, "--enable-protocol", "communityid", "-T", "fields",
                        "-e", "communityid"], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        return None
    return {line.strip() for line in p.stdout.splitlines() if line.strip()}


def ca_bundle(tmpdir):
    path = os.path.join(tmpdir, "ca.pem")
    with open(path, "w") as out:
        for pem in (os.path.join(FIX, "certs", "ca.crt"), os.path.join(LAB, "certs", "root.crt"),
                    os.path.join(LAB, "certs", "issuing.crt")):
            if os.path.exists(pem):
                with open(pem) as f:
                    out.write(f.read().rstrip("\n") + "\n")
    return path


def run(args, ca):
    p = subprocess.run([TLSOBS, "-q", "--ca-file", ca] + args, capture_output=True, text=True, errors="replace",
                       timeout=900)
    return p.returncode, p.stdout, p.stderr


def get(obj, dotted, default=None):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def check_event(e, validator, errs):
    for err in sorted(validator.iter_errors(e), key=lambda x: list(x.path))[:5]:
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        errs.append(f"schema: {where}: {err.message[:200]}")
    ev = e.get("event", {}) if isinstance(e, dict) else {}
    dataset = ev.get("dataset")
    if get(e, "tlsobs.schema_version") != SCHEMA_VERSION:
        errs.append(f"{dataset}: tlsobs.schema_version is {get(e, 'tlsobs.schema_version')!r}")
    if ev.get("kind") not in {"event", "alert", "metric"} or ev.get("kind") not in ECS_KINDS:
        errs.append(f"{dataset}: event.kind {ev.get('kind')!r}")
    for cat in ev.get("category", []):
        allowed = ECS_CATEGORY_TYPES.get(cat)
        if allowed is None:
            errs.append(f"{dataset}: event.category {cat!r} is not an ECS category")
            continue
        for t in ev.get("type", []):
            if t not in allowed:
                errs.append(f"{dataset}: event.type {t!r} is not allowed by ECS with category {cat!r}")
    pattern = EVENT_ID.get(dataset)
    m = pattern.match(ev.get("id", "")) if pattern else None
    if not m:
        errs.append(f"{dataset}: event.id {ev.get('id')!r} does not follow the scheme")
    elif dataset in ("tlsobs.session", "tlsobs.alert", "tlsobs.certificate") and \
            m.group(1) != get(e, "tlsobs.session_id"):
        errs.append(f"{dataset}: event.id {ev['id']} is not built from tlsobs.session_id {get(e, 'tlsobs.session_id')}")
    if dataset in ("tlsobs.session", "tlsobs.alert"):
        cid = get(e, "network.community_id")
        if not isinstance(cid, str) or not COMMUNITY_ID.match(cid):
            errs.append(f"{dataset} {ev.get('id')}: network.community_id {cid!r}")
        else:
            want = community_id(get(e, "source.ip"), get(e, "source.port"), get(e, "destination.ip"),
                                get(e, "destination.port"))
            if cid != want:
                errs.append(f"{dataset} {ev.get('id')}: community_id {cid}, computed {want}")


def check_run(label, events, tshark_ids, errs):
    """Within one run: alerts share their session's community_id; tshark knows every session's id."""
    sessions = {get(e, "tlsobs.session_id"): e for e in events if get(e, "event.dataset") == "tlsobs.session"}
    for e in events:
        if get(e, "event.dataset") != "tlsobs.alert":
            continue
        s = sessions.get(get(e, "tlsobs.session_id"))
        if s is None:
            errs.append(f"alert {get(e, 'event.id')}: no session event {get(e, 'tlsobs.session_id')} in the run")
        elif get(s, "network.community_id") != get(e, "network.community_id"):
            errs.append(f"alert {get(e, 'event.id')}: community_id differs from its session's")
    if tshark_ids is not None:
        for sid, s in sessions.items():
            if get(s, "network.community_id") not in tshark_ids:
                errs.append(f"session {sid}: community_id {get(s, 'network.community_id')} unknown to tshark")


def captures(tmp):
    """(label, args, path for tshark or None), part by part; a missing part is reported as skipped."""
    parts = []
    fixtures = sorted(glob.glob(os.path.join(FIX, "*.pcap")))
    policy = os.path.join(tmp, "policy.yaml")
    with open(policy, "w") as f:
        f.write(POLICY_YAML)
    parts.append(("fixtures with a partner policy", [("tests/fixtures/ (one run, -c policy.yaml)",
                                                      ["-r", FIX, "-c", policy], None)] if fixtures else []))
    parts.append(("fixtures", [(os.path.relpath(p, SRC), ["-r", p], p) for p in fixtures]))
    parts.append(("fixtures as one run", [("tests/fixtures/ (one run, stats every second)",
                                           ["-r", FIX, "--set", "stats.interval=1"], None)] if fixtures else []))
    lab = sorted(glob.glob(os.path.join(LAB, "*.pcap")) + glob.glob(os.path.join(LAB, "*.pcapng")))
    parts.append(("lab corpus", [(os.path.relpath(p, CORPUS), ["-r", p], p) for p in lab]))
    public = sorted(p for p in glob.glob(os.path.join(PUBLIC, "**", "*"), recursive=True)
                    if p.endswith((".pcap", ".pcapng")))
    parts.append(("public corpus", [(os.path.relpath(p, CORPUS), ["-r", p, "--set", "tls.implicit_ports=465,443"], p)
                                    for p in public]))
    return parts


def main():
    rep = Report()
    if not os.access(TLSOBS, os.X_OK):
        print(f"{TLSOBS}: not built: skipped")
        return 77
    with open(SCHEMA) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    all_ids = {}
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        ca = ca_bundle(tmp)
        for part, cases in captures(tmp):
            if not cases:
                rep.skip(part, "no captures")
                continue
            for label, args, path in cases:
                errs = []
                rc, out, err = run(args, ca)
                if rc not in (0, 1):
                    errs.append(f"exit status {rc}: {err.strip()[-300:]}")
                events = []
                for n, line in enumerate(out.splitlines(), 1):
                    try:
                        e = json.loads(line)
                    except ValueError as x:
                        errs.append(f"line {n}: not JSON ({x})")
                        continue
                    if not isinstance(e, dict):
                        errs.append(f"line {n}: not a JSON object")
                        continue
                    events.append(e)
                    check_event(e, validator, errs)
                    eid = get(e, "event.id")
                    if eid in all_ids:
                        errs.append(f"event.id {eid} also in {all_ids[eid]}")
                    all_ids[eid] = label
                    ds = get(e, "event.dataset")
                    counts[ds] = counts.get(ds, 0) + 1
                check_run(label, events, tshark_community_ids(path) if path else None, errs)
                if errs:
                    rep.fail(label, errs)
                else:
                    rep.ok(label, f"{len(events)} events")
    summary = ", ".join(f"{n} {ds}" for ds, n in sorted(counts.items()))
    print(f"{'FAILED' if rep.failures else 'passed'}: {rep.failures} failing case(s); {len(all_ids)} events ({summary})")
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
