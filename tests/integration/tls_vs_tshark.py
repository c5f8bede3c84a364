#!/usr/bin/env python3
"""Every TLS handshake tlsobs reports must agree, field by field, with tshark's dissection.

tshark is the oracle here only; the sensor never uses it. For each capture (the
project's fixtures, then ../shared/corpus when present) run tlsobs, then for
every TCP stream in which tshark sees a ClientHello, find our tlsobs.session
event for the same client and server ip:port and compare:

  tls.version                      the ServerHello's supported_versions, else handshake.version
  tls.cipher                       tshark's cipher code, named through tshark's own value string
                                   (`tshark -G values`); unnamed codes against our 0xNNNN fallback
  tls.client.server_name           tls.handshake.extensions_server_name
  tls.client.ja3, ja3_string       tls.handshake.ja3, ja3_full
  tls.server.ja3s, ja3s_string     tls.handshake.ja3s, ja3s_full of the real ServerHello
  tls.server.hash.sha256           SHA-256 of the server's first certificate
  tls.server.subject, issuer       `openssl x509 -nameopt RFC2253` on that certificate's DER
  tlsobs.tls.server.chain_sha256   SHA-256 of every certificate, in order

HelloRetryRequest (RFC 8446 4.1.3): tshark dissects an HRR as a ServerHello
and gives it a JA3S, while tlsobs reports the ServerHello that was accepted
(an HRR only asks for another ClientHello). A ServerHello whose random is the
HRR magic value is therefore skipped and the next one compared, field by field
as usual: nothing is compared less.

When tshark sees no real ServerHello the handshake failed: then the event must
carry no tls.version (nor cipher, JA3S or certificate).

The protocol is decided by content (issue 12), tshark's by port: a port where
tlsobs found implicit TLS by the client's first bytes (587 in wrapper mode) is
decoded as TLS by tshark too (-d tcp.port==N,tls; the values compared are still
tshark's), and a session tlsobs reports as cleartext_on_tls_port (the server
greeted in clear text and never spoke TLS: the client's hello is alert evidence,
not a handshake) is not compared, only counted. Exits 1 on any
difference, and when fewer than MIN_HANDSHAKES were compared (the test must
not pass by comparing nothing).
"""
import glob
import hashlib
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

MIN_HANDSHAKES = 20
FOLLOWED_PORTS = {25, 587, 2525, 465, 443}  # smtp.ports defaults and the implicit TLS ports we set
HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
VERSIONS = {0x0002: "2.0", 0x0300: "3.0", 0x0301: "1.0", 0x0302: "1.1", 0x0303: "1.2", 0x0304: "1.3"}
FIELDS = ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
          "tls.handshake.type", "tls.handshake.version", "tls.handshake.extensions.supported_version",
          "tls.handshake.ciphersuite", "tls.handshake.extensions_server_name", "tls.handshake.random",
          "tls.handshake.ja3", "tls.handshake.ja3_full", "tls.handshake.ja3s", "tls.handshake.ja3s_full",
          "tls.handshake.certificate"]


def cipher_names():
    """tshark's value string for tls.handshake.ciphersuite: {code: name}."""
    out = subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True, check=True).stdout
    names = {}
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) == 4 and cols[0] == "V" and cols[1] == "tls.handshake.ciphersuite":
            names[int(cols[2])] = cols[3]
    return names


def norm_ip(s):
    return str(ipaddress.ip_address(s))


def first(layers, field):
    v = layers.get(field)
    return v[0] if v else None


def last(layers, field):
    v = layers.get(field)
    return v[-1] if v else None


def endpoint(layers, side):
    ip = last(layers, f"ipv6.{side}") or last(layers, f"ip.{side}")
    port = last(layers, f"tcp.{side}port")
    return (norm_ip(ip), int(port))


