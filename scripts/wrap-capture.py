#!/usr/bin/env python3
"""Wraps every frame of an Ethernet pcap in VLAN tags, MPLS or a tunnel.

The fixtures of tests/integration/tunnels.sh: the project's own recorded
captures (tests/fixtures/*.pcap), carried the way span ports, carrier links
and cloud mirroring deliver traffic. Every outer header is built by hand with
the stdlib's struct; lengths and checksums (IPv4 header, UDP over its pseudo
header, the GRE checksum when its C bit is set) are computed, so Wireshark
and Suricata read the result without complaint. Timestamps are kept. The
outer addresses are fixed per capture (192.0.2.1 -> 192.0.2.2, or
2001:db8:ffff::1 -> 2001:db8:ffff::2), as a mirror session sends every copy
from the same switch to the same collector.

Modes (outer first):
  qinq        802.1ad S-tag 100, 802.1Q C-tag 200
  vlan3       S-tag 100, C-tags 200 and 300
  vlan4       S-tag 100 (0x9100), C-tags 200, 300, 400
  mpls        label 1000, label 2000 (bottom of stack), the IP packet
  mpls-pw     label 3000 (bottom), a pseudowire control word, the Ethernet frame (RFC 4385, RFC 4448)
  gre         IPv4 / GRE with checksum, key 7 and sequence number / the IP packet
  gre-teb     IPv4 / GRE with key 8 / the Ethernet frame (0x6558)
  erspan2     IPv4 / GRE with sequence number / ERSPAN type II, session 42 / the Ethernet frame
  erspan3     IPv4 / GRE with sequence number / ERSPAN type III, session 77, with the
              platform-specific sub-header / the Ethernet frame
  vxlan       IPv4 / UDP to 4789 / VXLAN VNI 4242 / the Ethernet frame
  vxlan6      as vxlan over IPv6, VNI 4243, UDP to PORT (default 4789; see --port)
  geneve      IPv4 / UDP to 6081 / Geneve VNI 1234 with one 8-byte option / the Ethernet frame

Usage: wrap-capture.py [--port N] MODE IN.pcap OUT.pcap
"""
import argparse
import struct
import sys
import zlib

OUTER4 = (bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
OUTER6 = (bytes.fromhex("20010db8ffff0000000000000000" "0001"), bytes.fromhex("20010db8ffff0000000000000000" "0002"))
MAC_SRC, MAC_DST = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def checksum(data):
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ether(ethertype, payload):
    return MAC_DST + MAC_SRC + struct.pack("!H", ethertype) + payload


class Outer:
    """The outer IP header of a tunnel, with a running IPv4 identification."""

    def __init__(self, v6):
        self.v6 = v6
        self.ident = 0

    def ip(self, proto, payload):
        if self.v6:
            src, dst = OUTER6
            return struct.pack("!IHBB", 6 << 28, len(payload), proto, 64) + src + dst + payload
        src, dst = OUTER4
        self.ident = (self.ident + 1) & 0xFFFF
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), self.ident, 0x4000, 64, proto, 0, src, dst)
        header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
        return header + payload

    def frame(self, proto, payload):
        return ether(0x86DD if self.v6 else 0x0800, self.ip(proto, payload))

    def udp(self, sport, dport, payload):
        length = 8 + len(payload)
        src, dst = OUTER6 if self.v6 else OUTER4
        pseudo = src + dst + (struct.pack("!IxxxB", length, 17) if self.v6 else struct.pack("!xBH", 17, length))
        csum = checksum(pseudo + struct.pack("!HHHH", sport, dport, length, 0) + payload) or 0xFFFF
        return self.frame(17, struct.pack("!HHHH", sport, dport, length, csum) + payload)


def inner_ip(frame):
    """The IP packet of an untagged Ethernet frame, and its EtherType."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype not in (0x0800, 0x86DD):
        sys.exit("wrap-capture: a frame that is not plain IPv4/IPv6 over Ethernet (EtherType 0x%04x)" % ethertype)
    return ethertype, frame[14:]


def entropy_port(frame):
    """A UDP source port from a hash of the inner frame's addresses (RFC 7348 5), the same both ways."""
    _, ip = inner_ip(frame)
    addrs = ip[12:20] if ip[0] >> 4 == 4 else ip[8:40]
    half = len(addrs) // 2
    key = min(addrs[:half], addrs[half:]) + max(addrs[:half], addrs[half:])
    return 49152 + zlib.crc32(key) % 16384


