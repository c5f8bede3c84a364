#!/usr/bin/env python3
"""`tlsobs report html`, end to end: fixtures through a configured sensor, the page, a real browser.

 1. a week of mail: fixture captures shifted to seven UTC days (pcap times rewritten
    here) go through configured sensor runs into one state_db: example.net (enforced,
    by its MX) on six days, example.org (found by its network, from a second
    configuration) on four; other.example is configured and never seen. Then rows
    a hostile peer could have put there (a certificate subject, SANs and issuer, and
    a domain, holding "</script><img src=x onerror=...>", "<!--", U+2028) are
    written into the database as the sensor would have stored them.
 2. the page: exit 0, mode 0640, nothing that would be fetched (no src/href to a
    URL, no <link>), the chart library inlined, a Content-Security-Policy that fetches
    nothing and runs only the page's two scripts (their SHA-256), the hostile strings nowhere raw;
    the JSON block parses, holds no < > & U+2028, and gives back the hostile strings
    exactly; its partner/day rows equal the database's, its totals equal
    `report coverage --format json`, and each partner's days equal its session
    events per UTC day (sessions, encrypted, clear text, TLS versions).
 3. headless Chromium (JavaScript on): every canvas drew (non-blank pixels), one
    per figure; every partner name (the hostile one as text) is in the rendered
    page; no <img> element, no dialog, no console error or exception, no request
    but the file itself (a wrong CSP hash would be a console error). A screenshot goes to
    $TLSOBS_BUILD_DIR/report-html/.
    A database without sessions or certificates: its four charts draw empty, no error.
    Then JavaScript off: the tables (daily ones open) hold the same numbers.
 4. --since keeps the later days only; exit codes 1 (state_db missing, not a
    database; -o through a symbolic link, which is left alone) and 2 (no -o, bad
    --since, no state_db in the configuration, unknown option).
Prints one ok/FAIL/skip line per check; exits 1 on a failure, 77 when Chromium cannot run.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cdp  # noqa: E402
import policy as P  # noqa: E402  (pcap helpers, configuration writer, runs, failure types)

TLSOBS = P.TLSOBS
BUILD = os.environ.get("TLSOBS_BUILD_DIR") or os.path.dirname(TLSOBS)
FIX = P.FIX
LAST_DAY = "2026-11-28"  # the fixtures' own day (tests/fixtures/README.md): day 6 below
WIDTH = 1400
HOSTILE = "</script><img src=x onerror=alert(1)>"
HOSTILE_DOMAIN = "evil" + HOSTILE + ".example"
HOSTILE_SUBJECT = "CN=" + HOSTILE + ",O=<!-- \u2028 & \"quoted\""

# Per day (0..6, day 6 = the fixtures' day): the captures each configuration's run reads.
WEEK_NET = {0: ["starttls-tls13", "smtp-plain"],
            1: ["starttls-tls13", "starttls-tls12", "tls10-rsa"],
            2: ["smtp-plain", "expired-cert", "self-signed-cert"],
            4: ["starttls-tls13", "tls11", "starttls-refused-454"],
            5: ["starttls-tls13", "starttls-tls12"],
            6: ["starttls-tls13", "tls-alert-bad-cert", "mitm-mask.server-side"]}
WEEK_ORG = {1: ["smtp-plain", "starttls-tls12"],
            3: ["starttls-tls13", "ecdsa-cert"],
            5: ["smtp-plain", "starttls-tls13"],
            6: ["starttls-tls12"]}
NET = {"domain": "example.net", "mode": "enforced", "mx": ["mx1.example.net"]}
ORG = {"domain": "example.org", "mode": "opportunistic", "networks": ["198.51.100.0/24"]}
OTHER = {"domain": "other.example", "mode": "opportunistic"}

case, skip, get = P.case, P.skip, P.get


def day_name(k):
    base = datetime.strptime(LAST_DAY, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()
    return datetime.fromtimestamp(base + (k - 6) * 86400, timezone.utc).strftime("%Y-%m-%d")


def shifted(tmp, name, k):
    """The capture with every packet time moved by k - 6 days."""
    dst = os.path.join(tmp, f"{name}.day{k}.pcap")
    header, packets = P.read_pcap(os.path.join(FIX, name + ".pcap"))
    delta = (k - 6) * 86400
    out = []
    for rec, frame in packets:
        sec = int.from_bytes(rec[0:4], "little") + delta
        out.append((sec.to_bytes(4, "little") + rec[4:], frame))
    P.write_pcap(dst, header, out)
    return dst


def hostile_rows(db, day):
    """What a peer could make the sensor store: its certificate's names and its domain."""
    c = sqlite3.connect(db)
    with c:
        c.execute("INSERT INTO certificates(sha256, subject, sans, issuer, not_after, first_seen, last_seen, partner)"
                  " VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                  ("AB" * 32, HOSTILE_SUBJECT, "a.example," + HOSTILE, "<!--<script>", 1796000000,
                   1795000000000000, 1795000000000000, HOSTILE_DOMAIN))
        c.execute("INSERT INTO partner_days(partner, day, sessions, encrypted, cleartext, last_failure_us,"
                  " last_failure_type, first_seen, last_seen) VALUES(?, ?, 2, 1, 1, 0, '', 1, 1)",
                  (HOSTILE_DOMAIN, day))
        c.execute("INSERT INTO partner_day_versions(partner, day, version, count) VALUES(?, ?, ?, 1)",
                  (HOSTILE_DOMAIN, day, "1.3" + HOSTILE))
        c.execute("INSERT INTO partner_day_failures(partner, day, type, count) VALUES(?, ?, ?, 1)",
                  (HOSTILE_DOMAIN, day, "<b>" + HOSTILE))
    c.close()


