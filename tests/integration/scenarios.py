#!/usr/bin/env python3
"""Scenario test: what tlsobs says about each capture, against what is known to have happened.

Expectations come from facts, never from the sensor's own output:
  * tests/fixtures/*.pcap: tests/fixtures/README.md (what each capture holds, which
    addresses, which software) turned into an explicit table below (FIXTURES);
  * the lab corpus ($TLSOBS_SOURCE_DIR/../shared/corpus/lab, optional): each
    NAME.truth.json, written from the MTAs' and the proxy's logs, mapped to the
    expected fields by lab_expectations() (the mapping is stated there);
  * two public BDAT captures (Zeek's test traces), whose content was read with tshark
    (stated in PUBLIC_BDAT).
Per capture and per session (in order of session start): the STARTTLS result,
offered/attempted/reply_code, the exact set of alert rule names, the key SMTP fields,
and for each alert the evidence line that proves it. Then: history across files
(one run over several files, or a directory, in packet-time order whatever the
argument order), sessions picked up midstream (editcap at test time), privacy (no
credential, message content or address local part in any output, stdout or
stderr), and event-format invariants on every line of every run (valid JSON,
session id format and uniqueness, alerts joined to their session).

A fixture not (yet) present is a clean skip of its case; so is the whole lab or
public part when the corpus is absent. Prints one ok/FAIL/skip line per case and a
summary; exits 1 on any failure.
"""
import base64
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TLSOBS_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
TLSOBS = os.environ.get("TLSOBS") or os.path.join(SRC, "build-it", "tlsobs")
FIX = os.path.join(SRC, "tests", "fixtures")
CORPUS = os.environ.get("TLSOBS_CORPUS") or os.path.abspath(os.path.join(SRC, "..", "shared", "corpus"))
LAB = os.path.join(CORPUS, "lab")
PUBLIC = os.path.join(CORPUS, "public")

SESSION_ID = re.compile(r"^S[0-9A-Z]{18}$")
RULE_ID = re.compile(r"^tlsobs-[0-9]+$")
RESULTS = {"upgraded", "implicit_tls", "not_offered", "garbled", "not_attempted", "refused",
           "no_tls_after_220", "incomplete", "cleartext_on_tls_port"}
RULES = {"starttls_capability_garbled", "starttls_command_garbled", "starttls_capability_removed",
         "starttls_refused", "starttls_not_used", "no_tls_after_starttls", "starttls_command_injection",
         "starttls_response_injection", "tls_handshake_failed", "cleartext_fallback", "ehlo_downgrade",
         "auth_in_clear", "requiretls_in_clear", "tls_version_obsolete", "tls_cipher_weak",
         "tls_certificate_invalid", "tls_interception_suspected", "certificate_expiring", "certificate_expired",
         "cleartext_on_tls_port"}
# The rules whose firing records a STARTTLS failure that cleartext_fallback can name.
FAILURE_RULES = {"starttls_refused", "no_tls_after_starttls", "tls_handshake_failed"}
MAIL_PORTS = {25, 465, 587}
ABSENT = object()  # an expected field that must not be present

# ---------------------------------------------------------------- reporting

class Report:
    def __init__(self):
        self.ok = self.failed = self.skipped = 0

    def case(self, name, errors, note=""):
        if errors:
            self.failed += 1
            print(f"FAIL {name}")
            for e in errors[:40]:
                print(f"     - {e}")
            if len(errors) > 40:
                print(f"     - ... {len(errors) - 40} more")
        else:
            self.ok += 1
            print(f"ok   {name}{'  (' + note + ')' if note else ''}")

    def skip(self, name, why):
        self.skipped += 1
        print(f"skip {name}: {why}")


REPORT = Report()


def get(obj, dotted, default=ABSENT):
    for k in dotted.split("."):
        if not isinstance(obj, dict) or k not in obj:
            return default
        obj = obj[k]
    return obj

# ---------------------------------------------------------------- running the sensor

class Run:
    """One tlsobs run: its events, sessions in order of start, alerts by session, and format problems."""

    def __init__(self, args, stdout, stderr, rc):
        self.args, self.stdout, self.stderr, self.rc = args, stdout, stderr, rc
        self.errors = []
        self.events = []
        if rc != 0:
            self.errors.append(f"tlsobs {' '.join(args)} exited {rc}: {stderr.strip()[:300]}")
        for n, line in enumerate(stdout.splitlines(), 1):
            try:
                e = json.loads(line)
            except ValueError as x:
                self.errors.append(f"output line {n} is not JSON ({x}): {line[:120]}")
                continue
            if not isinstance(e, dict):
                self.errors.append(f"output line {n} is not a JSON object")
                continue
            self.events.append(e)
        self.sessions = [e for e in self.events if get(e, "event.dataset") == "tlsobs.session"]
        self.alerts = [e for e in self.events if get(e, "event.dataset") == "tlsobs.alert"]
        for e in self.events:
            if get(e, "event.dataset") not in ("tlsobs.session", "tlsobs.alert", "tlsobs.certificate",
                                               "tlsobs.stats"):
                self.errors.append(f"event with unknown event.dataset {get(e, 'event.dataset', None)!r}")
        self.sessions.sort(key=lambda e: (str(get(e, "event.start", "")), get(e, "source.port", 0)))
        self.by_id = {}
        self.alerts_of = {}
        self._check_format()

    def _check_format(self):
        err = self.errors.append
        for s in self.sessions:
            sid = get(s, "tlsobs.session_id", None)
            if not isinstance(sid, str) or not SESSION_ID.match(sid):
                err(f"session_id {sid!r} does not match ^S[0-9A-Z]{{18}}$")
            if sid in self.by_id:
                err(f"session_id {sid} used by two sessions in one run")
            self.by_id[sid] = s
            self.alerts_of[sid] = []
            if get(s, "destination.port", None) in MAIL_PORTS and get(s, "network.protocol", None) != "smtp":
                err(f"{sid}: network.protocol {get(s, 'network.protocol', None)!r}, want 'smtp'")
            r = get(s, "tlsobs.smtp.starttls.result", None)
            if r not in RESULTS:
                err(f"{sid}: tlsobs.smtp.starttls.result {r!r} is not one of {sorted(RESULTS)}")
            names = get(s, "tlsobs.alerts", None)
            if not isinstance(names, list):
                err(f"{sid}: tlsobs.alerts missing or not an array (must be [] when none)")
        for a in self.alerts:
            sid = get(a, "tlsobs.session_id", None)
            name = get(a, "rule.name", None)
            tag = f"alert {name} of {sid}"
            if get(a, "event.kind", None) != "alert":
                err(f"{tag}: event.kind {get(a, 'event.kind', None)!r}, want 'alert'")
            if name not in RULES:
                err(f"{tag}: rule.name not a known rule")
            if not isinstance(get(a, "rule.id", None), str) or not RULE_ID.match(get(a, "rule.id")):
                err(f"{tag}: rule.id {get(a, 'rule.id', None)!r} empty or malformed")
            if not isinstance(get(a, "rule.description", None), str) or not get(a, "rule.description").strip():
                err(f"{tag}: rule.description empty")
            sev = get(a, "event.severity", None)
            if not isinstance(sev, int) or isinstance(sev, bool) or sev <= 0:
                err(f"{tag}: event.severity {sev!r} is not a number > 0")
            if not isinstance(get(a, "event.reason", None), str) or not get(a, "event.reason").strip():
                err(f"{tag}: event.reason empty")
            ev = get(a, "tlsobs.evidence", None)
            if not isinstance(ev, list) or not ev or not all(isinstance(x, str) for x in ev):
                err(f"{tag}: tlsobs.evidence is not a non-empty array of strings: {ev!r}")
            s = self.by_id.get(sid)
            if s is None:
                err(f"{tag}: tlsobs.session_id joins no session event of the run")
                continue
            self.alerts_of[sid].append(a)
            for side in ("source", "destination"):
                for f in ("ip", "port"):
                    if get(a, f"{side}.{f}", None) != get(s, f"{side}.{f}", None):
                        err(f"{tag}: {side}.{f} {get(a, f'{side}.{f}', None)!r} differs from its session's "
                            f"{get(s, f'{side}.{f}', None)!r}")
            rel = get(a, "tlsobs.related_session_id")
            if name == "cleartext_fallback":
                failed = self.by_id.get(rel)
                if failed is None:
                    err(f"{tag}: related_session_id {rel!r} names no session of the run")
                elif not FAILURE_RULES & set(get(failed, "tlsobs.alerts", [])):
                    err(f"{tag}: related session {rel} raised none of {sorted(FAILURE_RULES)}")
                elif str(get(failed, "event.start", "")) > str(get(s, "event.start", "")):
                    err(f"{tag}: related session {rel} started after the fallback session")
            elif rel is not ABSENT and name not in ("tls_interception_suspected", "starttls_capability_removed"):
                err(f"{tag}: related_session_id set on a rule other than cleartext_fallback, "
                    "starttls_capability_removed and "
                    f"tls_interception_suspected")
        for sid, s in self.by_id.items():
            names = get(s, "tlsobs.alerts", [])
            if isinstance(names, list):
                if len(names) != len(set(names)):
                    err(f"{sid}: tlsobs.alerts has duplicates: {names}")
                got = sorted(get(a, "rule.name", "") for a in self.alerts_of[sid])
                if sorted(names) != got:
                    err(f"{sid}: tlsobs.alerts {sorted(names)} but alert events {got}")


