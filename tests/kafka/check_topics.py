#!/usr/bin/env python3
"""check_topics.py: reads the tlsobs topics back with kcat and compares them with the sensor's JSON output.

  check_topics.py BOOTSTRAP JSON...                 every event of the JSON files arrives once in its topic
  check_topics.py BOOTSTRAP --dropped N --first JSON1 JSON...
        the events of JSON1 less exactly N of them, per topic the oldest ones (as the spool drops them), and all
        the events of the other files: the spool-full case.
Options: --prefix P (topic prefix, default "tlsobs."), --require-headers (CloudEvents ce_* headers).

Each message is compared as its whole JSON text, with its key: the server address (destination.ip) for session
and alert events, none for stats. Events are counted as a multiset, so a duplicate or a loss both show.
Exit 0 when everything matches; otherwise one line per difference.
"""
import argparse
import collections
import json
import subprocess
import sys

TYPES = ("session", "alert", "certificate", "stats", "policy")


def read_topic(bootstrap, topic, headers):
    fmt = "%k\t%h\t%s\n" if headers else "%k\t%s\n"
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", fmt],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0 and "Unknown topic" not in out.stderr:
        sys.exit(f"kcat {topic}: {out.stderr.strip()}")
    messages = []
    for line in out.stdout.splitlines():
        if not line:
            continue
        parts = line.split("\t", 2 if headers else 1)
        key, value = parts[0], parts[-1]
        messages.append((key, value, parts[1] if headers else ""))
    return messages


def expected_key(event, servers):
    """The sensor keys by server address: destination.ip of sessions and alerts; a certificate event takes the
    server of its session (tlsobs.session_id); stats have no key."""
    dataset = event["event"]["dataset"]
    if dataset in ("tlsobs.session", "tlsobs.alert"):
        return event["destination"]["ip"]
    if dataset == "tlsobs.certificate":
        return servers.get(event.get("tlsobs", {}).get("session_id"), "?")
    return ""


def load(path):
    with open(path, encoding="utf-8") as f:
        events = [(json.loads(line), line.rstrip("\n")) for line in f if line.strip()]
    servers = {e["tlsobs"]["session_id"]: e["destination"]["ip"] for e, _ in events
               if e["event"]["dataset"] == "tlsobs.session" and "session_id" in e.get("tlsobs", {})}
    by_type = collections.defaultdict(list)
    for event, line in events:
        by_type[event["event"]["dataset"].split(".", 1)[1]].append((expected_key(event, servers), line))
    return by_type


def compare(topic, want, got, problems):
    want_c = collections.Counter(want)
    got_c = collections.Counter((k, v) for k, v, _ in got)
    for (key, value), n in (want_c - got_c).items():
        problems.append(f"{topic}: missing {n}x key={key!r} {value[:120]}")
    for (key, value), n in (got_c - want_c).items():
        why = "duplicated" if (key, value) in want_c else "unexpected (or wrong key)"
        problems.append(f"{topic}: {why} {n}x key={key!r} {value[:120]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("json", nargs="*")
    ap.add_argument("--prefix", default="tlsobs.")
    ap.add_argument("--dropped", type=int)
    ap.add_argument("--first")
    ap.add_argument("--require-headers", action="store_true")
    a = ap.parse_intermixed_args()
    problems, total_got, total_want = [], 0, 0
    first = load(a.first) if a.first else collections.defaultdict(list)
    rest = [load(p) for p in a.json]
    dropped_left = a.dropped or 0
    for t in TYPES:
        topic = a.prefix + t
        got = read_topic(a.bootstrap, topic, a.require_headers)
        want = []
        if a.first:
            # The spool keeps the newest: of this topic's first-run events, as many as arrived beyond the others.
            others = sum(len(r[t]) for r in rest)
            kept = max(0, min(len(first[t]), len(got) - others))
            dropped_left -= len(first[t]) - kept
            want += first[t][len(first[t]) - kept:]
        for r in rest:
            want += r[t]
        compare(topic, want, got, problems)
        if a.require_headers:
            for _, value, hdrs in got:
                if "ce_specversion=1.0" not in hdrs or "ce_id=" not in hdrs or "ce_time=" not in hdrs:
                    problems.append(f"{topic}: CloudEvents headers missing: {hdrs}")
                    break
        total_got += len(got)
        total_want += len(want)
        print(f"  {topic}: {len(got)} read back, {len(want)} expected")
    if a.first and dropped_left != 0:
        problems.append(f"the first run lost {a.dropped - dropped_left} events, its summary says {a.dropped} dropped")
    for p in problems[:40]:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
