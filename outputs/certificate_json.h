/*
 * certificate_json.h: the ECS tls.server certificate fields, shared by the
 * session and certificate events so both describe a certificate identically.
 */
#ifndef TLSOBS_CERTIFICATE_JSON_H
#define TLSOBS_CERTIFICATE_JSON_H

#include "outputs/json_writer.h"
#include "rules/session.h"

/* Inside an open tls.server object: hash.*, not_before, not_after, subject, issuer, x509.* (when parsed). */
void certificate_json_write(struct json_writer *w, const struct session_certificate *c);

/* "validation": {status, name, name_source} (tlsobs.tls.validation, tlsobs.certificate.validation). */
void certificate_json_write_validation(struct json_writer *w, const struct session_certificate *c);

#endif
