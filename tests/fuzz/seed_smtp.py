#!/usr/bin/env python3
"""Writes the seed corpus for tests/fuzz/fuzz_smtp.c.

Each seed is one options byte, then chunks: a header byte (high bit: 1 for
the server, 0 for the client; low 7 bits: the length that follows, 1..127)
and the bytes. The conversations are the SMTP sessions of the pcaps in
tests/fixtures/ (first TCP stream, read with `tshark -z follow,tcp,raw`), in
the order the capture saw them; segments longer than 127 bytes become several
chunks. After the STARTTLS 220, only the first TLS bytes of the next few
segments are kept; message bodies are cut to MAX_SEGMENT bytes so the corpus stays small
(the harness does not care where a body ends). A few variants follow each
session: other options bytes, a reassembly gap, every segment cut to 7-byte
chunks. Then hand-written sessions that grow the parser's buffers to their
caps (a long line, 50 capabilities, 140 pipelined commands, a STARTTLS hold
past SMTP_HELD_MAX). Output is deterministic; stale seed-* files are removed, other files
(regression inputs) are left alone.

Usage: python3 tests/fuzz/seed_smtp.py   (needs tshark)
"""
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus", "smtp")
MAX_SEGMENT = 600
TLS_KEEP = 48
TLS_SEGMENTS = 3
SKIP = {"demo.pcap", "smtps-465.pcap", "large-1mb-plain.pcap"}  # a merge, implicit TLS, 1 MB of body


def segments(pcap):
    """(is_server, bytes) for each segment of the first TCP stream, in capture order."""
    out = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "follow,tcp,raw,0"],
                         capture_output=True, text=True, check=True).stdout
    started = False
    for line in out.splitlines():
        if line.startswith("Node 1:"):
            started = True
            continue
        if not started or line.startswith("=") or not line.strip():
            continue
        yield line.startswith("\t"), bytes.fromhex(line.strip())


def conversation(pcap):
    """The session's segments; after the STARTTLS 220 only TLS_SEGMENTS more, each cut to TLS_KEEP bytes."""
    segs, after_tls = [], None
    for server, data in segments(pcap):
        if after_tls is not None:
            if after_tls == TLS_SEGMENTS:
                break
            after_tls += 1
            data = data[:TLS_KEEP]
        else:
            data = data[:MAX_SEGMENT]
        segs.append((server, data))
        if after_tls is None and server and data.startswith(b"220 ") and b"TLS" in data:
            after_tls = 0
    return segs


def encode(options, segs, chunk=127, gap_at=None):
    out = bytearray([options])
    for i, (server, data) in enumerate(segs):
        if i == gap_at:
            out.append(0x80 if server else 0x00)
        for off in range(0, len(data), chunk):
            part = data[off:off + chunk]
            out.append((0x80 if server else 0) | len(part))
            out += part
    return bytes(out)


def grow_seeds():
    """Hand-written sessions that make the parser's on-demand buffers grow to their caps (issue 16)."""
    banner = (True, b"220 mx.example.net ESMTP\r\n")
    ehlo = [(False, b"EHLO c.example\r\n"),
            (True, b"250-mx.example.net\r\n" + b"".join(b"250-X-CAP-%02d\r\n" % i for i in range(50)) +
             b"250 STARTTLS\r\n")]
    long_line = [(False, b"NOOP " + b"x" * 5000 + b"\r\n"), (True, b"250 ok\r\n")]
    pipelined = [(False, b"NOOP\r\n" * 140), (True, b"250 ok\r\n" * 140)]
    hold = [(False, b"STARTTLS\r\n"), (False, b"\x16\x03\x01" + b"\x42" * 17000),
            (True, b"220 go ahead\r\n"), (False, b"\x17\x03\x03\x00\x01x")]
    return {
        "grow-ehlo": encode(0, [banner] + ehlo, chunk=5),
        "grow-long-line": encode(2 << 1, [banner] + long_line, chunk=100),
        "grow-pipelined": encode(0, [banner] + ehlo + pipelined),
        "grow-hold": encode(0, [banner] + ehlo + hold),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in glob.glob(os.path.join(OUT, "seed-*")):
        os.remove(old)
    total = 0
    for pcap in sorted(glob.glob(os.path.join(REPO, "tests", "fixtures", "*.pcap"))):
        name = os.path.basename(pcap)
        if name in SKIP:
            continue
        segs = conversation(pcap)
        if not segs:
            continue
        stem = name[:-len(".pcap")]
        variants = {
            "": encode(0, segs),
            "-keep-local-64": encode(1 | 2 << 1, segs),
            "-chunks7": encode(0, segs, chunk=7),
            "-gap": encode(0, segs, gap_at=len(segs) // 2),
        }
        for suffix, blob in variants.items():
            with open(os.path.join(OUT, "seed-%s%s" % (stem, suffix)), "wb") as f:
                f.write(blob)
            total += len(blob)
    for name, blob in grow_seeds().items():
        with open(os.path.join(OUT, "seed-%s" % name), "wb") as f:
            f.write(blob)
        total += len(blob)
    print("%s: %d bytes" % (OUT, total), file=sys.stderr)


if __name__ == "__main__":
    main()