def html_report(cfg, out, *extra):
    p = subprocess.run([TLSOBS, "report", "html", "-c", cfg, "-o", out] + list(extra), capture_output=True,
                       text=True, errors="replace", timeout=120)
    return p.returncode, p.stderr


def json_block(html, errs):
    m = re.search(r'<script type="application/json" id="tlsobs-data">(.*?)</script>', html, re.S)
    if not m:
        errs.append("no <script type=\"application/json\" id=\"tlsobs-data\"> block")
        return None
    text = m.group(1)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        if bad in text:
            errs.append(f"the JSON block holds a raw {bad!r}")
    try:
        return json.loads(text)
    except ValueError as x:
        errs.append(f"the JSON block does not parse: {x}")
        return None


# ---------------------------------------------------------------- 1: a week through the sensor

def week(tmp):
    db = os.path.join(tmp, "state.db")
    cfg_net = P.yaml_config(os.path.join(tmp, "net.yaml"), db, [NET, OTHER])
    cfg_org = P.yaml_config(os.path.join(tmp, "org.yaml"), db, [ORG])
    runs, errs = [], []
    for k in range(7):
        for cfg, plan in ((cfg_net, WEEK_NET), (cfg_org, WEEK_ORG)):
            if k not in plan:
                continue
            args = ["-c", cfg]
            for name in plan[k]:
                args += ["-r", shifted(tmp, name, k)]
            r = P.run(f"day {k} {os.path.basename(cfg)}", args, runs)
            errs += r.errors
    case("a week of fixture captures through configured sensors into one state_db", errs,
         f"{len(runs)} runs, {sum(len(r.sessions) for r in runs)} session events")
    if errs:
        return None
    hostile_rows(db, day_name(6))
    report_cfg = P.yaml_config(os.path.join(tmp, "report.yaml"), db, [NET, ORG, OTHER])
    return {"db": db, "cfg": report_cfg, "runs": runs}


def expected_days(runs):
    """Per (partner, day): sessions, encrypted, cleartext, versions, from the session events."""
    exp = {}
    for r in runs:
        for s in r.sessions:
            dom = get(s, "tlsobs.partner.domain")
            if not dom:
                continue
            row = exp.setdefault((dom, get(s, "event.end", "")[:10]),
                                 {"sessions": 0, "encrypted": 0, "cleartext": 0, "versions": {}})
            row["sessions"] += 1
            if get(s, "tls.established") is True:
                row["encrypted"] += 1
                v = get(s, "tls.version")
                row["versions"][v] = row["versions"].get(v, 0) + 1
            if get(s, "tlsobs.smtp.data_in_clear") is True:
                row["cleartext"] += 1
    return exp


# ---------------------------------------------------------------- 2: the page as a file