_runs = {}
ALL_RUNS = []


_bundle = []


def ca_bundle():
    """The fixtures' CA and the lab's root and issuing CAs in one PEM file: certificates signed by them are
    valid, so only the deliberately bad ones raise tls_certificate_invalid."""
    if not _bundle:
        fd, path = tempfile.mkstemp(suffix=".pem")
        with os.fdopen(fd, "w") as out:
            for pem in (os.path.join(FIX, "certs", "ca.crt"), os.path.join(LAB, "certs", "root.crt"),
                        os.path.join(LAB, "certs", "issuing.crt")):
                if os.path.exists(pem):
                    with open(pem) as f:
                        out.write(f.read().rstrip("\n") + "\n")
        _bundle.append(path)
    return _bundle[0]


def run(args):
    """tlsobs ARGS (cached): a Run. -q is added unless the caller passes -v/-q itself."""
    key = tuple(args)
    if key in _runs:
        return _runs[key]
    full = [TLSOBS] + ([] if ("-q" in args or "-v" in args or "--verbose" in args) else ["-q"]) + list(args)
    full += ["--ca-file", ca_bundle()]
    p = subprocess.run(full, capture_output=True, text=True, errors="replace", timeout=600)
    r = Run(args, p.stdout, p.stderr, p.returncode)
    _runs[key] = r
    ALL_RUNS.append(r)
    return r

# ---------------------------------------------------------------- session expectations

def ephemeral(port):
    return isinstance(port, int) and port >= 1024 and port not in MAIL_PORTS


def check_session(label, s, exp, run_, errs):
    """Compares one session event (and its alerts) with an expectation dict."""
    sid = get(s, "tlsobs.session_id", "?")
    tag = f"{label} ({sid})"

    def want(path, value, name=None):
        got = get(s, path)
        if value is ABSENT:
            if got is not ABSENT:
                errs.append(f"{tag}: {name or path} = {got!r}, want absent")
        elif got is ABSENT or got != value:
            errs.append(f"{tag}: {name or path} = {'absent' if got is ABSENT else repr(got)}, want {value!r}")

    st = "tlsobs.smtp.starttls."
    sm = "tlsobs.smtp."
    for k in ("result", "offered", "attempted"):
        if k in exp:
            want(st + k, exp[k])
    if "reply_code" in exp:
        want(st + "reply_code", ABSENT if exp["reply_code"] is None else exp["reply_code"])
    if "results_allowed" in exp and get(s, st + "result") not in exp["results_allowed"]:
        errs.append(f"{tag}: result {get(s, st + 'result')!r} not in {sorted(exp['results_allowed'])}")
    for k in ("helo_verb", "helo", "transactions", "data_in_clear", "auth_in_clear", "requiretls"):
        if k in exp:
            want(sm + k, exp[k])
    if "mail_from_domain" in exp:
        want(sm + "mail_from_domain", ABSENT if exp["mail_from_domain"] is None else exp["mail_from_domain"])
    if "rcpt_to_domains" in exp:
        want(sm + "rcpt_to_domains", exp["rcpt_to_domains"])
    if "banner_prefix" in exp:
        b = get(s, sm + "banner", None)
        if not isinstance(b, str) or not b.startswith(exp["banner_prefix"]):
            errs.append(f"{tag}: banner {b!r} does not start with {exp['banner_prefix']!r}")
    caps = get(s, sm + "ehlo_capabilities", [])
    if "caps_equal" in exp and caps != exp["caps_equal"]:
        errs.append(f"{tag}: ehlo_capabilities {caps} != {exp['caps_equal']}")
    for c in exp.get("caps_has", []):
        if c not in caps:
            errs.append(f"{tag}: ehlo_capabilities {caps} lacks {c}")
    for c in exp.get("caps_lacks", []):
        if c in caps:
            errs.append(f"{tag}: ehlo_capabilities {caps} contains {c}")
    if "network_type" in exp:
        want("network.type", exp["network_type"])
    if "client" in exp:
        ip, port = exp["client"]
        want("source.ip", ip, "client (source.ip)")
        if port == "ephemeral":
            if not ephemeral(get(s, "source.port", None)):
                errs.append(f"{tag}: source.port {get(s, 'source.port', None)!r} is not an ephemeral client port")
        else:
            want("source.port", port, "client port (source.port)")
    if "server" in exp:
        ip, port = exp["server"]
        want("destination.ip", ip, "server (destination.ip)")
        want("destination.port", port, "server port (destination.port)")

    for path, value in exp.get("fields", {}).items():
        want(path, value)

    names = set(get(s, "tlsobs.alerts", []) or [])
    if "alerts" in exp and names != set(exp["alerts"]):
        errs.append(f"{tag}: alerts {sorted(names)}, want exactly {sorted(exp['alerts'])}")
    for r in exp.get("alerts_include", ()):
        if r not in names:
            errs.append(f"{tag}: alerts {sorted(names)} lack {r}")
    for r in exp.get("alerts_exclude", ()):
        if r in names:
            errs.append(f"{tag}: alerts {sorted(names)} include {r}, which must not fire here")
    if "alerts_allowed" in exp:
        extra = names - set(exp.get("alerts_include", ())) - set(exp["alerts_allowed"])
        if extra:
            errs.append(f"{tag}: unexpected alerts {sorted(extra)}")

    alerts = {get(a, "rule.name", ""): a for a in run_.alerts_of.get(sid, [])}
    for rule, needles in exp.get("evidence", {}).items():
        a = alerts.get(rule)
        if a is None:
            continue  # absence is reported above
        lines = get(a, "tlsobs.evidence", []) or []
        for n in needles:
            if not any(n in l for l in lines):
                errs.append(f"{tag}: {rule} evidence {lines} has no line containing {n!r}")
    for rule, needles in exp.get("reason_has", {}).items():
        a = alerts.get(rule)
        if a is not None:
            for n in needles:
                if isinstance(n, int):
                    n = get(run_.sessions[n], "tlsobs.session_id", "?") if n < len(run_.sessions) else "?"
                if n not in get(a, "event.reason", ""):
                    errs.append(f"{tag}: {rule} reason {get(a, 'event.reason', '')!r} lacks {n!r}")
    for rule, idx in exp.get("related", {}).items():
        a = alerts.get(rule)
        if a is None:
            continue
        want_id = get(run_.sessions[idx], "tlsobs.session_id", None) if idx < len(run_.sessions) else None
        if get(a, "tlsobs.related_session_id", None) != want_id:
            errs.append(f"{tag}: {rule} related_session_id {get(a, 'tlsobs.related_session_id', None)!r}, "
                        f"want {want_id!r} (session {idx + 1}, the failed one)")


