#!/usr/bin/env python3
"""privacy.py: message content and AUTH credentials never reach an event, a log line or a metric.

The captures in tests/fixtures/privacy/ (scripts/make-privacy-fixtures.sh: real Postfix with Cyrus SASL,
swaks and Python's smtplib, all in clear text) carry sentinel strings, listed in
tests/fixtures/privacy/sentinels.env, in the places a sensor must never report: AUTH PLAIN / LOGIN /
CRAM-MD5 user names and passwords (good and bad), the Subject, another header, the body, lines of the body
that look like SMTP commands, a MIME attachment (base64 on the wire) and its file name, BDAT chunk data,
and the MAIL FROM AUTH= and RCPT ORCPT= parameters; the envelope local parts only count when
smtp.keep_local_parts is false.

Subcommands
  wire DIR         prove the sentinels are on the wire of DIR/*.pcap (reassembled client -> server bytes):
                   every sentinel in its expected encoding, and each AUTH / BDAT variant present.
                   make-privacy-fixtures.sh runs it on what it recorded; `test` runs it first.
  test             the whole test (privacy.sh): env TLSOBS, TLSOBS_SOURCE_DIR; optional TLSOBS_CORPUS.
  scan FILE...     scan files (sensor outputs) for any sentinel; exit 1 on a hit (for other tests).

A hit is any of, case-insensitively where it makes sense:
  * a sentinel as it is, or in hex;
  * the base64 of a sentinel at each of the three byte alignments (so it is found inside any longer base64
    text, e.g. the AUTH PLAIN blob "\\0user\\0password", which is also checked as it is);
  * the word SENTINEL itself (a sentinel cut short by a length limit), plain, hex, or inside any base64 run;
  * an AUTH command with its argument ("AUTH PLAIN <anything>"): the initial response is a credential.
--dump-streams is excluded by design (README: it writes what the parsers see); the test checks instead that
the dump DOES hold the sentinels, which proves the sensor read the content it must not report.
"""
import base64
import binascii
import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------- sentinels and their forms

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TLSOBS_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
PRIV = os.path.join(SRC, "tests", "fixtures", "privacy")

# Sentinels that are envelope local parts: allowed in the address fields when smtp.keep_local_parts is true.
LOCAL_PART_KEYS = ("SENTINEL_MAIL_FROM_LOCAL", "SENTINEL_RCPT_LOCAL")
# Where each sentinel must be found on the wire: "plain" (as it is), "b64" (only base64-encoded) or "any".
# "split": cut in two by a BDAT chunk header, so each half is on the wire and the whole only in the chunk data.
WIRE_FORM = {"SENTINEL_ATTACH": "b64", "SENTINEL_USER": "any", "SENTINEL_PASS": "b64", "SENTINEL_BADPASS": "b64",
             "SENTINEL_BDAT": "split"}


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k.strip()] = v.strip().strip("'\"")
    return env


