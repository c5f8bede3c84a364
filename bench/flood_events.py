#!/usr/bin/env python3
"""flood_events.py: compares the events of the real sessions with and without a flood.

  flood_events.py compare [-v] REF.json GOT.json [ALONE.json...]
      The events of REF (real sessions alone) and GOT (the same sessions, same
      times, inside a flood), tlsobs.stats dropped, volatile fields dropped
      (event.id, event.created, observer, tlsobs.session_id; session ids inside
      texts become "S<id>"), keys sorted; events of GOT's other sessions (the
      flood's own connections) are counted, not compared. The comparison is
      per session (community id): prints a summary, and for each session that
      differs its name (the fixture whose ALONE run has that community id),
      its STARTTLS verdict and alerts with and without the flood, and the
      fields of its session event that differ; then one line per differing
      event (-v: the whole event). Exit 1 when any session differs.
  flood_events.py sessions FILE.json
      One line per session: community id, starttls result, alert rule names.
  flood_events.py alone MIXED.json ALONE.json...
      For each session of the ALONE files (each fixture run on its own), the
      starttls result and alert names of the same session (by community id) in
      MIXED. Informational: alerts from cross-session rules can differ when
      fixtures are mixed, with or without a flood. Exit 1 if a session is missing.
  flood_events.py stats FILE.json SUMMARY.txt
      The flow table's figures from the last tlsobs.stats event of FILE and the
      exit summary (tlsobs's stderr) SUMMARY, one shell-readable line:
      peak_active memory_peak evicted refused entered left evicted_by, "-" for a
      number the sensor does not give (evicted_by: reason=n,... or "-").

Used by bench/flood.sh and tests/integration/flood.sh.
"""
import collections
import json
import re
import sys

SESSION_ID = re.compile(r"\bS[0-9A-Z]{18}\b")
COMMUNITY_ID = re.compile(r'"community_id":"([^"]*)"')


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