def tshark_packets(pcap, tls_ports=()):
    # Out-of-order segments are reassembled too (zeek/hrr.pcap has its ServerHello out of order).
    cmd = ["tshark", "-o", "tcp.reassemble_out_of_order:TRUE", "-r", pcap, "-Y", "tls.handshake.type", "-T", "json"]
    # Decode TLS where tlsobs expects it: implicit TLS on 465 and 443, SMTP (and so STARTTLS) on 2525.
    cmd += ["-d", "tcp.port==465,tls", "-d", "tcp.port==443,tls", "-d", "tcp.port==2525,smtp"]
    for port in sorted(tls_ports):  # implicit TLS found by content on a port tshark takes for SMTP
        cmd += ["-d", f"tcp.port=={port},tls"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [p["_source"]["layers"] for p in json.loads(out or "[]")]


def server_hello(layers):
    sv = first(layers, "tls.handshake.extensions.supported_version")
    version = int(sv or first(layers, "tls.handshake.version"), 16)
    return {"random": first(layers, "tls.handshake.random"), "version": version,
            "cipher": int(first(layers, "tls.handshake.ciphersuite"), 16),
            "ja3s": first(layers, "tls.handshake.ja3s"), "ja3s_full": first(layers, "tls.handshake.ja3s_full")}


def sslv2_server_hello(layers):
    """An SSLv2 SERVER-HELLO (RFC 6101 E.1): it chooses the version only; the client picks the
    cipher later, in CLIENT-MASTER-KEY, and no JA3S is defined for it, so none may be reported."""
    return {"random": None, "version": int(first(layers, "tls.handshake.version"), 16),
            "cipher": None, "ja3s": None, "ja3s_full": None}


def tshark_handshakes(pcap, tls_ports=()):
    """{stream: {"client", "server", "ch", "sh": [...], "certs": [der, ...] or None}} for streams with a ClientHello."""
    streams = {}
    for layers in tshark_packets(pcap, tls_ports):
        if "tcp.stream" not in layers:
            continue
        stream = int(layers["tcp.stream"][0])
        types = layers.get("tls.handshake.type", [])
        st = streams.setdefault(stream, {"ch": None, "sh": [], "certs": None, "client": None, "server": None})
        if "1" in types and st["ch"] is None:
            st["client"], st["server"] = endpoint(layers, "src"), endpoint(layers, "dst")
            st["ch"] = {"sni": first(layers, "tls.handshake.extensions_server_name"),
                        "ja3": first(layers, "tls.handshake.ja3"), "ja3_full": first(layers, "tls.handshake.ja3_full")}
        from_server = st["server"] is not None and endpoint(layers, "src") == st["server"]
        if "2" in types and from_server:
            st["sh"].append(server_hello(layers))
        if "4" in types and from_server and first(layers, "tls.handshake.version") == "0x0002":
            st["sh"].append(sslv2_server_hello(layers))  # the SSLv2 SERVER-HELLO carries the certificate too
            st["certs"] = [bytes.fromhex(c.replace(":", "")) for c in layers.get("tls.handshake.certificate", [])]
        if ("11" in types and st["certs"] is None and st["server"] is not None
                and endpoint(layers, "src") == st["server"] and layers.get("tls.handshake.certificate")):
            st["certs"] = [bytes.fromhex(c.replace(":", "")) for c in layers["tls.handshake.certificate"]]
    return {k: v for k, v in streams.items() if v["ch"] is not None}


def openssl_names(der):
    """(subject, issuer) as RFC 2253 strings, from openssl on the DER tshark gave us."""
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-issuer",
                          "-nameopt", "RFC2253"], input=der, capture_output=True, check=True).stdout.decode()
    names = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        names[key.strip()] = value.strip()
    return names.get("subject"), names.get("issuer")


def dig(event, *path):
    for key in path:
        if not isinstance(event, dict) or key not in event:
            return None
        event = event[key]
    return event


def our_sessions(events_path):
    sessions = {}
    with open(events_path) as f:
        for line in f:
            e = json.loads(line)
            if e["event"]["dataset"] != "tlsobs.session":
                continue
            key = ((norm_ip(e["source"]["ip"]), e["source"]["port"]),
                   (norm_ip(e["destination"]["ip"]), e["destination"]["port"]))
            sessions.setdefault(key, []).append(e)
    return sessions


def result_of(event):
    return event.get("tlsobs", {}).get("smtp", {}).get("starttls", {}).get("result")


def compare(hs, ev, names, tally):
    """[(field, tshark, tlsobs)] for every field that differs; tally counts the fields tshark had a value for."""
    diffs = []

    def check(field, want, got):
        if want not in (None, []):
            tally[field] = tally.get(field, 0) + 1
        if want != got:
            diffs.append((field, want, got))

    tls = ev.get("tls", {})
    ours = dig(ev, "tlsobs", "tls") or {}
    check("tls.client.server_name", hs["ch"]["sni"], dig(tls, "client", "server_name"))
    check("tls.client.ja3", hs["ch"]["ja3"], dig(tls, "client", "ja3"))
    check("tlsobs.tls.client.ja3_string", hs["ch"]["ja3_full"], dig(ours, "client", "ja3_string"))
    real = [sh for sh in hs["sh"] if sh["random"] != HRR_RANDOM]  # see the HelloRetryRequest note above
    if not real:  # a failed handshake: nothing the server chose may be reported
        for field, got in (("tls.version", tls.get("version")), ("tls.cipher", tls.get("cipher")),
                           ("tls.server.ja3s", dig(tls, "server", "ja3s")),
                           ("tls.server.hash.sha256", dig(tls, "server", "hash", "sha256"))):
            check(field, None, got)
        return diffs
    sh = real[0]
    check("tls.version", VERSIONS.get(sh["version"]), tls.get("version"))
    want_cipher = None if sh["cipher"] is None else names.get(sh["cipher"], f"0x{sh['cipher']:04X}")
    check("tls.cipher", want_cipher, tls.get("cipher"))
    check("tls.server.ja3s", sh["ja3s"], dig(tls, "server", "ja3s"))
    check("tlsobs.tls.server.ja3s_string", sh["ja3s_full"], dig(ours, "server", "ja3s_string"))
    certs = hs["certs"] or []
    leaf = certs[0] if certs else None
    check("tls.server.hash.sha256", hashlib.sha256(leaf).hexdigest().upper() if leaf else None,
          dig(tls, "server", "hash", "sha256"))
    subject, issuer = openssl_names(leaf) if leaf else (None, None)
    check("tls.server.subject", subject, dig(tls, "server", "subject"))
    check("tls.server.issuer", issuer, dig(tls, "server", "issuer"))
    # No certificate in clear (TLS 1.3, resumption): we write an empty chain, tshark has none.
    check("tlsobs.tls.server.chain_sha256", [hashlib.sha256(c).hexdigest().upper() for c in certs],
          dig(ours, "server", "chain_sha256") or [])
    return diffs


