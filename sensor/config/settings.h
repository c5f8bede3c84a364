/*
 * settings.h: the sensor's own configuration, typed and checked.
 *
 * Read once from the config tree (file plus --set) at start-up. Unknown keys are
 * errors, so a typo never silently falls back to a default; every error names
 * its file:line. Every key is a row of the settings table (settings_table.h),
 * which says where in this struct it lands, its default and its bounds: a new
 * key is a field here and a row there.
 */
#ifndef TLSOBS_SETTINGS_H
#define TLSOBS_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "outputs/event_context.h"
#include "outputs/kafka_output.h"
#include "parsers/smtp.h"
#include "rules/ip_network.h"
#include "rules/policy.h"
#include "rules/rules_engine.h"
#include "sensor/config/config.h"
#include "sensor/flow/defrag.h"
#include "sensor/flow/flow_table.h"
#include "sensor/config/settings_runtime.h"

enum { SETTINGS_MAX_PORTS = 64, SETTINGS_MAX_NETWORKS = 256 };
/* RFC 8314 7.3 "submissions": SMTP over implicit TLS. tls.implicit_ports' default, and the one implicit-TLS
 * port whose flows are network.protocol "smtp" (others, 443 say, carry TLS as far as we know). */
enum { SETTINGS_SMTPS_PORT = 465 };
/* capture.interfaces, capture.files, outputs: at most this many entries each */
enum { SETTINGS_MAX_SOURCES = 32, SETTINGS_MAX_OUTPUTS = 16 };

/*
 * What to capture and where to write, as the configuration file gives it
 * (capture.interfaces, capture.files, capture.filter, outputs); the command
 * line's -i/-r, -f and -o replace the matching part (main.c).
 */
struct capture_source_settings {
	char interfaces[SETTINGS_MAX_SOURCES][64];
	size_t n_interfaces;
	char files[SETTINGS_MAX_SOURCES][1024];
	size_t n_files;
	char filter[4096]; /* "" : the default filter */
	char outputs[SETTINGS_MAX_OUTPUTS][1024];
	size_t n_outputs;
};

/* geoip: MaxMind DB files and record paths ("" everywhere: the GeoLite2 default, or no database). */
enum { GEOIP_CONFIG_PATHS = 7, GEOIP_CONFIG_PATH_CAP = 128 };
struct geoip_config {
	char location_db[4096], asn_db[4096];
	/* country_iso_code, country_name, city_name, latitude, longitude, as_number, as_organization */
	char paths[GEOIP_CONFIG_PATHS][GEOIP_CONFIG_PATH_CAP];
};

/*
 * kafka.properties.<name>_file: PATH and <name>_env: VARIABLE: a property (a secret, say sasl.password) whose
 * value is read from a file or the environment by secrets_resolve (sensor/config/secrets.h), before the drop,
 * so that it never shows in the configuration, on the command line or in an error.
 */
enum { SETTINGS_MAX_SECRETS = 16 };
struct settings_secret {
	char property[128]; /* the librdkafka name, without _file or _env */
	char source[4096];  /* the path or the variable's name */
	bool env;
};

enum { SETTINGS_MAX_WORKERS = 64 }; /* the session id keeps 6 bits for the worker */

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
	struct decode_options decode; /* capture.vxlan_ports, capture.geneve_ports */
	char ca_file[4096]; /* tls.ca_file: CA bundle for certificate validation, "" for the system store */
	unsigned certificate_cache_entries; /* tls.certificate_cache.entries: cached chains, 0: none */
	struct smtp_options smtp;
	struct rules_settings rules;
	struct kafka_settings kafka;
	struct settings_secret secrets[SETTINGS_MAX_SECRETS]; /* not yet in kafka.properties */
	unsigned nsecrets;
	bool seccomp; /* security.seccomp: the syscall allow-list (sensor/capture/seccomp_filter.h) once
	                 started */
	uint64_t
	    stats_interval_us; /* stats.interval: a tlsobs.stats event this often (packet time), 0: never */
	/* internal_networks: the operator's own networks, for network.direction; none: no direction */
	struct ip_network internal_networks[SETTINGS_MAX_NETWORKS];
	size_t n_internal_networks;
	struct policy policy;          /* policy: default_mode and partners (owned: settings_free) */
	char policy_mta_sts_dir[4096]; /* policy.mta_sts_dir: read into policy.mta_sts at load */
	char policy_tlsa_file[4096];   /* policy.tlsa_file: read into policy.tlsa at load */
	char state_db[4096];
	struct geoip_config
	    geoip; /* state_db: SQLite file for history, inventory and coverage; "": memory only */
	/* coverage.max_domains_per_day: recipient domains and unattributed servers kept per UTC day in
	 * coverage (and policy domains in TLS-RPT); past it sessions are counted per day only */
	uint64_t coverage_max_domains_per_day;
	struct runtime_settings runtime; /* log.*, metrics.* */
	struct capture_source_settings sources;
	char sensor_name[256];   /* sensor.name: observer.name; default the host name */
	char runbook_base[1024]; /* detection.runbook_base: rule.reference prefix; "" : no rule.reference */
	enum event_client_ciphers client_ciphers; /* events.client_ciphers: names (default), codes, none */
	/* capture.workers (--workers): packet workers, "auto" (the online CPUs) or 1 .. SETTINGS_MAX_WORKERS;
	 * capture.cpu_affinity: CPU numbers, worker i pinned to entry i % n (none: not pinned).
	 * settings_workers.c reads them. */
	char workers[8];
	char cpu_affinity[SETTINGS_MAX_WORKERS][8];
	size_t n_cpu_affinity;
	struct settings_history_share {     /* detection.history.* of the shared history (issue 20) */
		bool shared;                /* .shared: publish and merge through Kafka */
		uint64_t max_clock_skew_us; /* .max_clock_skew: updates dated further ahead are dropped */
		unsigned topic_partitions;  /* .topic_partitions: when the sensor creates the topic */
		uint64_t retention_us;      /* .retention: 0: compacted only; else compact,delete */
		uint64_t
		    startup_timeout_us; /* .startup_timeout: the longest wait to read the topic at start */
	} history_share;
};

/* capture.workers as a number: "auto" is the online CPUs (at most SETTINGS_MAX_WORKERS). */
unsigned settings_workers(const struct sensor_settings *s);
/* capture.cpu_affinity as numbers into cpus (SETTINGS_MAX_WORKERS of them): their count. */
size_t settings_cpu_affinity(const struct sensor_settings *s, int *cpus);

/* Fills *out from cfg (defaults where absent). 0, or -1 with the first error in *err (nothing to free then).
 */
int settings_load(const struct config *cfg, struct sensor_settings *out, struct config_error *err);
/* Frees what settings_load allocated (the policy's partners). */
void settings_free(struct sensor_settings *s);

/*
 * Checks every key of cfg against the known ones. Calls report() for each
 * unknown key (with "file:line: key: unknown setting") and for a known section
 * given a value ("...: expected a section of settings"), and returns their
 * number. A section left empty ("flow:" with its keys commented out) is fine.
 */
size_t settings_check_unknown(const struct config *cfg, void (*report)(const char *message, void *ctx),
                              void *ctx);

#endif
