/*
 * settings_runtime.c: log.* and metrics.* (settings_runtime.h).
 */
#include "sensor/config/settings_runtime.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int settings_runtime_parse_listen(const char *spec, char *host, size_t hostcap, uint16_t *port,
                                  const char **why)
{
	const char *colon = strrchr(spec, ':');
	if (!colon || colon == spec) {
		*why = "expected HOST:PORT (e.g. 127.0.0.1:9332 or [::1]:9332)";
		return -1;
	}
	const char *h = spec;
	size_t hlen = (size_t)(colon - spec);
	if (h[0] == '[') { /* [v6]:port, RFC 3986 3.2.2 */
		if (hlen < 3 || h[hlen - 1] != ']') {
			*why = "expected [IPV6]:PORT";
			return -1;
		}
		h++;
		hlen -= 2;
	}
	if (hlen + 1 > hostcap) {
		*why = "host too long";
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1) {
		*why = "the host must be an IPv4 or IPv6 address (0.0.0.0 or :: for every address)";
		return -1;
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno || p == 0 || p > 65535) {
		*why = "the port must be a number from 1 to 65535";
		return -1;
	}
	*port = (uint16_t)p;
	return 0;
}

static int load_log(const struct config *cfg, struct runtime_settings *out, struct config_error *err)
{
	const char *level, *target;
	if (config_get_string(cfg, "log.level", "notice", &level, err) != 0 ||
	    config_get_string(cfg, "log.target", "stderr", &target, err) != 0)
		return -1;
	if (logger_level_parse(level, &out->log_level) != 0) {
		config_error_at(err, config_lookup(cfg, "log.level"), "log.level",
		                "expected error, warning, notice, info or debug");
		return -1;
	}
	if (strcmp(target, "stderr") == 0) {
		out->log_target = LOGGER_STDERR;
	} else if (strcmp(target, "syslog") == 0) {
		out->log_target = LOGGER_SYSLOG;
	} else {
		config_error_at(err, config_lookup(cfg, "log.target"), "log.target",
		                "expected stderr or syslog");
		return -1;
	}
	return 0;
}

int settings_runtime_load(const struct config *cfg, struct runtime_settings *out, struct config_error *err)
{
	memset(out, 0, sizeof *out);
	if (load_log(cfg, out, err) != 0)
		return -1;
	const char *listen, *why;
	if (config_get_string(cfg, "metrics.listen", "", &listen, err) != 0)
		return -1;
	if (listen[0] && settings_runtime_parse_listen(listen, out->metrics_host, sizeof out->metrics_host,
	                                               &out->metrics_port, &why) != 0) {
		config_error_at(err, config_lookup(cfg, "metrics.listen"), "metrics.listen", "%s", why);
		return -1;
	}
	return 0;
}
