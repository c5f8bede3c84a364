/*
 * test_cert_inventory.c: the server certificates seen so far, and where.
 *
 * Sessions are built by hand with only what the inventory reads: the leaf's
 * SHA-256 (chain_sha256[0]), the server endpoint and the start time, in
 * seconds of packet time.
 */
#include "rules/cert_inventory.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define S(sec) ((uint64_t)(sec)*1000000ull)

static struct session sess; /* large: static, one per test process */

static struct ip_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ip_addr ip = {.family = 4, .bytes = {a, b, c, d}};
	return ip;
}

/* 64 hex digits derived from n. */
static void sha_of(unsigned n, char out[65])
{
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08X", n * 2654435761u + (unsigned)i);
}

/* A session at second `at` whose server 198.51.100.<host>:<port> presented certificate number `cert`. */
static const struct session *shown(unsigned cert, uint8_t host, uint16_t port, uint64_t at)
{
	memset(&sess, 0, sizeof sess);
	snprintf(sess.id, sizeof sess.id, "S%018u", cert);
	sess.client.ip = v4(203, 0, 113, 7);
	sess.client.port = 40000;
	sess.server.ip = v4(198, 51, 100, host);
	sess.server.port = port;
	sess.server.bytes = 12345; /* not copied */
	sess.start_us = S(at);
	sess.end_us = S(at + 5);
	sha_of(cert, sess.certificate.chain_sha256[0]);
	sha_of(cert + 1000, sess.certificate.chain_sha256[1]); /* an intermediate: not the key */
	sess.certificate.chain_count = 2;
	return &sess;
}

static const struct cert_sighting *record(struct cert_inventory *inv, const struct session *s,
                                          bool expect_first)
{
	bool first = !expect_first;
	const struct cert_sighting *c = cert_inventory_record(inv, s, &first);
	cr_assert_not_null(c);
	cr_assert_eq(first, expect_first, "first sighting: %d, expected %d", first, expect_first);
	return c;
}

Test(cert_inventory, a_certificate_is_a_first_sighting_exactly_once)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	cr_assert_not_null(inv);
	const struct cert_sighting *c = record(inv, shown(1, 25, 25, 10), true);
	cr_assert_eq(c->sessions, 1);
	c = record(inv, shown(1, 25, 25, 20), false);
	cr_assert_eq(c->sessions, 2);
	c = record(inv, shown(1, 26, 25, 30), false); /* another server, same certificate */
	cr_assert_eq(c->sessions, 3);
	record(inv, shown(2, 25, 25, 40), true); /* another certificate, same server */
	cr_assert_eq(cert_inventory_size(inv), 2);
	cert_inventory_free(inv);
}

Test(cert_inventory, the_leaf_hash_is_the_key_whatever_its_letter_case)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	record(inv, shown(1, 25, 25, 10), true);
	const struct session *s = shown(1, 25, 25, 20);
	for (char *p = sess.certificate.chain_sha256[0]; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	record(inv, s, false);
	cr_assert_eq(cert_inventory_size(inv), 1);
	cert_inventory_free(inv);
}

Test(cert_inventory, only_the_leaf_identifies_a_certificate)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	record(inv, shown(1, 25, 25, 10), true);
	const struct session *s = shown(1, 25, 25, 20);
	sha_of(77, sess.certificate.chain_sha256[1]); /* another intermediate */
	record(inv, s, false);
	cert_inventory_free(inv);
}

Test(cert_inventory, first_and_last_seen_are_session_start_times)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	const struct cert_sighting *c = record(inv, shown(1, 25, 25, 10), true);
	cr_assert_eq(c->first_seen_us, S(10));
	cr_assert_eq(c->last_seen_us, S(10));
	c = record(inv, shown(1, 25, 25, 70), false);
	cr_assert_eq(c->first_seen_us, S(10));
	cr_assert_eq(c->last_seen_us, S(70));
	cert_inventory_free(inv);
}

