#!/usr/bin/env python3
"""Cuts every TCP packet of a capture into IP fragments (RFC 791 3.2, RFC 8200 4.5).

Reads a classic pcap of Ethernet frames (the project's fixtures) and writes one
where each IPv4 or IPv6 packet carrying TCP whose data part is longer than
--size bytes is sent as fragments of --size bytes of data (a multiple of 8; the
last one takes the rest), each frame carrying the original link header and
timestamp. IPv4 fragments copy the header (options included) with MF, the
offset and the total length changed and the checksum recomputed; IPv6
fragments get a Fragment header right after the fixed header (the fixtures
carry no extension headers). Other frames are copied as they are.

--order in:       fragments in order
--order reverse:  last fragment first (the receiver learns the length first)
--order shuffle:  a shuffle seeded by the packet's number (deterministic)
--overlap:        in-order fragments, each but the first repeating the last 8
                  bytes of the one before (same bytes: reassembly must not care)
--flood N:        N first fragments (1,024 bytes of data, MF set, spoofed
                  sources, each its own id) that never complete, written before
                  the capture's first packet within one second of it: they fill
                  reassembly's memory while the real sessions need it

Usage: scripts/fragment-capture.py IN.pcap OUT.pcap [--size 32] [--order in|reverse|shuffle] [--overlap]
                                   [--flood N]
"""
import argparse
import random
import struct
import sys

ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD
VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
PROTO_TCP, PROTO_FRAGMENT = 6, 44