def tags(frame, tpids_ids):
    """The frame with VLAN tags (TPID, TCI) after the MAC addresses, outermost first; its EtherType follows them."""
    return frame[:12] + b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tpids_ids) + frame[12:]


def gre(outer, flags, proto, payload, key=0, seq=0):
    """A GRE packet (RFC 2784/2890): C 0x8000, K 0x2000, S 0x1000 as flags ask."""
    opt = b""
    if flags & 0x8000:
        opt += b"\0\0\0\0"  # checksum and reserved1, filled in below
    if flags & 0x2000:
        opt += struct.pack("!I", key)
    if flags & 0x1000:
        opt += struct.pack("!I", seq)
    packet = struct.pack("!HH", flags, proto) + opt + payload
    if flags & 0x8000:
        packet = packet[:4] + struct.pack("!H", checksum(packet)) + packet[6:]
    return outer.frame(47, packet)


def wrap(mode, frame, index, outer, port):
    if mode == "qinq":
        return tags(frame, [(0x88A8, 100), (0x8100, 200)])
    if mode == "vlan3":
        return tags(frame, [(0x88A8, 100), (0x8100, 200), (0x8100, 300)])
    if mode == "vlan4":
        return tags(frame, [(0x9100, 100), (0x8100, 200), (0x8100, 300), (0x8100, 400)])
    if mode == "mpls":
        _, ip = inner_ip(frame)
        return ether(0x8847, struct.pack("!II", 1000 << 12 | 64, 2000 << 12 | 0x100 | 64) + ip)
    if mode == "mpls-pw":
        return ether(0x8847, struct.pack("!II", 3000 << 12 | 0x100 | 64, index & 0xFFFF) + frame)
    if mode == "gre":
        ethertype, ip = inner_ip(frame)
        return gre(outer, 0xB000, ethertype, ip, key=7, seq=index)
    if mode == "gre-teb":
        return gre(outer, 0x2000, 0x6558, frame, key=8)
    if mode == "erspan2":
        header = struct.pack("!HHI", 1 << 12, 42, 0)
        return gre(outer, 0x1000, 0x88BE, header + frame, seq=index)
    if mode == "erspan3":
        # ver 2, session 77; timestamp; SGT 0, P 0, FT 0 (Ethernet), Hw ID 5, D 0, Gra 1 (100 us), O 1
        header = struct.pack("!HHIHH", 2 << 12, 77, index * 1000, 0, 5 << 4 | 1 << 1 | 1)
        header += struct.pack("!II", 3 << 26, 0)  # platform-specific sub-header, platform id 3
        return gre(outer, 0x1000, 0x22EB, header + frame, seq=index)
    if mode in ("vxlan", "vxlan6"):
        vni = 4242 if mode == "vxlan" else 4243
        return outer.udp(entropy_port(frame), port or 4789, struct.pack("!II", 0x08000000, vni << 8) + frame)
    if mode == "geneve":
        option = struct.pack("!HBB", 0x0104, 0x01, 1) + b"\x00\x00\x00\x2a"  # class, type, length 1 word, data
        header = struct.pack("!BBHI", len(option) // 4, 0, 0x6558, 1234 << 8) + option
        return outer.udp(entropy_port(frame), port or 6081, header + frame)
    sys.exit("wrap-capture: unknown mode %r" % mode)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="UDP destination port for vxlan, vxlan6, geneve")
    parser.add_argument("mode")
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args()
    with open(args.input, "rb") as f:
        data = f.read()
    if len(data) < 24:
        sys.exit("wrap-capture: %s: not a pcap file" % args.input)
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        sys.exit("wrap-capture: %s: not a classic pcap file" % args.input)
    if struct.unpack(end + "I", data[20:24])[0] & 0xFFFF != 1:
        sys.exit("wrap-capture: %s: not Ethernet" % args.input)
    outer = Outer(args.mode == "vxlan6")
    out = [data[:16] + struct.pack(end + "II", 262144, 1)]
    off, index = 24, 0
    while off + 16 <= len(data):
        sec, usec, caplen, wirelen = struct.unpack(end + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        if len(frame) != caplen:
            sys.exit("wrap-capture: %s: truncated record" % args.input)
        if caplen != wirelen:
            sys.exit("wrap-capture: %s: a frame cut by the snap length" % args.input)
        index += 1
        wrapped = wrap(args.mode, frame, index, outer, args.port)
        out.append(struct.pack(end + "IIII", sec, usec, len(wrapped), len(wrapped)) + wrapped)
        off += 16 + caplen
    with open(args.output, "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    main()