Test(cert_inventory, last_seen_does_not_step_back_when_a_longer_earlier_session_ends_later)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	record(inv, shown(1, 25, 25, 10), true);
	record(inv, shown(1, 25, 25, 70), false);
	/* Recorded as sessions end: one from 40 s may come after one from 70 s. */
	const struct cert_sighting *c = record(inv, shown(1, 25, 25, 40), false);
	cr_assert_eq(c->last_seen_us, S(70));
	cr_assert_eq(c->sessions, 3);
	cert_inventory_free(inv);
}

Test(cert_inventory, servers_are_listed_once_each_by_address_and_port)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	record(inv, shown(1, 25, 25, 10), true);
	record(inv, shown(1, 25, 25, 11), false);
	record(inv, shown(1, 25, 465, 12), false); /* same address, another port */
	const struct cert_sighting *c = record(inv, shown(1, 26, 25, 13), false);
	cr_assert_eq(c->server_count, 3);
	cr_assert_not(c->servers_truncated);
	struct ip_addr a25 = v4(198, 51, 100, 25), a26 = v4(198, 51, 100, 26);
	cr_assert_eq(ip_addr_compare(&c->servers[0].ip, &a25), 0);
	cr_assert_eq(c->servers[0].port, 25);
	cr_assert_eq(ip_addr_compare(&c->servers[1].ip, &a25), 0);
	cr_assert_eq(c->servers[1].port, 465);
	cr_assert_eq(ip_addr_compare(&c->servers[2].ip, &a26), 0);
	cr_assert_eq(c->servers[2].port, 25);
	cr_assert_eq(c->servers[0].bytes, 0, "only address and port are kept");
	cert_inventory_free(inv);
}

Test(cert_inventory, beyond_the_server_cap_the_most_recent_servers_are_kept_and_the_cut_is_flagged)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	const struct cert_sighting *c = NULL;
	unsigned total = CERT_INVENTORY_SERVERS + 3;
	for (unsigned i = 0; i < total; i++)
		c = record(inv, shown(1, (uint8_t)(1 + i), 25, 10 + i), i == 0);
	cr_assert_eq(c->server_count, CERT_INVENTORY_SERVERS);
	cr_assert(c->servers_truncated);
	cr_assert_eq(c->sessions, total);
	for (unsigned i = 0; i < CERT_INVENTORY_SERVERS; i++) {
		struct ip_addr want =
		    v4(198, 51, 100, (uint8_t)(1 + 3 + i)); /* the first three were dropped */
		cr_assert_eq(ip_addr_compare(&c->servers[i].ip, &want), 0, "servers[%u] is .%u", i,
		             c->servers[i].ip.bytes[3]);
	}
	cert_inventory_free(inv);
}

Test(cert_inventory, exactly_the_server_cap_is_not_a_cut)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	const struct cert_sighting *c = NULL;
	for (unsigned i = 0; i < CERT_INVENTORY_SERVERS; i++)
		c = record(inv, shown(1, (uint8_t)(1 + i), 25, 10 + i), i == 0);
	cr_assert_eq(c->server_count, CERT_INVENTORY_SERVERS);
	cr_assert_not(c->servers_truncated);
	cert_inventory_free(inv);
}

Test(cert_inventory, a_server_seen_again_becomes_the_most_recent_and_survives_the_cut)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	for (unsigned i = 0; i < CERT_INVENTORY_SERVERS; i++)
		record(inv, shown(1, (uint8_t)(1 + i), 25, 10 + i), i == 0);
	record(inv, shown(1, 1, 25, 100), false); /* the first server presents it again */
	const struct cert_sighting *c = record(inv, shown(1, 200, 25, 101), false);
	cr_assert_eq(c->server_count, CERT_INVENTORY_SERVERS);
	struct ip_addr first = v4(198, 51, 100, 1), newest = v4(198, 51, 100, 200),
	               dropped = v4(198, 51, 100, 2);
	bool has_first = false, has_dropped = false;
	for (unsigned i = 0; i < c->server_count; i++) {
		has_first |= ip_addr_compare(&c->servers[i].ip, &first) == 0;
		has_dropped |= ip_addr_compare(&c->servers[i].ip, &dropped) == 0;
	}
	cr_assert(has_first, "198.51.100.1 was seen a moment ago");
	cr_assert_not(has_dropped, "198.51.100.2 is now the least recently seen");
	cr_assert_eq(ip_addr_compare(&c->servers[c->server_count - 1].ip, &newest), 0, "most recent last");
	cr_assert_eq(ip_addr_compare(&c->servers[c->server_count - 2].ip, &first), 0);
	cert_inventory_free(inv);
}

