#!/usr/bin/env python3
"""Partner policy, persistence (state_db), reports and SIGHUP reload, on the fixtures.

Expectations come from the configuration the test writes and from the fixtures'
README (what each capture holds and when), never from a run's own numbers, except
where a report must agree with the events the sensor wrote (the report is checked
against those events, session by session).

 1. relaxation: partner example.net enforced (min TLS 1.3, valid certificate, fixture
    CA) relaxed until 16:02:00, over smtp-plain (16:01:36), starttls-tls12 (16:01:42),
    starttls-tls13 (16:01:48) and mitm-mask.server-side (16:02:38): the policy alerts
    before 16:02:00 have severity 1 and say until when; one tlsobs.policy
    relaxation_ended event at 16:02:00, between the tls13 session and the mitm-mask
    session; mitm-mask's policy_tls_required at full severity; every session
    attributed to example.net; every event valid against docs/events.schema.json.
    A relaxation that ended before the first packet, or that lasts past the last
    one, gives no tlsobs.policy event.
 2. severity raise: starttls_not_used on mitm-mask.server-side is raised by exactly 1
    when example.net is enforced, against a run without configuration.
 3. restarts with one state_db: the two-session captures stripped-then-clean and
    tls-blocked-then-plain (client side) are cut into their TCP sessions (pcap
    rewritten here, by port) and fed to three runs of new processes: A = the failed
    TLS session + starttls-tls12, B = the clear-text retry + the upgraded session,
    C = the session without STARTTLS + tls12-resumed (the same certificate on 465).
    (Both captures talk to 203.0.113.1:25, so the retry of B, which advertised
    STARTTLS, must run before the stripped session: hence three runs, not two.)
    cleartext_fallback in B names A's failed session, starttls_capability_removed in
    C names B's upgraded session; certificate_expiring (threshold 3650 days) once in
    A, not again in B or C for the same certificate; controls (B's and C's input
    alone, fresh state_db) raise no cross-run alert, and C's control raises
    certificate_expiring. B and C restore records.
 4. reports over case 3's state_db: coverage (json, csv, table, --since) equals the
    sessions' events; a configured partner without sessions has sessions 0; a
    partner no longer configured is "not_configured"; certificates (json, --at)
    lists the fixture certificate with its exact days left, partner and servers;
    exit codes 1 (db missing / not a database) and 2 (usage).
 5. live SIGHUP reload (root, ip netns, tcpreplay): opportunistic -> enforced between
    two replays; a 1 MB session in flight across a reload comes out once, whole; a
    broken configuration is refused and the sensor goes on with the old one; SIGTERM
    ends it with "configuration reloaded 2 times".
Prints one ok/FAIL/skip line per check; exits 1 on any failure.
"""
import base64
import calendar
import hashlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TLSOBS_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
TLSOBS = os.environ.get("TLSOBS") or os.path.join(SRC, "build", "tlsobs")
FIX = os.path.join(SRC, "tests", "fixtures")
CA = os.path.join(FIX, "certs", "ca.crt")
SERVER_CERT = os.path.join(FIX, "certs", "mx1.example.net.crt")
SCHEMA = os.path.join(SRC, "docs", "events.schema.json")

RELAXED_UNTIL = "2026-11-28T16:02:00Z"
MATCHES = {"rcpt_domain", "mail_from_domain", "banner", "ehlo_greeting", "sni", "certificate", "network"}
STARTTLS_RULE_IDS = {f"tlsobs-{n}" for n in range(1001, 1013)}
RESTORED = re.compile(r"state_db: (\d+) records restored")

FAILED = 0


def case(name, errors, note=""):
    global FAILED
    if errors:
        FAILED += 1
        print(f"FAIL {name}")
        for e in errors[:30]:
            print(f"     - {e}")
        if len(errors) > 30:
            print(f"     - ... {len(errors) - 30} more")
    else:
        print(f"ok   {name}{'  (' + note + ')' if note else ''}")
    sys.stdout.flush()


def skip(name, why):
    print(f"skip {name}: {why}")
    sys.stdout.flush()


def get(obj, dotted, default=None):
    for k in dotted.split("."):
        if not isinstance(obj, dict) or k not in obj:
            return default
        obj = obj[k]
    return obj


def ts(s):
    """An RFC 3339 UTC time ("...Z", with or without fraction) as seconds since the epoch (float)."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", s or "")
    if not m:
        raise ValueError(f"not an RFC 3339 UTC time: {s!r}")
    base = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return base + (float(m.group(2)) if m.group(2) else 0.0)


# ---------------------------------------------------------------- pcap, by hand (classic libpcap format)

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError(f"{path}: link type {linktype}, only Ethernet handled here")
    packets, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        packets.append((data[off:off + 16], bytearray(data[off + 16:off + 16 + incl])))
        off += 16 + incl
    return data[:24], packets


def write_pcap(path, header, packets):
    with open(path, "wb") as f:
        f.write(header)
        for rec, frame in packets:
            f.write(rec)
            f.write(bytes(frame))


def tcp_at(frame):
    """(ip offset, ip version, tcp offset, tcp length) of an Ethernet/IPv4|IPv6/TCP frame, else None."""
    off, etype = 14, struct.unpack("!H", frame[12:14])[0]
    while etype in (0x8100, 0x88A8):
        etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
        off += 4
    if etype == 0x0800 and frame[off + 9] == 6:
        ihl = (frame[off] & 0x0F) * 4
        total = struct.unpack("!H", frame[off + 2:off + 4])[0]
        return off, 4, off + ihl, total - ihl
    if etype == 0x86DD and frame[off + 6] == 6:
        return off, 6, off + 40, struct.unpack("!H", frame[off + 4:off + 6])[0]
    return None


def tcp_ports(frame):
    t = tcp_at(frame)
    return struct.unpack("!HH", frame[t[2]:t[2] + 4]) if t else (None, None)


def fix_tcp_checksum(frame):
    ip, ver, tcp, length = tcp_at(frame)
    frame[tcp + 16:tcp + 18] = b"\0\0"
    if ver == 4:
        pseudo = bytes(frame[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 6, length)
    else:
        pseudo = bytes(frame[ip + 8:ip + 40]) + struct.pack("!IxxxB", length, 6)
    data = pseudo + bytes(frame[tcp:tcp + length])
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    frame[tcp + 16:tcp + 18] = struct.pack("!H", ~s & 0xFFFF)


def pcap_split(src, dst, port):
    """The packets of src whose TCP source or destination port is `port`, written to dst; returns how many."""
    header, packets = read_pcap(src)
    keep = [p for p in packets if port in tcp_ports(p[1])]
    write_pcap(dst, header, keep)
    return len(keep)


def pcap_client_ports(src, server_port=25):
    """The client ports of src's TCP sessions to server_port, in order of first packet."""
    seen = []
    for _, frame in read_pcap(src)[1]:
        sp, dp = tcp_ports(frame)
        if dp == server_port and sp not in seen:
            seen.append(sp)
    return seen


