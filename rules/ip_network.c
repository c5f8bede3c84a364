/*
 * ip_network.c: CIDR networks, parsed and matched (ip_network.h). Owns nothing.
 */
#include "rules/ip_network.h"

#include <arpa/inet.h>
#include <string.h>

const char *ip_network_parse_result_str(enum ip_network_parse_result r)
{
	switch (r) {
	case IP_NETWORK_OK:
		return "ok";
	case IP_NETWORK_BAD_ADDRESS:
		return "bad address";
	case IP_NETWORK_BAD_PREFIX:
		return "bad prefix length";
	}
	return "?";
}

/* Decimal 0..max, digits only (no sign, no spaces); -1 otherwise. */
static int parse_prefix(const char *s, unsigned max)
{
	unsigned v = 0;
	if (*s == '\0' || strlen(s) > 3)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	return v <= max ? (int)v : -1;
}

/* Zeroes every bit of bytes[] past the first `prefix`. */
static void mask_host_bits(uint8_t bytes[16], unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		bytes[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int ip_network_parse(const char *text, struct ip_network *out)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	if (!slash)
		return IP_NETWORK_BAD_PREFIX;
	size_t n = (size_t)(slash - text);
	if (n == 0 || n >= sizeof addr)
		return IP_NETWORK_BAD_ADDRESS;
	memcpy(addr, text, n);
	addr[n] = '\0';

	struct ip_network net;
	memset(&net, 0, sizeof net);
	if (inet_pton(AF_INET, addr, net.addr.bytes) == 1)
		net.addr.family = 4;
	else if (inet_pton(AF_INET6, addr, net.addr.bytes) == 1)
		net.addr.family = 6;
	else
		return IP_NETWORK_BAD_ADDRESS;
	int prefix = parse_prefix(slash + 1, net.addr.family == 4 ? 32 : 128);
	if (prefix < 0)
		return IP_NETWORK_BAD_PREFIX;
	net.prefix = (uint8_t)prefix;
	mask_host_bits(net.addr.bytes, net.prefix);
	*out = net;
	return IP_NETWORK_OK;
}

bool ip_network_contains(const struct ip_network *n, const struct ip_addr *a)
{
	if (a->family != n->addr.family)
		return false;
	unsigned full = n->prefix / 8, rest = n->prefix % 8;
	if (memcmp(a->bytes, n->addr.bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a->bytes[full] & mask) == n->addr.bytes[full];
}