def checksum(header):
    total = 0
    for i in range(0, len(header), 2):
        total += (header[i] << 8) | header[i + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def link_split(frame):
    """(link header, ethertype, IP packet) of an Ethernet frame, VLAN tags kept in the link header."""
    if len(frame) < 14:
        return None
    at = 12
    etype = struct.unpack_from(">H", frame, at)[0]
    while etype in VLAN_TYPES and len(frame) >= at + 6:
        at += 4
        etype = struct.unpack_from(">H", frame, at)[0]
    return frame[: at + 2], etype, frame[at + 2 :]


def pieces(data_len, size, overlap):
    """[(offset, length)] of the fragments, in order."""
    out, off = [], 0
    while off < data_len:
        length = min(size, data_len - off)
        out.append((off, length))
        off += length
    if overlap:
        out = [out[0]] + [(o - 8, l + 8) for o, l in out[1:]]
    return out


def fragment_ipv4(ip, size, ident, overlap):
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack_from(">H", ip, 2)[0]
    flags = struct.unpack_from(">H", ip, 6)[0]
    if ip[9] != PROTO_TCP or flags & 0x3FFF or total > len(ip) or total - ihl <= size:
        return None
    header, data = bytearray(ip[:ihl]), ip[ihl:total]
    frags = []
    for off, length in pieces(len(data), size, overlap):
        h = bytearray(header)
        more = off + length < len(data)
        struct.pack_into(">H", h, 2, ihl + length)
        struct.pack_into(">H", h, 6, (off // 8) | (0x2000 if more else 0))
        struct.pack_into(">H", h, 10, 0)
        struct.pack_into(">H", h, 10, checksum(h))
        frags.append(bytes(h) + data[off : off + length])
    return frags


def fragment_ipv6(ip, size, ident, overlap):
    if len(ip) < 40 or ip[6] != PROTO_TCP:
        return None
    plen = struct.unpack_from(">H", ip, 4)[0]
    data = ip[40 : 40 + plen]
    if len(data) != plen or plen <= size:
        return None
    frags = []
    for off, length in pieces(len(data), size, overlap):
        h = bytearray(ip[:40])
        more = off + length < len(data)
        h[6] = PROTO_FRAGMENT
        struct.pack_into(">H", h, 4, 8 + length)
        fh = struct.pack(">BBHI", PROTO_TCP, 0, off | (1 if more else 0), ident)
        frags.append(bytes(h) + fh + data[off : off + length])
    return frags


def reorder(frags, order, seed):
    if order == "reverse":
        return frags[::-1]
    if order == "shuffle":
        shuffled = list(frags)
        random.Random(seed).shuffle(shuffled)
        return shuffled
    return frags


def flood(count, first_sec, end):
    """Records of `count` first fragments to port 25 from 10.0.0.0/8, in the second before first_sec."""
    eth = bytes.fromhex("020000000002020000000001") + struct.pack(">H", ETH_IPV4)
    tcp = struct.pack(">HHIIBBHHH", 40000, 25, 1, 0, 0x50, 0x02, 65535, 0, 0)
    data = tcp + bytes(1024 - len(tcp))
    records = []
    for i in range(count):
        src = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
        h = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(data), i & 0xFFFF, 0x2000, 64, PROTO_TCP, 0,
                                  src, bytes([198, 51, 100, 25])))
        struct.pack_into(">H", h, 10, checksum(h))
        frame = eth + bytes(h) + data
        usec = i * 1000000 // max(count, 1)
        records.append(struct.pack(end + "IIII", first_sec - 1, usec, len(frame), len(frame)) + frame)
    return records


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("infile")
    ap.add_argument("outfile")
    ap.add_argument("--size", type=int, default=32, help="data bytes per fragment, a multiple of 8")
    ap.add_argument("--order", choices=("in", "reverse", "shuffle"), default="in")
    ap.add_argument("--overlap", action="store_true")
    ap.add_argument("--flood", type=int, default=0, help="never-completing first fragments written first")
    args = ap.parse_args()
    if args.size <= 8 or args.size % 8:
        sys.exit("--size must be a multiple of 8 above 8")
    raw = open(args.infile, "rb").read()
    magic = struct.unpack_from("<I", raw, 0)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        sys.exit(f"{args.infile}: not a classic pcap file")
    linktype = struct.unpack_from(end + "I", raw, 20)[0]
    if linktype != 1:
        sys.exit(f"{args.infile}: link type {linktype}, only Ethernet (1) is handled")
    # The snap length must hold a whole frame: raise it so no fragment looks cut.
    out = [raw[:16] + struct.pack(end + "II", 262144, linktype)]
    if args.flood and len(raw) >= 40:
        out += flood(args.flood, struct.unpack_from(end + "I", raw, 24)[0], end)
    at, number, made = 24, 0, 0
    while at + 16 <= len(raw):
        sec, frac, caplen, wirelen = struct.unpack_from(end + "IIII", raw, at)
        frame = raw[at + 16 : at + 16 + caplen]
        at += 16 + caplen
        number += 1
        frags = None
        split = link_split(frame) if caplen == wirelen else None
        if split:
            link, etype, ip = split
            ident = (0x4000 + number) & 0xFFFF
            if etype == ETH_IPV4:
                frags = fragment_ipv4(ip, args.size, ident, args.overlap)
            elif etype == ETH_IPV6:
                frags = fragment_ipv6(ip, args.size, 0x10000 + number, args.overlap)
        if not frags:
            out.append(struct.pack(end + "IIII", sec, frac, caplen, wirelen) + frame)
            continue
        made += 1
        for f in reorder(frags, args.order, number):
            # IPv4 frames keep the identification of their packet: write it here, per packet.
            if etype == ETH_IPV4:
                f = f[:4] + struct.pack(">H", ident) + f[6:10] + b"\0\0" + f[12:]
                ihl = (f[0] & 0x0F) * 4
                f = f[:10] + struct.pack(">H", checksum(f[:ihl])) + f[12:]
            frame = link + f
            out.append(struct.pack(end + "IIII", sec, frac, len(frame), len(frame)) + frame)
    open(args.outfile, "wb").write(b"".join(out))
    print(f"{args.outfile}: {made} of {number} packets fragmented", file=sys.stderr)


if __name__ == "__main__":
    main()
