#!/usr/bin/env python3
"""Policy audit trail across SIGHUP (see policy_audit.sh). Exit 0 pass, 1 fail, 77 skipped."""
import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TLSOBS_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
TLSOBS = os.environ.get("TLSOBS") or os.path.join(SRC, "build", "tlsobs")

BANK = """    - domain: bank.example
      mode: {mode}
      min_tls_version: "{version}"
      require_valid_certificate: {valid}
      networks: [198.51.100.0/24]
"""
SHOP = """    - domain: shop.example
      mode: opportunistic
"""
MAIL = """    - domain: mail.example
      mode: enforced
      relaxed_until: 2030-01-01T00:00:00Z
"""


def get(obj, dotted, default=None):
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def main():
    if not os.access(TLSOBS, os.X_OK):
        print(f"{TLSOBS}: not built: skipped")
        return 77
    if os.geteuid() != 0:
        print("needs root for a network namespace: skipped")
        return 77
    if not shutil.which("ip"):
        print("ip missing: skipped")
        return 77
    ns = f"taudit-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        print("cannot create a network namespace here: skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="tlsobs-audit-")
    sensor = None
    try:
        for cmd in (["link", "add", "a0", "type", "veth", "peer", "name", "span0"],
                    ["link", "set", "a0", "up"], ["link", "set", "span0", "up"]):
            subprocess.run(["ip", "-n", ns] + cmd, check=True, capture_output=True)
        sensor, errs = steps(tmp, ns)
    finally:
        if sensor is not None and sensor.poll() is None:
            sensor.kill()
            sensor.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    for e in errs:
        print(f"FAIL  {e}")
    if not errs:
        print("ok    policy audit: policy_loaded at start, policy_reloaded with added/removed/changed partners "
              "and old/new settings, an unchanged reload with no changes, reload_failed with the reason; "
              "file path, sha256, mtime and owner on each")
    return 1 if errs else 0


