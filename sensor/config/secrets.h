/*
 * secrets.h: Kafka credentials kept out of the configuration file, the command line and every message.
 *
 * kafka.properties.<name>_file: PATH (read once, before privileges are dropped; a trailing newline is not
 * part of the value) and <name>_env: VARIABLE. Warnings, at start and with -T, for what would expose a
 * secret to other local users: a configuration or secret file readable by others, a secret given with
 * --set (every local user reads /proc/PID/cmdline). No message carries a value.
 */
#ifndef TLSOBS_SECRETS_H
#define TLSOBS_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sensor/config/settings.h"

/* Whether a librdkafka property holds a secret (sasl.password, ssl.key.password, ...). */
bool secrets_is_secret(const char *property);
/* Moves every settings->secrets entry into settings->kafka.properties. 0, or -1 with a message in err that
 * names the key and the file or variable, never the value. */
int secrets_resolve(struct sensor_settings *settings, char *err, size_t errlen);
/* Prints one "tlsobs: warning: ..." line to out per exposure; call before secrets_resolve. The count. */
unsigned secrets_warn(const char *config_path, const struct sensor_settings *settings, char *const *sets,
                      size_t nsets, FILE *out);

#endif
