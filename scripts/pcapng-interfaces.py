#!/usr/bin/env python3
"""Writes a pcapng file with one interface per input capture, as dumpcap with several -i does.

Each SPEC is NAME:LINK:SNAPLEN:TSRESOL:FILE: the Ethernet frames of the classic pcap FILE are
written on an interface called NAME (if_name), re-wrapped in LINK (ether: as they are; sll:
Linux cooked v1, 16 bytes; raw: bare IP, VLAN-tagged frames dropped), with that snapshot
length (packets cut to it) and timestamp resolution (6: microseconds, 9: nanoseconds, as
if_tsresol). Packets of all inputs are merged in time order (stable) as Enhanced Packet
Blocks; the Interface Description Blocks all come first, as dumpcap and mergecap write
them. Interfaces that differ in link type or snapshot length are what libpcap's reader
refuses (pcapng spec: draft-ietf-opsawg-pcapng, sections 4.1, 4.2, 4.3).

Usage: scripts/pcapng-interfaces.py OUT.pcapng SPEC [SPEC ...]
"""
import struct
import sys

LINKTYPES = {"ether": 1, "raw": 101, "sll": 113}


def read_pcap(path):
    raw = open(path, "rb").read()
    magic = struct.unpack_from("<I", raw, 0)[0]
    end, nano = {0xA1B2C3D4: ("<", False), 0xA1B23C4D: ("<", True), 0xD4C3B2A1: (">", False),
                 0x4D3CB2A1: (">", True)}.get(magic, (None, None))
    if end is None or struct.unpack_from(end + "I", raw, 20)[0] != 1:
        sys.exit(f"{path}: not a classic Ethernet pcap")
    at, out = 24, []
    while at + 16 <= len(raw):
        sec, frac, caplen, wirelen = struct.unpack_from(end + "IIII", raw, at)
        ns = sec * 10**9 + (frac if nano else frac * 1000)
        out.append((ns, raw[at + 16: at + 16 + caplen], wirelen))
        at += 16 + caplen
    return out


def rewrap(frame, link):
    """(frame, bytes removed from the wire length) in the link type asked for; None to drop."""
    etype = struct.unpack_from(">H", frame, 12)[0]
    if link == "ether":
        return frame, 0
    if link == "sll":  # packet type 0 (to us), ARPHRD_ETHER, 6-byte address, protocol
        return struct.pack(">HHH8sH", 0, 1, 6, frame[6:12] + b"\0\0", etype) + frame[14:], -2
    if etype in (0x8100, 0x88A8):
        return None
    return frame[14:], 14


def option(code, value):
    pad = (-len(value)) % 4
    return struct.pack("<HH", code, len(value)) + value + b"\0" * pad


def block(btype, body):
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + option(0, b""))]
    packets = []
    for index, spec in enumerate(sys.argv[2:]):
        name, link, snaplen, tsresol, path = spec.split(":", 4)
        snaplen, tsresol = int(snaplen), int(tsresol)
        opts = option(2, name.encode()) + (option(9, bytes([tsresol])) if tsresol != 6 else b"") + option(0, b"")
        out.append(block(1, struct.pack("<HHI", LINKTYPES[link], 0, snaplen) + opts))
        for ns, frame, wirelen in read_pcap(path):
            wrapped = rewrap(frame, link)
            if wrapped is None:
                continue
            data, shrink = wrapped
            packets.append((ns, index, data[:snaplen], wirelen - shrink, 10**tsresol))
    packets.sort(key=lambda p: p[0])  # stable: inputs keep their order at equal times
    for ns, index, data, wirelen, per_sec in packets:
        ts = ns * per_sec // 10**9
        body = struct.pack("<IIIII", index, ts >> 32, ts & 0xFFFFFFFF, len(data), wirelen)
        out.append(block(6, body + data + b"\0" * ((-len(data)) % 4)))
    open(sys.argv[1], "wb").write(b"".join(out))


if __name__ == "__main__":
    main()