def check_run(label, run_, sessions, errs, exact_count=True):
    errs.extend(run_.errors)
    got = run_.sessions
    if exact_count and len(got) != len(sessions):
        errs.append(f"{label}: {len(got)} sessions, want {len(sessions)}")
    elif len(got) < len(sessions):
        errs.append(f"{label}: {len(got)} sessions, want at least {len(sessions)}")
    for i, (s, exp) in enumerate(zip(got, sessions)):
        if exp is not None:
            check_session(f"{label} session {i + 1}", s, exp, run_, errs)

# ---------------------------------------------------------------- fixtures (tests/fixtures/README.md)

# Addresses from the README: client 203.0.113.10 (swaks or a python client, EHLO
# client.example.org), server 198.51.100.25 (Postfix, mx1.example.net); IPv6
# 2001:db8:113::10 -> 2001:db8:100::25; the MITM proxy is not transparent: the
# client link ends at 203.0.113.1, the server link starts at 198.51.100.1.
CLI4, SRV4, CLI6, SRV6 = "203.0.113.10", "198.51.100.25", "2001:db8:113::10", "2001:db8:100::25"
PROXY_C, PROXY_S = "203.0.113.1", "198.51.100.1"
DIRECT = {"client": (CLI4, "ephemeral"), "server": (SRV4, 25)}
CLIENT_SIDE = {"client": (CLI4, "ephemeral"), "server": (PROXY_C, 25)}
SERVER_SIDE = {"client": (PROXY_S, "ephemeral"), "server": (SRV4, 25)}
NOT_OFFERED = {"result": "not_offered", "offered": False, "attempted": False, "reply_code": None,
               "caps_lacks": ["STARTTLS", "XXXXXXXA"]}
NOT_ATTEMPTED = {"result": "not_attempted", "offered": True, "attempted": False, "reply_code": None,
                 "caps_has": ["STARTTLS"], "alerts": {"starttls_not_used"},
                 "evidence": {"starttls_not_used": ["250-STARTTLS"]}}


def clear_mail(*parts, **kw):
    """One message in clear text: swaks' sender@example.org -> bob@example.net, as the fixtures send it."""
    e = {"helo_verb": "EHLO", "helo": "client.example.org", "mail_from_domain": "example.org",
         "rcpt_to_domains": ["example.net"], "transactions": 1, "data_in_clear": True, "auth_in_clear": False,
         "requiretls": False, "banner_prefix": "220 mx1.example.net ESMTP", "network_type": "ipv4",
         "alerts": set()}
    e.update(DIRECT)
    for p in parts:
        e.update(p)
    e.update(kw)
    return e


def tls_mail(*parts, **kw):
    """STARTTLS then the message inside TLS: nothing of the transaction is visible."""
    e = {"result": "upgraded", "offered": True, "attempted": True, "reply_code": 220, "helo_verb": "EHLO",
         "helo": "client.example.org", "mail_from_domain": None, "rcpt_to_domains": [], "transactions": 0,
         "data_in_clear": False, "auth_in_clear": False, "banner_prefix": "220 mx1.example.net ESMTP",
         "caps_has": ["STARTTLS"], "network_type": "ipv4", "alerts": set()}
    e.update(DIRECT)
    for p in parts:
        e.update(p)
    e.update(kw)
    return e


IMPLICIT = {"result": "implicit_tls", "offered": False, "attempted": False, "reply_code": None,
            "network_type": "ipv4", "alerts": set(), "client": (CLI4, "ephemeral"), "server": (SRV4, 465)}

STARTTLS_OFFER = re.compile(rb"250[- ]STARTTLS\r\n")


def offers_starttls(path):
    """Whether a clear-text capture's EHLO reply advertises STARTTLS (a byte search of the pcap: these are clear)."""
    with open(path, "rb") as f:
        return STARTTLS_OFFER.search(f.read()) is not None


FIXTURES = [
    ("smtp-plain", [clear_mail(NOT_OFFERED)]),
    ("starttls-tls12", [tls_mail()]),
    ("starttls-tls13", [tls_mail()]),
    ("submission-auth-587", [tls_mail(server=(SRV4, 587))]),
    ("ipv6-starttls", [tls_mail(client=(CLI6, "ephemeral"), server=(SRV6, 25), network_type="ipv6")]),
    ("smtps-465", [IMPLICIT]),
    # AUTH PLAIN as alice@example.net on 587, STARTTLS offered but unused, alice@ -> bob@example.net.
    ("auth-cleartext", [clear_mail(NOT_ATTEMPTED, server=(SRV4, 587), mail_from_domain="example.net",
                                   auth_in_clear=True, alerts={"starttls_not_used", "auth_in_clear"},
                                   evidence={"starttls_not_used": ["250-STARTTLS"], "auth_in_clear": ["AUTH PLAIN"]})]),
    ("client-ignores-starttls", [clear_mail(NOT_ATTEMPTED)]),
    ("starttls-refused-454", [clear_mail(result="refused", offered=True, attempted=True, reply_code=454,
                                         caps_has=["STARTTLS"], alerts={"starttls_refused"},
                                         evidence={"starttls_refused": ["STARTTLS", "454 4.7.0"]})]),
    ("mitm-mask.client-side", [clear_mail(CLIENT_SIDE, result="garbled", offered=False, attempted=False,
                                          reply_code=None, caps_has=["XXXXXXXA"], caps_lacks=["STARTTLS"],
                                          alerts={"starttls_capability_garbled"},
                                          evidence={"starttls_capability_garbled": ["250-XXXXXXXA"]})]),
    ("mitm-mask.server-side", [clear_mail(SERVER_SIDE, NOT_ATTEMPTED)]),
    # Alone, a removed line cannot be told from a server that never offered STARTTLS.
    ("mitm-remove.client-side", [clear_mail(CLIENT_SIDE, NOT_OFFERED)]),
    ("mitm-remove.server-side", [clear_mail(SERVER_SIDE, NOT_ATTEMPTED)]),
    # The capture holds '500 5.5.2 Error: command not recognized' (tshark); the README says 502.
    ("mitm-rewrite-command.client-side",
     [clear_mail(CLIENT_SIDE, result="refused", offered=True, attempted=True, reply_code=500, caps_has=["STARTTLS"],
                 alerts={"starttls_command_garbled", "starttls_refused"},
                 evidence={"starttls_refused": ["STARTTLS", "500 5.5.2"], "starttls_command_garbled": ["500 5.5.2"]})]),
    # The server never sees a STARTTLS (it gets XXXXXXXX): not attempted on this link, the attempt was refused.
    ("mitm-rewrite-command.server-side",
     [clear_mail(SERVER_SIDE, result="refused", offered=True, attempted=False, reply_code=None, caps_has=["STARTTLS"],
                 alerts={"starttls_command_garbled"}, evidence={"starttls_command_garbled": ["XXXXXXXX"]})]),
    ("mitm-refuse.client-side",
     [clear_mail(CLIENT_SIDE, result="refused", offered=True, attempted=True, reply_code=454, caps_has=["STARTTLS"],
                 alerts={"starttls_refused"}, evidence={"starttls_refused": ["STARTTLS", "454 4.7.0"]})]),
    ("mitm-refuse.server-side", [clear_mail(SERVER_SIDE, NOT_ATTEMPTED)]),
    ("mitm-inject-command.server-side",
     [tls_mail(SERVER_SIDE, alerts={"starttls_command_injection"},
               evidence={"starttls_command_injection": ["STARTTLS", "RSET"]})]),
    ("mitm-inject-command.client-side", [tls_mail(CLIENT_SIDE)]),
    ("mitm-inject-response.client-side",
     [tls_mail(CLIENT_SIDE, alerts={"starttls_response_injection"},
               evidence={"starttls_response_injection": ["220 2.0.0", "250 injected"]})]),
    ("mitm-inject-response.server-side", [tls_mail(SERVER_SIDE)]),
]
for _side, _ends in (("client-side", CLIENT_SIDE), ("server-side", SERVER_SIDE)):
    FIXTURES.append((f"tls-blocked-then-plain.{_side}", [
        # 220 to STARTTLS, then the proxy resets the connection at (or before) the ClientHello.
        tls_mail(_ends, alerts={"tls_handshake_failed"}, evidence={"tls_handshake_failed": ["STARTTLS", "220 "]}),
        # the retry in clear, seconds later, between the same two addresses.
        clear_mail(_ends, NOT_ATTEMPTED, alerts={"starttls_not_used", "cleartext_fallback"},
                   evidence={"starttls_not_used": ["250-STARTTLS"], "cleartext_fallback": ["tls_handshake_failed"]},
                   related={"cleartext_fallback": 0}),
    ]))