def pcap_with_port(src, dst, old, new):
    """src with TCP port old replaced by new (both directions), checksums recomputed: a distinct 5-tuple."""
    header, packets = read_pcap(src)
    for _, frame in packets:
        t = tcp_at(frame)
        if not t:
            continue
        sp, dp = struct.unpack("!HH", frame[t[2]:t[2] + 4])
        frame[t[2]:t[2] + 4] = struct.pack("!HH", new if sp == old else sp, new if dp == old else dp)
        fix_tcp_checksum(frame)
    write_pcap(dst, header, packets)


# ---------------------------------------------------------------- running the sensor

class Run:
    def __init__(self, label, args, p):
        self.label, self.args, self.rc, self.stderr = label, args, p.returncode, p.stderr
        self.events, self.errors = [], []
        if p.returncode != 0:
            self.errors.append(f"{label}: tlsobs exited {p.returncode}: {p.stderr.strip()[-400:]}")
        for n, line in enumerate(p.stdout.splitlines(), 1):
            try:
                self.events.append(json.loads(line))
            except ValueError as x:
                self.errors.append(f"{label}: output line {n} is not JSON ({x})")
        self.sessions = [e for e in self.events if get(e, "event.dataset") == "tlsobs.session"]
        self.alerts = [e for e in self.events if get(e, "event.dataset") == "tlsobs.alert"]
        # relaxation_ended only: a run with -c also starts with its policy_loaded audit event
        self.policy = [e for e in self.events if get(e, "event.dataset") == "tlsobs.policy"
                       and get(e, "event.action") == "relaxation_ended"]
        self.certs = [e for e in self.events if get(e, "event.dataset") == "tlsobs.certificate"]

    def session(self, start_prefix=None, port=None):
        """The one session starting at start_prefix (a prefix of event.start) or from client port `port`."""
        found = [s for s in self.sessions
                 if (start_prefix is None or str(get(s, "event.start", "")).startswith(start_prefix))
                 and (port is None or get(s, "source.port") == port)]
        return found[0] if len(found) == 1 else None

    def alerts_of(self, s, rule=None):
        sid = get(s, "tlsobs.session_id")
        return [a for a in self.alerts if get(a, "tlsobs.session_id") == sid
                and (rule is None or get(a, "rule.name") == rule)]

    def restored(self):
        m = RESTORED.search(self.stderr)
        return int(m.group(1)) if m else None


def run(label, args, all_runs=None):
    full = [TLSOBS] + list(args)
    p = subprocess.run(full, capture_output=True, text=True, errors="replace", timeout=120)
    r = Run(label, args, p)
    if all_runs is not None:
        all_runs.append(r)
    return r


def report(args):
    p = subprocess.run([TLSOBS, "report"] + list(args), capture_output=True, text=True, errors="replace",
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def yaml_config(path, state_db=None, partners=(), expiry_days=None, extra=""):
    """Writes a configuration; partners are dicts written as flow mappings (json is valid YAML)."""
    lines = ["tls:", f"  ca_file: {json.dumps(CA)}"]
    if state_db is not None:
        lines.append(f"state_db: {json.dumps(state_db)}")
    if expiry_days is not None:
        lines += ["certificates:", f"  expiry_alert_days: {json.dumps(expiry_days)}"]
    if partners:
        lines += ["policy:", "  partners:"]
        lines += [f"    - {json.dumps(p)}" for p in partners]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + extra)
    return path


def fixture_sha256():
    with open(SERVER_CERT) as f:
        pem = f.read()
    b64 = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return hashlib.sha256(base64.b64decode("".join(b64.split()))).hexdigest().upper()


def fixture_not_after():
    """notAfter of the fixture server certificate, from openssl if present, else the README's value."""
    try:
        out = subprocess.run(["openssl", "x509", "-in", SERVER_CERT, "-noout", "-enddate"], capture_output=True,
                             text=True, timeout=30).stdout
        m = re.search(r"notAfter=(.*GMT)", out)
        if m:
            return calendar.timegm(time.strptime(m.group(1).replace("  ", " "), "%b %d %H:%M:%S %Y GMT"))
    except OSError:
        pass
    return ts("2036-11-25T15:53:16Z")


# ---------------------------------------------------------------- 1 + 2: relaxation, its end, severity raise