def b64_cores(s):
    """The base64 characters that depend only on s, for s starting at byte offset 0, 1 and 2 of a
    base64 run: one of them appears in the encoding of any text that contains s."""
    s = s.encode() if isinstance(s, str) else s
    out = []
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + s).decode()
        out.append(enc[-(-8 * k // 6):(8 * (k + len(s))) // 6])
    return out


def forms(value):
    """(form name, needle, case-insensitive) for one secret value."""
    f = [("plain", value, True), ("hex", value.encode().hex(), True)]
    f += [(f"base64@{k}", c, False) for k, c in enumerate(b64_cores(value))]
    return f


class Secrets:
    def __init__(self):
        self.items = []   # (label, needle, casefold)

    def add(self, label, value, min_len=6):
        if value and len(value) >= min_len:
            for name, needle, ci in forms(value):
                self.items.append((f"{label} ({name})", needle, ci))

    def add_exact(self, label, value):
        if value:
            self.items.append((label, value, False))


B64_RUN = re.compile(r"[A-Za-z0-9+/]{11,}")
MECHS = r"(?:PLAIN|LOGIN|CRAM-MD5|DIGEST-MD5|NTLM|GSSAPI|XOAUTH2?|OAUTHBEARER|ANONYMOUS|EXTERNAL|SCRAM-[A-Z0-9-]+)"
# "AUTH <mechanism> <initial response>": base64 (8+ characters, not a further mechanism name, as in an EHLO
# capability line) or "=" (an empty response)
AUTH_ARG = re.compile(r"\bAUTH[ \t]+" + MECHS + r"[ \t]+(?!" + MECHS + r"\b)([A-Za-z0-9+/]{8,}={0,2}|=)(?![A-Za-z0-9+/=])",
                      re.IGNORECASE)


def sentinel_word_hits(text):
    """The word SENTINEL, plain, in hex, or inside a base64 run (a cut-short sentinel)."""
    hits = []
    low = text.lower()
    if "sentinel" in low:
        hits.append("the word SENTINEL")
    if b"SENTINEL".hex() in low:
        hits.append("the word SENTINEL in hex")
    for m in B64_RUN.finditer(text):
        run = m.group(0)
        for k in range(4):
            part = run[k:]
            part = part[:len(part) - len(part) % 4]
            try:
                if b"SENTINEL" in base64.b64decode(part).upper():
                    hits.append(f"base64 {run[:40]!r} decodes to text with SENTINEL")
                    break
            except (binascii.Error, ValueError):
                pass
    return hits


def scan_text(where, text, secrets, word=True):
    """Every hit in text, as 'where: what' lines."""
    errs = []
    low = text.lower()
    for label, needle, ci in secrets.items:
        if (needle.lower() in low) if ci else (needle in text):
            i = low.find(needle.lower()) if ci else text.find(needle)
            errs.append(f"{where}: {label} {needle!r} in ...{text[max(0, i - 60):i + len(needle) + 20]!r}...")
    if word:  # what is left once the known sentinels are taken out: a cut-short or re-encoded one
        rest = text
        for _, needle, ci in secrets.items:
            rest = re.sub(re.escape(needle), "<hit>", rest, flags=re.IGNORECASE if ci else 0)
        errs += [f"{where}: {h}" for h in sentinel_word_hits(rest)]
    for m in AUTH_ARG.finditer(text):
        errs.append(f"{where}: an AUTH command with its credential argument: {text[m.start():m.end() + 40]!r}")
    return errs


def sentinel_secrets(env, skip=()):
    s = Secrets()
    for k, v in sorted(env.items()):
        if k.startswith("SENTINEL_") and k != "SENTINEL_REALM" and k not in skip:
            s.add(k, v)
            if WIRE_FORM.get(k) == "split":  # each half alone, as a sensor that never joins the chunks sees it
                s.add(f"{k} second half", v[len(v) // 2:])
    user = env.get("SENTINEL_USER", "") + "@" + env.get("SENTINEL_REALM", "")
    for p in ("SENTINEL_PASS", "SENTINEL_BADPASS"):
        if env.get(p):
            blob = base64.b64encode(f"\0{user}\0{env[p]}".encode()).decode()
            s.add_exact(f"AUTH PLAIN blob \\0user\\0{p.split('_', 1)[1].lower()}", blob)
            s.add_exact(f"AUTH PLAIN blob \\0user\\0{p.split('_', 1)[1].lower()} (unpadded)", blob.rstrip("="))
    return s

# ---------------------------------------------------------------- pcap reading (classic pcap only)


def read_pcap(path):
    """(header bytes, [(record header bytes, packet bytes)], linktype, endian) of a classic pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    recs, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        recs.append((data[off:off + 16], data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return data[:24], recs, linktype & 0xFFFF


def tcp_of(pkt, linktype):
    """(src, sport, dst, dport, seq, flags, payload) of a TCP/IP packet, or None."""
    if linktype == 1:          # Ethernet, VLAN tags skipped
        off, et = 14, struct.unpack("!H", pkt[12:14])[0]
        while et in (0x8100, 0x88A8) and len(pkt) >= off + 4:
            et = struct.unpack("!H", pkt[off + 2:off + 4])[0]
            off += 4
    elif linktype == 113:      # Linux cooked v1
        off, et = 16, struct.unpack("!H", pkt[14:16])[0]
    elif linktype == 276:      # Linux cooked v2
        off, et = 20, struct.unpack("!H", pkt[0:2])[0]
    elif linktype in (101, 12, 14):  # raw IP
        off, et = 0, 0x86DD if pkt[:1] and pkt[0] >> 4 == 6 else 0x0800
    else:
        return None
    ip = pkt[off:]
    if et == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        ihl, total = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
        src, dst, seg = ip[12:16], ip[16:20], ip[ihl:total]
    elif et == 0x86DD and len(ip) >= 40 and ip[6] == 6:
        src, dst, seg = ip[8:24], ip[24:40], ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
    else:
        return None
    if len(seg) < 20:
        return None
    sport, dport, seq = struct.unpack("!HHI", seg[:8])
    doff = (seg[12] >> 4) * 4
    return src, sport, dst, dport, seq, seg[13], seg[doff:]


def streams(path):
    """{(src, sport, dst, dport): bytes} per direction, in sequence order (duplicates dropped)."""
    _, recs, lt = read_pcap(path)
    segs = {}
    for _, pkt in recs:
        t = tcp_of(pkt, lt)
        if t and t[6]:
            segs.setdefault(t[:4], []).append((t[4], t[6]))
    out = {}
    for key, lst in segs.items():
        base = lst[0][0]
        lst = sorted(((s - base) % 2**32, p) for s, p in lst)
        buf, end = bytearray(), 0
        for rel, p in lst:
            if rel + len(p) > end:
                buf += p[max(0, end - rel):]
                end = rel + len(p)
        out[key] = bytes(buf)
    return out


def mail_port(key):
    return min(key[1], key[3])

# ---------------------------------------------------------------- wire check


def wire_check(d):
    """Errors if a sentinel or an AUTH/BDAT variant is not on the wire of d/*.pcap."""
    env = read_env(os.path.join(d, "sentinels.env"))
    pcaps = sorted(glob.glob(os.path.join(d, "*.pcap")))
    errs, lines = [], []
    if not pcaps:
        return [f"{d}: no captures"], lines
    to_server = {}   # pcap -> concatenated client -> server bytes
    for p in pcaps:
        st = streams(p)
        to_server[p] = b"\n".join(v for k, v in st.items() if k[3] == mail_port(k))
    for k, v in sorted(env.items()):
        if not k.startswith("SENTINEL_") or k == "SENTINEL_REALM":
            continue
        where_plain = [os.path.basename(p) for p, b in to_server.items() if v.encode() in b]
        where_b64 = [os.path.basename(p) for p, b in to_server.items()
                     if any(c.encode() in b for c in b64_cores(v))]
        want = WIRE_FORM.get(k, "plain")
        h = len(v) // 2
        where_split = [os.path.basename(p) for p, b in to_server.items()
                       if re.search(re.escape(v[:h].encode()) + rb"BDAT [0-9]+( LAST)?\r\n" + re.escape(v[h:].encode()), b)]
        ok = {"plain": where_plain, "b64": where_b64, "any": where_plain + where_b64, "split": where_split}[want]
        lines.append(f"  {k:26} {v:24} plain in {len(where_plain)}, base64 in {len(where_b64)}"
                     + (f", cut by a BDAT header in {len(where_split)}" if want == "split" else "") + " capture(s)")
        if not ok:
            errs.append(f"{k} ({v}) is not on the wire ({want} form) of any capture in {d}")
    allb = b"\n".join(to_server.values())
    variants = {
        "AUTH PLAIN with an initial response": rb"(?im)^AUTH PLAIN [A-Za-z0-9+/=]{8,}\r$",
        "AUTH PLAIN without an initial response (334, then the blob)": rb"(?im)^AUTH PLAIN\r$",
        "AUTH LOGIN without an initial response": rb"(?im)^AUTH LOGIN\r$",
        "AUTH LOGIN with the user name as initial response": rb"(?im)^AUTH LOGIN [A-Za-z0-9+/=]{8,}\r$",
        "AUTH CRAM-MD5": rb"(?im)^AUTH CRAM-MD5\r$",
        "BDAT ... LAST": rb"(?m)^BDAT [0-9]+ LAST\r$",
        "MAIL FROM with AUTH=": rb"(?im)^MAIL FROM:<[^>]*>.* AUTH=",
        "RCPT TO with ORCPT=": rb"(?im)^RCPT TO:<[^>]*>.* ORCPT=",
    }
    for what, rx in variants.items():
        if not re.search(rx, allb):
            errs.append(f"no capture in {d} has {what}")
    to_client = b"\n".join(v for p in pcaps for k, v in streams(p).items() if k[1] == mail_port(k))
    for what, rx in {"235 (AUTH accepted)": rb"(?m)^235 ", "535 (AUTH refused)": rb"(?m)^535 ",
                     "250 ... queued": rb"(?m)^250 2\.0\.0 Ok: queued"}.items():
        if not re.search(rx, to_client):
            errs.append(f"no capture in {d} has the reply {what}")
    ports = {mail_port(k) for p in pcaps for k in streams(p)}
    for port in (25, 587):
        if port not in ports:
            errs.append(f"no capture in {d} on port {port}")
    return errs, lines

# ---------------------------------------------------------------- running the sensor


class Run:
    def __init__(self, label, args, stdout, stderr, files, rc):
        self.label, self.args, self.stdout, self.stderr, self.files, self.rc = label, args, stdout, stderr, files, rc
        self.events = []
        self.bad_json = []
        for n, line in enumerate(stdout.splitlines(), 1):
            try:
                self.events.append(json.loads(line))
            except ValueError:
                self.bad_json.append(n)

    def texts(self):
        yield "stdout", self.stdout
        yield "stderr", self.stderr
        for name, t in self.files.items():
            yield name, t


def sensor(tlsobs, label, args, work, stats="1s"):
    """Runs the sensor with every output it has: events on stdout and into a file, -v -v on stderr,
    tlsobs.stats every `stats` (packet time) and at exit."""
    out = os.path.join(work, "events.json")
    if os.path.exists(out):
        os.unlink(out)
    cmd = [tlsobs, "-v", "-v", "-o", "json:-", "-o", f"json:{out}", "--set", f"stats.interval={stats}"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=900)
    files = {}
    if os.path.exists(out):
        with open(out, errors="replace") as f:
            files["json:FILE"] = f.read()
    return Run(label, cmd, p.stdout, p.stderr, files, p.returncode)


def get(e, path):
    for part in path.split("."):
        if not isinstance(e, dict) or part not in e:
            return None
        e = e[part]
    return e


def dataset(r, name):
    return [e for e in r.events if get(e, "event.dataset") == name]

# ---------------------------------------------------------------- secrets of the other captures


def tshark_facts(path):
    """AUTH user names / passwords (decoded) and Subjects of a capture, as tshark's SMTP/IMF dissectors see
    them: an independent decoder's view of what must not be reported."""
    if not shutil.which("tshark"):
        return []
    p = subprocess.run(["tshark", "-n", "-r", path, "-Y", "smtp.req.command or smtp.auth.username or "
                        "smtp.auth.password or imf.subject", "-T", "fields", "-E", "separator=\t",
                        "-e", "smtp.req.command", "-e", "smtp.req.parameter", "-e", "smtp.auth.username",
                        "-e", "smtp.auth.password", "-e", "imf.subject"],
                       capture_output=True, text=True, errors="replace", timeout=300)
    facts = []

    def dec(b):
        try:
            return base64.b64decode(b + "=" * (-len(b) % 4)).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return ""
    for line in p.stdout.splitlines():
        f = (line.split("\t") + [""] * 5)[:5]
        cmd, param, user, pw, subj = f
        if cmd.upper() == "AUTH" and param.upper().startswith("PLAIN "):
            parts = dec(param.split(" ", 1)[1].strip()).split("\0")
            if len(parts) == 3:
                facts += [("AUTH PLAIN user", parts[1]), ("AUTH PLAIN password", parts[2])]
        for label, v in (("AUTH user", user), ("AUTH password", pw)):
            if v:
                d = dec(v.strip())
                facts.append((label, d if d.isprintable() else ""))
        if subj:
            facts.append(("Subject", subj.strip()))
    return [(label, v) for label, v in facts if v]

# ---------------------------------------------------------------- the test


class Report:
    def __init__(self):
        self.failed = 0

    def case(self, name, errs, limit=20):
        """Errors "RUN [OUTPUT]: what" are grouped by what, with the outputs that showed it."""
        if errs:
            self.failed += 1
            print(f"FAIL {name}")
            groups = {}
            for e in errs:
                m = re.match(r"^(.*? \[[^]]+\]): (.*)$", e, re.S)
                where, what = (m.group(1), m.group(2)) if m else ("", e)
                groups.setdefault(what, []).append(where)
            for what, wheres in list(groups.items())[:limit]:
                print(f"     {what}")
                if any(wheres):
                    more = f" and {len(wheres) - 4} more" if len(wheres) > 4 else ""
                    print(f"       in {', '.join(wheres[:4])}{more}")
            if len(groups) > limit:
                print(f"     ... and {len(groups) - limit} more")
        else:
            print(f"ok   {name}")
        sys.stdout.flush()

    def skip(self, name, why):
        print(f"skip {name}: {why}")


def scan_run(r, secrets, allowed=None):
    """Hits in every output of a run. allowed: {sentinel value: set of event field paths where it may be}."""
    errs = []
    for where, text in r.texts():
        if allowed and where != "stderr":
            text = strip_allowed(text, allowed)
        errs += scan_text(f"{r.label} [{where}]", text, secrets)
    if r.bad_json:
        errs.append(f"{r.label}: stdout lines {r.bad_json[:5]} are not JSON")
    return errs


def strip_allowed(text, allowed):
    """Event lines with the allowed sentinels removed from the allowed fields only."""
    out = []
    for line in text.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            out.append(line)
            continue

        def walk(o, path):
            if isinstance(o, dict):
                return {k: walk(v, f"{path}.{k}" if path else k) for k, v in o.items()}
            if isinstance(o, list):
                return [walk(v, path) for v in o]
            if isinstance(o, str):
                for value, paths in allowed.items():
                    if path in paths or (path == "tlsobs.evidence" and o.upper().startswith(("MAIL FROM", "RCPT TO"))
                                         and "tlsobs.evidence" in paths):
                        o = re.sub(re.escape(value), "<allowed-local-part>", o, flags=re.IGNORECASE)
            return o
        out.append(json.dumps(walk(e, "")))
    return "\n".join(out)


def truncated_copies(pcap, work):
    """(index, path) of copies of pcap that start at each packet carrying TCP payload after the first:
    a sensor started while the session was already running (mid-AUTH, mid-DATA, mid-BDAT)."""
    hdr, recs, lt = read_pcap(pcap)
    out = []
    for i in range(1, len(recs)):
        t = tcp_of(recs[i][1], lt)
        if not t or not t[6]:
            continue
        path = os.path.join(work, f"mid-{i}.pcap")
        with open(path, "wb") as f:
            f.write(hdr)
            for rh, pkt in recs[i:]:
                f.write(rh + pkt)
        out.append((i, path))
    return out


def test():
    tlsobs = os.environ.get("TLSOBS")
    if not tlsobs:
        sys.exit("TLSOBS must name the tlsobs binary")
    rep = Report()
    envf = os.path.join(PRIV, "sentinels.env")
    pcaps = sorted(glob.glob(os.path.join(PRIV, "*.pcap")))
    if not os.path.exists(envf) or not pcaps:
        print(f"FAIL privacy captures missing in {PRIV}: run scripts/make-privacy-fixtures.sh")
        return 1
    env = read_env(envf)

    # 1. not vacuous: the sentinels and every AUTH/BDAT variant are on the wire
    errs, lines = wire_check(PRIV)
    print("\n".join(lines))
    rep.case(f"the sentinels and the AUTH PLAIN/LOGIN/CRAM-MD5, BDAT, AUTH=/ORCPT= variants are on the wire of "
             f"{len(pcaps)} captures", errs)
    if errs:
        return 1

    secrets = sentinel_secrets(env)
    secrets_keep = sentinel_secrets(env, skip=LOCAL_PART_KEYS)
    corpus = os.environ.get("TLSOBS_CORPUS") or os.path.abspath(os.path.join(SRC, "..", "shared", "corpus"))
    work = tempfile.mkdtemp(prefix="tlsobs-privacy-")
    try:
        # 2. each privacy capture, every output
        errs, info = [], []
        for p in pcaps:
            b = os.path.basename(p)
            r = sensor(tlsobs, b, ["-r", p], work)
            errs += scan_run(r, secrets)
            if r.rc != 0:
                errs.append(f"{b}: exit {r.rc}: {r.stderr[-300:]!r}")
            sess = dataset(r, "tlsobs.session")
            syns = sum(1 for k in streams(p) if k[3] == mail_port(k))
            if len(sess) != syns:
                errs.append(f"{b}: {len(sess)} session events for {syns} sessions")
            if not any(get(s, "tlsobs.smtp.auth_in_clear") for s in sess):
                errs.append(f"{b}: no session says auth_in_clear: the sensor did not follow the AUTH exchange")
            if "json:FILE" not in r.files or len(r.files["json:FILE"].splitlines()) != len(r.events):
                errs.append(f"{b}: the json:FILE output does not hold the same events as stdout")
            if not dataset(r, "tlsobs.stats"):
                errs.append(f"{b}: no tlsobs.stats event")
            info.append(f"{b}: {len(sess)} sessions, {len(dataset(r, 'tlsobs.alert'))} alerts "
                        f"({','.join(sorted({get(a, 'rule.name') for a in dataset(r, 'tlsobs.alert')}))})")
        print("     " + "\n     ".join(info))
        rep.case(f"{len(pcaps)} sentinel captures: no sentinel in events (stdout, json:FILE), -v -v stderr, "
                 f"stats or the exit summary", errs)

        # 3. all of them in one run: periodic stats (packet time) as well as the final one
        # (in a file run the sensor looks at the stats clock every 2048 packets: the fixtures make it get there)
        both = os.path.join(work, "both")
        os.mkdir(both)
        for p in pcaps + sorted(glob.glob(os.path.join(SRC, "tests", "fixtures", "*.pcap"))):
            os.symlink(p, os.path.join(both, ("privacy-" if p in pcaps else "") + os.path.basename(p)))
        r = sensor(tlsobs, "privacy/ + fixtures (one run)", ["-r", both], work)
        errs = scan_run(r, secrets)
        periodic = [e for e in dataset(r, "tlsobs.stats") if get(e, "tlsobs.stats.final") is False]
        if not periodic:
            errs.append("no periodic (final: false) tlsobs.stats event with stats.interval=1s")
        if r.rc != 0:
            errs.append(f"exit {r.rc}: {r.stderr[-300:]!r}")
        rep.case(f"privacy/ and tests/fixtures/ as one run: {len(periodic)} periodic tlsobs.stats + the final one, "
                 f"no sentinel", errs)

        # 4. smtp.keep_local_parts=true: the envelope local parts may appear in the address fields, nothing else
        allowed = {env[k]: {"tlsobs.smtp.mail_from_domain", "tlsobs.smtp.rcpt_to_domains", "tlsobs.evidence"}
                   for k in LOCAL_PART_KEYS if env.get(k)}
        errs, seen_local = [], False
        for p in pcaps:
            r = sensor(tlsobs, os.path.basename(p) + " keep_local_parts", ["-r", p, "--set",
                                                                          "smtp.keep_local_parts=true"], work)
            errs += scan_run(r, secrets_keep, allowed)
            seen_local |= any(v.lower() in r.stdout.lower() for v in allowed)
        if not seen_local:
            errs.append("keep_local_parts=true never showed an envelope local part: the check is vacuous")
        rep.case("smtp.keep_local_parts=true: envelope local parts only in mail_from_domain / rcpt_to_domains "
                 "(and MAIL FROM / RCPT TO evidence); no credential, content or AUTH=/ORCPT= identity", errs)

        # 5. --dump-streams does hold them (documented debugging output): the sensor did read the content
        dump = os.path.join(work, "dump")
        os.mkdir(dump)
        r = sensor(tlsobs, "privacy/ --dump-streams", ["--dump-streams", dump] + [a for p in pcaps for a in ("-r", p)],
                   work)
        errs = scan_run(r, secrets)
        dumped = b""
        for f in glob.glob(os.path.join(dump, "**"), recursive=True):
            if os.path.isfile(f):
                with open(f, "rb") as fh:
                    dumped += fh.read()
        for k, v in env.items():
            if k.startswith("SENTINEL_") and k != "SENTINEL_REALM":
                needles = [v[:len(v) // 2], v[len(v) // 2:]] if WIRE_FORM.get(k) == "split" else [v]
                if not all(any(n.encode() in dumped for n in [x] + b64_cores(x)) for x in needles):
                    errs.append(f"--dump-streams output lacks {k}: the sensor never saw it")
        rep.case("--dump-streams (excluded: prints streams by design) holds every sentinel, "
                 "while its events and stderr hold none", errs)

        # 6. picked up mid-session: the sensor starts at every data-carrying packet (mid-AUTH, mid-DATA, mid-BDAT)
        errs, n = [], 0
        mid = os.path.join(work, "mid")
        for p in pcaps:
            os.makedirs(mid, exist_ok=True)
            for i, path in truncated_copies(p, mid):
                r = sensor(tlsobs, f"{os.path.basename(p)} from packet {i + 1}", ["-r", path], work)
                errs += scan_run(r, secrets)
                if r.rc != 0:
                    errs.append(f"{r.label}: exit {r.rc}")
                n += 1
            shutil.rmtree(mid)
        rep.case(f"{n} mid-session pickups (the capture starts at each data packet): no sentinel in any output", errs)

        # 7. every other capture: no sentinel, no credential or Subject that tshark finds in it
        others = sorted(glob.glob(os.path.join(SRC, "tests", "fixtures", "*.pcap")))
        if os.path.isdir(corpus):
            others += sorted(glob.glob(os.path.join(corpus, "lab", "*.pcap")))
            others += sorted(p for p in glob.glob(os.path.join(corpus, "public", "**", "*.pcap*"), recursive=True)
                             if not p.endswith(".json"))
        else:
            rep.skip("corpus captures", f"{corpus} absent")
        known = [("fixtures AUTH password (tests/fixtures/README.md)", "fixture-password")]
        lab_env = os.path.join(corpus, "lab", "variant.env")
        if os.path.exists(lab_env):
            le = read_env(lab_env)
            known += [("lab AUTH password", le.get("AUTH_PASS", "")), ("lab Subject", le.get("SUBJECT_WORD", ""))]
        errs, n, nfacts = [], 0, 0
        have_tshark = shutil.which("tshark") is not None
        for p in others:
            s = sentinel_secrets(env)
            for label, v in known:
                s.add(label, v)
            facts = tshark_facts(p)
            for label, v in facts:
                # user names are addresses (their domain is reported on purpose): check the whole name only
                if "user" in label:
                    if len(v) >= 8:
                        s.add_exact(f"{label} {v!r}", v)
                else:
                    s.add(f"{label} {v!r}", v, min_len=8)
            nfacts += len(facts)
            rel = os.path.relpath(p, os.path.dirname(SRC)) if p.startswith(os.path.dirname(SRC)) else p
            r = sensor(tlsobs, rel, ["-r", p], work)
            errs += scan_run(r, s)
            n += 1
        if have_tshark and os.path.exists(os.path.join(SRC, "tests", "fixtures", "auth-cleartext.pcap")):
            if ("AUTH PLAIN password", "fixture-password") not in tshark_facts(
                    os.path.join(SRC, "tests", "fixtures", "auth-cleartext.pcap")):
                errs.append("tshark does not find fixture-password in auth-cleartext.pcap: the check is vacuous")
        elif not have_tshark:
            rep.skip("tshark-derived credentials and Subjects", "tshark missing")
        rep.case(f"{n} other captures (fixtures, lab, public): no sentinel, known password, or any of the "
                 f"{nfacts} AUTH credentials / Subjects tshark finds in them, in any output", errs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"privacy: {rep.failed} failed")
    return 1 if rep.failed else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "wire":
        errs, lines = wire_check(argv[2])
        print("\n".join(lines))
        for e in errs:
            print(f"FAIL {e}")
        return 1 if errs else 0
    if len(argv) == 2 and argv[1] == "test":
        return test()
    if len(argv) >= 3 and argv[1] == "scan":
        env = read_env(os.path.join(PRIV, "sentinels.env"))
        errs = []
        for path in argv[2:]:
            with open(path, errors="replace") as f:
                errs += scan_text(path, f.read(), sentinel_secrets(env))
        for e in errs:
            print(f"LEAK {e}")
        return 1 if errs else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
