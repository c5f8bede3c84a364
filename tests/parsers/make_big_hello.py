#!/usr/bin/env python3
"""Writes a ClientHello larger than every cap of tls.h, and asks tshark for its JA3.

The hello (TLS 1.2 record, TLS 1.3 supported_versions) offers GREASE 0x0a0a and
200 cipher suites (0x0001..0x00c8), and 76 extensions: GREASE 0x2a2a,
server_name mx1.example.net, supported_groups (GREASE 0x1a1a and 60 groups
0x0001..0x003c), ec_point_formats 0,1,2, signature_algorithms (40 values
0x0401..0x0428), supported_versions 0x0304,0x0303, ALPN "smtp", then 69 empty
extensions of types 0x1000..0x1044. So cipher suites (cap 128), extensions (cap
64) and groups (cap 32) all overflow their event arrays.

Output: tests/fixtures/tls/synthetic-big-hello-0.tls (the chunk format of
extract_tls.py and fuzz_tls.c), and on stdout what tshark makes of the same
bytes sent to port 443 in a pcap:
  tshark -r HELLO.pcap -T fields -e tls.handshake.ja3_full -e tls.handshake.ja3
plus the JA4 computed here by the FoxIO JA4 definition (technical_details/JA4.md).
test_tls_fingerprint.c records these values.

Usage: tests/parsers/make_big_hello.py
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "tls", "synthetic-big-hello-0.tls")

CIPHERS = [0x0A0A] + list(range(0x0001, 0x00C9))
GROUPS = [0x1A1A] + list(range(0x0001, 0x003D))
POINT_FORMATS = [0, 1, 2]
SIGALGS = list(range(0x0401, 0x0429))
VERSIONS = [0x0304, 0x0303]
FILLER = list(range(0x1000, 0x1045))


def u16(v):
    return struct.pack(">H", v)


def vec16(b):
    return u16(len(b)) + b


def ext(t, body):
    return u16(t) + vec16(body)


def extensions():
    host = b"mx1.example.net"
    out = [(0x2A2A, b""),
           (0x0000, vec16(b"\x00" + vec16(host))),
           (0x000A, vec16(b"".join(u16(g) for g in GROUPS))),
           (0x000B, bytes([len(POINT_FORMATS)]) + bytes(POINT_FORMATS)),
           (0x000D, vec16(b"".join(u16(s) for s in SIGALGS))),
           (0x002B, bytes([2 * len(VERSIONS)]) + b"".join(u16(v) for v in VERSIONS)),
           (0x0010, vec16(bytes([4]) + b"smtp"))]
    out += [(t, b"") for t in FILLER]
    return out


def client_hello():
    exts = extensions()
    body = u16(0x0303) + bytes(range(32)) + b"\x00"
    body += vec16(b"".join(u16(c) for c in CIPHERS)) + b"\x01\x00"
    body += vec16(b"".join(ext(t, b) for t, b in exts))
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x01" + u16(len(hs)) + hs, exts


def grease(v):
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def ja4(exts):
    ciphers = [c for c in CIPHERS if not grease(c)]
    types = [t for t, _ in exts if not grease(t)]
    head = "t13d%02d%02d%s" % (min(len(ciphers), 99), min(len(types), 99), "sp")
    c = ",".join("%04x" % v for v in sorted(ciphers))
    e = ",".join("%04x" % v for v in sorted(t for t in types if t not in (0x0000, 0x0010)))
    e += "_" + ",".join("%04x" % v for v in SIGALGS)
    return "%s_%s_%s" % (head, hashlib.sha256(c.encode()).hexdigest()[:12],
                         hashlib.sha256(e.encode()).hexdigest()[:12])


def write_chunks(record):
    with open(OUT, "wb") as f:
        for i in range(0, len(record), 127):
            part = record[i:i + 127]
            f.write(bytes([len(part)]) + part)


def pcap(record, path):
    """One Ethernet/IPv4/TCP frame to port 443 (checksums zero: tshark does not check them by default)."""
    tcp = struct.pack(">HHIIBBHHH", 40000, 443, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(record), 1, 0, 64, 6, 0,
                     bytes([203, 0, 113, 10]), bytes([198, 51, 100, 25]))
    frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp + record
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        f.write(struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)


def main():
    record, exts = client_hello()
    write_chunks(record)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "hello.pcap")
        pcap(record, path)
        out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "tls.handshake.ja3_full",
                              "-e", "tls.handshake.ja3"], capture_output=True, text=True, check=True)
    print("tshark:", out.stdout.strip())
    print("ja4:", ja4(exts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