FIXTURES += [
    # Re-recorded with a server that offers no STARTTLS (smtpd_tls_security_level=none): clean, no alert.
    ("pipelining-multi", [clear_mail(NOT_OFFERED, transactions=3)]),
    ("bdat", [clear_mail(NOT_OFFERED)]),
    ("large-1mb-plain", [clear_mail(NOT_OFFERED)]),
    # 'MAIL FROM:<bob@example.org> REQUIRETLS' answered 555, then a plain MAIL FROM:<bob@example.org>,
    # RCPT TO:<bob@example.net> and the message; no STARTTLS offered (tshark follow).
    ("requiretls-in-clear", [clear_mail(NOT_OFFERED, transactions=2, requiretls=True,
                                        alerts={"requiretls_in_clear"},
                                        evidence={"requiretls_in_clear": ["MAIL FROM:", "REQUIRETLS"]})]),
    # The proxy answers EHLO '502 5.5.2', the client greets again with HELO: no capabilities, no offer.
    ("ehlo-refused-helo.client-side",
     [clear_mail(CLIENT_SIDE, NOT_OFFERED, helo_verb="HELO", alerts={"ehlo_downgrade"},
                 evidence={"ehlo_downgrade": ["502", "HELO client.example.org"]})]),
    # The server sees only HELO: alone, nothing tells this from an old client.
    ("ehlo-refused-helo.server-side", [clear_mail(SERVER_SIDE, NOT_OFFERED, helo_verb="HELO")]),
    # Same client and server, no STARTTLS offered: EHLO, then HELO (the second is the downgrade).
    ("ehlo-then-helo", [clear_mail(NOT_OFFERED),
                        clear_mail(NOT_OFFERED, helo_verb="HELO", alerts={"ehlo_downgrade"},
                                   evidence={"ehlo_downgrade": ["HELO client.example.org"]},
                                   reason_has={"ehlo_downgrade": [0]})]),
    # The proxy answers STARTTLS with 220 itself, then the ClientHello with clear text '554 5.7.0 ...'.
    ("fake-220.client-side",
     [tls_mail(CLIENT_SIDE, result="no_tls_after_220", alerts={"no_tls_after_starttls"},
               evidence={"no_tls_after_starttls": ["STARTTLS", "220 2.0.0", "554 5.7.0"]})]),
    # Session 1: 220, then a fatal protocol_version alert from the server; session 2: retry in clear.
    ("tls-version-mismatch",
     [tls_mail(alerts={"tls_handshake_failed"},
               evidence={"tls_handshake_failed": ["STARTTLS", "220 2.0.0", "protocol_version"]}),
      clear_mail(NOT_ATTEMPTED, alerts={"starttls_not_used", "cleartext_fallback"},
                 evidence={"starttls_not_used": ["250-STARTTLS"], "cleartext_fallback": ["tls_handshake_failed"]},
                 related={"cleartext_fallback": 0})]),
    # Both through the proxy to 203.0.113.1:25: session 1 passes (STARTTLS used), session 2 has the line removed.
    ("stripped-then-clean.client-side",
     [tls_mail(CLIENT_SIDE),
      clear_mail(CLIENT_SIDE, NOT_OFFERED, alerts={"starttls_capability_removed"},
                 evidence={"starttls_capability_removed": ["250-PIPELINING"]},
                 reason_has={"starttls_capability_removed": [0]})]),
]
# Implicit TLS on 465 made with openssl s_server/s_client (certificate and version cases): no SMTP in clear,
# nothing to downgrade; the TLS quality rules speak instead (the runs validate against the fixtures' CA).
# tls-alert-bad-cert: the client rejects a self-signed certificate with unknown_ca. tls12-resumed: the second
# session resumes, so it shows no certificate and must not look like interception. expired-cert's leaf ended
# 2021-01-01, before the capture, so certificate_expired fires too; the other leaves are valid for years.
for _name, _alerts in (("ecdsa-cert", [set()]), ("expired-cert", [{"tls_certificate_invalid", "certificate_expired"}]),
                       ("self-signed-cert", [{"tls_certificate_invalid"}]),
                       ("wrong-name-cert", [{"tls_certificate_invalid"}]),
                       ("tls-alert-bad-cert", [{"tls_certificate_invalid"}]),
                       ("tls10-rsa", [{"tls_version_obsolete"}]), ("tls11", [{"tls_version_obsolete"}]),
                       ("tls12-resumed", [set(), set()]), ("tls13-hrr", [set()])):
    FIXTURES.append((_name, [dict(IMPLICIT, alerts=a) for a in _alerts]))

