#!/usr/bin/env python3
"""Extracts the TLS bytes of each TCP stream of some captures for test_tls.

For every stream that carries TLS (port 443, implicit TLS on 465, or after a
STARTTLS hand-off), writes tests/fixtures/tls/<source>-<capture>-<stream>.tls:
the bytes of both directions in capture order, as chunks of a header byte
(high bit: 1 from the server, 0 from the client; low 7 bits: the length,
1..127) followed by that many bytes. This is also the input format of
tests/fuzz/fuzz_tls.c, so the same files seed its corpus (--corpus DIR).

Only the handshake is kept: each direction stops after its second
application_data record (TLS 1.3 hides its handshake in them, and the
client's first one is what says "established"), so the files stay small.
The SMTP part before STARTTLS is dropped: a direction's TLS starts at the
first line start that looks like a TLS record header (or an SSLv2 hello).

Also prints, per file, what tshark decodes of the same packets (the values
test_tls.c hard-codes), using
  tshark -r CAPTURE -Y 'tcp.stream==N && tls.handshake' -T fields -e ...

Usage: tests/parsers/extract_tls.py [--corpus DIR] [--expect]
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "tls")
PUBLIC = "/work/shared/corpus/public"
SERVER_PORTS = {25, 443, 465, 587}
KEEP_APPDATA_RECORDS = 2

CAPTURES = [
    ("fixture", os.path.join(ROOT, "tests/fixtures/starttls-tls12.pcap"), None),
    ("fixture", os.path.join(ROOT, "tests/fixtures/starttls-tls13.pcap"), None),
    ("fixture", os.path.join(ROOT, "tests/fixtures/smtps-465.pcap"), None),
    ("arkime", PUBLIC + "/arkime/openssl-ssl3.pcap", None),
    ("arkime", PUBLIC + "/arkime/openssl-tls1.pcap", None),
    ("arkime", PUBLIC + "/arkime/openssl-tls1_1.pcap", None),
    ("arkime", PUBLIC + "/arkime/openssl-tls1_2.pcap", None),
    ("arkime", PUBLIC + "/arkime/tls13.pcap", None),
    ("zeek", PUBLIC + "/zeek/ecdsa-cert.pcap", None),
    ("zeek", PUBLIC + "/zeek/hrr.pcap", None),
    ("zeek", PUBLIC + "/zeek/ssl-v2.pcap", None),
    ("zeek", PUBLIC + "/zeek/tls-expired-cert.pcap", None),
    ("zeek", PUBLIC + "/zeek/tls1.2.pcap", None),
    ("zeek", PUBLIC + "/zeek/tls13_psk_succesfull.pcap", None),
    ("zeek", PUBLIC + "/zeek/tls1_1.pcap", None),
    ("zeek", PUBLIC + "/zeek/smtp-starttls.pcap", None),
    ("nDPI", PUBLIC + "/nDPI/long_tls_certificate.pcap", None),
    ("nDPI", PUBLIC + "/nDPI/smtp-starttls.pcap", None),
    ("nDPI", PUBLIC + "/nDPI/smtps.pcapng", None),
    ("nDPI", PUBLIC + "/nDPI/tls_alert.pcap", None),
    ("nDPI", PUBLIC + "/nDPI/tls-appdata.pcap", [0]),
    ("ja4", PUBLIC + "/ja4/tls-alpn-h2.pcap", None),
    ("ja4", PUBLIC + "/ja4/tls12.pcap", None),
    ("ja4", PUBLIC + "/ja4/tls-sni.pcapng", [0, 6, 41]),
    ("ja4", PUBLIC + "/ja4/tls-handshake.pcapng", [0, 1, 2, 3]),
]

TSHARK_FIELDS = ["tls.handshake.type", "tls.handshake.version", "tls.handshake.extensions_server_name",
                 "tls.handshake.ja3_full", "tls.handshake.ja3", "tls.handshake.ja3s_full", "tls.handshake.ja3s",
                 "tls.handshake.ciphersuite", "tls.handshake.certificate"]


def tshark(*args):
    return subprocess.run(["tshark", *args], check=True, capture_output=True, text=True).stdout


def streams(capture):
    out = tshark("-r", capture, "-T", "fields", "-e", "tcp.stream", "-Y", "tcp")
    return sorted({int(s) for s in out.split() if s})


def follow(capture, stream):
    """[(node, bytes)] in capture order and the two nodes' ports."""
    text = tshark("-r", capture, "-q", "-z", "follow,tcp,raw,%d" % stream)
    ports, segments = [], []
    for line in text.splitlines():
        m = re.match(r"Node [01]: .*:(\d+)$", line)
        if m:
            ports.append(int(m.group(1)))
        elif re.fullmatch(r"\t?[0-9a-f]+", line):
            segments.append((1 if line.startswith("\t") else 0, bytes.fromhex(line.strip())))
    return ports, segments


