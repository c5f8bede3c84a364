#!/usr/bin/env python3
"""flood_events.py: compares the events of the real sessions with and without a flood.

  flood_events.py compare [-v] REF.json GOT.json
      The events of REF (real sessions alone) and GOT (the same sessions, same
      times, inside a flood), tlsobs.stats dropped, volatile fields dropped
      (event.id, event.created, observer, tlsobs.session_id; session ids inside
      texts become "S<id>"), keys sorted; events of GOT's other sessions (the
      flood's own connections) are counted, not compared. Prints a summary; exit 1 when the two
      multisets differ, with one line per differing event (-v: the whole event).
  flood_events.py sessions FILE.json
      One line per session: community id, starttls result, alert rule names.
  flood_events.py alone MIXED.json ALONE.json...
      For each session of the ALONE files (each fixture run on its own), the
      starttls result and alert names of the same session (by community id) in
      MIXED. Informational: alerts from cross-session rules can differ when
      fixtures are mixed, with or without a flood. Exit 1 if a session is missing.

Used by bench/flood.sh and tests/integration/flood.sh.
"""
import collections
import json
import re
import sys

SESSION_ID = re.compile(r"\bS[0-9A-Z]{18}\b")


def load(path):
    events = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                events.append(json.loads(line))
            except ValueError as x:
                sys.exit(f"flood_events.py: {path}:{n}: not JSON: {x}")
    return events


def dataset(e):
    return e.get("event", {}).get("dataset", "?")


def scrub(v):
    if isinstance(v, dict):
        return {k: scrub(x) for k, x in v.items()}
    if isinstance(v, list):
        return [scrub(x) for x in v]
    if isinstance(v, str):
        return SESSION_ID.sub("S<id>", v)
    return v


def normalize(e):
    e = json.loads(json.dumps(e))
    e.pop("observer", None)
    for k in ("id", "created"):
        e.get("event", {}).pop(k, None)
    e.get("tlsobs", {}).pop("session_id", None)
    return json.dumps(scrub(e), sort_keys=True, separators=(",", ":"))


def real_events(path):
    return [e for e in load(path) if dataset(e) != "tlsobs.stats"]


def brief(line):
    e = json.loads(line)
    fl = e.get("tlsobs", {}).get("flow", {})
    if dataset(e) == "tlsobs.certificate":
        return "%-19s sha256 %s first seen %s" % (
            dataset(e), e.get("tls", {}).get("server", {}).get("hash", {}).get("sha256", "?")[:16],
            e.get("tlsobs", {}).get("certificate", {}).get("first_seen"))
    return "%-19s %-31s start %s packets %s role %s close %s" % (
        dataset(e), e.get("network", {}).get("community_id"), e.get("event", {}).get("start"),
        e.get("network", {}).get("packets"), fl.get("role_source", "-"), fl.get("close_reason", "-"))


def cmd_compare(ref_path, got_path, verbose):
    ref, got = real_events(ref_path), real_events(got_path)
    # Events of the flood's own connections (a banner flood is reported session by session)
    # are not the question here: keep the sessions REF knows, and certificates.
    known = {e.get("network", {}).get("community_id") for e in ref}
    flood = [e for e in got if dataset(e) != "tlsobs.certificate" and e.get("network", {}).get("community_id") not in known]
    got = [e for e in got if dataset(e) == "tlsobs.certificate" or e.get("network", {}).get("community_id") in known]
    a = collections.Counter(normalize(e) for e in ref)
    b = collections.Counter(normalize(e) for e in got)
    by_ds = collections.Counter(dataset(e) for e in ref)
    print("events: %d without the flood (%s), %d with it%s" % (
        len(ref), ", ".join("%d %s" % (n, d) for d, n in sorted(by_ds.items())), len(got),
        " (and %d of the flood's own connections)" % len(flood) if flood else ""))
    missing, extra = a - b, b - a
    if not missing and not extra:
        print("events: identical after dropping volatile fields")
        return 0
    for what, diff in (("only without the flood", missing), ("only with the flood   ", extra)):
        for line, n in sorted(diff.items()):
            print("  %s (x%d): %s" % (what, n, line if verbose else brief(line)))
    return 1


def sessions(path):
    out = {}
    alerts = collections.defaultdict(list)
    for e in load(path):
        ds = dataset(e)
        cid = e.get("network", {}).get("community_id")
        if ds == "tlsobs.session":
            starttls = e.get("tlsobs", {}).get("smtp", {}).get("starttls", {}).get("result", "-")
            out[cid] = starttls
        elif ds == "tlsobs.alert":
            alerts[cid].append(e.get("rule", {}).get("name", "?"))
    return {cid: (r, tuple(sorted(alerts.get(cid, [])))) for cid, r in out.items()}


def cmd_sessions(path):
    for cid, (result, alerts) in sorted(sessions(path).items()):
        print("%s starttls=%s alerts=%s" % (cid, result, ",".join(alerts) or "-"))
    return 0


def cmd_alone(mixed_path, alone_paths):
    mixed = sessions(mixed_path)
    same = differ = missing = 0
    for path in alone_paths:
        for cid, (result, alerts) in sorted(sessions(path).items()):
            name = path.rsplit("/", 1)[-1]
            if cid not in mixed:
                print("  %-40s MISSING from the mixed run" % name)
                missing += 1
                continue
            m_result, m_alerts = mixed[cid]
            if (m_result, m_alerts) == (result, alerts):
                same += 1
                print("  %-40s same: starttls=%s alerts=%s" % (name, result, ",".join(alerts) or "-"))
            else:
                differ += 1
                print("  %-40s alone: starttls=%s alerts=%s; mixed: starttls=%s alerts=%s" % (
                    name, result, ",".join(alerts) or "-", m_result, ",".join(m_alerts) or "-"))
    print("vs fixtures alone: %d sessions the same, %d different, %d missing" % (same, differ, missing))
    return 1 if missing else 0


def main(argv):
    if len(argv) in (4, 5) and argv[1] == "compare":
        verbose = len(argv) == 5 and argv[2] == "-v"
        if len(argv) == 5 and not verbose:
            sys.exit(__doc__)
        return cmd_compare(argv[-2], argv[-1], verbose)
    if len(argv) == 3 and argv[1] == "sessions":
        return cmd_sessions(argv[2])
    if len(argv) >= 4 and argv[1] == "alone":
        return cmd_alone(argv[2], argv[3:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
