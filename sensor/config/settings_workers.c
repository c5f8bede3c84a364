/*
 * settings_workers.c: capture.workers and capture.cpu_affinity, checked at
 * load and read as numbers by the sensor (sensor/workers/worker_pool.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/config/settings.h"
#include "sensor/config/settings_custom.h"

/* A whole number in [min, max] spelled in decimal digits only; -1 otherwise. */
static long parse_count(const char *s, long min, long max)
{
	if (!s[0] || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6)
		return -1;
	long v = strtol(s, NULL, 10);
	return v < min || v > max ? -1 : v;
}

int settings_check_workers(const struct config *cfg, const struct sensor_settings *s,
                           struct config_error *err)
{
	if (strcmp(s->workers, "auto") == 0 || parse_count(s->workers, 1, SETTINGS_MAX_WORKERS) > 0)
		return 0;
	config_error_at(err, config_lookup(cfg, "capture.workers"), "capture.workers",
	                "expected auto or a number of workers from 1 to %d, got \"%s\"", SETTINGS_MAX_WORKERS,
	                s->workers);
	return -1;
}

int settings_check_cpu_affinity(const struct config *cfg, const struct sensor_settings *s,
                                struct config_error *err)
{
	for (size_t i = 0; i < s->n_cpu_affinity; i++)
		if (parse_count(s->cpu_affinity[i], 0, 4095) < 0) {
			config_error_at(
			    err, config_lookup(cfg, "capture.cpu_affinity"), "capture.cpu_affinity",
			    "expected CPU numbers from 0 to 4095, got \"%s\"", s->cpu_affinity[i]);
			return -1;
		}
	return 0;
}

unsigned settings_workers(const struct sensor_settings *s)
{
	if (strcmp(s->workers, "auto") == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		return n < 1 ? 1 : n > SETTINGS_MAX_WORKERS ? SETTINGS_MAX_WORKERS : (unsigned)n;
	}
	long n = parse_count(s->workers, 1, SETTINGS_MAX_WORKERS);
	return n < 1 ? 1 : (unsigned)n;
}

size_t settings_cpu_affinity(const struct sensor_settings *s, int *cpus)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_cpu_affinity && n < SETTINGS_MAX_WORKERS; i++) {
		long v = parse_count(s->cpu_affinity[i], 0, 4095);
		if (v >= 0)
			cpus[n++] = (int)v;
	}
	return n;
}
