/*
 * run_loop.h: what main.c hands the run loop: the command line's options, the
 * opened captures, the exit codes, and the loop itself (sensor/run_loop.c).
 * Used by main.c and run_loop.c only (both in the tlsobs executable).
 */
#ifndef TLSOBS_RUN_LOOP_H
#define TLSOBS_RUN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs/output.h"
#include "sensor/capture/capture.h"
#include "sensor/config/settings.h"
#include "sensor/sensor.h"

/* Exit codes: main.c's opening comment says what each means. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };
enum { MAX_ARGS = 256 };

/* The command line, parsed by main.c (parse_options) and completed from the configuration. */
struct options {
	char *files[MAX_ARGS];
	size_t nfiles;
	char *ifaces[MAX_ARGS];
	size_t nifaces;
	char *outputs[MAX_ARGS];
	size_t noutputs;
	char *sets[MAX_ARGS];
	size_t nsets;
	const char *config_path;
	int config_fd; /* with -u/-g: the configuration, opened before the drop for SIGHUP (-1: none) */
	const char *bpf;
	const char *user, *group;
	const char *dump_dir;
	char ca_file_set[4200]; /* "tls.ca_file=PATH" for --ca-file */
	char workers_set[48];   /* "capture.workers=N" for --workers */
	bool test_config;
	int verbosity; /* -1 quiet, 0 normal, 1+ verbose */
};

/* The captures of a run: one, or live with several workers one per worker (capture.h's fanout). */
struct captures {
	struct capture *cap[SETTINGS_MAX_WORKERS];
	size_t n;
	/* borrowed by the captures for the run (a pcapng file's per-interface filters are compiled late) */
	uint16_t ports[2 * SETTINGS_MAX_PORTS];
	struct capture_options opt;
};

/* -q: errors only; -v: info; -v -v: debug; otherwise log.level. At start, and again after each reload. */
void run_loop_configure_logger(const struct options *o, const struct runtime_settings *rt);
/*
 * From the signal handlers to the summary: the metrics endpoint, the privilege
 * drop, the capture loop, the last events. `code` is the status so far; the
 * caller frees the sensor and the capture.
 */
int run_loop(const struct options *o, const struct sensor_settings *settings, struct sensor *s,
             struct captures *caps, struct output **outputs, size_t noutputs, int code);

#endif
