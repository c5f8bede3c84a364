/*
 * flow_hash.c: the contract worker hash over a packet's innermost address
 * pair (see flow_hash.h). Owns nothing.
 */
#include "sensor/workers/flow_hash.h"

/* The address's 32-bit big-endian words XORed: one for IPv4, four for IPv6. */
static uint32_t fold(const struct ip_addr *a)
{
	uint32_t x = 0;
	unsigned words = a->family == 6 ? 4 : 1;
	for (unsigned i = 0; i < words; i++)
		x ^= (uint32_t)a->bytes[4 * i] << 24 | (uint32_t)a->bytes[4 * i + 1] << 16 |
		     (uint32_t)a->bytes[4 * i + 2] << 8 | a->bytes[4 * i + 3];
	return x;
}

uint32_t flow_hash_pair(const struct ip_addr *a, const struct ip_addr *b)
{
	uint32_t x = fold(a) ^ fold(b); /* XOR: the same both ways */
	x ^= x >> 16;
	x ^= x >> 8;
	return x;
}

uint32_t flow_hash_packet(const struct decoded_packet *p)
{
	return flow_hash_pair(&p->src, &p->dst);
}

unsigned flow_hash_worker(uint32_t hash, unsigned nworkers)
{
	return nworkers > 1 ? hash % nworkers : 0;
}