def flatten(v, prefix=""):
    """A nested event as {"a.b.c": leaf}, lists kept whole."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            out.update(flatten(x, prefix + k + "."))
        return out
    return {prefix[:-1]: v}


def group(lines):
    """Normalized events by session: community id, or "certificates" (not tied to one session)."""
    out = collections.defaultdict(collections.Counter)
    for line in lines:
        e = json.loads(line)
        key = "certificates" if dataset(e) == "tlsobs.certificate" else e.get("network", {}).get("community_id")
        out[key][line] += 1
    return out


def verdict(events):
    """(starttls results, sorted alert names, pieces) of one session's normalized events; pieces
    describes the session events when there is not exactly one (cut by an eviction, picked up again)."""
    results, alerts, pieces = [], [], []
    for line in sorted(events.elements(), key=lambda l: json.loads(l).get("event", {}).get("start", "")):
        e = json.loads(line)
        if dataset(e) == "tlsobs.session":
            results.append(e.get("tlsobs", {}).get("smtp", {}).get("starttls", {}).get("result", "-"))
            fl = e.get("tlsobs", {}).get("flow", {})
            pieces.append("%s packets from %s to %s" % (e.get("network", {}).get("packets"),
                                                        fl.get("role_source", "-"), fl.get("close_reason", "-")))
        elif dataset(e) == "tlsobs.alert":
            alerts.append(e.get("rule", {}).get("name", "?"))
    return "+".join(results) or "(no session event)", ",".join(sorted(alerts)) or "-", pieces


def session_fields(events):
    for line in events:
        e = json.loads(line)
        if dataset(e) == "tlsobs.session":
            return flatten(e)
    return {}


def describe(name, ref, got, verbose):
    """Lines saying how one session's events differ with the flood."""
    (r_res, r_al, r_pc), (g_res, g_al, g_pc) = verdict(ref), verdict(got)
    if name == "certificates":
        lines = ["  certificate inventory: %d event(s) only without the flood, %d only with it" % (
            sum((ref - got).values()), sum((got - ref).values()))]
    else:
        lines = ["  session %s: starttls %s%s, alerts %s%s" % (
            name, g_res, "" if g_res == r_res else " (without the flood: %s)" % r_res,
            g_al, "" if g_al == r_al else " (without the flood: %s)" % r_al)]
        if len(g_pc) != 1 or len(r_pc) != 1:
            lines.append("    reported as %d session event(s): %s (without the flood: %s)" % (
                len(g_pc), "; ".join(g_pc) or "-", "; ".join(r_pc) or "-"))
    a, b = session_fields(ref), session_fields(got)
    changed = sorted(k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>"))
    if changed:
        shown = ["%s %s -> %s" % (k, json.dumps(a.get(k, "<absent>")), json.dumps(b.get(k, "<absent>")))
                 for k in changed[:12]]
        more = " (and %d more)" % (len(changed) - 12) if len(changed) > 12 else ""
        lines.append("    session event fields (without -> with the flood): %s%s" % ("; ".join(shown), more))
    for what, diff in (("only without the flood", ref - got), ("only with the flood   ", got - ref)):
        for line, n in sorted(diff.items()):
            lines.append("    %s (x%d): %s" % (what, n, line if verbose else brief(line)))
    return lines


def names_from(alone_paths):
    names = {}
    for path in alone_paths:
        fixture = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        fixture = fixture[6:] if fixture.startswith("alone-") else fixture
        for e in load(path):
            cid = e.get("network", {}).get("community_id")
            if dataset(e) == "tlsobs.session" and cid:
                names[cid] = "%s [%s]" % (fixture, cid)
    return names


def real_sessions_of(path, known):
    """The events of GOT that belong to the sessions REF knows, and certificates, and how many
    others (the flood's own connections): those are counted from the raw line, not parsed, as a
    banner flood writes hundreds of thousands of them."""
    kept, others = [], 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if '"dataset":"tlsobs.stats"' in line:
                continue
            m = COMMUNITY_ID.search(line)
            if '"dataset":"tlsobs.certificate"' not in line and (m.group(1) if m else None) not in known:
                others += 1
                continue
            try:
                e = json.loads(line)
            except ValueError as x:
                sys.exit(f"flood_events.py: {path}:{n}: not JSON: {x}")
            if dataset(e) == "tlsobs.certificate" or e.get("network", {}).get("community_id") in known:
                kept.append(e)
            else:
                others += 1
    return kept, others


def cmd_compare(ref_path, got_path, verbose, alone_paths=()):
    ref = real_events(ref_path)
    # Events of the flood's own connections (a banner flood is reported session by session)
    # are not the question here: keep the sessions REF knows, and certificates.
    known = {e.get("network", {}).get("community_id") for e in ref}
    got, flood_n = real_sessions_of(got_path, known)
    by_ds = collections.Counter(dataset(e) for e in ref)
    print("events: %d without the flood (%s), %d with it%s" % (
        len(ref), ", ".join("%d %s" % (n, d) for d, n in sorted(by_ds.items())), len(got),
        " (and %d of the flood's own connections)" % flood_n if flood_n else ""))
    a, b = group(normalize(e) for e in ref), group(normalize(e) for e in got)
    names = names_from(alone_paths)
    keys = sorted(set(a) | set(b), key=lambda k: (k == "certificates", str(k)))
    differ = [k for k in keys if a.get(k, collections.Counter()) != b.get(k, collections.Counter())]
    sessions_n = len([k for k in a if k != "certificates"])
    if not differ:
        print("events: identical after dropping volatile fields (%d sessions)" % sessions_n)
        return 0
    print("events: %d of %d real sessions differ: %s" % (
        len([k for k in differ if k != "certificates"]), sessions_n,
        ", ".join(names.get(k, str(k)).split(" [")[0] if k != "certificates" else "(and the certificate inventory)"
                  for k in differ)))
    for k in differ:
        for line in describe(names.get(k, str(k)), a.get(k, collections.Counter()),
                             b.get(k, collections.Counter()), verbose):
            print(line)
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


def cmd_stats(path, summary_path):
    last = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if '"dataset":"tlsobs.stats"' in line:
                last = line
    last = json.loads(last) if last else None
    fl = (last or {}).get("tlsobs", {}).get("stats", {}).get("flows", {})
    with open(summary_path, encoding="utf-8", errors="replace") as f:
        summary = f.read()
    m = re.search(r"^tlsobs: flows: .* (\d+) evicted, (\d+) refused .*peak (\d+) at once, "
                  r"emergency mode entered (\d+) left (\d+)", summary, re.M)
    from_summary = dict(zip(("evicted", "refused", "peak_active", "emergency_entered", "emergency_left"),
                            m.groups())) if m else {}

    def get(key):
        v = fl.get(key, from_summary.get(key))
        return "-" if v is None else str(v)
    by = fl.get("evicted_by")
    by = ",".join("%s=%s" % (k, v) for k, v in by.items()) if isinstance(by, dict) and by else "-"
    print(get("peak_active"), get("memory_peak"), get("evicted"), get("refused"), get("emergency_entered"),
          get("emergency_left"), by)
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "compare":
        verbose = argv[2] == "-v"
        rest = argv[3:] if verbose else argv[2:]
        if len(rest) < 2:
            sys.exit(__doc__)
        return cmd_compare(rest[0], rest[1], verbose, rest[2:])
    if len(argv) == 3 and argv[1] == "sessions":
        return cmd_sessions(argv[2])
    if len(argv) == 4 and argv[1] == "stats":
        return cmd_stats(argv[2], argv[3])
    if len(argv) >= 4 and argv[1] == "alone":
        return cmd_alone(argv[2], argv[3:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
