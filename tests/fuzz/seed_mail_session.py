#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_mail_session.c (see its header for the format).

Openings of each kind on both kinds of port: an SMTP greeting and STARTTLS
hand-off, a ClientHello first (the smtps-465 handshake of
tests/fixtures/tls/fixture-smtps-465-0.tls, already in chunk format), a
ClientHello answered by a clear-text greeting, clear text on a TLS port, an
SSLv2 hello, a greeting split byte by byte, and a gap before anything decides.

Usage: tests/fuzz/seed_mail_session.py  (writes tests/fuzz/corpus/mail_session/)
"""
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus", "mail_session")
TLS = os.path.join(ROOT, "tests", "fixtures", "tls", "fixture-smtps-465-0.tls")

GREETING = b"220 mx1.example.net ESMTP Postfix\r\n"
EHLO = b"EHLO client.example.org\r\n"
CAPS = b"250-mx1.example.net\r\n250-STARTTLS\r\n250 CHUNKING\r\n"


def chunks(direction, data):
    out = b""
    for i in range(0, len(data), 127):
        part = data[i:i + 127]
        out += bytes([(0x80 if direction == "S" else 0) | len(part)]) + part
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    tls = open(TLS, "rb").read()
    first = tls[1:1 + (tls[0] & 0x7F)]  # the client's first chunk
    handoff = (chunks("S", GREETING) + chunks("C", EHLO) + chunks("S", CAPS) + chunks("C", b"STARTTLS\r\n")
               + chunks("S", b"220 2.0.0 Ready to start TLS\r\n"))
    seeds = {
        "smtp-starttls-fin": bytes([0]) + handoff + tls,
        "smtp-starttls-end-of-capture": bytes([4]) + handoff,
        "hello-first-smtp-port": bytes([0]) + tls,
        "hello-first-tls-port-rst": bytes([3]) + tls,
        "hello-then-clear-greeting-tls-port": bytes([1]) + chunks("C", first) + chunks("S", GREETING),
        "clear-on-tls-port": bytes([1]) + chunks("S", GREETING) + chunks("C", EHLO) + chunks("S", CAPS),
        "sslv2-hello": bytes([0]) + chunks("C", bytes([0x80, 0x2E, 0x01, 0x00, 0x02, 0x00, 0x15]) + bytes(46)),
        "greeting-byte-by-byte": bytes([1]) + b"".join(bytes([0x81, c]) for c in GREETING),
        "gap-before-decision-cut": bytes([7]) + bytes([0x82]) + b"22" + bytes([0x80]) + chunks("S", GREETING),
        # bit 3: released at the close, then the same bytes again as late packets
        "released-starttls-fin": bytes([8]) + handoff + tls,
        "released-plain-rst": bytes([8 | 2]) + chunks("S", GREETING) + chunks("C", EHLO) + chunks("S", CAPS),
        "released-implicit-tls-end-of-capture": bytes([8 | 4 | 1]) + tls,
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
