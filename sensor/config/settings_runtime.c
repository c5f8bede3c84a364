/*
 * settings_runtime.c: log.* and metrics.* (settings_runtime.h): metrics.listen's loader for the settings
 * table, and those keys' rows loaded on their own.
 */
#include "sensor/config/settings_runtime.h"

#include "sensor/config/settings.h"
#include "sensor/config/settings_custom.h"
#include "sensor/config/settings_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
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

/* metrics.listen: "" serves nothing; else HOST:PORT with an IP literal for HOST. */
int settings_load_metrics_listen(const struct config *cfg, const struct setting *st,
                                 struct sensor_settings *s, struct config_error *err)
{
	struct runtime_settings *out = &s->runtime;
	const char *listen, *why;
	out->metrics_host[0] = '\0';
	out->metrics_port = 0;
	if (config_get_string(cfg, st->key, "", &listen, err) != 0)
		return -1;
	if (listen[0] && settings_runtime_parse_listen(listen, out->metrics_host, sizeof out->metrics_host,
	                                               &out->metrics_port, &why) != 0) {
		config_error_at(err, config_lookup(cfg, st->key), st->key, "%s", why);
		return -1;
	}
	return 0;
}

void settings_print_metrics_listen(const struct setting *st, const struct sensor_settings *s, char *buf,
                                   size_t cap)
{
	(void)st;
	const struct runtime_settings *rt = &s->runtime;
	if (!rt->metrics_host[0])
		snprintf(buf, cap, "\"\"");
	else if (strchr(rt->metrics_host, ':'))
		snprintf(buf, cap, "\"[%s]:%u\"", rt->metrics_host, rt->metrics_port);
	else
		snprintf(buf, cap, "\"%s:%u\"", rt->metrics_host, rt->metrics_port);
}

/* The rows of log.* and metrics.* alone, through a whole settings struct (large: on the heap). */
int settings_runtime_load(const struct config *cfg, struct runtime_settings *out, struct config_error *err)
{
	memset(out, 0, sizeof *out);
	struct sensor_settings *s = calloc(1, sizeof *s);
	if (!s) {
		config_error_at(err, NULL, NULL, "out of memory");
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < settings_table_count && rc == 0; i++) {
		const char *key = settings_table[i].key;
		if (strncmp(key, "log.", 4) == 0 || strncmp(key, "metrics.", 8) == 0)
			rc = setting_load(cfg, &settings_table[i], s, err);
	}
	if (rc == 0)
		*out = s->runtime;
	free(s);
	return rc;
}
