/*
 * settings_runtime.h: how the running sensor reports on itself: its own log
 * (log.level, log.target) and the Prometheus endpoint (metrics.listen).
 */
#ifndef TLSOBS_SETTINGS_RUNTIME_H
#define TLSOBS_SETTINGS_RUNTIME_H

#include <stdint.h>

#include "outputs/logger.h"
#include "sensor/config/config.h"

struct runtime_settings {
	enum logger_level log_level;   /* log.level: error, warning, notice (default), info, debug */
	enum logger_target log_target; /* log.target: stderr (default) or syslog */
	char metrics_host[64];         /* metrics.listen HOST ("" : no endpoint); an IPv4 or IPv6 literal */
	uint16_t metrics_port;
};

/* Fills *out from cfg (defaults where absent). 0, or -1 with *err. */
int settings_runtime_load(const struct config *cfg, struct runtime_settings *out, struct config_error *err);
/*
 * Splits "HOST:PORT" or "[V6]:PORT" into host and port; the host must be an
 * IP literal. 0, or -1 with a reason in why.
 */
int settings_runtime_parse_listen(const char *spec, char *host, size_t hostcap, uint16_t *port,
                                  const char **why);

#endif
