/*
 * cert_inventory.c: the inventory of server certificates seen, keyed by the leaf's SHA-256
 * (cert_inventory.h). Owns its entries, bounded in count and aged in packet time.
 */
#include "rules/cert_inventory.h"

#include <stdlib.h>
#include <string.h>

#include "rules/history.h"

struct cert_inventory {
	struct history *certs;
};

struct cert_inventory *cert_inventory_new(size_t max_certificates, uint64_t ttl_us)
{
	struct cert_inventory *inv = calloc(1, sizeof *inv);
	if (!inv)
		return NULL;
	inv->certs = history_new(max_certificates, ttl_us, sizeof(struct cert_sighting));
	if (!inv->certs) {
		free(inv);
		return NULL;
	}
	return inv;
}

void cert_inventory_free(struct cert_inventory *inv)
{
	if (!inv)
		return;
	history_free(inv->certs);
	free(inv);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The 32 raw bytes of the leaf's SHA-256 as the history key; false when it is not 64 hex digits. */
static bool certificate_key(const char *hex, struct history_key *k)
{
	if (strlen(hex) != 64)
		return false;
	memset(k, 0, sizeof *k);
	k->len = 32;
	for (int i = 0; i < 32; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		k->bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Most recent last: a server seen again moves to the end, so the cap drops the least recently seen. */
static void add_server(struct cert_sighting *c, const struct session_endpoint *server)
{
	for (unsigned i = 0; i < c->server_count; i++)
		if (c->servers[i].port == server->port &&
		    ip_addr_compare(&c->servers[i].ip, &server->ip) == 0) {
			struct session_endpoint seen = c->servers[i];
			memmove(&c->servers[i], &c->servers[i + 1],
			        (c->server_count - 1 - i) * sizeof c->servers[0]);
			c->servers[c->server_count - 1] = seen;
			return;
		}
	if (c->server_count == CERT_INVENTORY_SERVERS) { /* keep the most recent: drop the oldest */
		memmove(&c->servers[0], &c->servers[1], (CERT_INVENTORY_SERVERS - 1) * sizeof c->servers[0]);
		c->server_count--;
		c->servers_truncated = true;
	}
	c->servers[c->server_count] = (struct session_endpoint){.ip = server->ip, .port = server->port};
	c->server_count++;
}

struct cert_sighting *cert_inventory_record(struct cert_inventory *inv, const struct session *s, bool *first)
{
	*first = false;
	struct history_key k;
	if (!s->certificate.chain_count || !certificate_key(s->certificate.chain_sha256[0], &k))
		return NULL;
	struct cert_sighting *c = history_touch(inv->certs, &k, s->start_us);
	if (!c)
		return NULL;
	if (c->sessions == 0) {
		*first = true;
		c->first_seen_us = s->start_us;
	}
	c->sessions++;
	if (s->start_us > c->last_seen_us) /* sessions are recorded as they end, not in start order */
		c->last_seen_us = s->start_us;
	add_server(c, &s->server);
	return c;
}

size_t cert_inventory_size(const struct cert_inventory *inv)
{
	return history_stats(inv->certs)->entries;
}

struct history *cert_inventory_history(struct cert_inventory *inv)
{
	return inv->certs;
}
