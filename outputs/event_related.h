/*
 * event_related.h: ECS related.* of session and alert events, so a SIEM can
 * pivot from any address, host name or certificate hash to every event that
 * mentions it (ECS "related" field set).
 *
 *   related.ip     the client and the server address
 *   related.hosts  names seen in the session: the SNI, the host of the server's
 *                  banner and EHLO reply, the client's EHLO/HELO name, the
 *                  certificate's DNS names (SAN, else CN) and the envelope
 *                  domains (MAIL FROM, RCPT TO); lowercase, each once, at most
 *                  EVENT_RELATED_MAX_HOSTS (the rest counted under
 *                  tlsobs.truncated.arrays."related.hosts")
 *   related.hash   the SHA-256 of every certificate of the server's chain
 */
#ifndef TLSOBS_EVENT_RELATED_H
#define TLSOBS_EVENT_RELATED_H

#include "outputs/json_writer.h"
#include "rules/session.h"

enum { EVENT_RELATED_MAX_HOSTS = 64 };

void event_write_related(struct json_writer *w, const struct session *s);

#endif
