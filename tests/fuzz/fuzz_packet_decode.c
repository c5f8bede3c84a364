/*
 * fuzz_packet_decode.c: libFuzzer harness for packet_decode().
 *
 * Input: one byte choosing the link type (an index into fuzz_link_types,
 * modulo its size), then the captured bytes. The packet is copied into a
 * buffer of exactly its length so that ASan flags a read past caplen even
 * when the replay driver hands us a larger allocation. On DECODE_OK every
 * output is used: both addresses formatted, every payload byte summed, and
 * the slice checked to lie inside the input.
 *
 * tests/fuzz/seed_packet_decode.py writes seeds with the same index table:
 * keep the two in step.
 */
#include "parsers/packet_decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const int fuzz_link_types[] = {
    1,   /* 0: DLT_EN10MB */
    113, /* 1: DLT_LINUX_SLL */
    276, /* 2: DLT_LINUX_SLL2 */
    0,   /* 3: DLT_NULL */
    108, /* 4: DLT_LOOP */
    12,  /* 5: DLT_RAW */
    14,  /* 6: DLT_RAW (OpenBSD) */
    101, /* 7: LINKTYPE_RAW */
    228, /* 8: DLT_IPV4 */
    229, /* 9: DLT_IPV6 */
};
#define FUZZ_LINK_TYPES (sizeof fuzz_link_types / sizeof fuzz_link_types[0])

/* Keeps the payload sum alive so the compiler cannot drop the reads. */
static volatile uint32_t fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > UINT32_MAX)
		return 0;
	int linktype = fuzz_link_types[data[0] % FUZZ_LINK_TYPES];
	size_t caplen = size - 1;
	uint8_t *packet = malloc(caplen ? caplen : 1);
	if (packet == NULL)
		return 0;
	memcpy(packet, data + 1, caplen);

	struct decoded_packet pkt;
	enum decode_result res = packet_decode(linktype, packet, (uint32_t)caplen, NULL, &pkt);
	if (decode_result_str(res) == NULL)
		abort();
	if (res == DECODE_OK) {
		char src[46], dst[46];
		ip_addr_format(&pkt.src, src, sizeof src);
		ip_addr_format(&pkt.dst, dst, sizeof dst);
		uint32_t sum = (uint32_t)strlen(src) + (uint32_t)strlen(dst);
		for (uint32_t i = 0; i < pkt.payload_len; i++)
			sum += pkt.payload[i];
		fuzz_sink = sum;
		/* The contract the reassembler relies on. */
		if (pkt.payload_len > pkt.payload_wire_len || pkt.payload < packet ||
		    (size_t)(pkt.payload - packet) + pkt.payload_len > caplen ||
		    (pkt.src.family != 4 && pkt.src.family != 6) || pkt.src.family != pkt.dst.family ||
		    pkt.sport == 0 || pkt.dport == 0 || pkt.encap.vlan_count > DECODE_MAX_VLAN ||
		    pkt.encap.mpls_count > DECODE_MAX_MPLS || pkt.encap.tunnels > DECODE_MAX_TUNNELS ||
		    (pkt.encap.tunnels > 0) != (pkt.encap.tunnel_type != DECODE_TUNNEL_NONE))
			abort();
	}
	free(packet);
	return 0;
}