def relaxation_cases(tmp):
    fx = lambda n: os.path.join(FIX, n + ".pcap")
    partner = {"domain": "example.net", "mode": "enforced", "mx": ["mx1.example.net"], "min_tls_version": "1.3",
               "require_valid_certificate": True, "relaxed_until": RELAXED_UNTIL}
    cfg = yaml_config(os.path.join(tmp, "relaxed.yaml"), os.path.join(tmp, "relaxed.db"), [partner])
    files = ["smtp-plain", "starttls-tls12", "starttls-tls13", "mitm-mask.server-side"]
    args = ["-c", cfg]
    for f in files:
        args += ["-r", fx(f)]
    r = run("relaxed run", args)
    plain, tls12 = r.session("2026-11-28T16:01:36"), r.session("2026-11-28T16:01:42")
    tls13, mask = r.session("2026-11-28T16:01:48"), r.session("2026-11-28T16:02:38")

    errs = list(r.errors)
    if None in (plain, tls12, tls13, mask) or len(r.sessions) != 4:
        errs.append(f"want 4 sessions starting 16:01:36, 16:01:42, 16:01:48, 16:02:38; got "
                    f"{[get(s, 'event.start') for s in r.sessions]}")
        case("relaxation: the four sessions are reported", errs)
        return r
    for label, s, rule in (("smtp-plain", plain, "policy_tls_required"), ("starttls-tls12", tls12,
                                                                         "policy_tls_version")):
        al = r.alerts_of(s, rule)
        if len(al) != 1:
            errs.append(f"{label}: {len(al)} {rule} alerts, want 1 (alerts {get(s, 'tlsobs.alerts')})")
            continue
        a = al[0]
        if get(a, "event.severity") != 1:
            errs.append(f"{label}: {rule} severity {get(a, 'event.severity')}, want 1 while relaxed")
        reason = get(a, "event.reason", "")
        if not re.search(r"relaxed until 2026-11-28T16:02:00", reason):
            errs.append(f"{label}: {rule} event.reason does not say 'relaxed until 2026-11-28T16:02:00': {reason!r}")
    if "policy_certificate" in get(tls12, "tlsobs.alerts", []):
        errs.append("starttls-tls12: policy_certificate although the chain validates against the fixture CA "
                    f"(validation.status {get(tls12, 'tlsobs.tls.validation.status')!r})")
    if get(tls13, "tlsobs.alerts") != []:
        errs.append(f"starttls-tls13 (TLS 1.3, the minimum): alerts {get(tls13, 'tlsobs.alerts')}, want none")
    case("relaxation: policy_tls_required (smtp-plain) and policy_tls_version (TLS 1.2) at severity 1, "
         "event.reason ends 'relaxed until 2026-11-28T16:02:00...'", errs)

    errs = []
    if len(r.policy) != 1:
        errs.append(f"{len(r.policy)} tlsobs.policy events, want exactly 1")
    else:
        p = r.policy[0]
        want = {"event.action": "relaxation_ended", "event.kind": "event", "tlsobs.partner.domain": "example.net",
                "tlsobs.partner.mode": "enforced", "tlsobs.policy.change": "relaxation_ended"}
        for k, v in want.items():
            if get(p, k) != v:
                errs.append(f"tlsobs.policy {k} = {get(p, k)!r}, want {v!r}")
        for k in ("@timestamp", "tlsobs.policy.relaxed_until"):
            try:
                if ts(get(p, k)) != ts(RELAXED_UNTIL):
                    errs.append(f"tlsobs.policy {k} = {get(p, k)!r}, want {RELAXED_UNTIL}")
            except ValueError as x:
                errs.append(f"tlsobs.policy {k}: {x}")
        if not str(get(p, "tlsobs.policy.reason", "")).strip():
            errs.append("tlsobs.policy.reason empty")
        i = r.events.index(p)
        i13, imask = r.events.index(tls13), r.events.index(mask)
        if not i13 < i < imask:
            errs.append(f"tlsobs.policy is output line {i + 1}; want after the tls13 session (line {i13 + 1}) "
                        f"and before the mitm-mask session (line {imask + 1})")
        later = [get(e, "event.dataset") for e in r.events[:i] if get(e, "event.dataset") in
                 ("tlsobs.session", "tlsobs.alert") and ts(get(e, "@timestamp")) > ts(RELAXED_UNTIL)]
        if later:
            errs.append(f"events after {RELAXED_UNTIL} in packet time written before the tlsobs.policy event: {later}")
    case("relaxation end: one tlsobs.policy relaxation_ended event, @timestamp = relaxed_until = 16:02:00, "
         "between the tls13 session and the mitm-mask session", errs)

    errs = []
    al = r.alerts_of(mask, "policy_tls_required")
    if len(al) != 1:
        errs.append(f"mitm-mask: {len(al)} policy_tls_required alerts, want 1 (alerts {get(mask, 'tlsobs.alerts')})")
    else:
        if not (isinstance(get(al[0], "event.severity"), int) and get(al[0], "event.severity") > 1):
            errs.append(f"mitm-mask: policy_tls_required severity {get(al[0], 'event.severity')}, want > 1")
        if "relaxed until" in get(al[0], "event.reason", ""):
            errs.append(f"mitm-mask: reason still says relaxed: {get(al[0], 'event.reason')!r}")
    for s in r.sessions:
        pt = get(s, "tlsobs.partner", {})
        if get(pt, "domain") != "example.net" or get(pt, "mode") != "enforced" or get(pt, "match") not in MATCHES:
            errs.append(f"session {get(s, 'event.start')}: tlsobs.partner {pt}, want example.net / enforced / "
                        f"a match among {sorted(MATCHES)}")
        for a in r.alerts_of(s):
            if get(a, "tlsobs.partner") != pt:
                errs.append(f"alert {get(a, 'rule.name')}: tlsobs.partner {get(a, 'tlsobs.partner')} differs from "
                            f"its session's {pt}")
    case("after the relaxation: mitm-mask's policy_tls_required at full severity; every session and alert "
         "carries partner example.net, mode enforced, a match", errs,
         f"severity {get(al[0], 'event.severity') if al else '?'}")

    # Schema: every event of this run, the tlsobs.policy event first of all.
    try:
        from jsonschema import Draft202012Validator, FormatChecker
    except ImportError:
        skip("relaxation: events valid against docs/events.schema.json", "python3-jsonschema missing")
    else:
        with open(SCHEMA) as f:
            v = Draft202012Validator(json.load(f), format_checker=FormatChecker())
        errs = []
        for e in r.events:
            for x in sorted(v.iter_errors(e), key=lambda x: list(x.absolute_path))[:3]:
                errs.append(f"{get(e, 'event.dataset')} {get(e, 'event.id')}: "
                            f"{'/'.join(map(str, x.absolute_path)) or '(root)'}: {x.message[:200]}")
        if not r.policy:
            errs.append("no tlsobs.policy event to validate")
        case(f"schema: the tlsobs.policy event and the other {len(r.events) - len(r.policy)} events of the "
             f"relaxed run validate against docs/events.schema.json", errs)

    # A relaxation over before the first packet, or past the last one: no tlsobs.policy event.
    errs = []
    before = dict(partner, relaxed_until="2026-11-28T16:00:00Z")
    r2 = run("relaxation ended before the run", ["-c", yaml_config(os.path.join(tmp, "before.yaml"), None, [before]),
                                                 "-r", fx("smtp-plain")])
    errs += r2.errors
    if r2.policy:
        errs.append(f"relaxation ended before the first packet: {len(r2.policy)} tlsobs.policy events, want 0")
    sev = [get(a, "event.severity") for a in r2.alerts if get(a, "rule.name") == "policy_tls_required"]
    if sev != [7]:
        errs.append(f"relaxation ended before the first packet: policy_tls_required severities {sev}, want [7]")
    after = dict(partner, relaxed_until="2026-12-24T00:00:00Z")
    r3 = run("relaxation past the run", ["-c", yaml_config(os.path.join(tmp, "after.yaml"), None, [after])]
             + sum((["-r", fx(f)] for f in files), []))
    errs += r3.errors
    if r3.policy:
        errs.append(f"relaxation lasting past the last packet: {len(r3.policy)} tlsobs.policy events, want 0")
    pol = [a for a in r3.alerts if get(a, "rule.name", "").startswith("policy_")]
    if len(pol) != 3 or any(get(a, "event.severity") != 1 for a in pol):
        errs.append(f"relaxation past the run: policy alerts {[(get(a, 'rule.name'), get(a, 'event.severity')) for a in pol]}, "
                    "want 3 at severity 1")
    case("no tlsobs.policy event for a relaxation that ended before the first packet (alert at severity 7) or "
         "lasts past the last one (all policy alerts at 1)", errs)
    return r


