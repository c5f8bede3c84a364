#!/usr/bin/env python3
"""bench/cold_certs.py IN.pcap OUT.pcap - make every server certificate in a capture unique.

The "cold run" of bench/throughput.sh (issue 15): the same traffic, but no two
certificates alike, so that no certificate cache can help. A counter (4 bytes,
big-endian, from 1) is written over the last bytes of each certificate's DER,
which are the tail of its signatureValue BIT STRING (RFC 5280 4.1: the
signature is the certificate's last field). The certificate still decodes
(same subject, issuer, key, dates, extensions); only its signature no longer
matches, so chain validation fails for every certificate in the same way.
TCP checksums of the rewritten packets are recomputed.

A Certificate message spans several TCP segments and TLS records, so the
work is done on reassembled streams: pass 1 rebuilds each direction of each
TCP connection by sequence number (the first STREAM_CAP bytes: the handshake
comes early), finds the TLS 1.0-1.2 handshake (RFC 5246 6.2, 7.4.2) that
starts with a ServerHello record, and maps every byte to rewrite to a stream
offset; pass 2 patches each packet whose payload covers such an offset
(retransmissions get the same bytes). TLS 1.3 certificates are encrypted and
left as they are (tlsobs does not see them either).

With --leaves-only, only the first certificate of each chain (the leaf) is
rewritten: new servers under CAs already seen, as a mail gateway meets them,
where a cache of decoded intermediates can help but a chain cache cannot.

Prints a summary on stderr and, with --count FILE, writes the number of
certificates rewritten to FILE. Standard library only; pcap (not pcapng) in,
pcap out, Ethernet (with VLAN tags), IPv4 (unfragmented) and IPv6 (TCP as the
first next header).
"""
import argparse
import re
import struct
import sys

STREAM_CAP = 256 * 1024  # bytes kept per direction: SMTP greeting, EHLO, STARTTLS, handshake
COUNTER_LEN = 4

PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
               b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}  # us and ns resolution


def read_pcap(path):
    """Yields (record header bytes, packet bytes); the first item is the global header."""
    with open(path, "rb") as f:
        ghdr = f.read(24)
        if len(ghdr) < 24 or ghdr[:4] not in PCAP_MAGICS:
            sys.exit("cold_certs.py: %s: not a pcap file (pcapng is not supported)" % path)
        endian = PCAP_MAGICS[ghdr[:4]]
        linktype = struct.unpack(endian + "I", ghdr[20:24])[0]
        if linktype != 1:
            sys.exit("cold_certs.py: %s: link type %d, only Ethernet (1) is supported" % (path, linktype))
        yield ghdr, endian
        rec = struct.Struct(endian + "IIII")
        while True:
            hdr = f.read(16)
            if len(hdr) < 16:
                return
            caplen = rec.unpack(hdr)[2]
            data = f.read(caplen)
            if len(data) < caplen:
                return
            yield hdr, data


def tcp_of(pkt):
    """(key, seq, flags, payload offset, payload length, checksum info) of a TCP packet, or None."""
    off, etype = 14, struct.unpack_from("!H", pkt, 12)[0] if len(pkt) >= 14 else None
    while etype in (0x8100, 0x88A8) and len(pkt) >= off + 4:
        etype = struct.unpack_from("!H", pkt, off + 2)[0]
        off += 4
    if etype == 0x0800 and len(pkt) >= off + 20:
        ihl = (pkt[off] & 0x0F) * 4
        total, frag, proto = struct.unpack_from("!H", pkt, off + 2)[0], struct.unpack_from("!H", pkt, off + 6)[0], pkt[off + 9]
        if proto != 6 or frag & 0x3FFF or ihl < 20:
            return None
        src, dst, tcp_off, tcp_len = pkt[off + 12:off + 16], pkt[off + 16:off + 20], off + ihl, total - ihl
    elif etype == 0x86DD and len(pkt) >= off + 40:
        if pkt[off + 6] != 6:
            return None
        src, dst, tcp_off = pkt[off + 8:off + 24], pkt[off + 24:off + 40], off + 40
        tcp_len = struct.unpack_from("!H", pkt, off + 4)[0]
    else:
        return None
    if len(pkt) < tcp_off + 20 or tcp_len < 20:
        return None
    sport, dport, seq = struct.unpack_from("!HHI", pkt, tcp_off)
    doff = (pkt[tcp_off + 12] >> 4) * 4
    flags = pkt[tcp_off + 13]
    pay_off = tcp_off + doff
    pay_len = min(tcp_len - doff, len(pkt) - pay_off)
    complete = tcp_off + tcp_len <= len(pkt)
    return (src, dst, sport, dport), seq, flags, pay_off, max(pay_len, 0), (src, dst, tcp_off, tcp_len, complete)


