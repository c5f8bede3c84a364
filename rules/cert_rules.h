/*
 * cert_rules.h: what a server certificate's lifetime means.
 *
 * Owns the certificate inventory (cert_inventory.h): each session with a leaf
 * is recorded there, then, when the leaf was parsed, checked in packet time
 * (the session's start). certificate_expiring: the days left fell to a
 * threshold of certificates.expiry_alert_days; only the smallest threshold
 * crossed is raised, and it and every larger one are marked done on the
 * certificate, so each threshold alerts at most once per certificate.
 * certificate_expired: not_after lies before the session, once per certificate.
 */
#ifndef TLSOBS_CERT_RULES_H
#define TLSOBS_CERT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/cert_inventory.h"
#include "rules/session.h"

enum { CERT_RULES_MAX_THRESHOLDS = 16 };

struct history;
struct cert_rules;

/* thresholds: days, any order, at most CERT_RULES_MAX_THRESHOLDS (copied); n == 0: none. */
struct cert_rules *cert_rules_new(size_t max_certificates, uint64_t ttl_us, const unsigned *thresholds,
                                  size_t n);
void cert_rules_free(struct cert_rules *r);
/* Records the session's certificate in the inventory and appends the alerts it raises to s->alerts. */
void cert_rules_evaluate(struct cert_rules *r, struct session *s);
/*
 * The sighting the last evaluated session recorded (NULL: none), valid until
 * the next evaluation; *first as cert_inventory_record sets it.
 */
const struct cert_sighting *cert_rules_last_sighting(const struct cert_rules *r, bool *first);
size_t cert_rules_certificates(const struct cert_rules *r);
/* The inventory's memory, for persistence (rules_engine_export/restore). */
struct history *cert_rules_history(struct cert_rules *r);

#endif
