#!/usr/bin/env python3
"""seed_classify.py: fuzz seeds for fuzz_classify.c from the fixture captures.

Each seed is one TCP flow of a capture, its packets as the harness reads them: a direction byte (0: from the
client, the side that sent the first SYN or packet), a 16-bit big-endian length, the bytes from the IP header on.
Usage: seed_classify.py OUTDIR PCAP...
"""
import os
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    at = 24
    while at + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[at:at + 16])
        frame = data[at + 16:at + 16 + caplen]
        at += 16 + caplen
        if linktype == 1:
            off, etype = 14, frame[12:14]
            while etype == b"\x81\x00":
                etype, off = frame[off + 2:off + 4], off + 4
            yield frame[off:]
        elif linktype in (12, 101, 228, 229):
            yield frame


def flow_key(ip):
    if ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        src, dst, tcp = ip[12:16], ip[16:20], ip[ihl:]
    else:
        src, dst, tcp = ip[8:24], ip[24:40], ip[40:]
    sport, dport = struct.unpack(">HH", tcp[:4])
    return (src, sport), (dst, dport)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for path in sys.argv[2:]:
        flows = {}
        for ip in packets(path):
            a, b = flow_key(ip)
            key = tuple(sorted((a, b)))
            client = flows.setdefault(key, (a, []))[0]
            flows[key][1].append((0 if a == client else 1, ip[:65535]))
        for i, (_, pkts) in enumerate(flows.values()):
            seed = b"".join(bytes([d]) + struct.pack(">H", len(p)) + p for d, p in pkts[:24])
            name = f"{os.path.basename(path).rsplit('.', 1)[0]}-{i}"
            with open(os.path.join(out, name), "wb") as f:
                f.write(seed)


if __name__ == "__main__":
    main()
