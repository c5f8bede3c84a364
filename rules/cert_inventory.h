/*
 * cert_inventory.h: the server certificates seen so far, and where.
 *
 * Keyed by the leaf's SHA-256. Tells whether a session's certificate is a
 * first sighting (worth a tlsobs.certificate event) and keeps the servers it
 * was presented by (a few, most recent last). Bounded: least recently seen
 * certificates are forgotten first, and entries age out after the TTL, in
 * packet time. The policy step makes this inventory persistent.
 */
#ifndef TLSOBS_CERT_INVENTORY_H
#define TLSOBS_CERT_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/session.h"

enum { CERT_INVENTORY_SERVERS = 8 };

struct cert_sighting {
	uint64_t first_seen_us, last_seen_us;
	uint64_t sessions;
	struct session_endpoint servers[CERT_INVENTORY_SERVERS]; /* bytes/packets unused */
	unsigned server_count;
	bool servers_truncated;
	uint32_t
	    expiry_alerted;   /* certificate_expiring: bit i set once threshold i was raised (cert_rules.c) */
	bool expired_alerted; /* certificate_expired was raised */
};

struct history;
struct cert_inventory;

struct cert_inventory *cert_inventory_new(size_t max_certificates, uint64_t ttl_us);
void cert_inventory_free(struct cert_inventory *inv);
/*
 * Records the session's leaf certificate (if one was seen). Returns the
 * sighting (the inventory's, valid until the next call; the caller may update
 * its alert marks) and sets *first when this is the
 * certificate's first sighting; NULL when the session shows no certificate.
 */
struct cert_sighting *cert_inventory_record(struct cert_inventory *inv, const struct session *s, bool *first);
size_t cert_inventory_size(const struct cert_inventory *inv);
/* The table behind the inventory (records are struct cert_sighting), for persistence. */
struct history *cert_inventory_history(struct cert_inventory *inv);

#endif