class Stream:
    """One direction of one TCP connection: segments by offset from the initial sequence number."""
    __slots__ = ("base", "segments")

    def __init__(self, base):
        self.base = base
        self.segments = []

    def data(self):
        """The reassembled bytes (first copy of each byte wins) and a mask of which bytes were seen."""
        end = min(max((o + len(p) for o, p in self.segments), default=0), STREAM_CAP)
        buf, seen, filled = bytearray(end), bytearray(end), 0
        for o, p in sorted(self.segments, key=lambda s: s[0]):  # stable: the first copy of an offset wins
            stop = min(o + len(p), end)
            if stop > filled:
                start = max(o, filled)
                buf[start:stop] = p[start - o:stop - o]
                seen[start:stop] = b"\1" * (stop - start)
                filled = stop
        return bytes(buf), seen


SERVER_HELLO = re.compile(rb"\x16\x03[\x01-\x03][\x00-\x40].\x02", re.S)


def handshake_bytes(buf, seen, start):
    """The handshake payload of consecutive TLS records from start, with the stream offset of each byte."""
    hs, where, pos = bytearray(), [], start
    while pos + 5 <= len(buf) and all(seen[pos:pos + 5]):
        rtype, major, rlen = buf[pos], buf[pos + 1], struct.unpack_from("!H", buf, pos + 3)[0]
        if rtype not in (20, 21, 22, 23) or major != 3 or rlen > 16384 + 2048:
            break
        if rtype != 22:  # ChangeCipherSpec, alert or application data: the clear handshake ends
            break
        body = pos + 5
        if body + rlen > len(buf):
            hs += buf[body:]
            where += range(body, len(buf))
            break
        hs += buf[body:body + rlen]
        where += range(body, body + rlen)
        pos = body + rlen
    return bytes(hs), where


def certificate_ends(hs):
    """Offsets (into the handshake bytes) just past each DER in the first Certificate message (RFC 5246 7.4.2)."""
    pos = 0
    while pos + 4 <= len(hs):
        mtype, mlen = hs[pos], int.from_bytes(hs[pos + 1:pos + 4], "big")
        body, end = pos + 4, pos + 4 + mlen
        if mtype == 11:
            if end > len(hs) or mlen < 3:
                return []
            list_end = body + 3 + int.from_bytes(hs[body:body + 3], "big")
            ends, p = [], body + 3
            while p + 3 <= min(list_end, end):
                clen = int.from_bytes(hs[p:p + 3], "big")
                if clen < 64 or p + 3 + clen > end or hs[p + 3] != 0x30:
                    return ends
                ends.append(p + 3 + clen)
                p += 3 + clen
            return ends
        pos = end  # ServerHello (and anything else) before the Certificate message
    return []


def plan_patches(streams, leaves_only=False):
    """{stream id: [(stream offset, byte)]} and the number of certificates rewritten."""
    patches, counter = {}, 0
    for sid, st in streams.items():
        if not st.segments:
            continue
        buf, seen = st.data()
        m = SERVER_HELLO.search(buf)
        if m is None:
            continue
        hs, where = handshake_bytes(buf, seen, m.start())
        for k, end in enumerate(certificate_ends(hs)):
            if end > len(where) or (leaves_only and k > 0):
                continue
            counter += 1
            tail = counter.to_bytes(COUNTER_LEN, "big")
            patches.setdefault(sid, []).extend(zip(where[end - COUNTER_LEN:end], tail))
    return patches, counter