def steps(tmp, ns):
    errs = []
    cfg = os.path.join(tmp, "tlsobs.yaml")
    out = os.path.join(tmp, "events.json")
    err_path = os.path.join(tmp, "stderr")
    hashes = []

    def write(partners, extra=""):
        text = "sensor:\n  name: audit-test\npolicy:\n  partners:\n" + partners + extra
        with open(cfg + ".tmp", "w") as f:
            f.write(text)
        os.replace(cfg + ".tmp", cfg)
        hashes.append(hashlib.sha256(text.encode()).hexdigest())

    def audits():
        events = []
        try:
            with open(out) as f:
                for line in f:
                    if line.endswith("\n"):
                        e = json.loads(line)
                        if get(e, "event.dataset") == "tlsobs.policy":
                            events.append(e)
        except FileNotFoundError:
            pass
        return events

    def wait_for(n, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            if len(audits()) >= n:
                return audits()
            time.sleep(0.1)
        return audits()

    write(BANK.format(mode="opportunistic", version="1.2", valid="false") + SHOP)
    with open(err_path, "w") as se:
        sensor = subprocess.Popen(["ip", "netns", "exec", ns, TLSOBS, "-c", cfg, "-i", "span0", "-o", f"json:{out}"],
                                  stdout=subprocess.DEVNULL, stderr=se)
    a = wait_for(1)
    if len(a) != 1:
        return sensor, [f"at start: {len(a)} tlsobs.policy events, want 1 (stderr: {open(err_path).read()[-300:]})"]
    want_start = {"event.action": "policy_loaded", "event.outcome": "success", "event.category": ["configuration"],
                  "event.type": ["change"], "tlsobs.policy.partners_added": 2, "tlsobs.policy.partners_removed": 0,
                  "observer.name": "audit-test"}
    check(errs, "start", a[0], want_start)
    changes = {c["domain"]: c for c in get(a[0], "tlsobs.policy.changes", [])}
    if sorted(changes) != ["bank.example", "shop.example"] or any(c["change"] != "added" for c in changes.values()):
        errs.append(f"start: changes {changes}")
    check_file(errs, "start", a[0], cfg, hashes[0])

    # Reload 1: bank.example enforced, TLS 1.3 and a valid certificate; shop.example removed; mail.example added.
    write(BANK.format(mode="enforced", version="1.3", valid="true") + MAIL)
    sensor.send_signal(signal.SIGHUP)
    a = wait_for(2)
    if len(a) < 2:
        return sensor, errs + [f"after SIGHUP #1: {len(a)} tlsobs.policy events, want 2"]
    r = a[1]
    check(errs, "reload 1", r, {"event.action": "policy_reloaded", "event.outcome": "success",
                                "tlsobs.policy.partners_added": 1, "tlsobs.policy.partners_removed": 1,
                                "tlsobs.policy.partners_changed": 1, "tlsobs.policy.partners": 2})
    changes = {c["domain"]: c for c in get(r, "tlsobs.policy.changes", [])}
    bank = changes.get("bank.example", {})
    if (bank.get("change"), get(bank, "old.mode"), get(bank, "new.mode"), get(bank, "old.min_tls_version"),
            get(bank, "new.min_tls_version"), get(bank, "old.require_valid_certificate"),
            get(bank, "new.require_valid_certificate"), get(bank, "new.networks")) != \
            ("changed", "opportunistic", "enforced", "1.2", "1.3", False, True, ["198.51.100.0/24"]):
        errs.append(f"reload 1: bank.example {bank}")
    if get(changes.get("shop.example", {}), "change") != "removed" or "new" in changes.get("shop.example", {}):
        errs.append(f"reload 1: shop.example {changes.get('shop.example')}")
    mail = changes.get("mail.example", {})
    if (mail.get("change"), get(mail, "new.relaxed_until"), "old" in mail) != \
            ("added", "2030-01-01T00:00:00.000000Z", False):
        errs.append(f"reload 1: mail.example {mail}")
    check_file(errs, "reload 1", r, cfg, hashes[1])

    # Reload 2: the same partners, another stats interval: a reload with no partner change.
    write(BANK.format(mode="enforced", version="1.3", valid="true") + MAIL, "stats:\n  interval: 30s\n")
    sensor.send_signal(signal.SIGHUP)
    a = wait_for(3)
    if len(a) < 3:
        return sensor, errs + [f"after SIGHUP #2: {len(a)} tlsobs.policy events, want 3"]
    check(errs, "reload 2", a[2], {"event.action": "policy_reloaded", "tlsobs.policy.changes": [],
                                   "tlsobs.policy.partners_changed": 0})
    check_file(errs, "reload 2", a[2], cfg, hashes[2])

    # Reload 3: a duplicate partner: refused, the running policy kept, and said so.
    write(BANK.format(mode="enforced", version="1.3", valid="true") + MAIL + MAIL)
    sensor.send_signal(signal.SIGHUP)
    a = wait_for(4)
    if len(a) < 4:
        return sensor, errs + [f"after SIGHUP #3: {len(a)} tlsobs.policy events, want 4"]
    f = a[3]
    check(errs, "failed reload", f, {"event.action": "reload_failed", "event.outcome": "failure",
                                     "tlsobs.policy.partners": 2})
    reason = get(f, "tlsobs.policy.reason", "")
    if "mail.example" not in reason or "kept" not in reason:
        errs.append(f"failed reload: reason {reason!r} does not name the duplicate or say the policy is kept")
    check_file(errs, "failed reload", f, cfg, hashes[3])
    ids = [get(e, "event.id") for e in a]
    if len(set(ids)) != len(ids):
        errs.append(f"event ids not unique: {ids}")
    sensor.send_signal(signal.SIGTERM)
    try:
        rc = sensor.wait(timeout=20)
        if rc != 0:
            errs.append(f"exit status {rc} after SIGTERM")
    except subprocess.TimeoutExpired:
        errs.append("no exit within 20 s of SIGTERM")
    return sensor, errs


def check(errs, label, event, want):
    for k, v in want.items():
        if get(event, k) != v:
            errs.append(f"{label}: {k} = {get(event, k)!r}, want {v!r}")


def check_file(errs, label, event, path, sha):
    st = os.stat(path)
    want = {"file.path": path, "file.hash.sha256": sha, "file.owner": pwd.getpwuid(st.st_uid).pw_name,
            "file.uid": str(st.st_uid)}
    check(errs, label, event, want)
    mtime = get(event, "file.mtime", "")
    if not mtime.startswith(time.strftime("%Y-%m-%dT", time.gmtime(st.st_mtime))):
        errs.append(f"{label}: file.mtime {mtime!r}")


if __name__ == "__main__":
    sys.exit(main())
