/*
 * policy_event.c: the tlsobs.policy event (see policy_event.h): a relaxation
 * that ended, and the audit of every policy loaded, reloaded or failed to reload.
 */
#include "outputs/policy_event.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#include "outputs/event_common.h"
#include "parsers/tls.h"
#include "rules/policy_diff.h"

void policy_event_write_relaxation_ended(struct json_writer *w, const struct partner_policy *p,
                                         const char *run_id, uint64_t seq, const struct event_context *ctx,
                                         uint64_t created_us)
{
	static const char *const category[] = {"configuration", NULL}, *const type[] = {"change", NULL};
	char id[EVENT_ID_LEN];
	event_id_make(id, run_id, 'p', seq);
	/* @timestamp is the moment the relaxation ended, not the packet that revealed it. */
	event_begin(w, ctx,
	            &(struct event_header){EVENT_TYPE_POLICY, "event", category, type, id,
	                                   p->relaxed_until_us, created_us});
	json_field_cstring(w, "action", "relaxation_ended");
	json_object_end(w);
	event_tlsobs_begin(w);
	json_key(w, "partner");
	json_object_begin(w);
	json_field_cstring(w, "domain", p->domain);
	json_field_cstring(w, "mode", policy_mode_str(p->mode));
	json_object_end(w);
	json_key(w, "policy");
	json_object_begin(w);
	json_field_cstring(w, "change", "relaxation_ended");
	json_key(w, "relaxed_until");
	json_time_us(w, p->relaxed_until_us);
	char reason[512];
	snprintf(reason, sizeof reason,
	         "the relaxation of %s ended: its %s policy applies again, and its policy alerts keep their "
	         "severity",
	         p->domain, policy_mode_str(p->mode));
	json_field_cstring(w, "reason", reason);
	json_object_end(w);
	event_end(w);
}

/* ---- the audit trail: policy_loaded, policy_reloaded, reload_failed ---- */

const char *policy_audit_action_str(enum policy_audit_action a)
{
	switch (a) {
	case POLICY_AUDIT_LOADED:
		return "policy_loaded";
	case POLICY_AUDIT_RELOADED:
		return "policy_reloaded";
	case POLICY_AUDIT_RELOAD_FAILED:
		return "reload_failed";
	}
	return "unknown";
}

static void write_network(struct json_writer *w, const struct ip_network *n)
{
	char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 8];
	int af = n->addr.family == 6 ? AF_INET6 : AF_INET;
	if (!inet_ntop(af, n->addr.bytes, addr, sizeof addr))
		snprintf(addr, sizeof addr, "?");
	snprintf(text, sizeof text, "%s/%u", addr, (unsigned)n->prefix);
	json_cstring(w, text);
}

/* What the rules read of one partner: mode, minimum version, certificate requirements, relaxation, mx,
 * networks. */
static void write_partner_state(struct json_writer *w, const char *key, const struct partner_policy *p)
{
	json_key(w, key);
	json_object_begin(w);
	json_field_cstring(w, "mode", policy_mode_str(p->mode));
	if (p->min_tls_version >= TLS_VERSION_1_0 && p->min_tls_version <= TLS_VERSION_1_3)
		json_field_cstring(w, "min_tls_version",
		                   tls_version_str(p->min_tls_version)); /* "1.0".."1.3" */
	json_field_bool(w, "require_valid_certificate", p->require_valid_certificate);
	json_key(w, "pin_spki_sha256");
	json_array_begin(w);
	for (size_t i = 0; i < p->n_pins && i < POLICY_MAX_PINS; i++)
		json_cstring(w, p->pins[i]);
	json_array_end(w);
	if (p->relaxed_until_us) {
		json_key(w, "relaxed_until");
		json_time_us(w, p->relaxed_until_us);
	}
	json_key(w, "mx");
	json_array_begin(w);
	for (size_t i = 0; i < p->n_mx && i < POLICY_MAX_MX; i++)
		json_cstring(w, p->mx[i]);
	json_array_end(w);
	json_key(w, "networks");
	json_array_begin(w);
	for (size_t i = 0; i < p->n_networks && i < POLICY_MAX_NETWORKS; i++)
		write_network(w, &p->networks[i]);
	json_array_end(w);
	json_object_end(w);
}

struct change_writer {
	struct json_writer *w;
	size_t written, cap; /* entries written, at most cap (JSON_MAX_ARRAY) */
	size_t counts[3];    /* by enum policy_change, all of them */
};