def severity_raise_case(relaxed):
    errs = []
    bare = run("mitm-mask without configuration", ["-r", os.path.join(FIX, "mitm-mask.server-side.pcap")])
    errs += bare.errors
    base = [get(a, "event.severity") for a in bare.alerts if get(a, "rule.name") == "starttls_not_used"]
    mask = relaxed.session("2026-11-28T16:02:38") if relaxed else None
    raised = [get(a, "event.severity") for a in relaxed.alerts_of(mask, "starttls_not_used")] if mask else []
    if len(base) != 1 or len(raised) != 1:
        errs.append(f"starttls_not_used severities: without configuration {base}, enforced {raised}; want one each")
    else:
        if not raised[0] > base[0]:
            errs.append(f"enforced severity {raised[0]} is not above the unconfigured {base[0]}")
        if raised[0] != min(base[0] + 1, 10):
            errs.append(f"enforced severity {raised[0]}, documented: the base {base[0]} + 1 (at most 10)")
        if get(bare.alerts[0], "rule.id") not in STARTTLS_RULE_IDS:
            errs.append(f"rule.id {get(bare.alerts[0], 'rule.id')} not a STARTTLS rule id (tlsobs-1001 to tlsobs-1012)")
        if get(bare.sessions[0], "tlsobs.partner.mode") == "enforced":
            errs.append("the unconfigured run says mode enforced")
    case("severity raise: starttls_not_used on mitm-mask.server-side higher for the enforced partner than "
         "without configuration", errs, f"{base[0] if base else '?'} -> {raised[0] if raised else '?'}")


# ---------------------------------------------------------------- 3: restarts with one state_db

def restart_cases(tmp):
    sc = os.path.join(FIX, "stripped-then-clean.client-side.pcap")
    tb = os.path.join(FIX, "tls-blocked-then-plain.client-side.pcap")
    tls12 = os.path.join(FIX, "starttls-tls12.pcap")
    resumed = os.path.join(FIX, "tls12-resumed.pcap")
    errs = []
    parts = {}
    for name, src in (("sc", sc), ("tb", tb)):
        ports = pcap_client_ports(src)
        if len(ports) != 2:
            errs.append(f"{os.path.basename(src)}: {len(ports)} sessions to port 25, want 2")
            continue
        for i, port in enumerate(ports, 1):
            dst = os.path.join(tmp, f"{name}{i}.pcap")
            if pcap_split(src, dst, port) == 0:
                errs.append(f"{dst}: no packet")
            parts[f"{name}{i}"] = (dst, port)
    if errs:
        case("restarts: split the two-session captures", errs)
        return None
    db = os.path.join(tmp, "state.db")
    partners = [{"domain": "example.net", "mode": "enforced", "mx": ["mx1.example.net"]},
                {"domain": "other.example", "mode": "opportunistic"}]
    cfg = yaml_config(os.path.join(tmp, "state.yaml"), db, partners, [3650])
    runs = []
    a = run("run A", ["-c", cfg, "-r", parts["tb1"][0], "-r", tls12], runs)
    b = run("run B", ["-c", cfg, "-r", parts["tb2"][0], "-r", parts["sc1"][0]], runs)
    c = run("run C", ["-c", cfg, "-r", parts["sc2"][0], "-r", resumed], runs)
    fresh = lambda n: yaml_config(os.path.join(tmp, n + ".yaml"), os.path.join(tmp, n + ".db"), partners, [3650])
    cb = run("control B", ["-c", fresh("control-b"), "-r", parts["tb2"][0], "-r", parts["sc1"][0]])
    cc = run("control C", ["-c", fresh("control-c"), "-r", parts["sc2"][0], "-r", resumed])
    errs = [e for r in (a, b, c, cb, cc) for e in r.errors]
    if errs:
        case("restarts: five runs", errs)
        return None

    # cleartext_fallback across a restart: B's clear-text retry names A's failed session.
    errs = []
    failed, retry = a.session(port=parts["tb1"][1]), b.session(port=parts["tb2"][1])
    fb = b.alerts_of(retry, "cleartext_fallback") if retry else []
    if failed is None or "tls_handshake_failed" not in get(failed, "tlsobs.alerts", []):
        errs.append(f"run A: the blocked session raised {get(failed, 'tlsobs.alerts')}, want tls_handshake_failed")
    if len(fb) != 1:
        errs.append(f"run B: {len(fb)} cleartext_fallback alerts on the retry, want 1 "
                    f"(alerts {get(retry, 'tlsobs.alerts')})")
    elif failed is not None and get(fb[0], "tlsobs.related_session_id") != get(failed, "tlsobs.session_id"):
        errs.append(f"run B: cleartext_fallback related_session_id {get(fb[0], 'tlsobs.related_session_id')!r}, "
                    f"want run A's {get(failed, 'tlsobs.session_id')}")
    ctl = [get(x, "rule.name") for x in cb.alerts if get(x, "rule.name") == "cleartext_fallback"]
    if ctl:
        errs.append(f"control B (fresh state_db): {len(ctl)} cleartext_fallback, want none")
    if cb.session(port=parts["tb2"][1]) is None:
        errs.append("control B: the retry session is missing")
    case("restart A -> B: cleartext_fallback in B names A's failed session (related_session_id); "
         "not raised on a fresh state_db", errs,
         f"{get(failed, 'tlsobs.session_id')} <- {get(fb[0], 'tlsobs.session_id') if fb else '?'}")

    # starttls_capability_removed across a restart: C's stripped session names B's upgraded one.
    errs = []
    upgraded, stripped = b.session(port=parts["sc1"][1]), c.session(port=parts["sc2"][1])
    rm = c.alerts_of(stripped, "starttls_capability_removed") if stripped else []
    if upgraded is None or get(upgraded, "tlsobs.smtp.starttls.result") != "upgraded":
        errs.append(f"run B: the first stripped-then-clean session: {get(upgraded, 'tlsobs.smtp.starttls.result')}, "
                    "want upgraded")
    if len(rm) != 1:
        errs.append(f"run C: {len(rm)} starttls_capability_removed alerts, want 1 "
                    f"(alerts {get(stripped, 'tlsobs.alerts')})")
    elif upgraded is not None:
        want = get(upgraded, "tlsobs.session_id")
        rel, reason = get(rm[0], "tlsobs.related_session_id"), get(rm[0], "event.reason", "")
        if rel is not None and rel != want:
            errs.append(f"run C: starttls_capability_removed related_session_id {rel!r}, want run B's {want}")
        if rel is None and want not in reason:
            errs.append(f"run C: starttls_capability_removed names neither run B's session {want} in "
                        f"related_session_id nor in event.reason: {reason!r}")
    ctl = [x for x in cc.alerts if get(x, "rule.name") == "starttls_capability_removed"]
    if ctl:
        errs.append(f"control C (fresh state_db): {len(ctl)} starttls_capability_removed, want none")
    where = ("related_session_id" if rm and get(rm[0], "tlsobs.related_session_id") else "event.reason")
    case("restart B -> C: starttls_capability_removed in C names B's upgraded session; not raised on a fresh "
         "state_db", errs, f"named in {where}")

    # The certificate inventory across restarts: certificate_expiring once, in A only.
    errs = []
    sha = fixture_sha256()
    presenting = [(r.label, s) for r in runs for s in r.sessions if get(s, "tls.server.hash.sha256") == sha]
    in_a = [x for x, _ in presenting if x == "run A"]
    in_c = [x for x, _ in presenting if x == "run C"]
    if not in_a or not in_c:
        errs.append(f"the fixture certificate {sha[:16]}... must be seen in runs A and C; seen in "
                    f"{sorted(set(x for x, _ in presenting))}")
    exp = {r.label: [x for x in r.alerts if get(x, "rule.name") == "certificate_expiring"] for r in runs + [cc]}
    if len(exp["run A"]) != 1:
        errs.append(f"run A: {len(exp['run A'])} certificate_expiring, want 1")
    else:
        x = exp["run A"][0]
        if not any(sha in ev for ev in get(x, "tlsobs.evidence", [])):
            errs.append(f"run A: certificate_expiring evidence does not name sha256 {sha}: {get(x, 'tlsobs.evidence')}")
        if "3650" not in get(x, "event.reason", ""):
            errs.append(f"run A: certificate_expiring reason does not give the threshold 3650: {get(x, 'event.reason')!r}")
    for label in ("run B", "run C"):
        if exp[label]:
            errs.append(f"{label}: {len(exp[label])} certificate_expiring for a certificate already alerted in run A")
    if len(exp["control C"]) != 1:
        errs.append(f"control C (fresh state_db): {len(exp['control C'])} certificate_expiring, want 1")
    certs_c = [e for e in c.certs if get(e, "tls.server.hash.sha256") == sha]
    certs_cc = [e for e in cc.certs if get(e, "tls.server.hash.sha256") == sha]
    if certs_c or len(certs_cc) != 1:
        errs.append(f"tlsobs.certificate (first sighting) for the fixture certificate: run C {len(certs_c)} (want 0, "
                    f"known from run A), control C {len(certs_cc)} (want 1)")
    case("restarts: certificate_expiring (expiry_alert_days [3650]) once in run A, not again in run C for the same "
         "sha256; a fresh state_db raises it", errs, f"sha256 {sha[:12]}...")

    errs = []
    got = {r.label: r.restored() for r in runs}
    if got["run A"] != 0:
        errs.append(f"run A (new state_db): {got['run A']} records restored, want 0")
    for label in ("run B", "run C"):
        if not got[label]:
            errs.append(f"{label}: summary says {got[label]} records restored, want > 0 "
                        f"({[l for l in runs[0].stderr.splitlines() if 'state_db' in l]})")
    case("restarts: the exit summary of runs B and C says records restored > 0", errs,
         ", ".join(f"{k} {v}" for k, v in got.items()))
    return {"config": cfg, "db": db, "runs": runs, "partners": partners, "sha": sha, "tmp": tmp}


