#!/usr/bin/env python3
"""Writes the seed corpus for tests/fuzz/fuzz_packet_decode.c.

Each seed is one byte naming the link type (an index into the harness's
fuzz_link_types table, kept in step with LINK_INDEX below) followed by a
packet. Packets come from the pcaps in tests/fixtures/, then from the lab
captures in ../shared/corpus/lab/ when that is there (files over 1 MB are
skipped): the fixtures are captured with a `tcp` filter, so the lab
captures fill in the kinds they lack (ARP, ICMPv6, TCP over IPv6). One packet of each kind (ARP, ICMPv6, each TCP flag combination,
with and without payload) is kept, cut to SNAPLEN bytes; the first IPv4
and IPv6 TCP packets carrying data are also re-wrapped in every other
link type and varied (VLAN tags, IPv4 options and fragments, an IPv6
extension-header chain, an IPv6 fragment), so the fuzzer starts deep in
every branch. Output is deterministic; stale seed-* files are removed,
other files (regression inputs) are left alone.

Usage: python3 tests/fuzz/seed_packet_decode.py
"""
import glob
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus", "packet_decode")
SNAPLEN = 200
MAX_PCAP = 1 << 20

# Index byte -> link type, as in fuzz_link_types[] in fuzz_packet_decode.c.
LINK_INDEX = {"en10mb": 0, "sll": 1, "sll2": 2, "null": 3, "loop": 4, "raw": 5, "raw14": 6, "raw101": 7,
              "ipv4": 8, "ipv6": 9}


def read_pcap(path):
    """Yields the captured bytes of each Ethernet record of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        return
    if struct.unpack(end + "I", data[20:24])[0] & 0xFFFF != 1:
        return
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        off += 16
        if off + caplen > len(data):
            return
        yield data[off:off + caplen]
        off += caplen


def kind(frame):
    """A short name for what a frame is, so one of each is kept."""
    etype = struct.unpack(">H", frame[12:14])[0]
    ip = frame[14:]
    if etype == 0x0800 and len(ip) >= 20:
        proto, hlen, name = ip[9], (ip[0] & 15) * 4, "v4"
    elif etype == 0x86DD and len(ip) >= 40:
        proto, hlen, name = ip[6], 40, "v6"
    else:
        return "eth%04x" % etype
    if proto != 6 or len(ip) < hlen + 20:
        return "%s-proto%d" % (name, proto)
    tcp = ip[hlen:]
    flags = tcp[13]
    data = len(ip) - hlen - (tcp[12] >> 4) * 4
    return "%s-tcp%02x%s" % (name, flags, "-data" if data > 0 else "")


def ipv6_with_ext_chain(ip):
    """Hop-by-hop, destination options, AH (12 bytes) and an atomic fragment before TCP."""
    plen = struct.unpack(">H", ip[4:6])[0]
    chain = (bytes([60, 0]) + bytes(6) + bytes([51, 0]) + bytes(6) + bytes([44, 1]) + bytes(10) +
             bytes([6, 0, 0, 0]) + b"\x00\x00\x00\x01")
    return ip[:4] + struct.pack(">H", plen + len(chain)) + bytes([0]) + ip[7:40] + chain + ip[40:]


def ipv6_fragment(ip):
    plen = struct.unpack(">H", ip[4:6])[0]
    frag = bytes([6, 0, 0, 1]) + b"\x00\x00\x00\x02"
    return ip[:4] + struct.pack(">H", plen + 8) + bytes([44]) + ip[7:40] + frag + ip[40:]


def ipv4_with_options(ip):
    hlen = (ip[0] & 15) * 4
    total = struct.unpack(">H", ip[2:4])[0]
    opts = b"\x01" * 8
    return bytes([0x40 | (hlen + 8) // 4, ip[1]]) + struct.pack(">H", total + 8) + ip[4:hlen] + opts + ip[hlen:]


def ipv4_fragment(ip, frag):
    return ip[:6] + struct.pack(">H", frag) + ip[8:]


def wrap(link, ip):
    """The link header for an IP packet (version from its first nibble)."""
    v6 = ip[0] >> 4 == 6
    etype = 0x86DD if v6 else 0x0800
    if link == "sll":
        return struct.pack(">HHH8sH", 0, 1, 6, b"\x02\x00\x5e\x10\x02\x01\x00\x00", etype) + ip
    if link == "sll2":
        return struct.pack(">HHIHBB8s", etype, 0, 2, 1, 0, 6, b"\x02\x00\x5e\x10\x02\x01\x00\x00") + ip
    if link == "null":  # little-endian FreeBSD: AF_INET6 is 28
        return struct.pack("<I", 28 if v6 else 2) + ip
    if link == "loop":  # OpenBSD: AF_INET6 is 24
        return struct.pack(">I", 24 if v6 else 2) + ip
    return ip


def main():
    lab = os.path.join(os.path.dirname(REPO), "shared", "corpus", "lab")
    pcaps = sorted(glob.glob(os.path.join(REPO, "tests", "fixtures", "*.pcap")))
    pcaps += sorted(glob.glob(os.path.join(lab, "*.pcap")))
    pcaps = [p for p in pcaps if os.path.getsize(p) <= MAX_PCAP]
    if not pcaps:
        sys.exit("seed_packet_decode: no pcaps in tests/fixtures/ or ../shared/corpus/lab/")

    seeds = {}
    first_data = {}
    for path in pcaps:
        for frame in read_pcap(path):
            k = kind(frame)
            seeds.setdefault("en10mb-" + k, (0, frame[:SNAPLEN]))
            if k.endswith("-data"):
                first_data.setdefault(k[:2], frame)

    for version, frame in sorted(first_data.items()):
        ip = frame[14:14 + SNAPLEN]
        for link in ("sll", "sll2", "null", "loop", "raw", "raw14", "raw101"):
            seeds["%s-%s-tcp-data" % (link, version)] = (LINK_INDEX[link], wrap(link, ip))
        seeds["ip%s-%s-tcp-data" % (version[1], version)] = (LINK_INDEX["ipv" + version[1]], ip)
        etype = frame[12:14]
        seeds["en10mb-%s-vlan" % version] = (0, frame[:12] + b"\x81\x00\x20\x64" + etype + ip)
        seeds["en10mb-%s-qinq" % version] = (0, frame[:12] + b"\x88\xa8\x00\xc8\x81\x00\x00\x64" + etype + ip)
        if version == "v4":
            seeds["raw-v4-options"] = (LINK_INDEX["raw"], ipv4_with_options(ip))
            seeds["raw-v4-first-fragment"] = (LINK_INDEX["raw"], ipv4_fragment(ip, 0x2000))
            seeds["raw-v4-last-fragment"] = (LINK_INDEX["raw"], ipv4_fragment(ip, 0x00b9))
        else:
            seeds["raw-v6-ext-chain"] = (LINK_INDEX["raw"], ipv6_with_ext_chain(ip))
            seeds["sll2-v6-ext-chain"] = (LINK_INDEX["sll2"], wrap("sll2", ipv6_with_ext_chain(ip)))
            seeds["raw-v6-fragment"] = (LINK_INDEX["raw"], ipv6_fragment(ip))

    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.startswith("seed-"):
            os.remove(os.path.join(OUT, name))
    for name, (index, packet) in sorted(seeds.items()):
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(bytes([index]) + packet)
    print("seed_packet_decode: wrote %d seeds to %s" % (len(seeds), os.path.relpath(OUT, REPO)))


if __name__ == "__main__":
    main()