def page_checks(st, out):
    errs = []
    rc, err = html_report(st["cfg"], out, "--at", LAST_DAY)
    if rc != 0:
        case("report html exits 0", [f"exit {rc}: {err.strip()}"])
        return None
    mode = stat.S_IMODE(os.lstat(out).st_mode)
    if mode != 0o640:
        errs.append(f"mode {mode:o}, want 640")
    with open(out, encoding="utf-8") as f:
        html = f.read()
    if re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:|//|ftp:)""", html, re.I):
        errs.append("a src/href/action to a URL: the page would fetch it")
    if re.search(r"<link\b|<script[^>]*\bsrc\s*=", html, re.I):
        errs.append("a <link> or <script src>: the page must be self-contained")
    if "Chart.js v" not in html:
        errs.append("the chart library is not inlined")
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    hashes = ["'sha256-" + base64.b64encode(hashlib.sha256(x.encode()).digest()).decode() + "'" for x in scripts]
    want_csp = ("default-src 'none'; script-src " + " ".join(hashes) +
                "; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")
    if len(scripts) != 2 or not csp or csp.group(1) != want_csp:
        errs.append(f"Content-Security-Policy {csp.group(1) if csp else None!r}, want {want_csp!r} "
                    f"(nothing fetched; only the {len(scripts)} inline scripts, by hash, run)")
    for raw in (HOSTILE, "<img", "<!--<script>", "<b>"):
        if raw in html:
            errs.append(f"{raw!r} written raw into the page")
    if html.count("</script>") != 3:
        errs.append(f"{html.count('</script>')} </script> end tags, want 3 (data, Chart.js, report.js)")
    data = json_block(html, errs)
    case("report html: exit 0, mode 0640, self-contained (no fetch, Chart.js inlined), a CSP that lets only its "
         "two scripts run (by hash), hostile strings escaped, one JSON block without < > & U+2028", errs,
         f"{len(html)} bytes")
    if data is None:
        return None

    errs = []
    names = [p["name"] for p in data["partners"]]
    if names[:3] != ["example.net", "example.org", "other.example"] or HOSTILE_DOMAIN not in names:
        errs.append(f"partners {names}: want the configured ones first in configuration order, then {HOSTILE_DOMAIN!r}")
    certs = {c[0] for c in data["certificates"]}
    if HOSTILE_SUBJECT not in certs:
        errs.append(f"the hostile certificate subject does not come back exactly from the JSON: {certs}")
    db = sqlite3.connect(st["db"])
    want = sorted((p, d, s, e, c) for p, d, s, e, c in
                  db.execute("SELECT partner, day, sessions, encrypted, cleartext FROM partner_days"))
    got = sorted((names[r[0]], r[1], r[2], r[3], r[4]) for r in data["days"])
    if got != want:
        errs.append(f"daily rows differ from the database's partner_days:\n       got  {got}\n       want {want}")
    db.close()
    exp = expected_days(st["runs"])
    versions = {}
    for p, d, v, n in data["versions"]:
        versions.setdefault((names[p], d), {})[v] = n
    for (dom, day), e in sorted(exp.items()):
        row = [r for r in data["days"] if names[r[0]] == dom and r[1] == day]
        if not row or row[0][2:] != [e["sessions"], e["encrypted"], e["cleartext"]]:
            errs.append(f"{dom} {day}: page {row[0][2:] if row else None}, session events "
                        f"{[e['sessions'], e['encrypted'], e['cleartext']]}")
        if versions.get((dom, day), {}) != e["versions"]:
            errs.append(f"{dom} {day}: TLS versions {versions.get((dom, day))}, events {e['versions']}")
    days_net = sorted({d for (dom, d) in exp if dom == "example.net"})
    if days_net != [day_name(k) for k in sorted(WEEK_NET)]:
        errs.append(f"example.net has session events on {days_net}, want the six days of the plan")
    p = subprocess.run([TLSOBS, "report", "coverage", "-c", st["cfg"], "--format", "json"], capture_output=True,
                       text=True, timeout=60)
    cov = {r["partner"]: r for r in map(json.loads, p.stdout.splitlines())}
    for part in data["partners"]:
        c = cov.get(part["name"], {})
        if (part["sessions"], part["encrypted"]) != (c.get("sessions"), c.get("encrypted")):
            errs.append(f"{part['name']}: page totals {part['sessions']}/{part['encrypted']}, report coverage "
                        f"{c.get('sessions')}/{c.get('encrypted')}")
    case("report html: the JSON's daily rows equal partner_days, each partner's days equal its session events "
         "(sessions, encrypted, clear text, TLS versions), totals equal report coverage", errs,
         f"{len(data['days'])} partner days")
    return data


def empty_page(tmp):
    """The page of a database the sensor made from a capture without mail: nothing to show."""
    cfg = P.yaml_config(os.path.join(tmp, "empty.yaml"), os.path.join(tmp, "empty.db"))
    r = P.run("no mail", ["-c", cfg, "-r", os.path.join(FIX, "non-mail.pcap")])
    out = os.path.join(tmp, "empty.html")
    rc, err = html_report(cfg, out)
    errs = r.errors + ([f"report html exit {rc}: {err.strip()}"] if rc != 0 else [])
    if errs:
        case("report html of a database without sessions", errs)
        return None
    return out


# ---------------------------------------------------------------- 3: in a browser

