#!/usr/bin/env python3
"""bench/profile_components.py TLSOBS_BINARY PERF_DATA... - tlsobs's time by component, from perf profiles.

Reads `perf script` of a profile recorded with call graphs (perf record
--call-graph dwarf, see bench/throughput.sh --profile) and charges each sample
to one component: the first frame, walking from the sampled function out
towards main(), that belongs to a component decides. Our own functions belong
to a component by the source file they are defined in (from the binary's
debug info, `nm -l`), with a few functions of parsers/x509.c split off (chain
validation, the JA4X fingerprint); libndpi and libpcap frames belong to nDPI and
pcap. Library code called by us (libcrypto, libc, the kernel) is therefore
charged to the caller: d2i_X509 under x509_validate is chain validation, under
x509_parse X.509 parsing, as in issue 15's table. Samples of start-up and exit
(sensor_new, the dynamic loader) are a component of their own.

The "of which" columns count, per component, the samples with a given
function anywhere below the deciding frame: d2i_X509 (DER decoding),
OpenSSL's algorithm fetch (evp_generic_fetch / EVP_MD_fetch: a property query
under a lock), and the public key's decoding inside d2i_X509 (the OSSL_DECODER
context OpenSSL 3.0 builds per certificate).

Standard library only; needs perf and nm (binutils).
"""
import argparse
import bisect
import collections
import os
import re
import subprocess
import sys

# (component, source files relative to the repository) in table order; first match wins for a file.
FILE_COMPONENTS = [
    ("certificate chain validation", []),  # by function, below
    ("X.509 parsing", ["parsers/x509.c", "sensor/app/cert_cache.c", "sensor/app/issuer_cache.c"]),
    ("JSON event building", ["outputs/json_writer.c", "outputs/session_event.c", "outputs/alert_event.c",
                             "outputs/certificate_event.c", "outputs/certificate_json.c", "outputs/event_common.c",
                             "outputs/event_related.c", "outputs/policy_event.c", "outputs/stats_event.c"]),
    ("output (files, Kafka)", ["outputs/output.c", "outputs/logger.c", "outputs/kafka_output.c", "outputs/spool.c",
                               "outputs/private_dir.c"]),
    ("nDPI classification", ["sensor/app/classify.c"]),
    ("digests (hashing)", ["parsers/digest.c"]),
    ("fingerprint strings (JA3, JA4, Community ID)", ["parsers/tls_fingerprint.c", "outputs/community_id.c"]),
    ("SMTP and TLS parsing", ["parsers/smtp.c", "parsers/smtp_command.c", "parsers/smtp_reply.c", "parsers/tls.c",
                              "parsers/tls_hello.c", "parsers/tls_ciphers.c", "parsers/line_buffer.c",
                              "parsers/mime_header.c", "parsers/protocol_sniff.c", "parsers/tlsa.c",
                              "parsers/mta_sts.c", "sensor/app/mail_session.c", "sensor/app/tls_inspect.c"]),
    ("rules", ["rules/"]),
    ("flows and reassembly", ["sensor/flow/"]),
    ("packet decode", ["parsers/packet_decode.c", "parsers/packet_decode_ip.c", "parsers/packet_encap.c",
                       "sensor/flow/defrag.c"]),
    ("pcap reading", ["sensor/capture/", "parsers/pcapng.c"]),
    ("start-up and exit", []),
    ("other (sensor.c glue, geoip, config)", []),
]
FUNCTION_COMPONENTS = {
    "x509_validate": "certificate chain validation", "verify_chain": "certificate chain validation",
    "host_matches": "certificate chain validation", "status_of_verify_error": "certificate chain validation",
    "x509_chain_validate": "certificate chain validation", "built_window": "certificate chain validation",
    "x509_ja4x": "digests (hashing)", "ja4x_name": "digests (hashing)",
    "ja4x_extensions": "digests (hashing)", "oid_list_add": "digests (hashing)", "oid_list_end": "digests (hashing)",
}
# Helpers whose cost belongs to their caller: formatting an address for an event is event building, and
# x509.c's decode() (d2i_X509) is parsing under x509_parse but validation under x509_validate; so is
# chain_cert(), which decodes each certificate of a chain once, for whichever needs it first.
PASS_THROUGH = {("ip_addr_format", "parsers/packet_decode.c"), ("decode", "parsers/x509.c"),
                ("chain_cert", "parsers/x509.c")}
DSO_COMPONENTS = [("libndpi", "nDPI classification"), ("libpcap", "pcap reading")]
STARTUP = {"sensor_new", "sensor_free", "_dl_start", "_dl_init", "_dl_fini", "exit", "__libc_start_main_impl"}
STARTUP_ROOTS = {"_dl_start", "_dl_start_user"}
# d2i_X509 tail-calls ASN1_item_d2i(_ex), so the decoder's frame is the one a stack shows.
MARKERS = [("d2i_X509", {"d2i_X509", "ASN1_item_d2i", "ASN1_item_d2i_ex"}),
           ("fetch", {"evp_generic_fetch", "inner_evp_generic_fetch", "EVP_MD_fetch", "ossl_method_store_fetch"}),
           # The public key decoded inside d2i_X509 (x509_pubkey_ex_d2i_ex): OpenSSL 3.0 builds a decoder
           # context for it on every call (openssl/openssl#17950).
           ("key decoding", {"OSSL_DECODER_CTX_new_for_pkey", "OSSL_DECODER_from_data", "OSSL_DECODER_from_bio",
                             "OSSL_DECODER_CTX_free", "x509_pubkey_ex_d2i_ex", "x509_pubkey_decode"})]
