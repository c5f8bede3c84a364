/*
 * settings_file.h: the whole configuration step, for the sensor, its reload
 * and the reports: a YAML file (or nothing), --set overrides, unknown keys
 * refused, then typed settings. Every mistake is printed to `errors` as
 * "tlsobs: file:line: key: message", one line each (errors NULL, on a reload:
 * to the log, level error, component config).
 */
#ifndef TLSOBS_SETTINGS_FILE_H
#define TLSOBS_SETTINGS_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "sensor/config/settings.h"

/* path NULL: defaults and overrides only. 0, or -1 after printing why (nothing to free then). */
int settings_from_file(const char *path, char *const *sets, size_t nsets, struct sensor_settings *out,
                       FILE *errors);
/* The same from the configuration file opened as fd (named path): a reload after privileges are dropped,
 * when the file itself is no longer readable. */
int settings_from_fd(int fd, const char *path, char *const *sets, size_t nsets, struct sensor_settings *out,
                     FILE *errors);

#endif
