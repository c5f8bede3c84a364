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

bool flow_hash_plain_frame(int linktype, const uint8_t *data, size_t caplen, uint32_t *hash)
{
	enum { ETH_LEN = 14, IPV4_MIN = 20, LINKTYPE_ETHERNET = 1, ETHERTYPE_IPV4 = 0x0800, PROTO_TCP = 6 };
	if (linktype != LINKTYPE_ETHERNET || caplen < ETH_LEN + IPV4_MIN ||
	    (data[12] << 8 | data[13]) != ETHERTYPE_IPV4)
		return false;
	const uint8_t *ip = data + ETH_LEN;
	if (ip[0] >> 4 != 4 || (ip[0] & 0x0f) < 5 || ip[9] != PROTO_TCP)
		return false; /* anything else (VLAN, MPLS, tunnels in GRE or UDP, IPv6): packet_decode finds
		                 it */
	uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
	uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
	*hash = flow_hash_mix(src) ^ flow_hash_mix(dst);
	return true;
}

unsigned flow_hash_worker(uint32_t hash, unsigned nworkers)
{
	return nworkers > 1 ? hash % nworkers : 0;
}
