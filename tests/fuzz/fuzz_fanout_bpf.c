/*
 * fuzz_fanout_bpf.c: libFuzzer harness for the live fanout program (sensor/capture/fanout_bpf.h), run by
 * libpcap's bpf_filter() as a differential test against the decoder.
 *
 * Input: an Ethernet frame. Whatever it holds, both user-space entries of the program run to a return (the
 * copy is exactly the input's length, so a read past it is ASan's). Where the decoder takes the frame as a
 * TCP segment or an IP fragment, both must return the workers' hash of the pair it reports
 * (sensor/workers/flow_hash.h): abort() otherwise. Not compared: a frame with more Ethernet pseudowires and
 * tunnels together than the program's levels (each pseudowire takes a level there, none in the decoder;
 * fanout_bpf.c).
 *
 * tests/fuzz/seed_fanout_bpf.py writes the seeds.
 */
#include "sensor/capture/fanout_bpf.h"
#include "sensor/workers/flow_hash.h"
#include "../support/flow_hash_reference.h"

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fanout_bpf_insn frame_prog[FANOUT_BPF_MAX_INSNS];

/* As the kernel's incoming path: the outer 802.1Q/802.1ad tag in metadata, data from the network header. */
static uint32_t run_network(const uint8_t *p, size_t len)
{
	static struct fanout_bpf_insn prog[FANOUT_BPF_MAX_INSNS];
	if (len < 14)
		return 0;
	uint16_t type = (uint16_t)(p[12] << 8 | p[13]);
	size_t at = 14;
	if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
		type = (uint16_t)(p[16] << 8 | p[17]);
		at = 18;
	}
	if (fanout_bpf_build(NULL, FANOUT_BPF_AT_NETWORK, type, prog, FANOUT_BPF_MAX_INSNS) == 0)
		abort();
	return bpf_filter((const struct bpf_insn *)prog, p + at, (u_int)(len - at), (u_int)(len - at));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > UINT32_MAX)
		return 0;
	if (frame_prog[0].code == 0 &&
	    fanout_bpf_build(NULL, FANOUT_BPF_AT_FRAME, 0, frame_prog, FANOUT_BPF_MAX_INSNS) == 0)
		abort();
	uint8_t *packet = malloc(size ? size : 1);
	if (packet == NULL)
		return 0;
	memcpy(packet, data, size);
	uint32_t frame = bpf_filter((const struct bpf_insn *)frame_prog, packet, (u_int)size, (u_int)size);
	uint32_t network = run_network(packet, size);
	struct decoded_packet d;
	enum decode_result r = packet_decode(1 /* DLT_EN10MB */, packet, (uint32_t)size, NULL, &d);
	bool compared = r == DECODE_OK || r == DECODE_IPV4_FRAGMENT || r == DECODE_IPV6_FRAGMENT;
	if (compared && d.encap.mpls_count > 0 && d.encap.tunnels + d.encap.mpls_count > DECODE_MAX_TUNNELS)
		compared = false;
	if (compared) {
		uint32_t want = flow_hash_reference(&d.src, &d.dst);
		if (frame != want || network != want)
			abort();
	}
	/* The file reader's shortcut (flow_hash_plain_frame): reads within the frame (ASan), never takes what
	 * the full decode finds inside another layer, and gives its hash. (A malformed TCP segment it takes
	 * goes by its addresses rather than in turn: either way its worker counts the anomaly.) */
	uint32_t fast;
	if (flow_hash_plain_frame(1, packet, size, &fast) && (r == DECODE_OK || r == DECODE_IPV4_FRAGMENT) &&
	    (fast != flow_hash_packet(&d) || d.encap.vlan_count > 0 || d.encap.tunnels > 0))
		abort();
	free(packet);
	return 0;
}
