/*
 * pcap_repeat.c: one capture, repeated back to back in packet time, into one file.
 *
 *   cc -O2 -Wall bench/pcap_repeat.c -lpcap -o pcap_repeat
 *   pcap_repeat -n COPIES [-g GAP_SECONDS] IN.pcap OUT.pcap
 *
 * Copy k is IN shifted by k x (IN's duration + GAP): the same sessions again, each
 * copy after the previous one's flows have ended and timed out (GAP, default 700 s,
 * is longer than every default flow timeout), so no copy meets another's flows.
 * For bench/soak.sh --file: a long run of one process through steady traffic.
 * Prints "packets=N bytes=N seconds=S" (packet time covered).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

struct packet {
	struct pcap_pkthdr h;
	u_char *data;
};

static uint64_t parse_u64(const char *opt, const char *s, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max) {
		fprintf(stderr, "pcap_repeat: %s: want an integer from 1 to %" PRIu64 ", got '%s'\n", opt,
		        max, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t copies = 0, gap_s = 700;
	int c;
	while ((c = getopt(argc, argv, "n:g:")) != -1) {
		switch (c) {
		case 'n':
			copies = parse_u64("-n", optarg, 10000000);
			break;
		case 'g':
			gap_s = parse_u64("-g", optarg, 1000000);
			break;
		default:
			goto usage;
		}
	}
	if (copies == 0 || argc - optind != 2) {
	usage:
		fprintf(stderr, "usage: pcap_repeat -n COPIES [-g GAP_SECONDS] IN.pcap OUT.pcap\n");
		return 2;
	}
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *in =
	    pcap_open_offline_with_tstamp_precision(argv[optind], PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (!in) {
		fprintf(stderr, "pcap_repeat: %s\n", errbuf);
		return 1;
	}
	struct packet *p = NULL;
	size_t n = 0, cap = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;
	uint64_t first = UINT64_MAX, last = 0;
	while ((rc = pcap_next_ex(in, &h, &data)) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			p = realloc(p, cap * sizeof *p);
		}
		if (!p || !(p[n].data = malloc(h->caplen ? h->caplen : 1))) {
			perror("pcap_repeat");
			return 1;
		}
		p[n].h = *h;
		memcpy(p[n].data, data, h->caplen);
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		first = ts < first ? ts : first;
		last = ts > last ? ts : last;
		n++;
	}
	if (rc == PCAP_ERROR || n == 0) {
		fprintf(stderr, "pcap_repeat: %s: %s\n", argv[optind], n ? pcap_geterr(in) : "no packets");
		return 1;
	}
	pcap_dumper_t *out = pcap_dump_open(in, argv[optind + 1]);
	if (!out) {
		fprintf(stderr, "pcap_repeat: %s: %s\n", argv[optind + 1], pcap_geterr(in));
		return 1;
	}
	uint64_t period = last - first + gap_s * 1000000u, bytes = 0;
	for (uint64_t k = 0; k < copies; k++) {
		for (size_t i = 0; i < n; i++) {
			struct pcap_pkthdr hh = p[i].h;
			uint64_t ts =
			    (uint64_t)hh.ts.tv_sec * 1000000u + (uint64_t)hh.ts.tv_usec + k * period;
			hh.ts.tv_sec = (time_t)(ts / 1000000u);
			hh.ts.tv_usec = (suseconds_t)(ts % 1000000u);
			pcap_dump((u_char *)out, &hh, p[i].data);
			bytes += hh.caplen;
		}
	}
	if (pcap_dump_flush(out) != 0 || ferror(pcap_dump_file(out))) {
		fprintf(stderr, "pcap_repeat: %s: write error\n", argv[optind + 1]);
		return 1;
	}
	pcap_dump_close(out);
	pcap_close(in);
	printf("packets=%" PRIu64 " bytes=%" PRIu64 " seconds=%.0f\n", (uint64_t)n * copies, bytes,
	       (double)(copies * period) / 1e6);
	for (size_t i = 0; i < n; i++)
		free(p[i].data);
	free(p);
	return 0;
}
