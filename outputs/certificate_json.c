/*
 * certificate_json.c: the ECS tls.server certificate fields, written alike by the session and
 * certificate events (certificate_json.h). Owns nothing.
 */
#include "outputs/certificate_json.h"

#include <stdio.h>

static void write_time_field(struct json_writer *w, const char *key, int64_t secs)
{
	json_key(w, key);
	json_time_us(w, secs > 0 ? (uint64_t)secs * 1000000u : 0);
}

static void write_string_array1(struct json_writer *w, const char *key, const char *value)
{
	json_key(w, key);
	json_array_begin(w);
	if (value[0])
		json_cstring(w, value);
	json_array_end(w);
}

/* ECS x509.subject / x509.issuer: a distinguished name's common name and organization. */
static void write_name(struct json_writer *w, const char *key, const char *cn, const char *org)
{
	json_key(w, key);
	json_object_begin(w);
	write_string_array1(w, "common_name", cn);
	write_string_array1(w, "organization", org);
	json_object_end(w);
}

/* ECS tls.server.x509.* (names are arrays in ECS). */
static void write_x509(struct json_writer *w, const struct x509_info *x)
{
	json_key(w, "x509");
	json_object_begin(w);
	write_name(w, "subject", x->subject_cn, x->subject_org);
	write_name(w, "issuer", x->issuer_cn, x->issuer_org);
	json_key(w, "alternative_names");
	json_array_begin(w);
	/* The parser only says that it left names out: counted as one. */
	size_t kept = x->san_count < X509_MAX_SANS ? x->san_count : X509_MAX_SANS;
	size_t n = json_array_cap(w, "tls.server.x509.alternative_names", kept, x->san_truncated ? 1 : 0);
	for (size_t i = 0; i < n; i++)
		json_cstring(w, x->san_dns[i]);
	json_array_end(w);
	json_field_cstring(w, "serial_number", x->serial);
	json_field_cstring(w, "signature_algorithm", x->signature_algorithm);
	json_field_cstring(w, "public_key_algorithm", x->public_key_algorithm);
	json_field_uint(w, "public_key_size", x->public_key_size);
	if (x->public_key_curve[0])
		json_field_cstring(w, "public_key_curve", x->public_key_curve);
	char version[8];
	snprintf(version, sizeof version, "%d", x->version_number); /* ECS: a keyword */
	json_field_cstring(w, "version_number", version);
	write_time_field(w, "not_before", x->not_before);
	write_time_field(w, "not_after", x->not_after);
	json_object_end(w);
}

void certificate_json_write(struct json_writer *w, const struct session_certificate *c)
{
	if (!c->parsed)
		return;
	json_key(w, "hash");
	json_object_begin(w);
	json_field_cstring(w, "sha256", c->leaf.sha256);
	json_field_cstring(w, "sha1", c->leaf.sha1);
	json_object_end(w);
	write_time_field(w, "not_before", c->leaf.not_before);
	write_time_field(w, "not_after", c->leaf.not_after);
	json_field_cstring(w, "subject", c->leaf.subject);
	json_field_cstring(w, "issuer", c->leaf.issuer);
	write_x509(w, &c->leaf);
}

void certificate_json_write_validation(struct json_writer *w, const struct session_certificate *c)
{
	if (!c->validated)
		return;
	json_key(w, "validation");
	json_object_begin(w);
	json_field_cstring(w, "status", x509_status_str(c->status));
	if (c->name[0]) {
		json_field_cstring(w, "name", c->name);
		json_field_cstring(w, "name_source", session_name_source_str(c->name_source));
	}
	json_object_end(w);
}