def checksum(src, dst, tcp):
    """RFC 793 3.1 / RFC 8200 8.1: the TCP checksum over the pseudo-header and the segment."""
    pseudo = src + dst + (struct.pack("!BBH", 0, 6, len(tcp)) if len(src) == 4 else struct.pack("!IBBBB", len(tcp), 0, 0, 0, 6))
    data = pseudo + tcp + (b"\0" if len(tcp) % 2 else b"")
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def main():
    ap = argparse.ArgumentParser(description="make every server certificate in a pcap unique (bench cold run)")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--count", help="write the number of certificates rewritten to this file")
    ap.add_argument("--leaves-only", action="store_true",
                    help="rewrite only the first certificate of each chain (new servers under known CAs)")
    args = ap.parse_args()

    # Pass 1: streams. A SYN with a new sequence number starts a new connection on the same 4-tuple.
    current, streams, where_pkt = {}, {}, {}
    it = read_pcap(args.input)
    next(it)
    for idx, (hdr, pkt) in enumerate(it):
        t = tcp_of(pkt)
        if t is None:
            continue
        key, seq, flags, pay_off, pay_len, _ = t
        sid = current.get(key)
        if flags & 0x02:
            if sid is None or streams[sid].base != (seq + 1) & 0xFFFFFFFF:
                sid = len(streams)
                streams[sid] = Stream((seq + 1) & 0xFFFFFFFF)
                current[key] = sid
            continue
        if pay_len == 0:
            continue
        if sid is None:  # joined mid-connection: count from the first byte seen
            sid = len(streams)
            streams[sid] = Stream(seq)
            current[key] = sid
        off = (seq - streams[sid].base) & 0xFFFFFFFF
        if off >= STREAM_CAP:
            continue
        streams[sid].segments.append((off, pkt[pay_off:pay_off + pay_len]))
        where_pkt[idx] = (sid, off)

    patches, certs = plan_patches(streams, args.leaves_only)
    by_sid = {sid: dict(p) for sid, p in patches.items()}
    del streams

    # Pass 2: copy, patching the payload bytes at planned offsets and fixing the TCP checksum.
    patched = unfixable = 0
    it = read_pcap(args.input)
    ghdr, _ = next(it)
    with open(args.output, "wb") as out:
        out.write(ghdr)
        for idx, (hdr, pkt) in enumerate(it):
            w = where_pkt.get(idx)
            if w is not None and w[0] in by_sid:
                sid, off = w
                t = tcp_of(pkt)
                _, _, _, pay_off, pay_len, (src, dst, tcp_off, tcp_len, complete) = t
                plan = by_sid[sid]
                hits = [(i, plan[off + i]) for i in range(pay_len) if off + i in plan]
                if hits:
                    b = bytearray(pkt)
                    for i, v in hits:
                        b[pay_off + i] = v
                    if complete:
                        b[tcp_off + 16:tcp_off + 18] = b"\0\0"
                        struct.pack_into("!H", b, tcp_off + 16, checksum(src, dst, bytes(b[tcp_off:tcp_off + tcp_len])))
                    else:
                        unfixable += 1
                    pkt = bytes(b)
                    patched += 1
            out.write(hdr)
            out.write(pkt)
    print("cold_certs.py: %d certificates rewritten (counter in the last %d signature bytes), %d packets patched%s"
          % (certs, COUNTER_LEN, patched, ", %d truncated packets without a checksum fix" % unfixable if unfixable else ""),
          file=sys.stderr)
    if args.count:
        with open(args.count, "w") as f:
            f.write("%d\n" % certs)


if __name__ == "__main__":
    main()