BROWSER_PROBE = r"""(() => {
  const copy = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  const blank = (c) => {
    copy.canvas.width = c.width;
    copy.canvas.height = c.height;
    copy.clearRect(0, 0, c.width, c.height);
    copy.drawImage(c, 0, 0);
    const d = copy.getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return false;
    return true;
  };
  const canvases = [...document.querySelectorAll('canvas')];
  return {
    canvases: canvases.length,
    figures: document.querySelectorAll('figure').length,
    drawn: canvases.filter((c) => c.width > 0 && c.height > 0 && !blank(c)).length,
    blank: canvases.filter((c) => blank(c)).map((c) => c.dataset.chart + ':' + c.dataset.partner),
    charts: Object.keys(Chart.instances).length,
    imgs: document.querySelectorAll('img').length,
    text: document.body.innerText,
    title: document.title,
  };
})()"""

NOJS_PROBE = r"""(() => ({
  text: document.body.innerText,
  open: [...document.querySelectorAll('details.daily')].filter((d) => d.open).length,
  details: document.querySelectorAll('details.daily').length,
  rows: document.querySelectorAll('tbody tr').length,
}))()"""


def start_browser():
    binary = cdp.find_chromium()
    if not binary:
        return None, "chromium not installed (scripts/deps.sh installs it)"
    b = None
    try:
        b = cdp.Browser(binary)
        b.send("Browser.getVersion", browser_level=True)
        return b, None
    except (OSError, cdp.CdpError) as x:
        why = f"chromium cannot run here: {x}"
        if b:
            b.close()
            why += " | " + b.stderr_text().strip()[-300:].replace("\n", " | ")
            b.cleanup()
        return None, why


def browser_checks(out, empty, data, shots):
    b, why = start_browser()
    if not b:
        return why
    try:
        b.open_page(WIDTH, 900)
        b.navigate("file://" + out)
        drawn = b.wait_for("document.documentElement.dataset.charts === 'drawn'")
        got = b.evaluate(BROWSER_PROBE)
        b.drain(0.5)
        os.makedirs(shots, exist_ok=True)
        height = b.screenshot(os.path.join(shots, "report.png"), WIDTH)
        errs = [] if drawn else ["<html data-charts> never said 'drawn'"]
        n_partners = len(data["partners"])
        want = 2 + 3 * n_partners + 2
        if got["canvases"] != want or got["figures"] != want:
            errs.append(f"{got['canvases']} canvases in {got['figures']} figures, want {want} "
                        f"(overview 2, 3 per partner x {n_partners}, certificates 2)")
        if got["drawn"] != got["canvases"] or got["charts"] != got["canvases"]:
            errs.append(f"{got['drawn']} canvases drew, {got['charts']} Chart.js charts, of {got['canvases']}; "
                        f"blank: {got['blank']}")
        for p in data["partners"]:
            if p["name"] not in got["text"]:
                errs.append(f"partner {p['name']!r} not shown in the rendered page")
        if HOSTILE_SUBJECT.replace("\u2028", " ").split(" ")[0] not in got["text"]:
            errs.append("the hostile certificate subject is not shown as text")
        if got["imgs"]:
            errs.append(f"{got['imgs']} <img> elements in the DOM: markup from the database was parsed")
        errs += b.console_errors()
        others = [u for u in b.requests() if u != "file://" + out]
        if others:
            errs.append(f"requests besides the file: {others}")
        case("Chromium: every chart drew (one canvas per figure, pixels set), every partner name shown, hostile "
             "markup stays text (no <img>, no dialog), no console error, no request", errs,
             f"{got['drawn']} charts; screenshot {os.path.join(shots, 'report.png')} {WIDTH}x{height}")
    finally:
        b.close()
        b.cleanup()

    b, why = start_browser()
    if not b:
        return why
    try:
        b.open_page(WIDTH, 900)
        b.navigate("file://" + empty)
        b.wait_for("document.documentElement.dataset.charts === 'drawn'")
        got = b.evaluate(BROWSER_PROBE)
        b.drain(0.5)
        errs = b.console_errors()
        if got["canvases"] != 4 or got["drawn"] != 4:
            errs.append(f"{got['drawn']} of {got['canvases']} canvases drew, want the 4 of overview and certificates")
        if "No partner configured and no session recorded." not in got["text"]:
            errs.append("the empty summary table does not say so")
        case("Chromium, a database without sessions or certificates: the four charts draw empty, no console error",
             errs)
    finally:
        b.close()
        b.cleanup()

    b, why = start_browser()
    if not b:
        return why
    try:
        b.open_page(WIDTH, 900, javascript=False)
        b.navigate("file://" + out)
        got = b.evaluate(NOJS_PROBE)
        b.screenshot(os.path.join(shots, "report-nojs.png"), WIDTH)
        errs = []
        if got["open"] != got["details"] or got["details"] != len(data["partners"]):
            errs.append(f"{got['open']} of {got['details']} daily tables open without JavaScript, "
                        f"want all {len(data['partners'])}")
        if "Charts need JavaScript" not in got["text"]:
            errs.append("no <noscript> notice")
        names = [p["name"] for p in data["partners"]]
        for r in data["days"]:
            line = f"{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}"
            if line not in got["text"]:
                errs.append(f"{names[r[0]]}: no table row {line!r} without JavaScript")
        case("Chromium without JavaScript: the daily tables are open and hold every partner day", errs,
             f"{got['rows']} table rows")
    finally:
        b.close()
        b.cleanup()
    return None