def tls_start(data, client):
    """Offset where TLS starts in one direction's bytes, or None."""
    if len(data) >= 3 and data[0] & 0x80 and data[2] == (1 if client else 4):
        return 0  # SSLv2-format CLIENT-HELLO, or the SERVER-HELLO answering it
    for i in range(len(data) - 2):
        if (i == 0 or data[i - 1] == 0x0A) and 0x14 <= data[i] <= 0x18 and data[i + 1] == 3 and data[i + 2] <= 4:
            return i
    return None


def handshake_part(data, client):
    """The leading records up to and including the KEEP_APPDATA_RECORDS-th application_data one."""
    if data and data[0] & 0x80:
        return data  # SSLv2: keep whole (tiny)
    off, seen = 0, 0
    while off + 5 <= len(data):
        rtype, rlen = data[off], int.from_bytes(data[off + 3:off + 5], "big")
        off += 5 + rlen
        if rtype == 23:
            seen += 1
            if seen == KEEP_APPDATA_RECORDS:
                break
    return data[:off] if off <= len(data) else data


def chunks(segments, server_node, cut):
    """Chunk file bytes: per direction only the bytes in [start, end)."""
    out, pos = bytearray(), [0, 0]
    for node, seg in segments:
        d = 1 if node == server_node else 0
        lo, hi = cut[d]
        a, b = max(pos[d], lo), min(pos[d] + len(seg), hi)
        if a < b:
            piece = seg[a - pos[d]:b - pos[d]]
            for i in range(0, len(piece), 127):
                part = piece[i:i + 127]
                out.append((0x80 if d else 0) | len(part))
                out += part
        pos[d] += len(seg)
    return bytes(out)


def extract(source, capture, only):
    base = re.sub(r"\.pcap(ng)?$", "", os.path.basename(capture))
    written = []
    for stream in streams(capture):
        if only is not None and stream not in only:
            continue
        ports, segments = follow(capture, stream)
        if len(ports) != 2:
            continue
        server_node = 0 if ports[0] in SERVER_PORTS and ports[1] not in SERVER_PORTS else 1
        data = [b"".join(s for n, s in segments if (1 if n == server_node else 0) == d) for d in (0, 1)]
        cut = []
        for d in (0, 1):
            start = tls_start(data[d], d == 0)
            if start is None:
                cut.append((0, 0))
                continue
            cut.append((start, start + len(handshake_part(data[d][start:], d == 0))))
        if cut[0] == (0, 0):
            continue  # no TLS from the client: nothing to test
        name = "%s-%s-%d.tls" % (source, base, stream)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(chunks(segments, server_node, cut))
        written.append((name, capture, stream))
    return written


def expect(capture, stream):
    args = ["-r", capture, "-Y", "tcp.stream==%d && tls.handshake" % stream, "-T", "fields", "-E", "separator=|"]
    for f in TSHARK_FIELDS:
        args += ["-e", f]
    return tshark(*args)


def main():
    os.makedirs(OUT, exist_ok=True)
    corpus = sys.argv[sys.argv.index("--corpus") + 1] if "--corpus" in sys.argv else None
    for name in os.listdir(OUT):
        if name.endswith(".tls"):
            os.unlink(os.path.join(OUT, name))
    written = []
    for source, capture, only in CAPTURES:
        written += extract(source, capture, only)
    for name, capture, stream in written:
        print(name, os.path.getsize(os.path.join(OUT, name)))
        if "--expect" in sys.argv:
            print("  " + expect(capture, stream).replace("\n", "\n  "))
    if corpus:
        os.makedirs(corpus, exist_ok=True)
        for name, _, _ in written:
            with open(os.path.join(OUT, name), "rb") as src, open(os.path.join(corpus, name), "wb") as dst:
                dst.write(src.read())


if __name__ == "__main__":
    main()
