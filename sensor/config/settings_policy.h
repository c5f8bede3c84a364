/*
 * settings_policy.h: the policy section of the settings (policy.default_mode, policy.partners).
 *
 * policy.partners is a sequence of maps, one per partner, so it is read by
 * walking the config tree rather than by dotted paths; settings.c calls these.
 */
#ifndef TLSOBS_SETTINGS_POLICY_H
#define TLSOBS_SETTINGS_POLICY_H

#include <stddef.h>

#include "rules/policy.h"
#include "sensor/config/config.h"

/* Fills *out (default_mode opportunistic, no partners when absent; the MTA-STS policies of
 * policy.mta_sts_dir and the TLSA records of policy.tlsa_file). 0, or -1 with *err, nothing allocated. */
int settings_load_policy(const struct config *cfg, struct policy *out, struct config_error *err);

/* Reports each unknown key inside a policy.partners entry ("file:line: policy.partners[i].key: unknown
 * setting"). */
size_t settings_check_partners(const struct config_node *partners,
                               void (*report)(const char *message, void *ctx), void *ctx);

#endif