# ---------------------------------------------------------------- 4: --since and exit codes

def since_and_errors(st, tmp):
    errs = []
    out = os.path.join(tmp, "since.html")
    since = day_name(5)
    rc, err = html_report(st["cfg"], out, "--since", since)
    data = json_block(open(out, encoding="utf-8").read(), errs) if rc == 0 else None
    if rc != 0:
        errs.append(f"--since {since}: exit {rc}: {err.strip()}")
    elif data is not None:
        days = sorted({r[1] for r in data["days"]})
        if days != [day_name(5), day_name(6)]:
            errs.append(f"--since {since}: days {days}, want {[day_name(5), day_name(6)]}")
    case("report html --since keeps the later days only", errs)

    errs = []
    missing = P.yaml_config(os.path.join(tmp, "missing.yaml"), os.path.join(tmp, "none.db"), [NET])
    junk_db = os.path.join(tmp, "junk.db")
    with open(junk_db, "w") as f:
        f.write("not a database\n" * 100)
    junk = P.yaml_config(os.path.join(tmp, "junk.yaml"), junk_db, [NET])
    nodb = P.yaml_config(os.path.join(tmp, "nodb.yaml"), None, [NET])
    target = os.path.join(tmp, "target.txt")
    with open(target, "w") as f:
        f.write("keep me\n")
    link = os.path.join(tmp, "link.html")
    os.symlink(target, link)
    page = os.path.join(tmp, "x.html")
    cases = [
        (["-c", missing, "-o", page], 1, "state_db missing"),
        (["-c", junk, "-o", page], 1, "state_db not a database"),
        (["-c", st["cfg"], "-o", link], 1, "-o is a symbolic link"),
        (["-c", st["cfg"], "-o", os.path.join(tmp, "no", "dir.html")], 1, "-o in a missing directory"),
        (["-c", st["cfg"]], 2, "no -o"),
        (["-c", st["cfg"], "-o", page, "--since", "2026-02-30"], 2, "bad --since"),
        (["-c", st["cfg"], "-o", page, "--at", "soon"], 2, "bad --at"),
        (["-c", nodb, "-o", page], 2, "configuration without state_db"),
        (["-c", st["cfg"], "-o", page, "--format", "csv"], 2, "unknown option"),
    ]
    for args, want, what in cases:
        p = subprocess.run([TLSOBS, "report", "html"] + args, capture_output=True, text=True, timeout=60)
        if p.returncode != want:
            errs.append(f"{what}: exit {p.returncode}, want {want} ({p.stderr.strip()})")
        elif not p.stderr.strip():
            errs.append(f"{what}: exit {want} without a message")
    with open(target) as f:
        if f.read() != "keep me\n":
            errs.append("the file behind the symbolic link was written")
    case("report html errors: state_db missing or not a database, -o through a symlink (target untouched) or "
         "unwritable exit 1; no -o, bad dates, no state_db, unknown option exit 2", errs)


def main():
    if not os.access(TLSOBS, os.X_OK):
        print(f"tlsobs binary not found at {TLSOBS}: set TLSOBS")
        return 1
    tmp = tempfile.mkdtemp(prefix="tlsobs-report-html-")
    skipped = None
    try:
        st = week(tmp)
        if st:
            out = os.path.join(tmp, "report.html")
            data = page_checks(st, out)
            empty = empty_page(tmp)
            if data and empty:
                shots = os.path.join(BUILD, "report-html")
                skipped = browser_checks(out, empty, data, shots)
                if skipped:
                    skip("Chromium checks", skipped)
                else:
                    shutil.copy(out, os.path.join(shots, "report.html"))
            since_and_errors(st, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if P.FAILED:
        return 1
    return 77 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