# ---------------------------------------------------------------- 4: reports

def failure_of(s):
    """Why mail to the partner did not travel encrypted, from the session event (None when it did)."""
    result = get(s, "tlsobs.smtp.starttls.result")
    if result in ("upgraded", "implicit_tls"):
        outcome = get(s, "tlsobs.tls.outcome")
        return f"tls_{outcome}" if outcome in ("alert", "closed", "not_tls") else None
    return None if result in (None, "incomplete") else result


def expected_coverage(runs, domain, since=None):
    n = {"sessions": 0, "encrypted": 0, "cleartext": 0, "tls_versions": {}, "failures": {}}
    last = None
    for r in runs:
        for s in r.sessions:
            if get(s, "tlsobs.partner.domain") != domain:
                continue
            if since and get(s, "event.end", "")[:10] < since:
                continue
            n["sessions"] += 1
            if get(s, "tls.established") is True:
                n["encrypted"] += 1
                v = get(s, "tls.version")
                n["tls_versions"][v] = n["tls_versions"].get(v, 0) + 1
            if get(s, "tlsobs.smtp.data_in_clear") is True:
                n["cleartext"] += 1
            f = failure_of(s)
            if f:
                n["failures"][f] = n["failures"].get(f, 0) + 1
                if last is None or ts(get(s, "event.end")) > ts(last["time"]):
                    last = {"time": get(s, "event.end"), "type": f}
    n["encrypted_share"] = round(n["encrypted"] / n["sessions"], 4) if n["sessions"] else None
    n["last_failure"] = last
    return n


def json_lines(out, errs, what):
    rows = []
    for line in out.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            errs.append(f"{what}: not a JSON line: {line[:120]!r}")
    return rows


