/*
 * test_community_id.c: Community ID v1 against the spec's published baseline
 * (corelight/community-id-spec baseline/baseline_deflt.json, seed 0, and
 * baseline_seed1.json, seed 1), in both directions of each flow.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "outputs/community_id.h"
#include "test_support.h"
#include "ip_text.h"

struct vector {
	uint8_t proto;
	const char *saddr, *daddr;
	uint16_t sport, dport;
	uint16_t seed;
	const char *id;
};

/* The port-carrying entries of the spec's baseline (ICMP types and codes are given already mapped to ports).
 */
static const struct vector vectors[] = {
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 0,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, 0, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, 0, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, 0,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, 0,
     "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 1,
     "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, 1, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, 1, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
};

Test(community_id, matches_every_baseline_vector_of_the_spec)
{
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		const struct vector *v = &vectors[i];
		struct ip_addr s = addr(v->saddr), d = addr(v->daddr);
		char id[COMMUNITY_ID_LEN];
		cr_assert_eq(community_id_v1(&s, v->sport, &d, v->dport, v->proto, v->seed, id), 0);
		cr_expect_str_eq(id, v->id, "%s:%u -> %s:%u proto %u seed %u", v->saddr, v->sport, v->daddr,
		                 v->dport, v->proto, v->seed);
	}
}

Test(community_id, is_the_same_in_both_directions)
{
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		const struct vector *v = &vectors[i];
		struct ip_addr s = addr(v->saddr), d = addr(v->daddr);
		char id[COMMUNITY_ID_LEN];
		cr_assert_eq(community_id_v1(&d, v->dport, &s, v->sport, v->proto, v->seed, id), 0);
		cr_expect_str_eq(id, v->id, "reversed: %s:%u <- %s:%u", v->saddr, v->sport, v->daddr,
		                 v->dport);
	}
}

Test(community_id, orders_equal_addresses_by_port)
{
	struct ip_addr a = addr("10.0.0.1");
	char one[COMMUNITY_ID_LEN], other[COMMUNITY_ID_LEN], swapped[COMMUNITY_ID_LEN];
	cr_assert_eq(community_id_v1(&a, 1234, &a, 25, COMMUNITY_ID_PROTO_TCP, 0, one), 0);
	cr_assert_eq(community_id_v1(&a, 25, &a, 1234, COMMUNITY_ID_PROTO_TCP, 0, swapped), 0);
	cr_assert_eq(community_id_v1(&a, 25, &a, 1235, COMMUNITY_ID_PROTO_TCP, 0, other), 0);
	cr_expect_str_eq(one, swapped);
	cr_expect_str_neq(one, other);
}

Test(community_id, is_two_characters_of_version_and_28_of_base64)
{
	struct ip_addr a = addr("192.0.2.1"), b = addr("198.51.100.7");
	char id[COMMUNITY_ID_LEN];
	cr_assert_eq(community_id_v1(&a, 40000, &b, 25, COMMUNITY_ID_PROTO_TCP, 0, id), 0);
	cr_expect_eq(strlen(id), (size_t)COMMUNITY_ID_LEN - 1);
	cr_expect_eq(strncmp(id, "1:", 2), 0);
	cr_expect_eq(id[COMMUNITY_ID_LEN - 2], '=', "20 bytes of SHA-1 end with one pad character");
}

Test(community_id, refuses_mixed_address_families)
{
	struct ip_addr a = addr("192.0.2.1"), b = addr("2001:db8::1");
	char id[COMMUNITY_ID_LEN] = "x";
	cr_expect_eq(community_id_v1(&a, 40000, &b, 25, COMMUNITY_ID_PROTO_TCP, 0, id), -1);
	cr_expect_str_eq(id, "");
}
