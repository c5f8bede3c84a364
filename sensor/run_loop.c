/*
 * run_loop.c: the run, once main.c has opened everything: the signal handlers
 * and what they ask for (SIGHUP reload and output reopen, SIGUSR1 stats, the
 * stopping signals), the metrics endpoint, the privilege drop and seccomp, then
 * the capture loop (files or live, one worker packet by packet through the
 * capture callbacks, or the workers' threads through sensor_run_workers), and
 * the run's end: the last flows, the final stats event, the summary.
 *
 * Owns the process's only mutable globals (the signal flags) and, for the run,
 * the metrics endpoint; borrows the sensor, captures, outputs and options.
 */
#include "sensor/run_loop.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outputs/logger.h"
#include "outputs/metrics.h"
#include "outputs/metrics_http.h"
#include "sensor/capture/privileges.h"
#include "sensor/capture/seccomp_filter.h"
#include "sensor/config/config_source.h"
#include "sensor/config/settings_file.h"
#include "sensor/config/settings_table.h"

#include "version.h"

/* The only mutable globals: signal flags, set by the handlers (install_signal_handlers), read by the capture
 * loop. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stop_signal; /* the signal that asked to stop, for the log */
static volatile sig_atomic_t reload_requested;
static volatile sig_atomic_t stats_requested;

/*
 * The configuration again, for SIGHUP. After the drop a file only root may read (0600, as it should be
 * when it holds a secret) is read through the descriptor opened before the drop, as long as the path
 * still names that file; an editor that replaced it made a new file the run user cannot read: that is
 * said, and the running configuration kept (make it 0640 root:GROUP of -g, or restart).
 */
static int read_settings_again(const struct options *o, struct sensor_settings *settings, FILE *err)
{
	struct stat path_st, fd_st;
	if (!o->config_path || o->config_fd < 0 || access(o->config_path, R_OK) == 0)
		return settings_from_file(o->config_path, o->sets, o->nsets, settings, err);
	if (stat(o->config_path, &path_st) == 0 && fstat(o->config_fd, &fd_st) == 0 &&
	    path_st.st_dev == fd_st.st_dev && path_st.st_ino == fd_st.st_ino)
		return settings_from_fd(o->config_fd, o->config_path, o->sets, o->nsets, settings, err);
	fprintf(err,
	        "tlsobs: %s: replaced since start by a file the -u/-g user cannot read: make it readable "
	        "by the group (0640 root:GROUP), or restart\n",
	        o->config_path);
	return -1;
}

/*
 * read_settings_again, its messages on stderr as at start, the last one also kept in why (without its
 * "tlsobs: " prefix) for the reload_failed audit event.
 */
static int reload_settings(const struct options *o, struct sensor_settings *settings, char *why, size_t len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&text, &size);
	if (!mem)
		return read_settings_again(o, settings, stderr);
	int rc = read_settings_again(o, settings, mem);
	fclose(mem);
	if (text && size) {
		fputs(text, stderr);
		while (size > 0 && text[size - 1] == '\n')
			text[--size] = '\0';
		char *last = strrchr(text, '\n');
		last = last ? last + 1 : text;
		if (strncmp(last, "tlsobs: ", 8) == 0)
			last += 8;
		snprintf(why, len, "%s", last);
	}
	free(text);
	return rc;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP) {
		reload_requested = 1;
	} else if (sig == SIGUSR1) {
		stats_requested = 1;
	} else {
		stop_signal = sig;
		stop_requested = 1;
	}
}

/*
 * SIGHUP reloads and reopens the file outputs, SIGUSR1 dumps the counters.
 * Every signal whose default would kill the sensor without its summary and
 * its last events (SIGINT, SIGTERM, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF,
 * SIGIO, SIGPWR, SIGXCPU) stops it cleanly instead. SIGPIPE and SIGXFSZ are
 * ignored: write(2) then fails with EPIPE or EFBIG, which the outputs handle
 * (EPIPE on standard output stops the run; EFBIG is a failing file). SIGQUIT
 * keeps its core dump, for debugging; job control keeps its defaults.
 */
static void install_signal_handlers(void)
{
	static const int stopping[] = {SIGINT,  SIGTERM, SIGUSR2, SIGALRM, SIGVTALRM,
	                               SIGPROF, SIGIO,   SIGPWR,  SIGXCPU};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigfillset(&sa.sa_mask);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() must wake up */
	for (size_t i = 0; i < sizeof stopping / sizeof stopping[0]; i++)
		sigaction(stopping[i], &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);
}

/* What the capture callbacks need: the sensor, the options to reload with, the outputs to reopen. */
struct run_ctx {
	struct sensor *sensor;
	const struct options *options;
	const struct sensor_settings *settings; /* as loaded at start: what a reload cannot change */
	struct output **outputs;
	size_t noutputs;
	struct metrics_board *metrics; /* NULL without metrics.listen */
	uint64_t next_metrics_us;      /* monotonic clock */
	struct metrics_snapshot snap;  /* filled here, copied onto the board */
};