# Protocol by content (issue 12). implicit-tls-587: a wrapper-mode submission service, the client's ClientHello
# comes first: implicit TLS on 587, TLS 1.3 established and fingerprinted. cleartext-on-465: a server without
# wrapper mode greets in clear on 465; session 1 is openssl s_client (its ClientHello even reaches the server
# before the greeting, tshark), session 2 swaks in clear, STARTTLS offered and not used, so the STARTTLS rules
# judge it too. starttls-cut-after-220: the capture ends after the 220, no TLS byte and no FIN: incomplete, no
# alert (a FIN/RST there is tls_handshake_failed: tls-blocked-then-plain above).
FIXTURES += [
    ("implicit-tls-587", [dict(IMPLICIT, server=(SRV4, 587),
                               fields={"tls.established": True, "tls.version": "1.3", "tls.version_protocol": "tls",
                                       "network.protocol": "smtp"})]),
    ("cleartext-on-465", [
        {"result": "cleartext_on_tls_port", "offered": False, "attempted": False, "reply_code": None,
         "banner_prefix": "220 mx1.example.net ESMTP", "network_type": "ipv4", "client": (CLI4, "ephemeral"),
         "server": (SRV4, 465), "alerts": {"cleartext_on_tls_port"},
         "evidence": {"cleartext_on_tls_port": ["220 mx1.example.net ESMTP", "\\x16\\x03\\x01"]},
         "reason_has": {"cleartext_on_tls_port": ["ClientHello"]}, "fields": {"tls.established": ABSENT}},
        clear_mail(NOT_ATTEMPTED, result="cleartext_on_tls_port", server=(SRV4, 465),
                   alerts={"cleartext_on_tls_port", "starttls_not_used"},
                   evidence={"cleartext_on_tls_port": ["220 mx1.example.net ESMTP", "EHLO client.example.org"],
                             "starttls_not_used": ["250-STARTTLS"]},
                   reason_has={"cleartext_on_tls_port": ["clear text"]}),
    ]),
    ("starttls-cut-after-220", [tls_mail(result="incomplete", alerts=set(), fields={"tls.established": ABSENT})]),
]


def fixture_cases():
    for name, exp in FIXTURES:
        path = os.path.join(FIX, name + ".pcap")
        label = f"fixture {name}"
        if not os.path.exists(path):
            REPORT.skip(label, "capture not present (yet)")
            continue
        r = run(["-r", path])
        errs = []
        check_run(label, r, exp, errs)
        REPORT.case(label, errs)

# ---------------------------------------------------------------- lab corpus (truth files)

PATH_RE = re.compile(r"<([^>]*)>")


def path_domain(line):
    m = PATH_RE.search(line)
    addr = m.group(1) if m else ""
    return addr.rsplit("@", 1)[1].lower() if "@" in addr else addr.lower()


def lab_tls_alerts(truth, t):
    """TLS quality alerts from the truth file: a completed handshake below TLS 1.2 is obsolete; a bad server
    certificate (truth server.certificate_kind) is invalid when it crossed in clear (TLS <= 1.2). Runs validate
    against the lab's own CA (root + issuing), so 'valid' certificates raise nothing."""
    alerts = set()
    if not t.get("tls_completed"):
        return alerts
    version = (truth.get("summary") or {}).get("tls_version")
    if version in ("SSLv3", "TLSv1", "TLSv1.1"):
        alerts.add("tls_version_obsolete")
    kind = (truth.get("server") or {}).get("certificate_kind")
    if kind in ("expired", "selfsigned", "wronghost") and version != "TLSv1.3":
        alerts.add("tls_certificate_invalid")
    if kind == "expired" and version != "TLSv1.3":  # not_after before the capture: certificate_expired too
        alerts.add("certificate_expired")
    return alerts


def lab_expectations(truth):
    """Truth session -> expected fields. The mapping (what the captured link, truth 'wire', showed):
      source = client_ip:client_port, destination = server_ip:server_port (the lab proxy is transparent,
        both links carry the same 5-tuple); network.type = 'ipv' + ip_version
      implicit_tls -> result implicit_tls, nothing offered or attempted, no alert
      offered   = wire.starttls_keyword_in_ehlo == 'STARTTLS'
      masked capability = that keyword present but not STARTTLS (e.g. XXXXXXXA)
      attempted = wire.starttls_command == 'STARTTLS'; masked command = any other verb there (XXXXXXXX)
      reply_code = code of wire.starttls_reply when attempted on this link, else absent
      result: attempted -> 220: upgraded (TLS followed, completed or not), else refused;
              masked command -> refused (the client's attempt was); offered -> not_attempted;
              masked capability -> garbled; else not_offered
      alerts: masked capability -> starttls_capability_garbled; masked command, or STARTTLS answered
              500/502 -> starttls_command_garbled; STARTTLS answered non-220 -> starttls_refused;
              offered, no STARTTLS (masked or not) and body_sent_in_clear -> starttls_not_used;
              220 and not tls_completed -> tls_handshake_failed; auth.in_clear -> auth_in_clear;
              body_sent_in_clear after an earlier failed session (refused / handshake failed) between the
              same two addresses (seconds apart, well within 15 minutes) -> cleartext_fallback naming it
      smtp fields from wire.cleartext_transcript: banner = first 'S: 220' line; helo_verb/helo = last
              'C: EHLO|HELO|LHLO' in clear; transactions = 'C: MAIL FROM' lines; mail_from_domain = the
              first one's domain (absent with none); rcpt_to_domains = distinct 'C: RCPT TO' domains in order;
              ehlo_capabilities = wire.ehlo_keywords_in_clear; data_in_clear = body_sent_in_clear;
              auth_in_clear = auth.in_clear
    """
    out = []
    failed_at = {}  # (client ip, server ip) -> index of the last failed session
    for i, t in enumerate(truth["sessions"]):
        w = t.get("wire") or {}
        e = {"client": (t["client_ip"], t["client_port"]), "server": (t["server_ip"], t["server_port"]),
             "network_type": f"ipv{t['ip_version']}"}
        if t.get("implicit_tls"):
            e.update(result="implicit_tls", offered=False, attempted=False, reply_code=None,
                     alerts=lab_tls_alerts(truth, t))
            out.append(e)
            continue
        kw, cmd, reply = w.get("starttls_keyword_in_ehlo"), w.get("starttls_command"), w.get("starttls_reply")
        offered = kw == "STARTTLS"
        masked_cap = kw is not None and kw != "STARTTLS"
        attempted = cmd == "STARTTLS"
        masked_cmd = cmd is not None and cmd != "STARTTLS"
        code = int(reply[:3]) if attempted and reply else None
        if attempted:
            result = "upgraded" if code == 220 else "refused"
        elif masked_cmd:
            result = "refused"
        elif offered:
            result = "not_attempted"
        elif masked_cap:
            result = "garbled"
        else:
            result = "not_offered"
        alerts, evidence, related = set(), {}, {}
        if masked_cap:
            alerts.add("starttls_capability_garbled")
            evidence["starttls_capability_garbled"] = ["250-" + kw]
        if masked_cmd or (attempted and code in (500, 502)):
            alerts.add("starttls_command_garbled")
            evidence["starttls_command_garbled"] = [cmd if masked_cmd else reply]
        if attempted and code != 220:
            alerts.add("starttls_refused")
            evidence["starttls_refused"] = ["STARTTLS", reply]
        if offered and cmd is None and t["body_sent_in_clear"]:
            alerts.add("starttls_not_used")
            evidence["starttls_not_used"] = ["250-STARTTLS"]
        if attempted and code == 220 and not t["tls_completed"]:
            alerts.add("tls_handshake_failed")
            evidence["tls_handshake_failed"] = ["STARTTLS", reply]
        alerts |= lab_tls_alerts(truth, t)
        auth = t.get("auth") or {}
        if auth.get("in_clear"):
            alerts.add("auth_in_clear")
            evidence["auth_in_clear"] = ["AUTH " + auth["mechanism"]]
        pair = (t["client_ip"], t["server_ip"])
        if t["body_sent_in_clear"] and pair in failed_at:
            alerts.add("cleartext_fallback")
            related["cleartext_fallback"] = failed_at[pair]
        if (attempted and code != 220) or (attempted and code == 220 and not t["tls_completed"]):
            failed_at[pair] = i
        tr = w.get("cleartext_transcript") or []
        banner = next((l[3:] for l in tr if l.startswith("S: 220")), None)
        greets = [l[3:] for l in tr if re.match(r"C: (EHLO|HELO|LHLO) ", l)]
        mails = [l for l in tr if l.upper().startswith("C: MAIL FROM:")]
        rcpts = []
        for l in tr:
            if l.upper().startswith("C: RCPT TO:") and path_domain(l) not in rcpts:
                rcpts.append(path_domain(l))
        e.update(result=result, offered=offered, attempted=attempted, reply_code=code, alerts=alerts,
                 evidence=evidence, related=related, transactions=len(mails),
                 mail_from_domain=path_domain(mails[0]) if mails else None, rcpt_to_domains=rcpts,
                 data_in_clear=bool(t["body_sent_in_clear"]), auth_in_clear=bool(auth.get("in_clear")),
                 caps_equal=list(w.get("ehlo_keywords_in_clear") or []))
        if banner:
            e["banner_prefix"] = banner
        if greets:
            e["helo_verb"], e["helo"] = greets[-1].split(" ", 1)
        if masked_cap:
            e["caps_has"], e["caps_lacks"] = [kw], ["STARTTLS"]
        elif offered:
            e["caps_has"] = ["STARTTLS"]
        else:
            e["caps_lacks"] = ["STARTTLS"]
        out.append(e)
    return out


