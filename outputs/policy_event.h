/*
 * policy_event.h: the `tlsobs.policy` event, the audit trail of the partner
 * policy (event.category configuration, event.type change):
 *  - relaxation_ended: a partner's relaxed_until passed in packet time and its
 *    enforced policy applies again;
 *  - policy_loaded (start), policy_reloaded (SIGHUP): each partner added,
 *    removed or changed, with its old and new settings, and the configuration
 *    file's path, SHA-256, mtime and owner (ECS file.*);
 *  - reload_failed: a reload that did not load (event.outcome failure); the
 *    running policy is kept.
 */
#ifndef TLSOBS_POLICY_EVENT_H
#define TLSOBS_POLICY_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "outputs/event_context.h"
#include "outputs/json_writer.h"
#include "rules/policy.h"

/* run_id: the sensor run's id (session_id_make with flow 0); seq numbers this run's policy events. */
void policy_event_write_relaxation_ended(struct json_writer *w, const struct partner_policy *p,
                                         const char *run_id, uint64_t seq, const struct event_context *ctx,
                                         uint64_t created_us);

/* The configuration file behind a policy, as found when it was read (borrowed strings). */
struct policy_source {
	const char *path; /* NULL: no file (defaults and --set only): no file.* */
	bool stat_ok;     /* mtime, uid, gid, owner, group valid */
	uint64_t mtime_us;
	unsigned uid, gid;
	const char *owner, *group; /* names; "" when the id has none */
	const char *sha256;        /* lowercase hex; "" when the file could not be read */
};

enum policy_audit_action { POLICY_AUDIT_LOADED, POLICY_AUDIT_RELOADED, POLICY_AUDIT_RELOAD_FAILED };
const char *policy_audit_action_str(enum policy_audit_action a); /* "policy_loaded", ... */

/*
 * The audit event. old: the running policy before (NULL at start); next: the
 * policy now in force (for RELOAD_FAILED, the running one, kept). failure:
 * why a reload failed (one line), NULL otherwise. @timestamp is now_us (wall clock).
 */
void policy_event_write_audit(struct json_writer *w, enum policy_audit_action action,
                              const struct policy *old, const struct policy *next,
                              const struct policy_source *src, const char *failure, const char *run_id,
                              uint64_t seq, const struct event_context *ctx, uint64_t now_us);

#endif
