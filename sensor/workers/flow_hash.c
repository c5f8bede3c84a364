/*
 * flow_hash.c: the symmetric worker hash over a packet's innermost address
 * pair (see flow_hash.h). Owns nothing.
 */
#include "sensor/workers/flow_hash.h"

#include <string.h>

#include "sensor/flow/siphash.h"

/* Fixed: the spread of a capture over workers is the same on every run. */
static const uint8_t flow_hash_key[16] = {0x74, 0x6c, 0x73, 0x6f, 0x62, 0x73, 0x2d, 0x77,
                                          0x6f, 0x72, 0x6b, 0x65, 0x72, 0x73, 0x31, 0x37};

uint64_t flow_hash_pair(const struct ip_addr *a, const struct ip_addr *b)
{
	/* Ordered, so both directions give the same bytes to hash. */
	if (ip_addr_compare(a, b) > 0) {
		const struct ip_addr *t = a;
		a = b;
		b = t;
	}
	uint8_t buf[1 + 16 + 16];
	size_t n = a->family == 6 ? 16 : 4;
	buf[0] = a->family;
	memcpy(buf + 1, a->bytes, n);
	memcpy(buf + 1 + n, b->bytes, n);
	return siphash24(flow_hash_key, buf, 1 + 2 * n);
}

uint64_t flow_hash_packet(const struct decoded_packet *p)
{
	return flow_hash_pair(&p->src, &p->dst);
}

unsigned flow_hash_worker(uint64_t hash, unsigned nworkers)
{
	if (nworkers <= 1)
		return 0;
	return (unsigned)(((hash >> 32) * (uint64_t)nworkers) >> 32);
}