/* -q: errors only; -v: info; -v -v: debug; otherwise log.level. */
void run_loop_configure_logger(const struct options *o, const struct runtime_settings *rt)
{
	enum logger_level level = rt->log_level;
	if (o->verbosity < 0)
		level = LOGGER_ERROR;
	else if (o->verbosity == 1)
		level = LOGGER_INFO;
	else if (o->verbosity > 1)
		level = LOGGER_DEBUG;
	logger_configure(rt->log_target, level);
}

/*
 * SIGHUP: the configuration file and --set again, applied to the running
 * sensor (sensor_reload). A configuration that does not load is reported and
 * the running one kept: a typo must not stop the sensor.
 */
/* SIGHUP, second half: every json:PATH opened again by its path (after logrotate moved the file). */
static void reopen_outputs(struct run_ctx *r)
{
	for (size_t i = 0; i < r->noutputs; i++) {
		char err[1024];
		if (output_reopen(r->outputs[i], err, sizeof err) != 0)
			logger_log(LOGGER_ERROR, "output", "reopen failed, still writing to the old file: %s",
			           err);
	}
	logger_log(LOGGER_INFO, "output", "file outputs reopened");
}

/* A key the reload did not apply (not SETTING_RELOAD in the settings table): said, so nobody waits for it. */
static void warn_restart_needed(const char *key, void *ctx)
{
	(void)ctx;
	logger_log(LOGGER_WARNING, "config", "%s: changed, but applied only at the next start", key);
}

/*
 * SIGHUP: the configuration file and --set again, applied to the running
 * sensor (sensor_reload). A configuration that does not load is reported and
 * the running one kept: a typo must not stop the sensor. The file outputs are
 * reopened whatever the configuration's fate, so log rotation never depends on it.
 */
static void reload_configuration(struct run_ctx *r)
{
	reload_requested = 0;
	reopen_outputs(r);
	struct sensor_settings next;
	struct config_source src;
	config_source_read(r->options->config_path, &src);
	char why[1024] = "";
	if (reload_settings(r->options, &next, why, sizeof why) != 0) {
		sensor_note_reload_failure(r->sensor);
		logger_log(LOGGER_ERROR, "config", "reload failed: the running configuration is kept");
		sensor_audit_reload_failed(r->sensor, &src.view, why);
		return;
	}
	char err[1024];
	if (sensor_reload_audited(r->sensor, &next, &src.view, err, sizeof err) != 0) {
		sensor_note_reload_failure(r->sensor);
		logger_log(LOGGER_ERROR, "config", "reload failed (%s): the running configuration is kept",
		           err);
	} else {
		run_loop_configure_logger(r->options, &next.runtime);
		logger_log(LOGGER_NOTICE, "config", "configuration reloaded from %s",
		           r->options->config_path ? r->options->config_path : "--set");
		settings_restart_needed(r->settings, &next, warn_restart_needed, NULL);
	}
	settings_free(&next);
}

static uint64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The packet thread's share of the metrics endpoint: a fresh snapshot once a second of wall time. */
static void publish_metrics(struct run_ctx *r, bool now)
{
	uint64_t t = monotonic_us();
	if (!now && t < r->next_metrics_us)
		return;
	sensor_metrics(r->sensor, &r->snap);
	metrics_board_publish(r->metrics, &r->snap);
	r->next_metrics_us = t + 1000000u;
}

/* Signals and output failures, between packets: all on the capture thread. */
static void between_packets(struct run_ctx *r)
{
	if (reload_requested)
		reload_configuration(r);
	if (stats_requested) {
		stats_requested = 0;
		sensor_emit_stats(r->sensor);
	}
	if (r->metrics)
		publish_metrics(r, false);
	for (size_t i = 0; i < r->noutputs; i++)
		if (output_fatal(r->outputs[i]) && !stop_requested) {
			stop_signal = 0;
			stop_requested = 1; /* EPIPE: the reader is gone; finish cleanly, with the summary */
		}
}

static void on_capture_packet(void *ctx, const struct capture_packet *p)
{
	struct run_ctx *r = ctx;
	between_packets(r);
	sensor_packet(r->sensor, p);
}

/* The workers' finisher, between sessions (sensor_run_workers). */
static void on_between(void *ctx)
{
	between_packets(ctx);
}

static void on_capture_tick(void *ctx, uint64_t now_us)
{
	struct run_ctx *r = ctx;
	between_packets(r);
	sensor_tick(r->sensor, now_us);
}

