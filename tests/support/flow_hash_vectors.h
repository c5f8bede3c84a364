/*
 * flow_hash_vectors.h: the contract flow hash of issue 17, as worked examples shared by the live fanout
 * program's test (tests/sensor/test_fanout_bpf.c) and the file reader's C hash (sensor/workers/flow_hash.c).
 *
 * x = XOR of the 32-bit big-endian words of the source and destination address of the innermost IP header
 * (one word each for IPv4, four each for IPv6); x ^= x >> 16; x ^= x >> 8; the worker is x % N. `x` below is
 * the value before the modulo, computed by hand (Python's ipaddress and struct), not by either
 * implementation. The pair may be given in either order: XOR is symmetric.
 */
#ifndef TLSOBS_FLOW_HASH_VECTORS_H
#define TLSOBS_FLOW_HASH_VECTORS_H

#include <stdint.h>

struct flow_hash_vector {
	const char *src, *dst; /* printable addresses, one family per vector */
	uint32_t x;            /* the folded hash, before the modulo */
};

static const struct flow_hash_vector flow_hash_vectors[] = {
    {"192.0.2.1", "198.51.100.25", 0x0635534bu},
    {"203.0.113.10", "198.51.100.25", 0x0d3e2b38u},
    {"10.1.2.3", "10.3.2.1", 0x00020200u},
    {"0.0.0.0", "0.0.0.0", 0x00000000u},
    {"255.255.255.255", "1.2.3.4", 0xfe03ff04u},
    {"192.0.2.7", "192.0.2.7", 0x00000000u},
    {"2001:db8:c1::10", "2001:db8:5e::25", 0x009f9faau},
    {"2001:db8::1", "2001:db8::2", 0x00000003u},
    {"fe80::1", "ff02::1:ff00:1", 0xfe7c7c7du},
};

enum { FLOW_HASH_VECTORS = sizeof flow_hash_vectors / sizeof flow_hash_vectors[0] };

#endif
