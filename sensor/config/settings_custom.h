/*
 * settings_custom.h: the loaders, printers and checks that rows of the settings table (settings_table.c)
 * name for keys with structure of their own, as nginx's directives name their `set` handlers. Private to
 * sensor/config: everything else goes through settings.h.
 */
#ifndef TLSOBS_SETTINGS_CUSTOM_H
#define TLSOBS_SETTINGS_CUSTOM_H

#include "sensor/config/settings_table.h"

/* settings.c: kafka.properties (with the <name>_file / <name>_env secrets), internal_networks,
 * certificates.expiry_alert_days; capture.files and flow.hash_size checks between keys. */
int settings_load_kafka_properties(const struct config *cfg, const struct setting *st,
                                   struct sensor_settings *s, struct config_error *err);
void settings_print_kafka_properties(const struct setting *st, const struct sensor_settings *s, char *buf,
                                     size_t cap);
/* CIDR lists (internal_networks, flow.source_budget.exempt): the row's offset, count_offset and cap. */
int settings_load_networks(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                           struct config_error *err);
void settings_print_networks(const struct setting *st, const struct sensor_settings *s, char *buf,
                             size_t cap);
int settings_load_expiry_days(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                              struct config_error *err);
void settings_print_expiry_days(const struct setting *st, const struct sensor_settings *s, char *buf,
                                size_t cap);
int settings_check_sources(const struct config *cfg, const struct sensor_settings *s,
                           struct config_error *err);
int settings_check_flow_memcap(const struct config *cfg, const struct sensor_settings *s,
                               struct config_error *err);

/* settings_runtime.c: metrics.listen, HOST:PORT. */
int settings_load_metrics_listen(const struct config *cfg, const struct setting *st,
                                 struct sensor_settings *s, struct config_error *err);
void settings_print_metrics_listen(const struct setting *st, const struct sensor_settings *s, char *buf,
                                   size_t cap);

/* settings_policy.c: policy.partners, then the files of policy.mta_sts_dir and policy.tlsa_file (it
 * allocates: settings_free). */
int settings_load_partners(const struct config *cfg, const struct setting *st, struct sensor_settings *s,
                           struct config_error *err);
void settings_print_partners(const struct setting *st, const struct sensor_settings *s, char *buf,
                             size_t cap);

#endif
