/*
 * settings_policy.h: the policy section of the settings (policy.default_mode, policy.partners).
 *
 * policy.partners is a sequence of maps, one per partner, so it is read by
 * walking the config tree rather than by dotted paths: its row in the settings
 * table names settings_load_partners (settings_custom.h) and the check below.
 */
#ifndef TLSOBS_SETTINGS_POLICY_H
#define TLSOBS_SETTINGS_POLICY_H

#include <stddef.h>

#include "rules/policy.h"
#include "sensor/config/config.h"

/* Reports each unknown key inside a policy.partners entry ("file:line: policy.partners[i].key: unknown
 * setting"). */
size_t settings_check_partners(const struct config_node *partners,
                               void (*report)(const char *message, void *ctx), void *ctx);

#endif