/* security.seccomp, once everything is open and privileges are gone. 0, or -1 (said). */
static int apply_seccomp(struct capture *const *caps, size_t ncaps, int verbosity)
{
	int sockets[64];
	size_t n = 0;
	for (size_t i = 0; i < ncaps; i++) /* every worker's sockets */
		n += capture_sockets(caps[i], sockets + n, sizeof sockets / sizeof sockets[0] - n);
	bool guarded = false;
	char err[512];
	if (seccomp_filter_apply(sockets, n, &guarded, err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		return -1;
	}
	if (n > 0 && !guarded)
		fprintf(
		    stderr,
		    "tlsobs: warning: security.seccomp: the capture sockets are not numbered in one block: "
		    "sending through them is not filtered\n");
	else if (verbosity > 0)
		fprintf(stderr, "tlsobs: security.seccomp: system call allow-list on%s\n",
		        n ? ", nothing can be sent through the capture sockets" : "");
	return 0;
}

/* The endpoint answers from the start, before the first packet. */
static void publish_metrics_first(struct run_ctx *r)
{
	if (r->metrics)
		publish_metrics(r, true);
}

/* metrics.listen: bound before the privileges are dropped (a port below 1024 needs root). */
static int start_metrics(const struct runtime_settings *rt, struct metrics_board **board,
                         struct metrics_http **http)
{
	*board = NULL;
	*http = NULL;
	if (!rt->metrics_host[0])
		return 0;
	char err[512];
	if (!(*board = metrics_board_new(TLSOBS_VERSION))) {
		logger_log(LOGGER_ERROR, "metrics", "out of memory");
		return -1;
	}
	if (!(*http = metrics_http_start(rt->metrics_host, rt->metrics_port, *board, err, sizeof err))) {
		logger_log(LOGGER_ERROR, "metrics", "%s", err);
		metrics_board_free(*board);
		*board = NULL;
		return -1;
	}
	logger_log(LOGGER_INFO, "metrics", "serving /metrics on %s port %u", rt->metrics_host,
	           rt->metrics_port);
	return 0;
}

/*
 * From the signal handlers to the summary: the metrics endpoint, the privilege
 * drop, the capture loop, the last events. `code` is the status so far; the
 * caller frees the sensor and the capture.
 */
int run_loop(const struct options *o, const struct sensor_settings *settings, struct sensor *s,
             struct captures *caps, struct output **outputs, size_t noutputs, int code)
{
	char err[1024];
	/* Handlers before any thread of ours starts, and before the first output write (SIGPIPE ignored). */
	install_signal_handlers();
	struct run_ctx *rc = calloc(1, sizeof *rc); /* the snapshot in it is large for a stack */
	if (!rc) {
		fprintf(stderr, "tlsobs: out of memory\n");
		return EXIT_RUNTIME;
	}
	*rc = (struct run_ctx){
	    .sensor = s, .options = o, .settings = settings, .outputs = outputs, .noutputs = noutputs};
	struct metrics_http *http = NULL;
	if (start_metrics(&settings->runtime, &rc->metrics, &http) != 0) {
		code = EXIT_RUNTIME;
		goto done;
	}
	if ((o->user || o->group) && privileges_drop(o->user, o->group, err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		code = EXIT_RUNTIME;
		goto done;
	}
	/* Last: everything is open and privileges are gone; from here on only the allow-list runs. */
	if (settings->seccomp && apply_seccomp(caps->cap, caps->n, o->verbosity) != 0) {
		code = EXIT_RUNTIME;
		goto done;
	}
	sensor_set_capture(s, caps->cap[0]);
	if (o->config_path) { /* the audit trail starts with the policy in force */
		struct config_source src;
		config_source_read(o->config_path, &src);
		sensor_audit_policy_loaded(s, &src.view);
	}
	logger_log(LOGGER_INFO, "sensor", "tlsobs %s running: pid %ld, uid %ld, %zu output(s)",
	           TLSOBS_VERSION, (long)getpid(), (long)getuid(), noutputs);
	publish_metrics_first(rc);
	struct capture_handler handler = {on_capture_packet, on_capture_tick, rc};
	/* Several workers: their threads start here, after the drop and seccomp, and inherit both. */
	int captured = sensor_workers(s) > 1
	                   ? sensor_run_workers(s, caps->cap, caps->n, &stop_requested, on_between, rc)
	                   : capture_run(caps->cap[0], &handler, &stop_requested);
	if (captured != 0)
		code = EXIT_RUNTIME;
	if (stop_signal)
		logger_log(LOGGER_NOTICE, "sensor", "SIG%s: stopping",
		           sigabbrev_np(stop_signal) ? sigabbrev_np(stop_signal) : "?");
	sensor_finish(s, stop_requested ? FLOW_CLOSE_SHUTDOWN : FLOW_CLOSE_END_OF_CAPTURE);
	sensor_emit_final_stats(s);
	if (rc->metrics)
		publish_metrics(rc, true);
	if (o->verbosity >= 0)
		sensor_print_summary(s, stderr);
	if (sensor_stats(s).events_dropped)
		code = EXIT_RUNTIME;
done:
	metrics_http_stop(http);
	metrics_board_free(rc->metrics);
	free(rc);
	return code;
}
