/*
 * defrag.h: IPv4 and IPv6 fragment reassembly (RFC 791 3.2, RFC 8200 4.5, after RFC 815).
 *
 * Owns every datagram in reassembly: its fragments' bytes, its first
 * fragment's link-layer facts, and the buffer a finished datagram is handed
 * out in. Bounded by its own memory cap (defrag.memcap, apart from flow.memcap
 * so a fragment flood cannot evict flows), a timeout in packet time from a
 * datagram's first fragment (defrag.timeout), a number of fragments per
 * datagram (defrag.max_fragments) and the largest datagram IP can describe.
 *
 * Overlap policy: first wins. Bytes already held are kept; a later fragment
 * only fills holes. Overlapping bytes that differ are counted (an evasion
 * attempt, or a broken sender), as Suricata's "first" policy does. One worker
 * owns one defrag: no locking.
 */
#ifndef TLSOBS_DEFRAG_H
#define TLSOBS_DEFRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

struct defrag_settings {
	uint64_t memcap;        /* bytes of datagrams in reassembly, bookkeeping included */
	uint64_t timeout_us;    /* from a datagram's first fragment */
	uint32_t max_fragments; /* per datagram, duplicates included */
};

struct defrag_stats {
	uint64_t fragments;      /* fragments handed in */
	uint64_t reassembled;    /* datagrams completed */
	uint64_t timeouts;       /* datagrams still incomplete at the timeout */
	uint64_t overlaps;       /* fragments overlapping held bytes with different bytes */
	uint64_t invalid;        /* fragments that cannot belong to a datagram (see defrag.c), dropped */
	uint64_t gave_up_memcap; /* datagrams dropped to stay within defrag.memcap */
	uint64_t gave_up_too_many_fragments;
	uint64_t gave_up_too_large; /* data past what the IP length field can describe */
	uint64_t gave_up_snaplen;   /* a fragment cut by the snap length: the datagram has a hole */
	uint64_t active;            /* datagrams in reassembly now */
	uint64_t memory_used, memory_peak;
};

/* A finished datagram: a bare IP packet for packet_decode_ip(), valid until the next defrag call. */
struct defrag_datagram {
	int family; /* 4 or 6 */
	const uint8_t *bytes;
	uint32_t len;
	uint64_t wire_bytes;        /* the frames of all its fragments on the wire (duplicates included) */
	struct decoded_packet link; /* the first fragment's decode: its link-layer facts (slices cleared) */
};

enum defrag_result {
	DEFRAG_HELD,     /* kept, the datagram is not complete yet */
	DEFRAG_COMPLETE, /* *out holds the datagram */
	DEFRAG_DROPPED,  /* the fragment (and maybe its datagram) was given up; see the stats */
};

/* NULL when out of memory. */
struct defrag *defrag_new(const struct defrag_settings *settings);
/*
 * Adds the fragment `p` (a DECODE_IPV4_FRAGMENT / DECODE_IPV6_FRAGMENT result),
 * whose frame was wire_len bytes on the wire, seen at now_us. Gives up
 * datagrams older than the timeout first.
 */
enum defrag_result defrag_add(struct defrag *d, const struct decoded_packet *p, uint32_t wire_len,
                              uint64_t now_us, struct defrag_datagram *out);
/* Gives up the datagrams whose timeout has passed at now_us (packet time). */
void defrag_expire(struct defrag *d, uint64_t now_us);
const struct defrag_stats *defrag_stats(const struct defrag *d);
void defrag_free(struct defrag *d);

#endif
