/*
 * flow_hash_vectors.h: the workers' pair hash of issue 17 as worked examples, shared by the live fanout
 * program's test (tests/sensor/test_fanout_bpf.c) and the file reader's C hash (sensor/workers/flow_hash.c).
 *
 * x = fmix32(fold(source)) ^ fmix32(fold(destination)) over the innermost IP header, where fold XORs an
 * address's 32-bit big-endian words (one for IPv4, four for IPv6) and fmix32 is MurmurHash3's finaliser
 * (x ^= x >> 16; x *= 0x85ebca6b; x ^= x >> 13; x *= 0xc2b2ae35; x ^= x >> 16, 32-bit); the worker is x % N.
 * `x` below was computed by hand (Python's ipaddress and struct), not by either implementation. The pair
 * may be given in either order: XOR is symmetric. The last pair is one the plain XOR of the two folds
 * could not tell from its neighbours (10.a.b.x talking to 172.16+a.b.y).
 */
#ifndef TLSOBS_FLOW_HASH_VECTORS_H
#define TLSOBS_FLOW_HASH_VECTORS_H

#include <stdint.h>

struct flow_hash_vector {
	const char *src, *dst; /* printable addresses, one family per vector */
	uint32_t x;            /* the hash, before the modulo */
};

static const struct flow_hash_vector flow_hash_vectors[] = {
    {"192.0.2.1", "198.51.100.25", 0x85f2300bu},
    {"203.0.113.10", "198.51.100.25", 0x0b2bbde1u},
    {"10.1.2.3", "10.3.2.1", 0xf06a623au},
    {"0.0.0.0", "0.0.0.0", 0x00000000u},
    {"255.255.255.255", "1.2.3.4", 0x13ba9894u},
    {"192.0.2.7", "192.0.2.7", 0x00000000u},
    {"2001:db8:c1::10", "2001:db8:5e::25", 0x39db4670u},
    {"2001:db8::1", "2001:db8::2", 0x2d3e9208u},
    {"fe80::1", "ff02::1:ff00:1", 0x200ca8f4u},
    {"10.0.1.10", "172.16.1.25", 0xff877815u},
};

enum { FLOW_HASH_VECTORS = sizeof flow_hash_vectors / sizeof flow_hash_vectors[0] };

#endif
