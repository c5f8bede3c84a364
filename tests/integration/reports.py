#!/usr/bin/env python3
"""Reports people act on (issue 18), on the fixture captures through a configured sensor.

Expectations come from the session events the same runs wrote, never from the reports themselves.

 1. fair attribution: partner example.net configured by domain only (no mx) owns every fixture
    session (banner mx1.example.net, SNI, certificate SAN), encrypted ones included; report coverage
    gives example.net exactly the sessions, encrypted and clear-text counts of its events, and report
    certificates names example.net for the fixture certificate.
 2. every domain: with an unrelated partner configured instead, sessions whose recipient was seen in
    clear count for that recipient domain, the others as unattributed per server; the partner, the
    domains and the servers together hold every session event; --partners keeps the partner only;
    --by day sums to the totals; clear-text messages in coverage equal content_protection.messages.
 3. TLS-RPT: with internal_networks on the client side every session is outbound; report tlsrpt for
    the captures' day writes one gzip file per policy domain, named as RFC 8460 5.3, each valid
    against docs/tlsrpt.schema.json (tests/support/validate_tlsrpt.py); per policy domain, successful
    plus failed sessions equal the outbound session events of that day that TLS decided, and the
    failures' result types follow the mapping table (docs/tlsrpt.md).
 4. read-only beside a writer: reports run in a loop while a sensor writes the same state_db; every
    report exits 0 and the sensor ends with exit 0 and no failed flush.
Prints one ok/FAIL/skip line per check; exits 1 on any failure.
"""
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TLSOBS_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
TLSOBS = os.environ.get("TLSOBS") or os.path.join(SRC, "build", "tlsobs")
FIX = os.path.join(SRC, "tests", "fixtures")
CA = os.path.join(FIX, "certs", "ca.crt")
SCHEMA = os.path.join(SRC, "docs", "tlsrpt.schema.json")
VALIDATOR = os.path.join(SRC, "tests", "support", "validate_tlsrpt.py")
DAY = "2026-11-28"
CAPTURES = ["smtp-plain", "starttls-tls12", "starttls-tls13", "smtps-465", "expired-cert", "self-signed-cert",
            "wrong-name-cert", "bdat", "pipelining-multi", "client-ignores-starttls", "mitm-mask.server-side",
            "mitm-remove.client-side", "starttls-refused-454", "tls-alert-bad-cert", "ipv6-starttls"]
# docs/tlsrpt.md: our verdict -> RFC 8460 4.3 result type
RESULT_TYPE = {"not_offered": "starttls-not-supported", "garbled": "starttls-not-supported",
               "not_attempted": "starttls-not-supported", "refused": "starttls-not-supported",
               "no_tls_after_220": "starttls-not-supported"}
CERT_TYPE = {"expired": "certificate-expired", "host_mismatch": "certificate-host-mismatch",
             "self_signed": "certificate-not-trusted", "untrusted": "certificate-not-trusted",
             "not_yet_valid": "validation-failure"}
FAILED = 0


def case(name, errors, note=""):
    global FAILED
    if errors:
        FAILED += 1
        print(f"FAIL {name}")
        for e in errors[:30]:
            print(f"     - {e}")
    else:
        print(f"ok   {name}{'  (' + note + ')' if note else ''}")
    sys.stdout.flush()


def get(obj, dotted, default=None):
    for k in dotted.split("."):
        if not isinstance(obj, dict) or k not in obj:
            return default
        obj = obj[k]
    return obj


def config(path, db, partner, sts_dir=None):
    lines = ["tls:", f"  ca_file: {json.dumps(CA)}", f"state_db: {json.dumps(db)}",
             'internal_networks: ["203.0.113.0/24", "2001:db8:113::/48"]', "policy:",
             f"  partners: [{json.dumps({'domain': partner, 'mode': 'opportunistic'})}]"]
    if sts_dir:
        lines.append(f"  mta_sts_dir: {json.dumps(sts_dir)}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def sense(cfg, files):
    args = [TLSOBS, "-c", cfg]
    for f in files:
        args += ["-r", f]
    p = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=300)
    sessions = []
    for line in p.stdout.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if get(e, "event.dataset") == "tlsobs.session":
            sessions.append(e)
    return p, sessions


def report(args):
    p = subprocess.run([TLSOBS, "report"] + args, capture_output=True, text=True, errors="replace", timeout=120)
    return p.returncode, p.stdout, p.stderr


