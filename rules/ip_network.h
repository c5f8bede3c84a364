/*
 * ip_network.h: an IPv4 or IPv6 network in CIDR form (192.0.2.0/24, 2001:db8::/32).
 *
 * Used to tell the operator's own networks from the rest (network.direction).
 * Parsing masks host bits, so 192.0.2.7/24 reads as 192.0.2.0/24.
 */
#ifndef TLSOBS_IP_NETWORK_H
#define TLSOBS_IP_NETWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "parsers/packet_decode.h"

struct ip_network {
	struct ip_addr addr; /* host bits zero */
	uint8_t prefix;      /* 0..32 for IPv4, 0..128 for IPv6 */
};

/* Parse results; ip_network_parse_str() names each for error messages. */
enum ip_network_parse_result {
	IP_NETWORK_OK = 0,
	IP_NETWORK_BAD_ADDRESS, /* not an IPv4 or IPv6 address, or too long */
	IP_NETWORK_BAD_PREFIX,  /* missing, not a number, or beyond 32 / 128 */
};
const char *ip_network_parse_result_str(enum ip_network_parse_result r);

/* Parses "address/prefix" (no spaces) into *out. Returns an enum ip_network_parse_result. */
int ip_network_parse(const char *text, struct ip_network *out);

/* True when a is inside n; an address of the other family never is. */
bool ip_network_contains(const struct ip_network *n, const struct ip_addr *a);

#endif
