#!/usr/bin/env python3
"""Writes the seed corpus for tests/fuzz/fuzz_fanout_bpf.c: Ethernet frames.

The Ethernet seeds of the packet_decode corpus (its link-type byte 0 dropped: VLAN stacks, MPLS, every
tunnel, IPv4 options and fragments, IPv6 extension headers), then the first three frames of each
scripts/wrap-capture.py mode over tests/fixtures/demo.pcap and ipv6-starttls.pcap. Output is
deterministic; stale seed-* files are removed, other files (regression inputs) are left alone.

Usage: python3 tests/fuzz/seed_fanout_bpf.py
"""
import glob
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus", "fanout_bpf")
MODES = ["qinq", "vlan3", "vlan4", "mpls", "mpls-pw", "gre", "gre-teb", "erspan2", "erspan3", "vxlan", "vxlan6",
         "geneve"]


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    at = 24
    while at + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[at:at + 16])
        yield data[at + 16:at + 16 + caplen]
        at += 16 + caplen


def main():
    os.makedirs(OUT, exist_ok=True)
    for stale in glob.glob(os.path.join(OUT, "seed-*")):
        os.remove(stale)
    seeds = {}
    for path in sorted(glob.glob(os.path.join(HERE, "corpus", "packet_decode", "seed-en10mb-*"))):
        with open(path, "rb") as f:
            seeds["decode-" + os.path.basename(path)[len("seed-en10mb-"):]] = f.read()[1:]
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("demo", "ipv6-starttls"):
            src = os.path.join(REPO, "tests", "fixtures", name + ".pcap")
            for mode in MODES:
                out = os.path.join(tmp, mode + ".pcap")
                subprocess.run([sys.executable, os.path.join(REPO, "scripts", "wrap-capture.py"), mode, src, out],
                               check=True)
                for i, frame in zip(range(3), read_pcap(out)):
                    seeds["%s-%s-%d" % (mode, name, i)] = frame
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds), OUT))


if __name__ == "__main__":
    main()
