/*
 * flow_hash_reference.h: the workers' pair hash (sensor/workers/flow_hash.h) written again from its
 * definition, for the tests that check the live fanout program and the file reader against it
 * (test_fanout_bpf.c, fuzz_fanout_bpf.c, fanout_probe.c): each address's 32-bit big-endian words XORed, mixed
 * by MurmurHash3's fmix32, the two XORed. Header-only, so the fuzz harness and the probe need no test
 * library.
 */
#ifndef TLSOBS_TEST_FLOW_HASH_REFERENCE_H
#define TLSOBS_TEST_FLOW_HASH_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

static inline uint32_t flow_hash_reference_fmix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static inline uint32_t flow_hash_reference_fold(const struct ip_addr *a)
{
	uint32_t x = 0;
	for (size_t i = 0; i < (a->family == 6 ? 16u : 4u); i += 4)
		x ^= (uint32_t)a->bytes[i] << 24 | (uint32_t)a->bytes[i + 1] << 16 |
		     (uint32_t)a->bytes[i + 2] << 8 | a->bytes[i + 3];
	return x;
}

static inline uint32_t flow_hash_reference(const struct ip_addr *src, const struct ip_addr *dst)
{
	return flow_hash_reference_fmix32(flow_hash_reference_fold(src)) ^
	       flow_hash_reference_fmix32(flow_hash_reference_fold(dst));
}

#endif
