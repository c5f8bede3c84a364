/*
 * pcap_loop.c - bare libpcap read loop: the floor for any offline pcap reader.
 *
 * Opens a capture with pcap_open_offline() and walks it with pcap_next_ex(),
 * counting packets, captured bytes and on-the-wire bytes; nothing else.
 * Used by bench/throughput.sh as the reference ("physical limit") row.
 *
 *   cc -O2 bench/pcap_loop.c -lpcap -o pcap_loop
 *   ./pcap_loop FILE      -> "packets=N caplen_bytes=M wire_bytes=W"
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t packets = 0, caplen_bytes = 0, wire_bytes = 0;
	unsigned sink = 0;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	p = pcap_open_offline(argv[1], errbuf);
	if (p == NULL) {
		fprintf(stderr, "pcap_loop: %s\n", errbuf);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		packets++;
		caplen_bytes += hdr->caplen;
		wire_bytes += hdr->len;
		if (hdr->caplen > 0)
			sink += data[0]; /* touch the packet once, as any reader would */
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("packets=%" PRIu64 " caplen_bytes=%" PRIu64 " wire_bytes=%" PRIu64 " sink=%u\n", packets,
	       caplen_bytes, wire_bytes, sink & 0xff);
	return 0;
}