def report_cases(st):
    cfg, db, runs, tmp = st["config"], st["db"], st["runs"], st["tmp"]
    exp = expected_coverage(runs, "example.net")

    errs = []
    rc, out, err = report(["coverage", "-c", cfg, "--format", "json"])
    if rc != 0:
        errs.append(f"report coverage --format json exited {rc}: {err.strip()}")
    rows = {r.get("partner"): r for r in json_lines(out, errs, "coverage json")}
    en, ot = rows.get("example.net"), rows.get("other.example")
    if set(rows) != {"example.net", "other.example"}:
        errs.append(f"partners {sorted(rows, key=str)}, want example.net and other.example")
    if en:
        if en.get("mode") != "enforced":
            errs.append(f"example.net mode {en.get('mode')!r}, want enforced")
        for k in ("sessions", "encrypted", "cleartext", "tls_versions", "failures", "encrypted_share"):
            if en.get(k) != exp[k]:
                errs.append(f"example.net {k} = {en.get(k)!r}, the sessions' events give {exp[k]!r}")
        lf = en.get("last_failure")
        if not isinstance(lf, dict) or lf.get("type") != exp["last_failure"]["type"] or \
                abs(ts(lf.get("time")) - ts(exp["last_failure"]["time"])) > 1e-5:
            errs.append(f"example.net last_failure {lf!r}, the sessions give {exp['last_failure']!r}")
    if ot:
        want = {"partner": "other.example", "mode": "opportunistic", "sessions": 0, "encrypted": 0, "cleartext": 0,
                "tls_versions": {}, "failures": {}, "last_failure": None}
        for k, v in want.items():
            if ot.get(k) != v:
                errs.append(f"other.example {k} = {ot.get(k)!r}, want {v!r}")
    case("report coverage --format json: example.net's sessions, encrypted, cleartext, tls_versions, failures and "
         "last failure equal the sessions' events; other.example (no session) has sessions 0", errs,
         f"{exp['sessions']} sessions, {exp['encrypted']} encrypted, failures {exp['failures']}")

    errs = []
    rc, out, err = report(["coverage", "-c", cfg, "--format", "csv"])
    lines = out.splitlines()
    header = ("partner,mode,sessions,encrypted,cleartext,encrypted_percent,tls_versions,failures,"
              "last_failure_time,last_failure_type,kind,day,cleartext_messages_unprotected,"
              "cleartext_messages_protected")
    if rc != 0:
        errs.append(f"--format csv exited {rc}: {err.strip()}")
    if not lines or lines[0] != header:
        errs.append(f"csv header {lines[:1]!r}, want {header!r}")
    import csv as csvmod
    body = list(csvmod.reader(lines[1:]))
    if sorted(r[0] for r in body if r) != ["example.net", "other.example"] or len(body) != 2:
        errs.append(f"csv rows {body}, want one for example.net and one for other.example")
    for r in body:
        if r and r[0] == "example.net" and r[1:5] != ["enforced", str(exp["sessions"]), str(exp["encrypted"]),
                                                    str(exp["cleartext"])]:
            errs.append(f"csv example.net row {r}, want enforced,{exp['sessions']},{exp['encrypted']},{exp['cleartext']}")
        if r and r[0] == "other.example" and r[1:5] != ["opportunistic", "0", "0", "0"]:
            errs.append(f"csv other.example row {r}")
    rc, out, err = report(["coverage", "-c", cfg])
    tab = out.splitlines()
    if rc != 0:
        errs.append(f"--format table (default) exited {rc}: {err.strip()}")
    if not any(re.match(rf"^example\.net\s+enforced\s+{exp['sessions']}\s", l) for l in tab):
        errs.append(f"table: no line 'example.net enforced {exp['sessions']} ...': {tab}")
    if not any(re.match(r"^other\.example\s+opportunistic\s+0\s", l) for l in tab):
        errs.append(f"table: no line 'other.example opportunistic 0 ...': {tab}")
    case("report coverage --format csv (header, one row per partner) and table (a line per partner)", errs)

    errs = []
    for since, want_sessions in (("2026-11-29", 0), ("2026-11-28", exp["sessions"])):
        rc, out, err = report(["coverage", "-c", cfg, "--since", since, "--format", "json"])
        rows = {r.get("partner"): r for r in json_lines(out, errs, "coverage --since")}
        if rc != 0 or get(rows.get("example.net"), "sessions") != want_sessions:
            errs.append(f"--since {since}: exit {rc}, example.net sessions {get(rows.get('example.net'), 'sessions')}, "
                        f"want {want_sessions}")
    cfg2 = yaml_config(os.path.join(tmp, "unconfigured.yaml"), db, [{"domain": "other.example",
                                                                      "mode": "opportunistic"}])
    rc, out, err = report(["coverage", "-c", cfg2, "--format", "json"])
    rows = {r.get("partner"): r for r in json_lines(out, errs, "coverage not_configured")}
    if rc != 0 or get(rows.get("example.net"), "mode") != "not_configured" or \
            get(rows.get("example.net"), "sessions") != exp["sessions"]:
        errs.append(f"example.net dropped from the configuration: exit {rc}, {rows.get('example.net')}, want mode "
                    f"not_configured with {exp['sessions']} sessions")
    case("report coverage --since the day after the captures gives sessions 0 (the day itself all); a partner in "
         "the db but not in the configuration is not_configured", errs)

    errs = []
    sha = st["sha"]
    not_after = fixture_not_after()
    at = calendar.timegm((2026, 11, 28, 0, 0, 0))
    days = int((not_after - at) // 86400)
    rc, out, err = report(["certificates", "-c", cfg, "--at", "2026-11-28", "--format", "json"])
    if rc != 0:
        errs.append(f"report certificates exited {rc}: {err.strip()}")
    rows = json_lines(out, errs, "certificates json")
    mine = [r for r in rows if r.get("sha256") == sha]
    presenting = sorted((s for r in runs for s in r.sessions if get(s, "tls.server.hash.sha256") == sha),
                        key=lambda s: ts(get(s, "event.start")))
    if len(mine) != 1:
        errs.append(f"{len(mine)} entries for the fixture certificate {sha}, want 1 (rows {rows})")
    elif presenting:
        m = mine[0]
        servers = sorted({(get(s, "destination.ip"), get(s, "destination.port")) for s in presenting})
        got = sorted((x.get("ip"), x.get("port")) for x in m.get("servers", []))
        checks = {
            "days_left": (m.get("days_left"), days),
            "partner": (m.get("partner"), "example.net"),
            "subject": (m.get("subject"), get(presenting[0], "tls.server.subject")),
            "issuer": (m.get("issuer"), get(presenting[0], "tls.server.issuer")),
            "sans": (m.get("sans"), get(presenting[0], "tls.server.x509.alternative_names")),
            "servers": (got, servers),
            "servers_total": (m.get("servers_total"), len(servers)),
        }
        for k, (g, w) in checks.items():
            if g != w:
                errs.append(f"certificate {k} = {g!r}, want {w!r}")
        try:
            if abs(ts(m.get("not_after")) - not_after) > 1e-6:
                errs.append(f"not_after {m.get('not_after')}, the certificate says {time.strftime('%FT%TZ', time.gmtime(not_after))}")
            first, last = presenting[0], presenting[-1]
            if not ts(get(first, "event.start")) - 1e-6 <= ts(m.get("first_seen")) <= ts(get(first, "event.end")) + 1e-6:
                errs.append(f"first_seen {m.get('first_seen')} outside the first session that showed it "
                            f"({get(first, 'event.start')} .. {get(first, 'event.end')})")
            if not ts(get(last, "event.start")) - 1e-6 <= ts(m.get("last_seen")) <= ts(get(last, "event.end")) + 1e-6:
                errs.append(f"last_seen {m.get('last_seen')} outside the last session that showed it "
                            f"({get(last, 'event.start')} .. {get(last, 'event.end')})")
        except ValueError as x:
            errs.append(str(x))
    nas = [r.get("not_after") for r in rows]
    if nas != sorted(nas, key=lambda x: ts(x) if isinstance(x, str) else 0):
        errs.append(f"certificates not sorted by not_after: {nas}")
    rc, out, err = report(["certificates", "-c", cfg, "--at", "2026-11-28", "--format", "csv"])
    if rc != 0 or not out.startswith("not_after,days_left,partner,") or f",{sha}," not in out:
        errs.append(f"certificates --format csv: exit {rc}, {out[:300]!r}")
    rc, out, err = report(["certificates", "-c", cfg, "--at", "2026-11-28"])
    if rc != 0 or not any(re.search(rf"\s{days}\s+example\.net\s", l) for l in out.splitlines()):
        errs.append(f"certificates table: exit {rc}, no line with {days} days and example.net: {out!r}")
    case("report certificates --at 2026-11-28: the fixture certificate with days_left = floor(not_after - at) "
         "exactly, partner example.net, the servers that presented it (json, csv, table)", errs,
         f"days_left {days}, servers {sorted({(get(s, 'destination.ip'), get(s, 'destination.port')) for s in presenting})}")

    errs = []
    missing_db = os.path.join(tmp, "no-such-dir", "state.db")
    cfg_missing = yaml_config(os.path.join(tmp, "missing.yaml"), missing_db, st["partners"])
    junk = os.path.join(tmp, "junk.db")
    with open(junk, "w") as f:
        f.write("this is not an SQLite database\n" * 10)
    cfg_junk = yaml_config(os.path.join(tmp, "junk.yaml"), junk, st["partners"])
    cfg_none = yaml_config(os.path.join(tmp, "nodb.yaml"), None, st["partners"])
    want = [
        (["coverage", "-c", cfg_missing], 1, "state_db missing"),
        (["certificates", "-c", cfg_missing], 1, "state_db missing"),
        (["coverage", "-c", cfg_junk], 1, "state_db not a database"),
        (["coverage", "-c", cfg, "--format", "xml"], 2, "bad --format"),
        (["certificates", "-c", cfg, "--format", "yaml"], 2, "bad --format"),
        (["coverage", "-c", cfg, "--since", "2026-13-45"], 2, "bad --since"),
        (["coverage", "-c", cfg, "--since", "yesterday"], 2, "bad --since"),
        (["certificates", "-c", cfg, "--at", "2026-11-28T00:00:00Z"], 2, "bad --at"),
        (["coverage", "-c", cfg_none], 2, "configuration without state_db"),
        (["certificates", "-c", cfg_none], 2, "configuration without state_db"),
        (["coverage"], 2, "no configuration"),
        (["bogus", "-c", cfg], 2, "unknown report"),
    ]
    for args, code, why in want:
        rc, out, err = report(args)
        if rc != code:
            errs.append(f"tlsobs report {' '.join(os.path.basename(a) for a in args)} ({why}): exit {rc}, want {code}; "
                        f"stderr {err.strip()[:200]!r}")
        elif not err.strip():
            errs.append(f"tlsobs report {' '.join(args)} ({why}): exit {rc} with nothing on stderr")
    if os.path.exists(missing_db) or os.path.exists(os.path.dirname(missing_db)):
        errs.append(f"report created {missing_db} (a report must only read)")
    case("report errors: missing or non-database state_db exit 1; bad --format, bad dates, no state_db, unknown "
         "report exit 2", errs, f"{len(want)} invocations")


# ---------------------------------------------------------------- 5: live SIGHUP reload

LIVE = "live SIGHUP reload"


def live_case(tmp):
    if os.geteuid() != 0:
        return skip(LIVE, "needs root for a network namespace")
    if not shutil.which("ip") or not shutil.which("tcpreplay"):
        return skip(LIVE, "ip or tcpreplay missing")
    ns = f"tpol-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        return skip(LIVE, "cannot create a network namespace here")
    sensor = None
    errs = []
    try:
        for cmd in (["link", "add", "replay0", "type", "veth", "peer", "name", "span0"],
                    ["link", "set", "replay0", "up"], ["link", "set", "span0", "up"]):
            subprocess.run(["ip", "-n", ns] + cmd, check=True, capture_output=True)
        sensor, errs = live_steps(tmp, ns)
    finally:
        if sensor is not None and sensor.poll() is None:
            sensor.kill()
            sensor.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    case(f"{LIVE}: opportunistic -> enforced takes effect for the next session only; a 1 MB session in flight "
         "across a reload comes out once with all its bytes; a broken configuration is refused and the old one kept; "
         "SIGTERM exits 0 with 'configuration reloaded 2 times'", errs)


def live_steps(tmp, ns):
    errs = []
    cfg = os.path.join(tmp, "live.yaml")
    events_path = os.path.join(tmp, "live.json")
    stderr_path = os.path.join(tmp, "live.stderr")
    plain = os.path.join(FIX, "smtp-plain.pcap")
    large = os.path.join(FIX, "large-1mb-plain.pcap")
    plain_port = pcap_client_ports(plain)[0]

    def write_cfg(mode, extra=""):
        # flow.timeout.closed 1s: a closed session is reported a second after its FIN, not ten.
        with open(cfg + ".tmp", "w") as f:
            f.write("flow:\n  timeout:\n    closed: 1s\n"
                    f"policy:\n  partners:\n    - domain: example.net\n      mode: {mode}\n" + extra)
        os.replace(cfg + ".tmp", cfg)

    def events():
        out = []
        try:
            with open(events_path) as f:
                for line in f:
                    if line.endswith("\n"):
                        out.append(json.loads(line))
        except FileNotFoundError:
            pass
        return out

    def sessions_of(port):
        return [e for e in events() if get(e, "event.dataset") == "tlsobs.session" and get(e, "source.port") == port]

    def alerts_of(s):
        return sorted(get(a, "rule.name") for a in events() if get(a, "event.dataset") == "tlsobs.alert"
                      and get(a, "tlsobs.session_id") == get(s, "tlsobs.session_id"))

    def wait_session(port, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            found = sessions_of(port)
            if found:
                time.sleep(0.3)  # its alerts follow it
                return sessions_of(port)
            time.sleep(0.1)
        return []

    def replay_plain(port):
        path = os.path.join(tmp, f"plain-{port}.pcap")
        pcap_with_port(plain, path, plain_port, port)
        p = subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", "replay0", "--topspeed", path],
                           capture_output=True, text=True)
        if p.returncode != 0:
            errs.append(f"tcpreplay {path}: exit {p.returncode}: {p.stderr.strip()[:200]}")

    def stderr():
        with open(stderr_path, errors="replace") as f:
            return f.read()

    # The offline reference for the 1 MB session.
    ref = run("large offline", ["-r", large])
    ref_s = ref.sessions[0] if len(ref.sessions) == 1 else None
    if ref_s is None:
        return None, [f"offline run of large-1mb-plain: {len(ref.sessions)} sessions, want 1"] + ref.errors

    write_cfg("opportunistic")
    with open(stderr_path, "w") as se:
        sensor = subprocess.Popen(["ip", "netns", "exec", ns, TLSOBS, "-c", cfg, "-i", "span0", "-o",
                                   f"json:{events_path}"], stdout=subprocess.DEVNULL, stderr=se)
    time.sleep(1.0)
    if sensor.poll() is not None:
        return sensor, [f"the live sensor exited at start ({sensor.returncode}): {stderr()[-400:]}"]

    # 1: opportunistic.
    replay_plain(41001)
    s1 = wait_session(41001)
    if len(s1) != 1:
        errs.append(f"first replay (opportunistic): {len(s1)} session events, want 1")
    elif "policy_tls_required" in alerts_of(s1[0]) or get(s1[0], "tlsobs.partner.mode") != "opportunistic":
        errs.append(f"first replay (opportunistic): mode {get(s1[0], 'tlsobs.partner.mode')}, alerts {alerts_of(s1[0])}")

    # 2: enforced after SIGHUP.
    write_cfg("enforced")
    sensor.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    if "reloaded" not in stderr():
        errs.append(f"after SIGHUP #1 nothing on stderr says the configuration was reloaded: {stderr()[-300:]!r}")
    replay_plain(41002)
    s2 = wait_session(41002)
    if len(s2) != 1:
        errs.append(f"second replay (enforced): {len(s2)} session events, want 1")
    elif "policy_tls_required" not in alerts_of(s2[0]) or get(s2[0], "tlsobs.partner.mode") != "enforced":
        errs.append(f"second replay (enforced): mode {get(s2[0], 'tlsobs.partner.mode')}, alerts {alerts_of(s2[0])}, "
                    "want enforced with policy_tls_required")
    if len(sessions_of(41001)) != 1:
        errs.append(f"the first session was written {len(sessions_of(41001))} times after the reload")

    # 3: a session in flight across a reload.
    large_port = get(ref_s, "source.port")
    replay = subprocess.Popen(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", "replay0", "--mbps=2", large],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    in_flight = replay.poll() is None and not sessions_of(large_port)
    write_cfg("enforced", "stats:\n  interval: 30s\n")
    sensor.send_signal(signal.SIGHUP)
    try:
        _, rerr = replay.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        replay.kill()
        _, rerr = replay.communicate()
    if not in_flight:
        errs.append("the 1 MB replay was not in flight when SIGHUP #2 was sent (finished too early)")
    if replay.returncode != 0:
        errs.append(f"tcpreplay --mbps=2 large-1mb-plain: exit {replay.returncode}: {rerr.strip()[:200]}")
    s3 = wait_session(large_port)
    if len(s3) != 1:
        errs.append(f"the 1 MB session across the reload: {len(s3)} session events, want 1")
    else:
        for k in ("source.bytes", "source.packets", "destination.bytes", "destination.packets",
                  "tlsobs.flow.to_server.bytes", "tlsobs.flow.gaps", "tlsobs.flow.close_reason"):
            if get(s3[0], k) != get(ref_s, k):
                errs.append(f"the 1 MB session across the reload: {k} = {get(s3[0], k)!r}, the offline run "
                            f"says {get(ref_s, k)!r}")

    # 4: a broken configuration is refused; the running one (enforced) stays.
    write_cfg("enforced", "bogus_key: 1\n")
    sensor.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    text = stderr()
    if not re.search(r"reload failed.*running configuration is kept", text, re.S):
        errs.append(f"broken configuration: stderr does not say 'reload failed ... the running configuration is "
                    f"kept': {text[-400:]!r}")
    if sensor.poll() is not None:
        errs.append(f"the sensor exited ({sensor.returncode}) after a broken configuration")
        return sensor, errs
    replay_plain(41004)
    s4 = wait_session(41004)
    if len(s4) != 1:
        errs.append(f"replay after the failed reload: {len(s4)} session events, want 1")
    elif "policy_tls_required" not in alerts_of(s4[0]) or get(s4[0], "tlsobs.partner.mode") != "enforced":
        errs.append(f"replay after the failed reload: mode {get(s4[0], 'tlsobs.partner.mode')}, alerts "
                    f"{alerts_of(s4[0])}, want the kept configuration (enforced, policy_tls_required)")

    # 5: SIGTERM.
    sensor.send_signal(signal.SIGTERM)
    try:
        rc = sensor.wait(timeout=20)
    except subprocess.TimeoutExpired:
        errs.append("the sensor did not exit within 20 s of SIGTERM")
        return sensor, errs
    text = stderr()
    if rc != 0:
        errs.append(f"exit status {rc} after SIGTERM, want 0")
    m = re.search(r"configuration reloaded (\d+) times", text)
    if not m or m.group(1) != "2":
        errs.append(f"summary: {m.group(0) if m else 'no configuration reloaded line'}, want 'configuration "
                    f"reloaded 2 times' (two good reloads, one refused)")
    total = [e for e in events() if get(e, "event.dataset") == "tlsobs.session"]
    if len(total) != 4:
        errs.append(f"{len(total)} session events in all, want 4 (ports "
                    f"{sorted(get(e, 'source.port') for e in total)})")
    if errs:
        errs.append("sensor stderr: " + text[-800:].replace("\n", " | "))
    return sensor, errs


def main():
    if not os.access(TLSOBS, os.X_OK):
        print(f"tlsobs binary not found at {TLSOBS}: set TLSOBS")
        return 1
    tmp = tempfile.mkdtemp(prefix="tlsobs-policy-")
    try:
        relaxed = relaxation_cases(tmp)
        severity_raise_case(relaxed)
        st = restart_cases(tmp)
        if st:
            report_cases(st)
        else:
            case("reports", ["not run: the restart runs failed"])
        live_case(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