def lab_cases():
    truths = sorted(glob.glob(os.path.join(LAB, "*.truth.json")))
    if not truths:
        REPORT.skip("lab corpus", f"{LAB} absent")
        return
    for tp in truths:
        with open(tp) as f:
            truth = json.load(f)
        pcap = os.path.join(LAB, truth.get("pcap") or os.path.basename(tp).replace(".truth.json", ".pcap"))
        label = f"lab {os.path.basename(pcap)[:-5]}"
        if not os.path.exists(pcap):
            REPORT.skip(label, "capture missing")
            continue
        r = run(["-r", pcap])
        errs = []
        check_run(label, r, lab_expectations(truth), errs)
        REPORT.case(label, errs)

# ---------------------------------------------------------------- public BDAT captures

# Read with tshark (follow,tcp,ascii): both from Zeek's test traces, one session each, STARTTLS advertised
# (250-STARTTLS) and never used, mail sent with BDAT in clear. So starttls_not_used is the fact here and no
# other rule may fire: BDAT chunks (binary-safe, no dot rule) must not confuse the parser.
PUBLIC_BDAT = [
    ("zeek/rfc3030-bdat-example1.pcap",
     # 127.0.0.1:52210 -> :25, Postfix; EHLO localhost; MAIL FROM:<zeek@localhost>; RCPT TO:<root@localhost>;
     # BDAT 86 LAST.
     [{"result": "not_attempted", "offered": True, "attempted": False, "reply_code": None,
       "alerts": {"starttls_not_used"}, "helo_verb": "EHLO", "helo": "localhost", "mail_from_domain": "localhost",
       "rcpt_to_domains": ["localhost"], "transactions": 1, "data_in_clear": True, "auth_in_clear": False,
       "banner_prefix": "220 example.com ESMTP Postfix", "caps_has": ["STARTTLS", "CHUNKING"],
       "client": ("127.0.0.1", 52210), "server": ("127.0.0.1", 25)}]),
    ("zeek/smtp-bdat-pipeline-8bitmime.pcap",
     # 23.128.96.18:56074 -> 217.146.107.83:25, Exim, two-line 220 greeting; EHLO vger.kernel.org; two
     # transactions MAIL From:<linux-kernel-owner@vger.kernel.org> BODY=8BITMIME, RCPT
     # To:<trafficwatcher@foundit.scootmail.com>, BDAT n LAST, pipelined.
     [{"result": "not_attempted", "offered": True, "attempted": False, "reply_code": None,
       "alerts": {"starttls_not_used"}, "helo_verb": "EHLO", "helo": "vger.kernel.org",
       "mail_from_domain": "vger.kernel.org", "rcpt_to_domains": ["foundit.scootmail.com"], "transactions": 2,
       "data_in_clear": True, "auth_in_clear": False, "banner_prefix": "220-scoot-81.wizint.net ESMTP Exim",
       "caps_has": ["STARTTLS", "CHUNKING"], "client": ("23.128.96.18", 56074),
       "server": ("217.146.107.83", 25)}]),
]


def public_cases():
    for rel, exp in PUBLIC_BDAT:
        path = os.path.join(PUBLIC, rel)
        label = f"public {rel}"
        if not os.path.exists(path):
            REPORT.skip(label, "capture absent")
            continue
        r = run(["-r", path])
        errs = []
        check_run(label, r, exp, errs)
        REPORT.case(label, errs)

# ---------------------------------------------------------------- history across files

