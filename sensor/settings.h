/*
 * settings.h: the sensor's own configuration, typed and checked.
 *
 * Read once from the config tree (file plus --set) at start-up. Unknown keys are
 * errors, so a typo never silently falls back to a default; every error names
 * its file:line. Later steps add their sections here.
 */
#ifndef TLSOBS_SETTINGS_H
#define TLSOBS_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "outputs/kafka_output.h"
#include "parsers/smtp.h"
#include "rules/ip_network.h"
#include "rules/policy.h"
#include "rules/rules_engine.h"
#include "sensor/config.h"
#include "sensor/defrag.h"
#include "sensor/flow_table.h"

enum { SETTINGS_MAX_PORTS = 64, SETTINGS_MAX_NETWORKS = 256 };

/* geoip: MaxMind DB files and record paths ("" everywhere: the GeoLite2 default, or no database). */
enum { GEOIP_CONFIG_PATHS = 7, GEOIP_CONFIG_PATH_CAP = 128 };
struct geoip_config {
	char location_db[4096], asn_db[4096];
	/* country_iso_code, country_name, city_name, latitude, longitude, as_number, as_organization */
	char paths[GEOIP_CONFIG_PATHS][GEOIP_CONFIG_PATH_CAP];
};

struct sensor_settings {
	struct flow_table_settings flow;
	struct defrag_settings defrag; /* defrag.*: IP fragment reassembly */
	uint16_t smtp_ports[SETTINGS_MAX_PORTS];
	size_t n_smtp_ports;
	uint16_t implicit_tls_ports[SETTINGS_MAX_PORTS];
	size_t n_implicit_tls_ports;
	uint64_t snaplen;
	bool promiscuous;
	bool any_port;  /* capture.any_port (--any-port): every TCP flow, SMTP found by nDPI on any port */
	bool all_flows; /* capture.all_flows (--all-flows): a session event for flows that are not mail too */
	uint64_t buffer_size;
	char ca_file[4096]; /* tls.ca_file: CA bundle for certificate validation, "" for the system store */
	struct smtp_options smtp;
	struct rules_settings rules;
	struct kafka_settings kafka;
	uint64_t stats_interval_us; /* stats.interval: a tlsobs.stats event this often (packet time), 0: never */
	/* internal_networks: the operator's own networks, for network.direction; none: no direction */
	struct ip_network internal_networks[SETTINGS_MAX_NETWORKS];
	size_t n_internal_networks;
	struct policy policy; /* policy: default_mode and partners (owned: settings_free) */
	char state_db[4096];
	struct geoip_config geoip;  /* state_db: SQLite file for history, inventory and coverage; "": memory only */
};

/* Fills *out from cfg (defaults where absent). 0, or -1 with the first error in *err (nothing to free then). */
int settings_load(const struct config *cfg, struct sensor_settings *out, struct config_error *err);
/* Frees what settings_load allocated (the policy's partners). */
void settings_free(struct sensor_settings *s);

/*
 * Checks every key of cfg against the known ones. Calls report() for each
 * unknown key (with "file:line: key: unknown setting") and for a known section
 * given a value ("...: expected a section of settings"), and returns their
 * number. A section left empty ("flow:" with its keys commented out) is fine.
 */
size_t settings_check_unknown(const struct config *cfg, void (*report)(const char *message, void *ctx), void *ctx);

#endif
