#!/usr/bin/env python3
"""Every reassembled direction tlsobs dumps must equal tshark's `follow,tcp,raw` of that stream.

tshark is the oracle here only; the sensor never uses it. For each capture:
run `tlsobs --dump-streams`, then for every TCP stream tshark sees on a mail
port, decode tshark's hex per node and compare byte for byte with our
CLIENT.CPORT-SERVER.SPORT.c2s / .s2c files. Exits 1 on any difference.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

NODE = re.compile(r"^Node ([01]): \[?([0-9a-fA-F:.]+?)\]?:(\d+)$")


def tshark_streams(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "tcp.stream"],
                         capture_output=True, text=True, check=True).stdout
    return sorted({int(x) for x in out.split() if x.strip().isdigit()})


def tshark_lossy_streams(pcap):
    """Streams where the capture itself lost segments: tshark's follow concatenates
    around the holes, we report gaps, so bytes cannot match; gaps must show instead."""
    out = subprocess.run(["tshark", "-r", pcap, "-Y",
                          "tcp.analysis.lost_segment or tcp.analysis.ack_lost_segment",
                          "-T", "fields", "-e", "tcp.stream"],
                         capture_output=True, text=True, check=True).stdout
    return {int(x) for x in out.split() if x.strip().isdigit()}


def session_gaps(events_path):
    """{(client ip, port, server ip, port): gap count} from our session events."""
    gaps = {}
    with open(events_path) as f:
        for line in f:
            e = json.loads(line)
            if e["event"]["dataset"] != "tlsobs.session":
                continue
            key = (e["source"]["ip"], e["source"]["port"], e["destination"]["ip"], e["destination"]["port"])
            gaps[key] = gaps.get(key, 0) + e["tlsobs"]["flow"]["gaps"]
    return gaps


def tshark_follow(pcap, stream):
    """Returns {(ip, port): bytes} for both nodes of one stream (IPv6 addresses as tshark prints them)."""
    out = subprocess.run(["tshark", "-r", pcap, "-q", "-z", f"follow,tcp,raw,{stream}"],
                         capture_output=True, text=True, check=True).stdout
    nodes, data = {}, {0: bytearray(), 1: bytearray()}
    for line in out.splitlines():
        m = NODE.match(line)
        if m:
            nodes[int(m.group(1))] = (m.group(2), int(m.group(3)))
            continue
        if not line.strip() or line.startswith(("=", "Follow:", "Filter:")):
            continue
        node = 1 if line.startswith("\t") else 0
        data[node] += bytes.fromhex(line.strip())
    return {nodes[n]: bytes(data[n]) for n in nodes}


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def check_capture(tlsobs, pcap, ports, extra_args):
    failures, compared = 0, 0
    with tempfile.TemporaryDirectory() as dump:
        run = subprocess.run([tlsobs, "-q", "-r", pcap, "--dump-streams", dump,
                              "-o", f"json:{dump}/events.json"] + extra_args,
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(f"FAIL {pcap}: tlsobs exited {run.returncode}: {run.stderr.strip()}")
            return 1, 0
        lossy = tshark_lossy_streams(pcap)
        gaps = session_gaps(f"{dump}/events.json")
        for stream in tshark_streams(pcap):
            nodes = tshark_follow(pcap, stream)
            if len(nodes) != 2:
                continue
            (a, b) = nodes.keys()
            if b[1] in ports and a[1] not in ports:
                client, server = a, b
            elif a[1] in ports and b[1] not in ports:
                client, server = b, a
            else:
                continue  # not a mail-port stream: tlsobs does not follow it
            if not nodes[client] and not nodes[server]:
                continue  # no payload either way: nothing to dump
            base = f"{dump}/{client[0]}.{client[1]}-{server[0]}.{server[1]}"
            ours = {client: read(base + ".c2s"), server: read(base + ".s2c")}
            compared += 1
            differ = [label for node, label in ((client, "client->server"), (server, "server->client"))
                      if ours[node] != nodes[node]]
            if differ and stream in lossy and gaps.get((client[0], client[1], server[0], server[1])):
                continue  # the capture lost segments: tshark glues around them, we report gaps
            for label in differ:
                failures += 1
                node = client if label == "client->server" else server
                print(f"FAIL {os.path.basename(pcap)} stream {stream} {label}: "
                      f"tshark {len(nodes[node])} bytes, tlsobs {len(ours[node])} bytes")
    return failures, compared


def main():
    tlsobs = os.environ["TLSOBS"]
    top = os.environ["TLSOBS_SOURCE_DIR"]
    ports = {25, 465, 587, 2525, 443}
    extra = ["--set", "tls.implicit_ports=465,443"]
    captures = sorted(os.path.join(top, "tests/fixtures", f)
                      for f in os.listdir(os.path.join(top, "tests/fixtures")) if f.endswith(".pcap"))
    corpus = os.path.join(top, "..", "shared", "corpus")
    for sub in ("lab", "public/nDPI", "public/zeek", "public/suricata-verify", "public/arkime"):
        d = os.path.join(corpus, sub)
        if os.path.isdir(d):
            captures += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith((".pcap", ".pcapng")))
    total_fail = total = 0
    for pcap in captures:
        failures, compared = check_capture(tlsobs, pcap, ports, extra)
        total_fail += failures
        total += compared
        print(f"{'ok  ' if failures == 0 else 'FAIL'} {os.path.relpath(pcap, top)}: {compared} streams")
    print(f"dump-streams vs tshark: {total} streams compared, {total_fail} directions differ")
    if total == 0:
        print("no stream compared: the test would assert nothing")
        return 1
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