def rows(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def encrypted(s):
    return get(s, "tls.established") is True


def attribution_case(tmp, files):
    db = os.path.join(tmp, "fair.db")
    cfg = config(os.path.join(tmp, "fair.yaml"), db, "example.net")
    p, sessions = sense(cfg, files)
    errs = [] if p.returncode == 0 else [f"sensor exit {p.returncode}: {p.stderr[-400:]}"]
    mine = [s for s in sessions if get(s, "tlsobs.partner.domain") == "example.net"]
    if len(mine) != len(sessions):
        errs.append(f"{len(sessions) - len(mine)} of {len(sessions)} sessions not attributed to example.net: "
                    f"{[get(s, 'tlsobs.partner.match') for s in sessions if s not in mine]}")
    enc = [s for s in mine if encrypted(s)]
    hidden = [s for s in enc if not get(s, "tlsobs.smtp.rcpt_to_domains")]
    if not hidden:
        errs.append("no encrypted session without a visible recipient among the fixtures: the case proves nothing")
    rc, out, err = report(["coverage", "-c", cfg, "--partners", "--format", "json"])
    r = {x.get("partner"): x for x in rows(out)} if rc == 0 else {}
    en = r.get("example.net", {})
    want = {"sessions": len(mine), "encrypted": len(enc),
            "cleartext": sum(1 for s in mine if get(s, "tlsobs.smtp.data_in_clear") is True)}
    for k, v in want.items():
        if en.get(k) != v:
            errs.append(f"coverage example.net {k} = {en.get(k)!r}, the events give {v} (exit {rc} {err.strip()})")
    rc, out, err = report(["certificates", "-c", cfg, "--format", "json"])
    certs = rows(out) if rc == 0 else []
    if not certs or any(c.get("partner") != "example.net" for c in certs if "mx1.example.net" in c.get("sans", [])):
        errs.append(f"certificates: the fixture certificates are not example.net's: "
                    f"{[(c.get('subject'), c.get('partner')) for c in certs]}")
    case("fair attribution: example.net without mx owns its encrypted sessions too (banner, SNI, certificate), "
         "in coverage and certificates", errs,
         f"{len(mine)} sessions, {len(enc)} encrypted, {len(hidden)} with the recipient hidden")


def domains_case(tmp, files):
    db = os.path.join(tmp, "domains.db")
    cfg = config(os.path.join(tmp, "domains.yaml"), db, "unrelated.example")
    p, sessions = sense(cfg, files)
    errs = [] if p.returncode == 0 else [f"sensor exit {p.returncode}"]
    want = {}
    for s in sessions:
        rcpts = get(s, "tlsobs.smtp.rcpt_to_domains") or []
        key = ("domain", rcpts[0].split("@")[-1]) if rcpts else ("unattributed", get(s, "destination.ip"))
        w = want.setdefault(key, {"sessions": 0, "encrypted": 0, "messages": 0})
        w["sessions"] += 1
        w["encrypted"] += 1 if encrypted(s) else 0
        w["messages"] += get(s, "tlsobs.smtp.content_protection.messages", 0)
    rc, out, err = report(["coverage", "-c", cfg, "--format", "json"])
    got = rows(out) if rc == 0 else []
    if rc != 0:
        errs.append(f"coverage exit {rc}: {err.strip()}")
    if not got or got[0].get("partner") != "unrelated.example" or got[0].get("sessions") != 0:
        errs.append(f"first row {got[:1]}, want the configured partner (no session)")
    have = {(g.get("kind"), g.get("partner")): g for g in got[1:]}
    if set(have) != set(want):
        errs.append(f"rows {sorted(have)}, the events give {sorted(want)}")
    for k, w in want.items():
        g = have.get(k, {})
        msgs = get(g, "cleartext_messages.unprotected", 0) + get(g, "cleartext_messages.end_to_end_protected", 0)
        if (g.get("sessions"), g.get("encrypted"), msgs) != (w["sessions"], w["encrypted"], w["messages"]):
            errs.append(f"{k}: sessions/encrypted/messages {g.get('sessions')}/{g.get('encrypted')}/{msgs}, "
                        f"events {w['sessions']}/{w['encrypted']}/{w['messages']}")
    if sum(g.get("sessions", 0) for g in got) != len(sessions):
        errs.append(f"coverage holds {sum(g.get('sessions', 0) for g in got)} sessions, {len(sessions)} events")
    kinds = [g.get("kind") for g in got]
    if kinds != sorted(kinds, key=["partner", "domain", "unattributed"].index):
        errs.append(f"order {kinds}: partners, then domains, then unattributed servers")
    rc, out, _ = report(["coverage", "-c", cfg, "--by", "day", "--format", "json"])
    byday = rows(out) if rc == 0 else []
    if sum(g.get("sessions", 0) for g in byday) != len(sessions) or any(g.get("day") != DAY for g in byday):
        errs.append(f"--by day: {[(g.get('partner'), g.get('day'), g.get('sessions')) for g in byday]}")
    rc, out, _ = report(["coverage", "-c", cfg, "--partners", "--format", "json"])
    if [g.get("partner") for g in rows(out)] != ["unrelated.example"]:
        errs.append(f"--partners: {out.strip()[:200]}")
    rc, out, _ = report(["coverage", "-c", cfg])
    if rc != 0 or not out.startswith("DOMAIN") or any(l != l.rstrip() for l in out.splitlines()):
        errs.append(f"table: exit {rc}, header or trailing blanks:\n{out}")
    case("every domain: partner, recipient domains and unattributed servers hold every session event; "
         "--by day, --partners, table", errs, f"{len(sessions)} sessions in {len(want)} rows")


def undecided(s):
    r = get(s, "tlsobs.smtp.starttls.result")
    if r == "incomplete":
        return True
    return r in ("upgraded", "implicit_tls") and get(s, "tlsobs.tls.outcome") not in ("established", "alert",
                                                                                          "closed", "not_tls")


def tlsrpt_case(tmp, files):
    sts_dir = os.path.join(tmp, "sts")
    os.makedirs(sts_dir, exist_ok=True)
    with open(os.path.join(sts_dir, "example.net.txt"), "w") as f:
        f.write("version: STSv1\nmode: testing\nmx: mx1.example.net\nmax_age: 86400\n")
    db = os.path.join(tmp, "tlsrpt.db")
    cfg = config(os.path.join(tmp, "tlsrpt.yaml"), db, "example.net", sts_dir)
    p, sessions = sense(cfg, files)
    errs = [] if p.returncode == 0 else [f"sensor exit {p.returncode}"]
    out_dir = os.path.join(tmp, "tlsrpt")
    os.makedirs(out_dir)
    rc, out, err = report(["tlsrpt", "-c", cfg, "--date", DAY, "--organization-name", "Example Org",
                           "--contact-info", "mailto:tlsrpt@reports.example.org", "-o", out_dir])
    files_out = sorted(glob.glob(os.path.join(out_dir, "*")))
    if rc != 0 or sorted(out.split()) != files_out or not files_out:
        errs.append(f"report tlsrpt exit {rc} ({err.strip()}), listed {out.split()}, written {files_out}")
    v = subprocess.run([sys.executable, VALIDATOR, SCHEMA] + files_out, capture_output=True, text=True)
    if v.returncode == 77:
        print("skip schema validation: python3-jsonschema missing")
    elif v.returncode != 0:
        errs.append(f"validation: {v.stdout.strip()}")
    outbound = [s for s in sessions if get(s, "network.direction") == "outbound" and
                get(s, "event.end", "")[:10] == DAY]
    if not outbound or len(outbound) < len(sessions) - 2:  # the two MITM links are internal or inbound
        errs.append(f"{len(sessions) - len(outbound)} of {len(sessions)} sessions not outbound by internal_networks")
    decided = [s for s in outbound if not undecided(s)]
    want = {}
    for s in decided:
        d = get(s, "tlsobs.partner.domain") or "?"
        w = want.setdefault(d, {"ok": 0, "failed": 0, "types": {}})
        r = get(s, "tlsobs.smtp.starttls.result")
        if r in RESULT_TYPE:
            w["failed"] += 1
            w["types"][RESULT_TYPE[r]] = w["types"].get(RESULT_TYPE[r], 0) + 1
        elif get(s, "tlsobs.tls.outcome") in ("alert", "closed", "not_tls"):
            w["failed"] += 1
            w["types"]["validation-failure"] = w["types"].get("validation-failure", 0) + 1
        elif get(s, "tlsobs.tls.validation.status") in CERT_TYPE and d == "example.net":
            t = CERT_TYPE[get(s, "tlsobs.tls.validation.status")]  # example.net has an sts policy
            w["failed"] += 1
            w["types"][t] = w["types"].get(t, 0) + 1
        else:
            w["ok"] += 1
    got = {}
    for path in files_out:
        doc = json.loads(gzip.decompress(open(path, "rb").read()))
        for pol in doc["policies"]:
            d = pol["policy"]["policy-domain"]
            g = got.setdefault(d, {"ok": 0, "failed": 0, "types": {}, "policy": pol["policy"]["policy-type"]})
            g["ok"] += pol["summary"]["total-successful-session-count"]
            g["failed"] += pol["summary"]["total-failure-session-count"]
            for fd in pol.get("failure-details", []):
                g["types"][fd["result-type"]] = g["types"].get(fd["result-type"], 0) + fd["failed-session-count"]
    if set(got) != set(want):
        errs.append(f"policy domains {sorted(got)}, the events give {sorted(want)}")
    for d, w in want.items():
        g = got.get(d, {"ok": 0, "failed": 0, "types": {}})
        if g["ok"] + g["failed"] != w["ok"] + w["failed"]:
            errs.append(f"{d}: {g['ok']} + {g['failed']} sessions in the report, {w['ok'] + w['failed']} decided "
                        f"outbound session events")
        if (g["ok"], g["failed"], g["types"]) != (w["ok"], w["failed"], w["types"]):
            errs.append(f"{d}: report {g['ok']} ok, {g['failed']} failed {g['types']}; the events give "
                        f"{w['ok']} ok, {w['failed']} failed {w['types']}")
        if d == "example.net" and g.get("policy") != "sts":
            errs.append(f"example.net policy-type {g.get('policy')}, want sts (policy.mta_sts_dir)")
    if not any(t.startswith("certificate-") for g in got.values() for t in g["types"]):
        errs.append(f"no certificate failure under the sts policy (expired, self-signed, wrong-name fixtures): {got}")
    case("tlsrpt: one valid RFC 8460 report per policy domain; counts equal the day's decided outbound session "
         "events, result types by the mapping table", errs,
         f"{len(outbound)} outbound, {len(outbound) - len(decided)} undecided, reports {[os.path.basename(f)[:60] for f in files_out]}")


def concurrency_case(tmp, files):
    db = os.path.join(tmp, "busy.db")
    cfg = config(os.path.join(tmp, "busy.yaml"), db, "example.net")
    sense(cfg, files[:1])  # the database exists before the loop starts
    big = [os.path.join(FIX, "large-1mb-plain.pcap")] * 1 + files * 4
    args = [TLSOBS, "-c", cfg, "-o", "json:" + os.path.join(tmp, "busy.json")]
    for f in big:
        args += ["-r", f]
    errs, runs = [], 0
    sensor = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while sensor.poll() is None and time.time() < deadline:
        rc, out, err = report(["coverage", "-c", cfg, "--format", "csv"])
        runs += 1
        if rc != 0:
            errs.append(f"report beside the sensor exited {rc}: {err.strip()}")
            break
    _, stderr = sensor.communicate(timeout=120)
    m = re.search(r"state_db: .* notes written, (\d+) dropped .* (\d+) lost; flush errors (\d+)", stderr)
    if sensor.returncode != 0 or not m or m.groups() != ("0", "0", "0"):
        errs.append(f"sensor exit {sensor.returncode}, want 0 with no note dropped or lost and no flush error: "
                    f"{stderr[-600:]}")
    rc, out, err = report(["coverage", "-c", cfg, "--format", "csv"])
    if rc != 0:
        errs.append(f"report after the sensor: exit {rc} {err.strip()}")
    case("reports read-only beside a writing sensor: every report exits 0, the sensor's flushes go through", errs,
         f"{runs} reports during the run")


def main():
    if not os.path.exists(TLSOBS):
        print(f"skip: {TLSOBS} not built")
        return 77
    files = [os.path.join(FIX, c + ".pcap") for c in CAPTURES]
    with tempfile.TemporaryDirectory(prefix="tlsobs-reports.") as tmp:
        attribution_case(tmp, files)
        domains_case(tmp, files)
        tlsrpt_case(tmp, files)
        concurrency_case(tmp, files)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
