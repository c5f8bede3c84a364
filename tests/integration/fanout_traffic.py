#!/usr/bin/env python3
"""Crafted TCP connections over a veth pair, for tests/integration/live_fanout.sh.

Each connection's client-to-server frames are sent on the peer end (they arrive at the captured end as
incoming packets), its server-to-client frames on the captured end itself (the captured end sees them as
outgoing): the kernel runs the fanout program on both paths, so both must give one socket. The frames
carry documentation addresses only (RFC 5737, RFC 3849) and stay inside the test's own network namespace:
their destination MAC is nobody's, so no stack answers them.

Shapes: plain IPv4 with varied pairs, IPv6, an 802.1Q tag, QinQ, VXLAN (one outer pair for all, the inner
pairs varied: only the inner pair can spread them), and two connections whose data segment is sent as
IPv4 fragments and IPv6 fragments.

Usage: fanout_traffic.py PEER-IFACE CAPTURED-IFACE
"""
import ipaddress
import random
import socket
import struct
import sys

MAC_A, MAC_B = bytes.fromhex("020000000a01"), bytes.fromhex("020000000b01")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip4(src, dst, proto, payload, ident=1, frag=0x4000, total=None):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total or 20 + len(payload), ident, frag, 64, proto, 0,
                      ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def ip6(src, dst, nxt, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nxt, 64, ipaddress.ip_address(src).packed,
                       ipaddress.ip_address(dst).packed) + payload


def tcp(sport, dport, seq, ack, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data


def ether(ethertype, payload, tags=()):
    head = MAC_B + MAC_A
    for tpid, vid in tags:
        head += struct.pack("!HH", tpid, vid)
    return head + struct.pack("!H", ethertype) + payload


def ip_packet(src, dst, segment):
    if ":" in src:
        return 0x86DD, ip6(src, dst, 6, segment)
    return 0x0800, ip4(src, dst, 6, segment)


def vxlan(inner_frame, sport):
    udp_payload = struct.pack("!BBHI", 0x08, 0, 0, 4242 << 8) + inner_frame
    udp = struct.pack("!HHHH", sport, 4789, 8 + len(udp_payload), 0) + udp_payload
    return ether(0x0800, ip4("192.0.2.1", "192.0.2.2", 17, udp))


def frame(shape, src, dst, segment, sport):
    etype, packet = ip_packet(src, dst, segment)
    if shape == "vlan":
        return ether(etype, packet, ((0x8100, 10),))
    if shape == "qinq":
        return ether(etype, packet, ((0x88A8, 100), (0x8100, 200)))
    if shape == "vxlan":
        return vxlan(ether(etype, packet), sport)
    return ether(etype, packet)


def fragments4(src, dst, segment, ident):
    """The segment in 3 IPv4 fragments (offsets in 8-byte units, RFC 791 3.2)."""
    cut = [0, 24, 48, len(segment)]
    out = []
    for i in range(3):
        more = 0x2000 if i < 2 else 0
        part = segment[cut[i]:cut[i + 1]]
        out.append(ether(0x0800, ip4(src, dst, 6, part, ident=ident, frag=more | cut[i] // 8)))
    return out


def fragments6(src, dst, segment, ident):
    cut = [0, 24, len(segment)]
    out = []
    for i in range(2):
        more = 1 if i == 0 else 0
        hdr = struct.pack("!BBHI", 6, 0, (cut[i] // 8) << 3 | more, ident)
        out.append(ether(0x86DD, ip6(src, dst, 44, hdr + segment[cut[i]:cut[i + 1]])))
    return out


def connections():
    """Addresses drawn from a seeded generator: the same every run, spread over the hash."""
    rnd = random.Random(17)
    conns = []
    for i in range(50):
        client = "198.51.100.%d" % rnd.randrange(1, 255)
        server = "203.0.113.%d" % rnd.randrange(1, 255)
        conns.append(("plain", client, server, 40000 + i, 25))
    for i in range(8):
        conns.append(("plain", "2001:db8:c::%x" % rnd.randrange(1, 65535), "2001:db8:5::%x" % rnd.randrange(1, 65535),
                      41000 + i, 25))
    for i in range(4):
        conns.append(("vlan", "192.0.2.%d" % rnd.randrange(1, 127), "192.0.2.%d" % rnd.randrange(128, 255),
                      42000 + i, 587))
    for i in range(4):
        conns.append(("qinq", "192.0.2.%d" % rnd.randrange(1, 127), "192.0.2.%d" % rnd.randrange(128, 255),
                      43000 + i, 587))
    for i in range(8):
        conns.append(("vxlan", "198.51.100.%d" % rnd.randrange(1, 255), "203.0.113.%d" % rnd.randrange(1, 255),
                      44000 + i, 25))
    return conns


def main():
    peer, captured = sys.argv[1], sys.argv[2]
    to_server = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    to_server.bind((peer, 0))
    to_client = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    to_client.bind((captured, 0))
    data = b"EHLO client.example\r\n" + b"x" * 40
    for n, (shape, c, s, cport, sport) in enumerate(connections()):
        ent = 50000 + n
        to_server.send(frame(shape, c, s, tcp(cport, sport, 1000, 0, 0x02), ent))
        to_client.send(frame(shape, s, c, tcp(sport, cport, 5000, 1001, 0x12), ent))
        to_server.send(frame(shape, c, s, tcp(cport, sport, 1001, 5001, 0x10), ent))
        to_client.send(frame(shape, s, c, tcp(sport, cport, 5001, 1001, 0x18, b"220 mx.example ESMTP\r\n"), ent))
        to_server.send(frame(shape, c, s, tcp(cport, sport, 1001, 5023, 0x18, data), ent))
        to_client.send(frame(shape, s, c, tcp(sport, cport, 5023, 1001 + len(data), 0x11), ent))
        to_server.send(frame(shape, c, s, tcp(cport, sport, 1001 + len(data), 5024, 0x11), ent))
    # A connection whose data goes as fragments, each family.
    for src, dst, cut in (("198.51.100.200", "203.0.113.200", fragments4), ("2001:db8:c::ff", "2001:db8:5::ff",
                                                                           fragments6)):
        to_server.send(frame("plain", src, dst, tcp(45000, 25, 1, 0, 0x02), 0))
        to_client.send(frame("plain", dst, src, tcp(25, 45000, 9, 2, 0x12), 0))
        for f in cut(src, dst, tcp(45000, 25, 2, 10, 0x18, data), 77):
            to_server.send(f)


if __name__ == "__main__":
    main()
