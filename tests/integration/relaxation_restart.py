#!/usr/bin/env python3
"""relaxation_ended for a relaxation that ended while the sensor was stopped (issue 16).

Fixture times from tests/fixtures/README: smtp-plain 16:01:36, starttls-tls12
16:01:42, starttls-tls13 16:01:48, mitm-mask.server-side 16:02:38 (2026-11-28).
Partners: example.net relaxed until 16:02:00 (ends in the gap between run 1 and
run 2), example.org relaxed until 16:00:00 (ended before the first run: never
reported), example.com relaxed until 2026-12-24 (lasts past every run).

  1. run 1, smtp-plain + starttls-tls12, new state_db: no relaxation_ended;
  2. run 2, mitm-mask.server-side, the same state_db: one relaxation_ended, for
     example.net, @timestamp and relaxed_until 16:02:00, before the session;
  3. run 3, mitm-mask.server-side again: none (already reported);
  4. run 4, starttls-tls13 (packet time back before the saved time): none;
  5. control: run 2's input after run 1's without a state_db: none (as before
     issue 16: a relaxation that ended before the first packet was never seen).
Uses policy.py's helpers. Prints one ok/FAIL line per check; exits 1 on any failure.
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy  # noqa: E402
from policy import FIX, RELAXED_UNTIL, TLSOBS, case, get, run, ts, yaml_config  # noqa: E402

PARTNERS = [
    {"domain": "example.net", "mode": "enforced", "mx": ["mx1.example.net"], "min_tls_version": "1.3",
     "relaxed_until": RELAXED_UNTIL},
    {"domain": "example.org", "mode": "enforced", "mx": ["mx.example.org"], "relaxed_until": "2026-11-28T16:00:00Z"},
    {"domain": "example.com", "mode": "enforced", "mx": ["mx.example.com"], "relaxed_until": "2026-12-24T00:00:00Z"},
]


def fx(name):
    return ["-r", os.path.join(FIX, name + ".pcap")]


def ended(r):
    return [(get(e, "tlsobs.partner.domain"), get(e, "tlsobs.policy.relaxed_until")) for e in r.policy]


def none_case(label, r):
    errs = list(r.errors)
    if r.policy:
        errs.append(f"{len(r.policy)} relaxation_ended events, want 0: {ended(r)}")
    if not r.sessions:
        errs.append("no session reported: the run did not read its capture")
    case(label, errs)


def main():
    if not os.access(TLSOBS, os.X_OK):
        print(f"tlsobs binary not found at {TLSOBS}: set TLSOBS")
        return 1
    tmp = tempfile.mkdtemp(prefix="tlsobs-relax-")
    try:
        db = os.path.join(tmp, "state.db")
        cfg = yaml_config(os.path.join(tmp, "with-db.yaml"), db, PARTNERS)
        none_case("run 1 (16:01:36-16:01:42, new state_db): no relaxation_ended",
                  run("run 1", ["-c", cfg] + fx("smtp-plain") + fx("starttls-tls12")))

        r2 = run("run 2", ["-c", cfg] + fx("mitm-mask.server-side"))
        errs = list(r2.errors)
        if len(r2.policy) != 1 or get(r2.policy[0], "tlsobs.partner.domain") != "example.net":
            errs.append(f"relaxation_ended events {ended(r2)}, want one for example.net")
        else:
            p = r2.policy[0]
            for k in ("@timestamp", "tlsobs.policy.relaxed_until"):
                if ts(get(p, k)) != ts(RELAXED_UNTIL):
                    errs.append(f"{k} = {get(p, k)!r}, want {RELAXED_UNTIL}")
            if get(p, "event.action") != "relaxation_ended" or get(p, "tlsobs.partner.mode") != "enforced":
                errs.append(f"event.action {get(p, 'event.action')!r}, mode {get(p, 'tlsobs.partner.mode')!r}")
            first = [get(e, "event.dataset") for e in r2.events[:r2.events.index(p)]
                     if get(e, "event.dataset") in ("tlsobs.session", "tlsobs.alert")]
            if first:
                errs.append(f"written after {first}: want before the run's first session")
        if not r2.sessions:
            errs.append("no session reported")
        case("run 2 (16:02:38, same state_db): one relaxation_ended for example.net, relaxed_until and "
             "@timestamp 16:02:00, before the session; none for example.org (ended before run 1) or "
             "example.com (not over)", errs)

        none_case("run 3 (the same capture again): no second relaxation_ended",
                  run("run 3", ["-c", cfg] + fx("mitm-mask.server-side")))
        none_case("run 4 (16:01:48, packet time before the saved time): no relaxation_ended",
                  run("run 4", ["-c", cfg] + fx("starttls-tls13")))

        nodb = yaml_config(os.path.join(tmp, "no-db.yaml"), None, PARTNERS)
        run("control 1", ["-c", nodb] + fx("smtp-plain") + fx("starttls-tls12"))
        none_case("control: without a state_db, run 2's input gives no relaxation_ended",
                  run("control 2", ["-c", nodb] + fx("mitm-mask.server-side")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if policy.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