static void write_change(enum policy_change c, const struct partner_policy *old,
                         const struct partner_policy *next, void *ctx)
{
	struct change_writer *cw = ctx;
	cw->counts[c]++;
	if (cw->written >= cw->cap)
		return;
	cw->written++;
	json_object_begin(cw->w);
	json_field_cstring(cw->w, "domain", next ? next->domain : old->domain);
	json_field_cstring(cw->w, "change", policy_change_str(c));
	if (old)
		write_partner_state(cw->w, "old", old);
	if (next)
		write_partner_state(cw->w, "new", next);
	json_object_end(cw->w);
}

static void write_file(struct json_writer *w, const struct policy_source *src)
{
	if (!src || !src->path)
		return;
	json_key(w, "file");
	json_object_begin(w);
	json_field_cstring(w, "path", src->path);
	if (src->sha256 && src->sha256[0]) {
		json_key(w, "hash");
		json_object_begin(w);
		json_field_cstring(w, "sha256", src->sha256);
		json_object_end(w);
	}
	if (src->stat_ok) {
		char id[16];
		json_key(w, "mtime");
		json_time_us(w, src->mtime_us);
		if (src->owner && src->owner[0])
			json_field_cstring(w, "owner", src->owner);
		snprintf(id, sizeof id, "%u", src->uid);
		json_field_cstring(w, "uid", id); /* ECS: keyword */
		if (src->group && src->group[0])
			json_field_cstring(w, "group", src->group);
		snprintf(id, sizeof id, "%u", src->gid);
		json_field_cstring(w, "gid", id);
	}
	json_object_end(w);
}

/* Counts the changes without writing them (the summary comes before the list in the event). */
static void count_change(enum policy_change c, const struct partner_policy *old,
                         const struct partner_policy *next, void *ctx)
{
	((size_t *)ctx)[c]++;
}

static void write_audit_reason(struct json_writer *w, enum policy_audit_action action, const size_t counts[3],
                               const struct policy_source *src, const char *failure)
{
	char reason[1024];
	const char *file = src && src->path ? src->path : "the command line";
	if (action == POLICY_AUDIT_RELOAD_FAILED)
		snprintf(reason, sizeof reason, "reloading %s failed, the running policy is kept: %s", file,
		         failure ? failure : "unknown error");
	else
		snprintf(
		    reason, sizeof reason, "policy %s from %s: %zu partners added, %zu removed, %zu changed",
		    action == POLICY_AUDIT_LOADED ? "loaded" : "reloaded", file, counts[POLICY_CHANGE_ADDED],
		    counts[POLICY_CHANGE_REMOVED], counts[POLICY_CHANGE_CHANGED]);
	json_field_cstring(w, "reason", reason);
}

void policy_event_write_audit(struct json_writer *w, enum policy_audit_action action,
                              const struct policy *old, const struct policy *next,
                              const struct policy_source *src, const char *failure, const char *run_id,
                              uint64_t seq, const struct event_context *ctx, uint64_t now_us)
{
	static const char *const category[] = {"configuration", NULL}, *const type[] = {"change", NULL};
	bool failed = action == POLICY_AUDIT_RELOAD_FAILED;
	size_t counts[3] = {0, 0, 0};
	if (!failed)
		policy_diff(old, next, count_change, counts);
	char id[EVENT_ID_LEN];
	event_id_make(id, run_id, 'p', seq);
	event_begin(w, ctx,
	            &(struct event_header){EVENT_TYPE_POLICY, "event", category, type, id, now_us, now_us});
	json_field_cstring(w, "action", policy_audit_action_str(action));
	json_field_cstring(w, "outcome", failed ? "failure" : "success");
	json_object_end(w);
	write_file(w, src);
	event_tlsobs_begin(w);
	json_key(w, "policy");
	json_object_begin(w);
	json_field_cstring(w, "change", policy_audit_action_str(action));
	if (next)
		json_field_cstring(w, "default_mode", policy_mode_str(next->default_mode));
	if (old && next && old->default_mode != next->default_mode)
		json_field_cstring(w, "previous_default_mode", policy_mode_str(old->default_mode));
	json_field_uint(w, "partners", next ? next->n_partners : 0);
	json_field_uint(w, "partners_added", counts[POLICY_CHANGE_ADDED]);
	json_field_uint(w, "partners_removed", counts[POLICY_CHANGE_REMOVED]);
	json_field_uint(w, "partners_changed", counts[POLICY_CHANGE_CHANGED]);
	if (!failed) {
		size_t total = counts[0] + counts[1] + counts[2];
		json_key(w, "changes");
		json_array_begin(w);
		struct change_writer cw = {
		    w, 0, json_array_cap(w, "tlsobs.policy.changes", total, 0), {0, 0, 0}};
		policy_diff(old, next, write_change, &cw);
		json_array_end(w);
	}
	write_audit_reason(w, action, counts, src, failure);
	json_object_end(w);
	event_end(w);
}
