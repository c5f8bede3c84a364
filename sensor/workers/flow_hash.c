/*
 * flow_hash.c: the symmetric worker hash over a packet's innermost address
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

uint32_t flow_hash_mix(uint32_t x)
{
	/* MurmurHash3's finaliser (fmix32): every input bit moves every output bit, the low ones too. */
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

uint32_t flow_hash_pair(const struct ip_addr *a, const struct ip_addr *b)
{
	return flow_hash_mix(fold(a)) ^ flow_hash_mix(fold(b)); /* mixed apart, then XOR: symmetric */
}

uint32_t flow_hash_packet(const struct decoded_packet *p)
{
	return flow_hash_pair(&p->src, &p->dst);
}

unsigned flow_hash_worker(uint32_t hash, unsigned nworkers)
{
	return nworkers > 1 ? hash % nworkers : 0;
}
