/*
 * settings_capture.c: capture.interfaces, capture.files, capture.filter,
 * outputs, sensor.name and detection.runbook_base (see settings_capture.h).
 *
 * A list is a YAML sequence or, as --set gives it, one scalar: for
 * capture.interfaces a comma-separated list ("eth1,eth2"); for capture.files
 * and outputs a single entry, since paths and "kafka:HOST:PORT,HOST:PORT"
 * may hold commas. The filter is checked by libpcap when the capture opens
 * (and by -T).
 */
#include "sensor/config/settings_capture.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "version.h"

/* Copies text[0..len) into the next slot of a fixed table; errors name the node. */
static int add_entry(const struct config_node *n, const char *path, const char *text, size_t len, char *table,
                     size_t width, size_t cap, size_t *count, struct config_error *err)
{
	while (len > 0 && (*text == ' ' || *text == '\t'))
		text++, len--;
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len == 0) {
		config_error_at(err, n, path, "an empty entry");
		return -1;
	}
	if (*count >= cap) {
		config_error_at(err, n, path, "more than %zu entries", cap);
		return -1;
	}
	if (len >= width) {
		config_error_at(err, n, path, "an entry longer than %zu characters", width - 1);
		return -1;
	}
	char *slot = table + *count * width;
	memcpy(slot, text, len);
	slot[len] = '\0';
	(*count)++;
	return 0;
}

/* A list setting (see the file comment); `split` cuts a scalar at commas. Absent or "": no entries. */
static int load_list(const struct config *cfg, const char *path, bool split, char *table, size_t width,
                     size_t cap, size_t *count, struct config_error *err)
{
	const struct config_node *n = config_lookup(cfg, path);
	*count = 0;
	if (!n)
		return 0;
	if (config_node_kind(n) == CONFIG_MAP) {
		config_error_at(err, n, path, "expected a list, got a map");
		return -1;
	}
	if (config_node_kind(n) == CONFIG_SCALAR) {
		const char *s = config_node_scalar(n);
		if (strspn(s, " \t") == strlen(s))
			return 0;
		while (split) {
			const char *comma = strchr(s, ',');
			if (!comma)
				break;
			if (add_entry(n, path, s, (size_t)(comma - s), table, width, cap, count, err) != 0)
				return -1;
			s = comma + 1;
		}
		return add_entry(n, path, s, strlen(s), table, width, cap, count, err);
	}
	for (size_t i = 0; i < config_node_count(n); i++) {
		const struct config_node *item = config_node_child(n, i);
		const char *s = config_node_scalar(item);
		if (!s) {
			config_error_at(err, item, path, "expected a list of values");
			return -1;
		}
		if (add_entry(item, path, s, strlen(s), table, width, cap, count, err) != 0)
			return -1;
	}
	return 0;
}

static int copy_setting(const struct config *cfg, const char *path, const char *def, char *dst, size_t cap,
                        struct config_error *err)
{
	const char *v;
	if (config_get_string(cfg, path, def, &v, err) != 0)
		return -1;
	if (strlen(v) >= cap) {
		config_error_at(err, config_lookup(cfg, path), path, "longer than %zu characters", cap - 1);
		return -1;
	}
	snprintf(dst, cap, "%s", v);
	return 0;
}

int settings_load_sources(const struct config *cfg, struct sensor_settings *out, struct config_error *err)
{
	struct capture_source_settings *src = &out->sources;
	if (load_list(cfg, "capture.interfaces", true, &src->interfaces[0][0], sizeof src->interfaces[0],
	              SETTINGS_MAX_SOURCES, &src->n_interfaces, err) != 0 ||
	    load_list(cfg, "capture.files", false, &src->files[0][0], sizeof src->files[0],
	              SETTINGS_MAX_SOURCES, &src->n_files, err) != 0 ||
	    load_list(cfg, "outputs", false, &src->outputs[0][0], sizeof src->outputs[0],
	              SETTINGS_MAX_OUTPUTS, &src->n_outputs, err) != 0 ||
	    copy_setting(cfg, "capture.filter", "", src->filter, sizeof src->filter, err) != 0 ||
	    copy_setting(cfg, "detection.runbook_base", TLSOBS_RUNBOOK_BASE, out->runbook_base,
	                 sizeof out->runbook_base, err) != 0)
		return -1;
	if (src->n_interfaces && src->n_files) {
		config_error_at(err, config_lookup(cfg, "capture.files"), "capture.files",
		                "capture.interfaces and capture.files cannot be used together");
		return -1;
	}
	char host[256] = "";
	if (gethostname(host, sizeof host - 1) != 0 || !host[0])
		snprintf(host, sizeof host, "unknown");
	if (copy_setting(cfg, "sensor.name", host, out->sensor_name, sizeof out->sensor_name, err) != 0)
		return -1;
	if (!out->sensor_name[0]) /* "sensor.name:" left empty: the default */
		snprintf(out->sensor_name, sizeof out->sensor_name, "%s", host);
	return 0;
}