SUFFIX = re.compile(r"\.(part|isra|constprop|cold|lto_priv)(\.\d+)*$")
FRAME = re.compile(r"^\s*([0-9a-f]+) (.*) \((.*)\)$")


class Symbols:
    """Our functions by address (static functions of the same name in two files stay apart)."""

    def __init__(self, binary, root):
        out = subprocess.run(["nm", "-l", "-S", "--defined-only", binary], capture_output=True, text=True,
                             check=True).stdout
        rows = []
        for line in out.splitlines():
            parts = line.split("\t")
            fields = parts[0].split()
            if len(parts) != 2 or len(fields) != 4 or fields[2] not in "tTwW":
                continue
            path = parts[1].rsplit(":", 1)[0]
            if root and path.startswith(root + "/"):
                path = path[len(root) + 1:]
            rows.append((int(fields[0], 16), int(fields[1], 16), SUFFIX.sub("", fields[3]), path))
        rows.sort()
        self.starts = [r[0] for r in rows]
        self.rows = rows

    def lookup(self, addr):
        """(function, source path) of the function containing addr, or None."""
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0 or addr >= self.rows[i][0] + max(self.rows[i][1], 1):
            return None
        return self.rows[i][2], self.rows[i][3]


def component_of_file(path):
    for exact in (True, False):
        for name, prefixes in FILE_COMPONENTS:
            if any(path == p if exact else p.endswith("/") and path.startswith(p) for p in prefixes):
                return name
    return None


def samples(perf, data, comm):
    """Yields each sample's frames, innermost first, as (symbol, dso, address) triples."""
    proc = subprocess.Popen([perf, "script", "-i", data, "--comms", comm, "-F", "ip,sym,dso", "--no-inline"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
    frames = []
    for line in proc.stdout:
        m = FRAME.match(line.rstrip("\n"))
        if m:
            frames.append((SUFFIX.sub("", m.group(2).split("+")[0]), m.group(3), int(m.group(1), 16)))
        elif not line.strip() and frames:
            yield frames
            frames = []
    if frames:
        yield frames
    if proc.wait() != 0:
        sys.exit("profile_components.py: perf script failed on %s" % data)


def classify(frames, symbols, binary_name):
    """(component, index of the deciding frame): the innermost frame of ours or of nDPI/libpcap decides."""
    names = {f[0] for f in frames}
    if names & STARTUP or frames[-1][0] in STARTUP_ROOTS:
        return "start-up and exit", len(frames)
    for i, (func, dso, addr) in enumerate(frames):
        base = os.path.basename(dso)
        for key, comp in DSO_COMPONENTS:
            if base.startswith(key):
                return comp, i
        if base != binary_name:
            continue
        sym = symbols.lookup(addr)
        if sym is None or sym in PASS_THROUGH:
            continue
        if sym[0] in FUNCTION_COMPONENTS and sym[1] == "parsers/x509.c":
            return FUNCTION_COMPONENTS[sym[0]], i
        return component_of_file(sym[1]) or "other (sensor.c glue, geoip, config)", i
    return "other (sensor.c glue, geoip, config)", len(frames)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("data", nargs="+", help="perf.data files (several runs are added up)")
    ap.add_argument("--perf", default="perf")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="repository root the debug info's paths start with")
    ap.add_argument("--top", type=int, default=0, help="also list the N functions of ours with most samples per component")
    args = ap.parse_args()

    symbols = Symbols(args.binary, args.root)
    binary_name = os.path.basename(args.binary)
    total = 0
    per = collections.Counter()
    marks = {m: collections.Counter() for m, _ in MARKERS}
    ours = collections.defaultdict(collections.Counter)
    for frames in (f for data in args.data for f in samples(args.perf, data, binary_name[:15])):
        total += 1
        comp, at = classify(frames, symbols, binary_name)
        per[comp] += 1
        below = {f[0] for f in frames[:at]}
        for m, funcs in MARKERS:
            if below & funcs:
                marks[m][comp] += 1
        if at < len(frames):
            ours[comp][frames[at][0]] += 1
    if total == 0:
        sys.exit("profile_components.py: no samples in %s" % " ".join(args.data))

    print("%-46s %8s %7s   %s" % ("component", "samples", "share", "of which (share of all samples)"))
    print("-" * 102)
    for comp, _ in FILE_COMPONENTS:
        n = per.get(comp, 0)
        notes = ", ".join("%s %.1f%%" % (m, 100.0 * marks[m][comp] / total) for m, _ in MARKERS if marks[m][comp])
        print("%-46s %8d %6.1f%%   %s" % (comp, n, 100.0 * n / total, notes))
        if args.top and ours.get(comp):
            top = ", ".join("%s %.1f%%" % (f, 100.0 * c / total) for f, c in ours[comp].most_common(args.top))
            print("%-46s %8s %7s     (%s)" % ("", "", "", top))
    print("-" * 102)
    print("%-46s %8d %6.1f%%   %s" % ("total", total, 100.0,
                                      ", ".join("%s %.1f%%" % (m, 100.0 * sum(marks[m].values()) / total)
                                                for m, _ in MARKERS)))


if __name__ == "__main__":
    main()
