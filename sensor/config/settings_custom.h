/*
 * settings_custom.h: the loaders, printers and checks that rows of the settings table (settings_table.c)
 * name for keys with structure of their own, as nginx's directives name their `set` handlers. Private to
 * sensor/config: everything else goes through settings.h.
 */
#ifndef TLSOBS_SETTINGS_CUSTOM_H
#define TLSOBS_SETTINGS_CUSTOM_H

#include "sensor/config/settings_table.h"

/* settings_types.c: appends printf-style text at buf + *len (cap bytes in all) while it fits, and counts it
 * in *len; the printers below write their lists with it. */
void settings_print_add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* settings.c: kafka.properties (with the <name>_file / <name>_env secrets), internal_networks,
 * certificates.expiry_alert_days; capture.files and flow.hash_size checks between keys. */
setting_load_func settings_load_kafka_properties, settings_load_expiry_days;
setting_print_func settings_print_kafka_properties, settings_print_expiry_days;
/* CIDR lists (internal_networks, flow.source_budget.exempt): the row's offset, count_offset and cap. */
setting_load_func settings_load_networks;
setting_print_func settings_print_networks;
setting_check_func settings_check_sources, settings_check_flow_memcap;

/* settings_runtime.c: metrics.listen, HOST:PORT. */
setting_load_func settings_load_metrics_listen;
setting_print_func settings_print_metrics_listen;

/* settings_policy.c: policy.partners, then the files of policy.mta_sts_dir and policy.tlsa_file (it
 * allocates: settings_free). */
setting_load_func settings_load_partners;
setting_print_func settings_print_partners;

/* settings_workers.c: capture.workers ("auto" or 1..64) and capture.cpu_affinity (CPU numbers). */
setting_check_func settings_check_workers, settings_check_cpu_affinity;

#endif