def history_cases():
    # Lab truth: starttls-tls12-ok (server-side, 198.51.100.25 advertised STARTTLS, 15:15:18) and
    # stripped-removed.client-side (15:16:11): the transparent proxy keeps the server address, so the
    # second is the same server without STARTTLS: starttls_capability_removed, naming the first session.
    a, b = os.path.join(LAB, "starttls-tls12-ok.pcap"), os.path.join(LAB, "stripped-removed.client-side.pcap")
    if not (os.path.exists(a) and os.path.exists(b)):
        REPORT.skip("history", "lab corpus absent")
        return
    with open(a[:-5] + ".truth.json") as f:
        ta = json.load(f)
    with open(b[:-5] + ".truth.json") as f:
        tb = json.load(f)
    if ta["sessions"][0]["server_ip"] != tb["sessions"][0]["server_ip"]:
        REPORT.case("history", ["the chosen lab pair does not share a server address"])
        return
    first = {"result": "upgraded", "alerts": set(), "client": (ta["sessions"][0]["client_ip"], ta["sessions"][0]["client_port"])}
    second = {"result": "not_offered", "offered": False, "caps_lacks": ["STARTTLS"],
              "alerts": {"starttls_capability_removed"},
              "client": (tb["sessions"][0]["client_ip"], tb["sessions"][0]["client_port"]),
              "evidence": {"starttls_capability_removed": ["250-PIPELINING"]}}
    tmp = tempfile.mkdtemp(prefix="tlsobs-scenarios-")
    try:
        for p in (a, b):
            os.symlink(p, os.path.join(tmp, os.path.basename(p)))
        for label, args in (("history: -r tls12-ok -r stripped-removed.client-side", ["-r", a, "-r", b]),
                            ("history: -r DIR holding both", ["-r", tmp]),
                            ("history: reversed arguments, packet-time order", ["-r", b, "-r", a])):
            r = run(args)
            errs = []
            check_run(label, r, [first, second], errs)
            if len(r.sessions) == 2:
                sid1 = get(r.sessions[0], "tlsobs.session_id", "")
                for al in r.alerts_of.get(get(r.sessions[1], "tlsobs.session_id", ""), []):
                    if get(al, "rule.name") == "starttls_capability_removed" and sid1 not in get(al, "event.reason", ""):
                        errs.append(f"{label}: reason {get(al, 'event.reason')!r} does not name the earlier session {sid1}")
            REPORT.case(label, errs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

# ---------------------------------------------------------------- midstream pickup

def midstream_cases():
    """Clean captures cut with `editcap -r IN OUT K-...` (packets before K dropped: the handshake, then the
    banner, the EHLO...). Facts that still hold: no alert (nothing wrong happened), the result is incomplete
    or the full capture's (an undecidable session is never given an alert-worthy result), and the client is
    the side with the ephemeral port, towards the mail port."""
    if not shutil.which("editcap"):
        REPORT.skip("midstream", "editcap missing")
        return
    clean = [(os.path.join(FIX, "smtp-plain.pcap"), "not_offered"),
             (os.path.join(FIX, "starttls-tls12.pcap"), "upgraded"),
             (os.path.join(FIX, "starttls-tls13.pcap"), "upgraded"),
             (os.path.join(FIX, "ipv6-starttls.pcap"), "upgraded"),
             (os.path.join(FIX, "submission-auth-587.pcap"), "upgraded"),
             (os.path.join(LAB, "starttls-tls12-ok.pcap"), "upgraded"),
             (os.path.join(LAB, "pipelining-multi-msg.pcap"), "not_offered"),
             (os.path.join(LAB, "large-10mb-plain.pcap"), "not_offered"),
             (os.path.join(LAB, "large-10mb-starttls.pcap"), "upgraded"),
             (os.path.join(LAB, "submission-587-auth.pcap"), "upgraded")]
    for p in ("pipelining-multi", "bdat", "large-1mb-plain"):
        path = os.path.join(FIX, p + ".pcap")
        if os.path.exists(path) and not offers_starttls(path):  # the re-recorded, clean versions
            clean.append((path, "not_offered"))
    tmp = tempfile.mkdtemp(prefix="tlsobs-midstream-")
    try:
        for path, full_result in clean:
            if not os.path.exists(path):
                continue
            full = run(["-r", path])
            if len(full.sessions) != 1:
                REPORT.case(f"midstream {os.path.basename(path)}", [f"full capture has {len(full.sessions)} sessions"])
                continue
            client = (get(full.sessions[0], "source.ip"), get(full.sessions[0], "source.port"))
            server = (get(full.sessions[0], "destination.ip"), get(full.sessions[0], "destination.port"))
            errs = []
            for k in (4, 5, 6, 8):
                out = os.path.join(tmp, f"{os.path.basename(path)[:-5]}.from{k}.pcap")
                p = subprocess.run(["editcap", "-F", "pcap", "-r", path, out, f"{k}-999999999"],
                                   capture_output=True, text=True)
                if p.returncode != 0:
                    errs.append(f"editcap failed: {p.stderr.strip()}")
                    continue
                r = run(["-r", out])
                label = f"{os.path.basename(path)} from packet {k}"
                errs.extend(f"{label}: {e}" for e in r.errors)
                if len(r.sessions) != 1:
                    errs.append(f"{label}: {len(r.sessions)} sessions, want 1")
                for s in r.sessions:
                    check_session(label, s, {"alerts": set(), "results_allowed": {"incomplete", full_result},
                                             "client": client, "server": server}, r, errs)
                if r.alerts:
                    errs.append(f"{label}: alert events {[get(a, 'rule.name') for a in r.alerts]}")
            REPORT.case(f"midstream {os.path.basename(path)} (from packets 4, 5, 6, 8)", errs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

def after_greeting_cases():
    """A capture that starts right after the server's greeting (the handshake and the 220 banner cut away with
    editcap; the banner is the first packet with payload, found with tshark) still holds every command and
    reply that decide the result and the alerts. Facts: the same expectation as the full capture (the fixture
    table), with no banner (none was seen: the first reply seen answers the client's EHLO)."""
    if not shutil.which("editcap") or not shutil.which("tshark"):
        REPORT.skip("midstream after the greeting", "editcap or tshark missing")
        return
    names = ["smtp-plain", "starttls-tls13", "auth-cleartext", "client-ignores-starttls", "starttls-refused-454",
             "mitm-mask.client-side", "mitm-rewrite-command.client-side", "mitm-rewrite-command.server-side",
             "mitm-inject-command.server-side", "pipelining-multi", "bdat", "requiretls-in-clear",
             "ehlo-refused-helo.client-side", "fake-220.client-side"]
    table = dict(FIXTURES)
    tmp = tempfile.mkdtemp(prefix="tlsobs-greeting-")
    try:
        for name in names:
            path = os.path.join(FIX, name + ".pcap")
            label = f"midstream {name} after the greeting"
            if not os.path.exists(path) or name not in table or len(table[name]) != 1:
                REPORT.skip(label, "capture not present (yet)")
                continue
            p = subprocess.run(["tshark", "-r", path, "-Y", "tcp.len > 0", "-T", "fields", "-e", "frame.number"],
                               capture_output=True, text=True)
            frames = [int(x) for x in p.stdout.split() if x.strip().isdigit()]
            if p.returncode != 0 or not frames:
                REPORT.case(label, [f"tshark found no payload in {path}: {p.stderr.strip()[:200]}"])
                continue
            out = os.path.join(tmp, name + ".after-greeting.pcap")
            e = subprocess.run(["editcap", "-F", "pcap", "-r", path, out, f"{frames[0] + 1}-999999999"],
                               capture_output=True, text=True)
            if e.returncode != 0:
                REPORT.case(label, [f"editcap failed: {e.stderr.strip()}"])
                continue
            exp = dict(table[name][0])
            exp.pop("banner_prefix", None)
            r = run(["-r", out])
            errs = []
            check_run(label, r, [exp], errs)
            for s in r.sessions:
                if get(s, "tlsobs.smtp.banner") is not ABSENT:
                    errs.append(f"{label}: banner {get(s, 'tlsobs.smtp.banner')!r}, want absent (the greeting was cut)")
            REPORT.case(label, errs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

# ---------------------------------------------------------------- privacy

def b64(s):
    return base64.b64encode(s.encode()).decode().rstrip("=")


def read_env(path):
    env = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line and not line.lstrip().startswith("#"):
                    k, v = line.rstrip("\n").split("=", 1)
                    env[k.strip()] = " ".join(shlex.split(v)) if v.strip() else ""
    except OSError:
        pass
    return env


ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def strings_of(obj, path=""):
    """(dotted path, string value) of every string value in an event."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from strings_of(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings_of(v, path)
    elif isinstance(obj, str):
        yield path, obj


def privacy_cases():
    """Every capture, run with default verbosity: no secret, content or local part in stdout or stderr."""
    fixtures = sorted(glob.glob(os.path.join(FIX, "*.pcap")))
    lab = sorted(glob.glob(os.path.join(LAB, "*.pcap")))
    public = [os.path.join(PUBLIC, rel) for rel, _ in PUBLIC_BDAT if os.path.exists(os.path.join(PUBLIC, rel))]
    # Fixtures (README): AUTH PLAIN as alice@example.net / fixture-password; swaks and the python client send
    # "Subject: tlsobs fixture NAME", "Hello from tlsobs fixture NAME ...", "Message N of 3 in one pipelined
    # session.", "This message is sent with BDAT (RFC 3030).", a Message-Id and X-Mailer header (tshark follow).
    fix_user, fix_pass = "alice@example.net", "fixture-password"
    secrets = [fix_pass, b64(f"\0{fix_user}\0{fix_pass}"), b64(fix_pass), b64(fix_user)]
    content = ["Subject: tlsobs fixture", "Hello from tlsobs fixture", "tlsobs fixture ", "in one pipelined session",
               "sent with BDAT", "line starting with a dot", "X-Mailer", "Message-Id", "swaks v2"]
    locals_ = ["alice@", "bob@", "sender@", "carol@", "zeek@", "root@", "linux-kernel-owner@", "trafficwatcher@"]
    env = read_env(os.path.join(LAB, "variant.env"))
    if env.get("AUTH_PASS"):
        u, pw, dom = env.get("AUTH_USER", ""), env["AUTH_PASS"], env.get("SRV_DOMAIN", "")
        secrets += [pw, b64(pw), b64(f"\0{u}\0{pw}"), b64(f"\0{u}@{dom}\0{pw}"), b64(f"{u}@{dom}")]
    if env.get("SUBJECT_WORD"):
        content.append(env["SUBJECT_WORD"])
    for k in ("MAIL_FROM_LOCAL", "RCPT_LOCAL", "RCPT2_LOCAL", "AUTH_USER"):
        if env.get(k):
            locals_.append(env[k] + "@")
    if not lab:
        REPORT.skip("privacy (lab captures)", f"{LAB} absent")

    def scan(label, r, allow_local_in=()):
        errs = list(r.errors)
        text = r.stdout + "\n" + r.stderr
        for s in secrets:
            if s and s in text:
                errs.append(f"{label}: credential {s!r} appears in the output")
        for c in content:
            if c in text:
                errs.append(f"{label}: message content {c!r} appears in the output")
        for lp in locals_:
            if lp in r.stderr:
                errs.append(f"{label}: local part {lp!r} appears on stderr")
        for e in r.events:
            for path, v in strings_of(e):
                if path in allow_local_in or (allow_local_in and path == "tlsobs.evidence" and v.upper().startswith("MAIL FROM")):
                    continue
                if ADDRESS.search(v) or any(lp in v for lp in locals_):
                    errs.append(f"{label}: {path} = {v[:120]!r} holds an address local part")
        return errs

    errs, n = [], 0
    for path in fixtures + lab + public:
        p = subprocess.run([TLSOBS, "-r", path], capture_output=True, text=True, errors="replace", timeout=600)
        r = Run(["-r", path], p.stdout, p.stderr, p.returncode)
        ALL_RUNS.append(r)
        errs += scan(os.path.basename(path), r)
        n += 1
    REPORT.case(f"privacy: {n} captures, default verbosity, stdout and stderr", errs)

    # keep_local_parts: the parser then writes "local@domain" in mail_from_domain and rcpt_to_domains (and
    # keeps the local part in the MAIL FROM evidence line); nowhere else, and never a secret or content.
    keep = [(os.path.join(FIX, "auth-cleartext.pcap"), "alice@example.net", ["bob@example.net"]),
            (os.path.join(FIX, "smtp-plain.pcap"), "sender@example.org", ["bob@example.net"]),
            (os.path.join(LAB, "auth-cleartext-587.pcap"), "alice@example.net", ["carol@example.net"]),
            (os.path.join(FIX, "requiretls-in-clear.pcap"), "bob@example.org", ["bob@example.net"]),
            (os.path.join(LAB, "pipelining-multi-msg.pcap"), "bob@example.org", ["alice@example.net", "carol@example.net"])]
    errs, n = [], 0
    for path, mf, rc in keep:
        if not os.path.exists(path):
            continue
        n += 1
        r = run(["-r", path, "--set", "smtp.keep_local_parts=true"])
        label = f"{os.path.basename(path)} keep_local_parts"
        errs += scan(label, r, allow_local_in=("tlsobs.smtp.mail_from_domain", "tlsobs.smtp.rcpt_to_domains"))
        if len(r.sessions) != 1:
            errs.append(f"{label}: {len(r.sessions)} sessions, want 1")
            continue
        check_session(label, r.sessions[0], {"mail_from_domain": mf, "rcpt_to_domains": rc}, r, errs)
        plain = run(["-r", path])
        if plain.sessions:
            check_session(f"{os.path.basename(path)} default", plain.sessions[0],
                          {"mail_from_domain": mf.split("@")[1],
                           "rcpt_to_domains": list(dict.fromkeys(x.split("@")[1] for x in rc))},
                          plain, errs)
    REPORT.case(f"privacy: smtp.keep_local_parts=true on {n} captures (local parts only in the address fields)", errs)

# ---------------------------------------------------------------- main

def gap_cases():
    """Downgrade captures with the packet that carries the EHLO reply deleted (`editcap IN OUT N`): the
    decision fell in a capture gap, so the session must say `incomplete`, count the gap, and raise none of
    the STARTTLS rules (tlsobs-1001 to tlsobs-1012) however damning the rest looks."""
    if not shutil.which("editcap") or not shutil.which("tshark"):
        REPORT.skip("decision in a gap", "editcap or tshark missing")
        return
    starttls_rules = RULES - {"auth_in_clear", "requiretls_in_clear", "tls_version_obsolete", "tls_cipher_weak",
                       "tls_certificate_invalid", "tls_interception_suspected", "certificate_expiring",
                       "certificate_expired"}
    cases = [os.path.join(FIX, n + ".pcap") for n in ("mitm-mask.client-side", "mitm-refuse.client-side",
                                                       "starttls-refused-454", "client-ignores-starttls")]
    cases += [os.path.join(LAB, n + ".pcap") for n in ("stripped-xxxxxxxa.client-side", "starttls-refused-454")]
    tmp = tempfile.mkdtemp(prefix="tlsobs-gap-")
    try:
        for path in cases:
            if not os.path.exists(path):
                continue
            label = f"decision in a gap: {os.path.basename(path)} without its EHLO reply"
            frames = subprocess.run(["tshark", "-r", path, "-Y", 'tcp.len > 0 && frame contains "250-"', "-T",
                                     "fields", "-e", "frame.number"], capture_output=True, text=True).stdout.split()
            if not frames:
                REPORT.case(label, ["no EHLO reply found with tshark"])
                continue
            out = os.path.join(tmp, os.path.basename(path))
            e = subprocess.run(["editcap", "-F", "pcap", path, out, frames[0]], capture_output=True, text=True)
            if e.returncode != 0:
                REPORT.case(label, [f"editcap failed: {e.stderr.strip()}"])
                continue
            r = run(["-r", out])
            errs = list(r.errors)
            if not r.sessions:
                errs.append("no session reported")
            for sess in r.sessions:
                if get(sess, "tlsobs.smtp.starttls.result") != "incomplete":
                    errs.append(f"result {get(sess, 'tlsobs.smtp.starttls.result')}, want incomplete")
                if not get(sess, "tlsobs.flow.gaps", 0):
                    errs.append("tlsobs.flow.gaps is 0 although a packet is missing")
                raised = set(get(sess, "tlsobs.alerts", [])) & starttls_rules
                if raised:
                    errs.append(f"H-rule alerts on an undecidable session: {sorted(raised)}")
            REPORT.case(label, errs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if not os.access(TLSOBS, os.X_OK):
        print(f"tlsobs binary not found at {TLSOBS}: set TLSOBS")
        return 1
    fixture_cases()
    lab_cases()
    public_cases()
    history_cases()
    midstream_cases()
    after_greeting_cases()
    gap_cases()
    privacy_cases()
    lines = sum(len(r.events) for r in ALL_RUNS)
    ids = sum(len(r.sessions) for r in ALL_RUNS)
    bad = [e for r in ALL_RUNS for e in r.errors]
    REPORT.case(f"format: {len(ALL_RUNS)} runs, {lines} event lines valid JSON, {ids} session ids well-formed and "
                f"unique per run, alerts joined to sessions", bad[:50])
    print(f"\nscenarios: {REPORT.ok} ok, {REPORT.failed} failed, {REPORT.skipped} skipped")
    return 1 if REPORT.failed else 0


if __name__ == "__main__":
    sys.exit(main())