Test(cert_inventory, a_session_without_a_certificate_is_not_recorded)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	const struct session *s = shown(1, 25, 25, 10);
	sess.certificate.chain_count = 0;
	bool first = true;
	cr_assert_null(cert_inventory_record(inv, s, &first));
	cr_assert_not(first);
	cr_assert_eq(cert_inventory_size(inv), 0);
	cert_inventory_free(inv);
}

static void expect_not_recorded(const char *sha256)
{
	struct cert_inventory *inv = cert_inventory_new(16, 0);
	const struct session *s = shown(1, 25, 25, 10);
	snprintf(sess.certificate.chain_sha256[0], sizeof sess.certificate.chain_sha256[0], "%s", sha256);
	bool first = true;
	cr_assert_null(cert_inventory_record(inv, s, &first), "\"%s\" is no SHA-256", sha256);
	cr_assert_not(first);
	cr_assert_eq(cert_inventory_size(inv), 0);
	cert_inventory_free(inv);
}

Test(cert_inventory, a_malformed_leaf_hash_is_not_recorded)
{
	expect_not_recorded("");
	expect_not_recorded("ABCDEF");
	/* 63 digits, and 64 characters with one that is not hex at the end, the start and in between. */
	expect_not_recorded("111111111111111111111111111111111111111111111111111111111111111");
	expect_not_recorded("111111111111111111111111111111111111111111111111111111111111111G");
	expect_not_recorded("G111111111111111111111111111111111111111111111111111111111111111");
	expect_not_recorded("11111111111111111111111111111111 1111111111111111111111111111111");
}

Test(cert_inventory, at_the_cap_the_least_recently_seen_certificate_is_forgotten)
{
	struct cert_inventory *inv = cert_inventory_new(3, 0);
	record(inv, shown(1, 25, 25, 10), true);
	record(inv, shown(2, 25, 25, 11), true);
	record(inv, shown(3, 25, 25, 12), true);
	record(inv, shown(1, 25, 25, 13), false); /* 1 seen again: 2 is now the least recent */
	record(inv, shown(4, 25, 25, 14), true);
	cr_assert_eq(cert_inventory_size(inv), 3);
	record(inv, shown(1, 25, 25, 15), false);
	record(inv, shown(3, 25, 25, 16), false);
	record(inv, shown(2, 25, 25, 17), true); /* forgotten: a first sighting again */
	cert_inventory_free(inv);
}

Test(cert_inventory, a_certificate_not_seen_within_the_ttl_is_a_first_sighting_again)
{
	struct cert_inventory *inv = cert_inventory_new(16, S(100));
	record(inv, shown(1, 25, 25, 0), true);
	record(inv, shown(1, 25, 25, 100), false); /* exactly the TTL: remembered, and refreshed */
	record(inv, shown(2, 25, 25, 150), true);
	const struct cert_sighting *c = record(inv, shown(1, 26, 25, 201), true);
	cr_assert_eq(c->sessions, 1);
	cr_assert_eq(c->first_seen_us, S(201));
	cr_assert_eq(c->server_count, 1, "the old servers went with the old entry");
	cr_assert_not(c->servers_truncated);
	cr_assert_eq(cert_inventory_size(inv), 2);
	cert_inventory_free(inv);
}

Test(cert_inventory, size_counts_distinct_certificates_held)
{
	struct cert_inventory *inv = cert_inventory_new(100, 0);
	cr_assert_eq(cert_inventory_size(inv), 0);
	for (unsigned i = 0; i < 10; i++) {
		record(inv, shown(i, 25, 25, i), true);
		record(inv, shown(i, 26, 25, i), false);
	}
	cr_assert_eq(cert_inventory_size(inv), 10);
	cert_inventory_free(inv);
}

Test(cert_inventory, freeing_null_does_nothing)
{
	cert_inventory_free(NULL);
}
