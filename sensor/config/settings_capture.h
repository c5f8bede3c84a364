/*
 * settings_capture.h: the settings that say what to capture and where events
 * go (capture.interfaces, capture.files, capture.filter, outputs), and who the
 * sensor is in its events (sensor.name, detection.runbook_base). settings.c
 * calls it; main.c lets the command line (-i, -r, -f, -o) replace them.
 */
#ifndef TLSOBS_SETTINGS_CAPTURE_H
#define TLSOBS_SETTINGS_CAPTURE_H

#include "sensor/config/config.h"
#include "sensor/config/settings.h"

/* Fills out->sources, out->sensor_name and out->runbook_base. 0, or -1 with *err at the bad value's line. */
int settings_load_sources(const struct config *cfg, struct sensor_settings *out, struct config_error *err);

#endif
