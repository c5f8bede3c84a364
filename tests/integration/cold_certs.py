#!/usr/bin/env python3
"""cold_certs.py SOURCE_DIR TLSOBS WORKDIR - bench/cold_certs.py keeps verdicts and makes every certificate new.

For fixtures with a two-certificate chain, each first cut into 50-byte TCP
segments (so the Certificate message spans many packets, the case the tool
must reassemble), then made cold: tlsobs must report the same sessions with
the same validation status, subject and chain length as on the original
fixture, but chain hashes that are all new and all different from each
other, and the tool must count exactly the certificates of the chains.
"""
import importlib.util
import json
import os
import struct
import subprocess
import sys

FIXTURES = ["starttls-tls12.pcap", "ecdsa-cert.pcap", "expired-cert.pcap", "tls10-rsa.pcap"]
SEGMENT = 50


def load_tool(src):
    spec = importlib.util.spec_from_file_location("cold_certs", os.path.join(src, "bench", "cold_certs.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ip_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def resegment(tool, src, dst):
    """Copies src to dst with every TCP payload longer than SEGMENT cut into SEGMENT-byte segments."""
    it = tool.read_pcap(src)
    ghdr, endian = next(it)
    rec = struct.Struct(endian + "IIII")
    with open(dst, "wb") as out:
        out.write(ghdr)
        for hdr, pkt in it:
            t = tool.tcp_of(pkt)
            if t is None or t[4] <= SEGMENT or not t[5][4] or len(t[5][0]) != 4:
                out.write(hdr)
                out.write(pkt)
                continue
            _, seq, flags, pay_off, pay_len, (src_ip, dst_ip, tcp_off, tcp_len, _) = t
            ts_sec, ts_usec = rec.unpack(hdr)[:2]
            if pkt[12:14] != b"\x08\x00":  # VLAN-tagged IPv4: kept as it is
                out.write(hdr)
                out.write(pkt)
                continue
            eth_end = 14
            for start in range(0, pay_len, SEGMENT):
                chunk = pkt[pay_off + start:pay_off + min(start + SEGMENT, pay_len)]
                last = start + SEGMENT >= pay_len
                ip = bytearray(pkt[eth_end:tcp_off])
                tcp = bytearray(pkt[tcp_off:pay_off])
                struct.pack_into("!H", ip, 2, len(ip) + len(tcp) + len(chunk))
                struct.pack_into("!H", ip, 10, 0)
                struct.pack_into("!H", ip, 10, ip_checksum(bytes(ip)))
                struct.pack_into("!I", tcp, 4, (seq + start) & 0xFFFFFFFF)
                if not last:
                    tcp[13] &= ~0x09 & 0xFF  # FIN and PSH only on the last piece
                struct.pack_into("!H", tcp, 16, 0)
                seg = bytes(tcp) + chunk
                struct.pack_into("!H", tcp, 16, tool.checksum(src_ip, dst_ip, seg))
                new = pkt[:eth_end] + bytes(ip) + bytes(tcp) + chunk
                out.write(rec.pack(ts_sec, ts_usec, len(new), len(new)))
                out.write(new)


def sessions(tlsobs, pcap, work):
    out = os.path.join(work, os.path.basename(pcap) + ".json")
    if os.path.exists(out):
        os.unlink(out)
    subprocess.run([tlsobs, "-q", "-r", pcap, "-o", "json:" + out], check=True)
    rows = []
    with open(out) as f:
        for line in f:
            e = json.loads(line)
            if e["event"]["dataset"] != "tlsobs.session":
                continue
            tls = e.get("tls", {}).get("server", {})
            ours = e.get("tlsobs", {}).get("tls", {})
            mine = ours.get("server", {})
            rows.append({"status": ours.get("validation", {}).get("status"),
                         "subject": json.dumps(tls.get("x509", {}).get("subject"), sort_keys=True),
                         "not_after": tls.get("not_after"),
                         "chain": mine.get("chain_sha256", []),
                         "sha256": tls.get("hash", {}).get("sha256")})
    return rows


def main():
    src, tlsobs, work = sys.argv[1:4]
    tool = load_tool(src)
    failures = []
    for name in FIXTURES:
        orig = os.path.join(src, "tests", "fixtures", name)
        cut = os.path.join(work, "cut-" + name)
        cold = os.path.join(work, "cold-" + name)
        count = os.path.join(work, "count-" + name)
        resegment(tool, orig, cut)
        subprocess.run([sys.executable, os.path.join(src, "bench", "cold_certs.py"), cut, cold, "--count", count],
                       check=True)
        a, b, c = sessions(tlsobs, orig, work), sessions(tlsobs, cut, work), sessions(tlsobs, cold, work)
        with open(count) as f:
            rewritten = int(f.read())
        chains = sum(len(r["chain"]) for r in a)
        if not a or chains == 0:
            failures.append("%s: no certificate seen on the original" % name)
            continue
        if b != a:
            failures.append("%s: cutting into %d-byte segments changed the sessions: %s / %s" % (name, SEGMENT, a, b))
        if rewritten != chains:
            failures.append("%s: %d certificates rewritten, the chains hold %d" % (name, rewritten, chains))
        seen = set()  # the counter starts at 1 in each capture: new within it, and against the original
        for ra, rc in zip(a, c):
            for k in ("status", "subject", "not_after"):
                if ra[k] != rc[k]:
                    failures.append("%s: %s changed: %s -> %s" % (name, k, ra[k], rc[k]))
            if len(ra["chain"]) != len(rc["chain"]):
                failures.append("%s: chain length changed: %s -> %s" % (name, ra["chain"], rc["chain"]))
            for h in rc["chain"]:
                if h in ra["chain"] or h in seen:
                    failures.append("%s: certificate %s is not new" % (name, h))
                seen.add(h)
        if len(a) != len(c):
            failures.append("%s: %d sessions, %d on the cold capture" % (name, len(a), len(c)))
        print("%s: %d sessions, %d certificates rewritten, status %s" % (name, len(c), rewritten,
                                                                         sorted({r["status"] for r in c})))
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
