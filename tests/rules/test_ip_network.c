/* test_ip_network.c: CIDR networks, parsed and matched. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "rules/ip_network.h"
#include "ip_text.h"

static struct ip_network net(const char *text)
{
	struct ip_network n;
	cr_assert_eq(ip_network_parse(text, &n), IP_NETWORK_OK, "parse %s", text);
	return n;
}

static bool contains(const char *network, const char *address)
{
	struct ip_network n = net(network);
	struct ip_addr a = addr(address);
	return ip_network_contains(&n, &a);
}

Test(ip_network, an_ipv4_network_is_parsed_with_its_prefix)
{
	struct ip_network n = net("192.0.2.0/24");
	cr_assert_eq(n.addr.family, 4);
	cr_assert_eq(n.prefix, 24);
	cr_assert_eq(n.addr.bytes[0], 192);
	cr_assert_eq(n.addr.bytes[2], 2);
}

Test(ip_network, host_bits_are_masked)
{
	struct ip_network n = net("192.0.2.255/23");
	cr_assert_eq(n.addr.bytes[2], 2);
	cr_assert_eq(n.addr.bytes[3], 0);
	n = net("2001:db8:ffff::1/33");
	cr_assert_eq(n.addr.family, 6);
	cr_assert_eq(n.addr.bytes[4], 0x80);
	cr_assert_eq(n.addr.bytes[15], 0);
}

Test(ip_network, an_ipv4_network_contains_its_addresses_only)
{
	cr_assert(contains("192.0.2.0/24", "192.0.2.0"));
	cr_assert(contains("192.0.2.0/24", "192.0.2.255"));
	cr_assert_not(contains("192.0.2.0/24", "192.0.3.0"));
	cr_assert(contains("10.0.0.0/9", "10.127.255.255"));
	cr_assert_not(contains("10.0.0.0/9", "10.128.0.0"));
}

Test(ip_network, a_slash_32_holds_one_address)
{
	cr_assert(contains("198.51.100.25/32", "198.51.100.25"));
	cr_assert_not(contains("198.51.100.25/32", "198.51.100.24"));
}

Test(ip_network, a_slash_0_holds_its_whole_family)
{
	cr_assert(contains("0.0.0.0/0", "203.0.113.9"));
	cr_assert(contains("1.2.3.4/0", "255.255.255.255"));
	cr_assert(contains("::/0", "2001:db8::1"));
	cr_assert_not(contains("0.0.0.0/0", "2001:db8::1"));
	cr_assert_not(contains("::/0", "203.0.113.9"));
}

Test(ip_network, an_ipv6_network_contains_its_addresses_only)
{
	cr_assert(contains("2001:db8::/32", "2001:db8:1234::1"));
	cr_assert_not(contains("2001:db8::/32", "2001:db9::1"));
	cr_assert(contains("2001:db8::/33", "2001:db8:7fff::1"));
	cr_assert_not(contains("2001:db8::/33", "2001:db8:8000::1"));
	cr_assert(contains("2001:db8::1/128", "2001:db8::1"));
	cr_assert_not(contains("2001:db8::1/128", "2001:db8::2"));
}

Test(ip_network, an_ipv4_mapped_ipv6_address_is_not_in_an_ipv4_network)
{
	cr_assert_not(contains("192.0.2.0/24", "::ffff:192.0.2.1"));
}

Test(ip_network, bad_input_is_refused_with_its_reason)
{
	struct ip_network n = {.prefix = 77};
	cr_assert_eq(ip_network_parse("192.0.2.0/33", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("2001:db8::/129", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("192.0.2.0", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("192.0.2.0/", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("192.0.2.0/-1", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("192.0.2.0/+8", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("192.0.2.0/ 8", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("192.0.2.0/0008", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("192.0.2.0/24x", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("192.0.2/24", &n), IP_NETWORK_BAD_ADDRESS);
	cr_assert_eq(ip_network_parse("256.0.0.0/8", &n), IP_NETWORK_BAD_ADDRESS);
	cr_assert_eq(ip_network_parse("/8", &n), IP_NETWORK_BAD_ADDRESS);
	cr_assert_eq(ip_network_parse("", &n), IP_NETWORK_BAD_PREFIX);
	cr_assert_eq(ip_network_parse("example.org/8", &n), IP_NETWORK_BAD_ADDRESS);
	cr_assert_eq(n.prefix, 77, "a failed parse leaves *out alone");
	cr_assert_str_eq(ip_network_parse_result_str(IP_NETWORK_BAD_PREFIX), "bad prefix length");
	cr_assert_str_eq(ip_network_parse_result_str(IP_NETWORK_BAD_ADDRESS), "bad address");
}