def check_capture(tlsobs, top, pcap, names, tally):
    """(failures, handshakes compared, streams not followed)."""
    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "events.json")
        run = subprocess.run([tlsobs, "-q", "-r", pcap, "--set", "tls.implicit_ports=465,443",
                              "--ca-file", os.path.join(top, "tests/fixtures/certs/ca.crt"),
                              "-o", f"json:{events}"], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"FAIL {pcap}: tlsobs exited {run.returncode}: {run.stderr.strip()}")
            return 1, 0, 0
        sessions = our_sessions(events)
    failures = compared = skipped = 0
    name = os.path.relpath(pcap, top)
    used = {}
    tls_ports = {k[1][1] for k, evs in sessions.items() for e in evs
                 if result_of(e) == "implicit_tls" and k[1][1] not in (465, 443)}
    for stream, hs in sorted(tshark_handshakes(pcap, tls_ports).items()):
        key = (hs["client"], hs["server"])
        if hs["server"][1] not in FOLLOWED_PORTS:
            skipped += 1  # not a port tlsobs follows
            continue
        n = used.get(key, 0)  # the same ip:port pair reused: the n-th stream matches the n-th session
        used[key] = n + 1
        if n >= len(sessions.get(key, [])):
            failures += 1
            print(f"FAIL {name} stream {stream}: no tlsobs.session for {key[0]} -> {key[1]}")
            continue
        if result_of(sessions[key][n]) == "cleartext_on_tls_port":
            skipped += 1
            print(f"skip {name} stream {stream}: the server greeted in clear text (cleartext_on_tls_port), "
                  "no handshake to compare")
            continue
        compared += 1
        for field, want, got in compare(hs, sessions[key][n], names, tally):
            failures += 1
            print(f"FAIL {name} stream {stream} {field}: tshark {want!r}, tlsobs {got!r}")
    for key, events in sorted(sessions.items()):  # sessions in which tshark saw no handshake at all
        for e in events[used.get(key, 0):]:
            if "version" in e.get("tls", {}):
                failures += 1
                print(f"FAIL {name} {key[0]} -> {key[1]}: tls.version {e['tls']['version']!r} "
                      "where tshark sees no handshake")
    return failures, compared, skipped


def captures(top):
    found = sorted(glob.glob(os.path.join(top, "tests/fixtures/*.pcap")))
    corpus = os.path.join(top, "..", "shared", "corpus")
    if os.path.isdir(corpus):
        found += sorted(glob.glob(os.path.join(corpus, "lab", "*.pcap")))
        found += sorted(p for p in glob.glob(os.path.join(corpus, "public", "**", "*.pcap*"), recursive=True)
                        if p.endswith((".pcap", ".pcapng")))
    else:
        print(f"{corpus} absent: fixtures only")
    return found


def main():
    tlsobs = os.environ["TLSOBS"]
    top = os.environ["TLSOBS_SOURCE_DIR"]
    names = cipher_names()
    tally = {}
    total_fail = total = total_skipped = 0
    for pcap in captures(top):
        failures, compared, skipped = check_capture(tlsobs, top, pcap, names, tally)
        total_fail += failures
        total += compared
        total_skipped += skipped
        extra = f", {skipped} on ports tlsobs does not follow or in clear text" if skipped else ""
        print(f"{'ok  ' if failures == 0 else 'FAIL'} {os.path.relpath(pcap, top)}: {compared} handshakes{extra}")
    print(f"tls vs tshark: {total} handshakes compared, {total_fail} differences, "
          f"{total_skipped} handshakes on ports not followed or answered in clear text")
    print("fields compared with a value: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    if total < MIN_HANDSHAKES:
        print(f"fewer than {MIN_HANDSHAKES} handshakes compared: the test would assert too little")
        return 1
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
