/*
 * capture.h: packets in, from files or interfaces (the only file that uses libpcap).
 *
 * Files (pcap and pcapng; a directory stands for the regular files in it) are
 * read as one continuous capture in the order of their first packet's time
 * (equal times: in the order given, names sorted within a directory). A pcapng
 * file with several interfaces, which libpcap refuses or cannot tell apart, is
 * read by our own decoder (sensor/capture/pcapng_file.h): each packet with its own
 * interface's link type and name, the filter compiled per interface.
 * Interfaces are read together through poll(); while traffic is idle a tick
 * still fires about once a second so flows time out in wall-clock time.
 * A file that cannot be read is reported and skipped; the run goes on and the
 * failure shows in the return value of capture_run.
 */
#ifndef TLSOBS_CAPTURE_H
#define TLSOBS_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

/*
 * A piece of a capture file that packets lie in (sensor/capture/pcap_file.h). A consumer that keeps a
 * packet past its callback retains the packet's block and releases it when done, on any thread; the block
 * is reused once every holder has let go.
 */
struct capture_block;
void capture_block_retain(struct capture_block *b);
void capture_block_release(struct capture_block *b);

struct capture_packet {
	uint64_t ts_us;  /* packet time, microseconds since the epoch */
	uint32_t caplen; /* bytes captured */
	uint32_t len;    /* bytes on the wire */
	int linktype;    /* DLT_* of the source (of the packet's interface, in a pcapng file) */
	const uint8_t *data;
	/* observer.ingress.interface.name: the -i name live, a pcapng file's if_name; NULL when unknown */
	const char *interface;
	struct capture_block *block; /* data lies in it; NULL: data is valid during the callback only */
};

struct capture_handler {
	void (*packet)(void *ctx, const struct capture_packet *p);
	void (*tick)(void *ctx, uint64_t now_us); /* live capture only */
	void *ctx;
};

/* What the default capture filter admits: TCP on these ports (none: all TCP), and the tunnels the decoder
 * opens. capture_open copies the ports and decode options. */
struct capture_filter_spec {
	const uint16_t *ports;
	size_t nports;
	const struct decode_options *decode; /* NULL: no VXLAN or Geneve ports */
};

struct capture_options {
	const char *bpf; /* NULL: the default filter built from `filter` */
	struct capture_filter_spec filter;
	int snaplen;
	bool promiscuous;
	int buffer_size; /* kernel buffer, bytes, of each handle (with fanout: per worker); 0: libpcap's
	                    default */
	/*
	 * Live fanout (issue 17). With fanout_workers N > 1 this capture is one of N, one per worker thread,
	 * sharing the same interfaces: each interface's handle joins ONE PACKET_FANOUT group per interface
	 * (PACKET_FANOUT_CBPF with PACKET_FANOUT_FLAG_DEFRAG), and the kernel hands each packet to the socket
	 * the flow hash of sensor/capture/fanout_bpf.h picks (modulo N): both directions of a connection,
	 * every IP fragment and a tunnel's inner flow to the same worker. Open worker 0's capture first, with
	 * fanout_first NULL: its handles create the groups (ids the kernel picks, unique in the network
	 * namespace). Then open worker 1..N-1's with fanout_first = worker 0's capture (borrowed, open until
	 * they are) and the same interfaces in the same order: they join its groups. All N must be open
	 * before traffic is worth reading (a group spreads over the members it has). Ethernet interfaces
	 * only. capture_stats counts each capture's own sockets: sum them over the workers. 0 or 1: no
	 * fanout.
	 */
	unsigned fanout_workers;
	const struct capture *fanout_first;
};

/* Kernel and interface counters, accumulated wrap-safe from pcap_stats. */
struct capture_stats {
	uint64_t received, dropped, if_dropped;
	unsigned files_read, files_failed;
	unsigned files_skipped; /* files of an -r DIR that are not captures (no pcap/pcapng magic) */
};

enum capture_open_status { CAPTURE_OK, CAPTURE_USAGE_ERROR, CAPTURE_RUNTIME_ERROR };

struct capture;

/*
 * Opens files/directories or interfaces (exactly one of nfiles/nifaces is
 * nonzero). A bad BPF filter is a usage error; an unreadable capture file a
 * runtime error reported on stderr while the readable ones are kept (then
 * *status is CAPTURE_RUNTIME_ERROR but a capture is still returned).
 * Returns NULL when nothing at all can be captured.
 */
struct capture *capture_open(char *const *files, size_t nfiles, char *const *ifaces, size_t nifaces,
                             const struct capture_options *opt, enum capture_open_status *status, char *err,
                             size_t errlen);
/*
 * The live captures of n workers: caps[i] for worker i, opened in order with fanout_workers = n and
 * fanout_first = caps[0] (opt's own fanout fields are ignored); n == 1: one plain capture. Returns 0, or -1
 * with the message in err, *status set and none left open.
 */
int capture_open_workers(char *const *ifaces, size_t nifaces, const struct capture_options *opt, unsigned n,
                         struct capture **caps, enum capture_open_status *status, char *err, size_t errlen);
/* Reads until the sources end or *stop is set. Returns 0, or -1 if a source failed on the way. */
int capture_run(struct capture *c, const struct capture_handler *h, volatile sig_atomic_t *stop);
void capture_stats(struct capture *c, struct capture_stats *out);
bool capture_is_live(const struct capture *c);
/* The packet sockets of a live capture (none when reading files), at most max: their number. A compromised
 * process could still send through them after the drop; security.seccomp forbids that (seccomp_filter.h). */
size_t capture_sockets(const struct capture *c, int *fds, size_t max);
void capture_close(struct capture *c);
/* The PACKET_FANOUT group id of the i-th interface of a fanout capture; -1 without fanout. */
int capture_fanout_group(const struct capture *c, size_t i);

/* Compiles a filter against Ethernet without capturing (for -T). 0, or -1 with the compiler's message. */
int capture_check_filter(const char *bpf, char *err, size_t errlen);

/*
 * The default filter on this link type: TCP on the mail ports, IP fragments, GRE, VXLAN and Geneve ports and
 * MPLS, untagged and under up to DECODE_MAX_VLAN tags where the link has them. When that compiles to more
 * than CAPTURE_BPF_MAX_INSNS (Linux's BPF_MAXINSNS), all TCP instead of the ports. 0, or -1 when it does not
 * fit outlen (CAPTURE_FILTER_MAX always fits SETTINGS_MAX_PORTS ports of each kind).
 */
enum {
	CAPTURE_FILTER_MAX = 32768,
	CAPTURE_BPF_MAX_INSNS = 4096,
	CAPTURE_LINKTYPE_ETHERNET = 1 /* DLT_EN10MB */
};
int capture_default_filter(const struct capture_filter_spec *f, int linktype, char *out, size_t outlen);

#endif
