#!/usr/bin/env python3
"""workers_equivalence.py A.json B.json - the events of two runs as multisets, apart from what differs by
design between runs (issue 17): event.id, event.created, the session ids and every reference to them. The
tlsobs.stats events are left out (they count per run, and per worker). Prints each event only one side has
(normalised, one line) and exits 1 when the multisets differ."""
import collections
import json
import re
import sys

SESSION_ID = re.compile(r"\bS[0-9A-HJKMNP-TV-Z]{18}\b")  # rules/session.c: "S" and 18 Crockford base-32

DROP = {("event", "id"), ("event", "created")}


def normalise(doc):
    """The event with its volatile fields gone and session ids replaced by their first-seen order."""
    def walk(v, path):
        if isinstance(v, dict):
            return {k: walk(x, path + (k,)) for k, x in v.items() if path + (k,) not in DROP}
        if isinstance(v, list):
            return [walk(x, path) for x in v]
        if isinstance(v, str):
            return SESSION_ID.sub("<session>", v)
        return v
    return json.dumps(walk(doc, ()), sort_keys=True)


def events(path):
    docs = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    docs = [d for d in docs if d.get("event", {}).get("dataset") != "tlsobs.stats"]
    return collections.Counter(normalise(d) for d in docs)


def main():
    a, b = events(sys.argv[1]), events(sys.argv[2])
    only_a, only_b = a - b, b - a
    for line in sorted(only_a.elements()):
        print(f"only in {sys.argv[1]}: {line}")
    for line in sorted(only_b.elements()):
        print(f"only in {sys.argv[2]}: {line}")
    print(f"{sum(a.values())} and {sum(b.values())} events, {sum(only_a.values()) + sum(only_b.values())} differ")
    return 1 if only_a or only_b else 0


if __name__ == "__main__":
    sys.exit(main())
