#!/usr/bin/env python3
"""Writes the seed corpus for tests/fuzz/fuzz_defrag.c.

Each seed is a run of records [1 byte: seconds to advance][2 bytes: length][a bare IP packet],
the packets being fragments of one TCP segment: IPv4 in order, out of order, with a
conflicting overlap, tiny; IPv6 after a destination options header, reversed; a flood of first
fragments past the harness's memcap; a datagram past 65,535 bytes; one timing out.
Output is deterministic; stale seed-* files are removed.

Usage: python3 tests/fuzz/seed_defrag.py
"""
import glob
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "defrag")


def tcp(payload):
    return struct.pack(">HHIIBBHHH", 48946, 25, 1000, 2000, 0x50, 0x18, 65535, 0, 0) + payload


def v4_frag(data, off, more, ident=0x1234, src=b"\xcb\x00\x71\x0a"):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident, (off // 8) | (0x2000 if more else 0), 64, 6, 0,
                    src, b"\xc6\x33\x64\x19")
    return h + data


def v6_frag(data, off, more, ident=0xCAFE0001):
    src = bytes.fromhex("20010db800c100000000000000000010")
    dst = bytes.fromhex("20010db8005e00000000000000000025")
    h = struct.pack(">IHBB16s16s", 0x60000000, 8 + 8 + len(data), 60, 64, src, dst)
    dstopts = struct.pack(">BB6s", 44, 0, bytes(6))
    fh = struct.pack(">BBHI", 6, 0, off | (1 if more else 0), ident)
    return h + dstopts + fh + data


def cut(seg, size):
    return [(o, seg[o:o + size], o + size < len(seg)) for o in range(0, len(seg), size)]


def records(packets, step=0):
    return b"".join(struct.pack(">BH", step, len(p)) + p for p in packets)


def main():
    for old in glob.glob(os.path.join(OUT, "seed-*")):
        os.remove(old)
    os.makedirs(OUT, exist_ok=True)
    seg = tcp(b"EHLO client.example\r\n" * 4)
    seeds = {
        "v4-in-order": [v4_frag(d, o, m) for o, d, m in cut(seg, 32)],
        "v4-reversed": [v4_frag(d, o, m) for o, d, m in cut(seg, 32)][::-1],
        "v4-tiny": [v4_frag(d, o, m) for o, d, m in cut(seg, 8)],
        "v4-overlap-conflict": [v4_frag(seg[:48], 0, True), v4_frag(b"X" * 32, 32, True),
                                v4_frag(seg[48:], 48, False)],
        "v6-dstopts-reversed": [v6_frag(d, o, m) for o, d, m in cut(seg, 48)][::-1],
        "v4-too-large": [v4_frag(bytes(16), 65528, False)],
        "v4-flood": [v4_frag(bytes(1024), 0, True, ident=i, src=bytes([10, 0, i >> 8, i & 255])) for i in range(80)],
    }
    for name, packets in seeds.items():
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(records(packets))
    # A datagram whose last fragment comes after the timeout.
    frags = [v4_frag(d, o, m) for o, d, m in cut(seg, 32)]
    with open(os.path.join(OUT, "seed-v4-timeout"), "wb") as f:
        f.write(records(frags[:-1]) + records(frags[-1:], step=5))


if __name__ == "__main__":
    main()
