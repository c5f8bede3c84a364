/*
 * main.c: the tlsobs command line (Suricata/Zeek idioms) and the run's lifecycle.
 *
 * Exit codes: 0 done; 1 runtime error (unreadable or truncated capture, output
 * failure; what was seen is still reported); 2 usage or configuration error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outputs/output.h"
#include "rules/policy_diff.h"
#include "sensor/capture.h"
#include "sensor/config.h"
#include "sensor/config_source.h"
#include "sensor/geoip.h"
#include "sensor/privileges.h"
#include "sensor/report.h"
#include "sensor/sensor.h"
#include "sensor/settings.h"
#include "sensor/settings_file.h"
#include "sensor/tls_inspect.h"

#include "version.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };
enum { MAX_ARGS = 256 };

/* The only mutable globals: signal flags, set by SIGINT/SIGTERM and SIGHUP, read by the capture loop. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

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
	const char *bpf;
	const char *user, *group;
	const char *dump_dir;
	char ca_file_set[4200]; /* "tls.ca_file=PATH" for --ca-file */
	bool test_config;
	int verbosity; /* -1 quiet, 0 normal, 1+ verbose */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tlsobs [-r FILE|DIR]... [-i IFACE]... [-c CONFIG] [--set KEY=VALUE]... [-f BPF]\n"
		"              [-o OUTPUT]... [--dump-streams DIR] [--ca-file PATH] [--any-port] [--all-flows] [-T]\n"
		"              [-u USER] [-g GROUP] [-v|-q]\n"
		"              [-V] [-h]\n"
		"       tlsobs report coverage|certificates [-c CONFIG] [--since DATE] [--format table|json|csv]\n"
		"\n"
		"  -r FILE|DIR        read pcap/pcapng files (a directory: the captures in it), in time order\n"
		"  -i IFACE           capture live on an interface (may be repeated)\n"
		"  -c CONFIG          YAML configuration file (default: " TLSOBS_DEFAULT_CONFIG " if it exists)\n"
		"  --set KEY=VALUE    override a configuration key, e.g. --set flow.memcap=256mb\n"
		"  -f BPF             capture filter (default: the SMTP and implicit-TLS ports, VLAN or not)\n"
		"  -o OUTPUT          json:- (default, standard output) or json:PATH (may be repeated)\n"
		"  --dump-streams DIR write each reassembled direction of each flow to DIR\n"
		"  --ca-file PATH     CA bundle (PEM) for certificate validation (default: the system store)\n"
		"  --any-port         every TCP port: nDPI finds SMTP wherever it runs (capture.any_port)\n"
		"  --all-flows        with --any-port, session events for flows that are not mail too\n"
		"  -T                 check the configuration and exit\n"
		"  -u USER, -g GROUP  drop to this user and group once capture and files are open\n"
		"  -v, -q             more, or fewer, messages on standard error\n"
		"  -V                 print the version\n"
		"  -h                 this help\n"
		"\n"
		"Exit status: 0 done, 1 runtime error (what was seen is still reported), 2 usage or configuration error.\n");
}

static int add_arg(char **list, size_t *n, char *value, const char *opt)
{
	if (*n >= MAX_ARGS) {
		fprintf(stderr, "tlsobs: %s: given more than %d times\n", opt, MAX_ARGS);
		return -1;
	}
	list[(*n)++] = value;
	return 0;
}

/*
 * The option getopt stopped at. A short one is named by optopt: argv[optind - 1]
 * is the previous word while getopt is inside a bundle ("-T -xv" stops at x with
 * optind still on "-xv"). Long options have values >= 256, so optopt is 0 or
 * >= 256 for them and their word is argv[optind - 1].
 */
static const char *bad_option(char **argv, char *buf, size_t len)
{
	if (optopt > 0 && optopt < 256) {
		snprintf(buf, len, "-%c", optopt);
		return buf;
	}
	return argv[optind - 1];
}

/* 0 to go on, 1 when the run is already done (-h, -V), -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_SET = 256, OPT_DUMP_STREAMS, OPT_CA_FILE, OPT_ANY_PORT, OPT_ALL_FLOWS, OPT_HELP, OPT_VERSION };
	static char any_port_set[] = "capture.any_port=true", all_flows_set[] = "capture.all_flows=true";
	static const struct option longopts[] = {
		{"set", required_argument, NULL, OPT_SET},
		{"dump-streams", required_argument, NULL, OPT_DUMP_STREAMS},
		{"ca-file", required_argument, NULL, OPT_CA_FILE},
		{"any-port", no_argument, NULL, OPT_ANY_PORT},
		{"all-flows", no_argument, NULL, OPT_ALL_FLOWS},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	char name[8];
	int c, rc = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":r:i:c:f:o:Tu:g:vqVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': rc = add_arg(o->files, &o->nfiles, optarg, "-r"); break;
		case 'i': rc = add_arg(o->ifaces, &o->nifaces, optarg, "-i"); break;
		case 'o': rc = add_arg(o->outputs, &o->noutputs, optarg, "-o"); break;
		case OPT_SET: rc = add_arg(o->sets, &o->nsets, optarg, "--set"); break;
		case 'c': o->config_path = optarg; break;
		case 'f': o->bpf = optarg; break;
		case 'T': o->test_config = true; break;
		case 'u': o->user = optarg; break;
		case 'g': o->group = optarg; break;
		case 'v': o->verbosity++; break;
		case 'q': o->verbosity = -1; break;
		case OPT_DUMP_STREAMS: o->dump_dir = optarg; break;
		case OPT_CA_FILE: /* the same as --set tls.ca_file=PATH, applied after the file */
			snprintf(o->ca_file_set, sizeof o->ca_file_set, "tls.ca_file=%s", optarg);
			rc = add_arg(o->sets, &o->nsets, o->ca_file_set, "--ca-file");
			break;
		/* The same as --set capture.any_port=true (all_flows), applied after the file. */
		case OPT_ANY_PORT: rc = add_arg(o->sets, &o->nsets, any_port_set, "--any-port"); break;
		case OPT_ALL_FLOWS: rc = add_arg(o->sets, &o->nsets, all_flows_set, "--all-flows"); break;
		case 'V':
		case OPT_VERSION: printf("tlsobs %s\n", TLSOBS_VERSION); return 1;
		case 'h':
		case OPT_HELP: usage(stdout); return 1;
		case ':':
			fprintf(stderr, "tlsobs: %s needs a value (see tlsobs -h)\n",
				bad_option(argv, name, sizeof name));
			return -1;
		default:
			fprintf(stderr, "tlsobs: unknown option '%s' (see tlsobs -h)\n",
				bad_option(argv, name, sizeof name));
			return -1;
		}
	}
	if (rc != 0)
		return -1;
	if (optind < argc) {
		fprintf(stderr, "tlsobs: unexpected argument '%s' (see tlsobs -h)\n", argv[optind]);
		return -1;
	}
	if (o->nfiles && o->nifaces) {
		fprintf(stderr, "tlsobs: -r and -i cannot be used together\n");
		return -1;
	}
	return 0;
}

/*
 * capture.interfaces / capture.files, capture.filter and outputs from the
 * configuration, where the command line gave none: -i or -r replace both
 * capture lists, -f the filter, -o the outputs. Read at start only.
 */
static void use_configured_sources(struct options *o, struct sensor_settings *st)
{
	struct capture_source_settings *src = &st->sources;
	if (o->nfiles == 0 && o->nifaces == 0) {
		for (size_t i = 0; i < src->n_interfaces && i < MAX_ARGS; i++)
			o->ifaces[o->nifaces++] = src->interfaces[i];
		for (size_t i = 0; i < src->n_files && i < MAX_ARGS; i++)
			o->files[o->nfiles++] = src->files[i];
	}
	if (!o->bpf && src->filter[0])
		o->bpf = src->filter;
	if (o->noutputs == 0)
		for (size_t i = 0; i < src->n_outputs && i < MAX_ARGS; i++)
			o->outputs[o->noutputs++] = src->outputs[i];
}

/* An early exit after the configuration loaded: its policy is freed, so LeakSanitizer has nothing to say. */
static int settings_done(struct sensor_settings *settings, int code)
{
	settings_free(settings);
	return code;
}

/* The configuration file plus --set overrides, checked and typed. */
static int load_configuration(const struct options *o, struct sensor_settings *settings)
{
	return settings_from_file(o->config_path, o->sets, o->nsets, settings, stderr);
}

/*
 * load_configuration, with the last error message also kept in why (without
 * its "tlsobs: " prefix) for the reload_failed audit event.
 */
static int load_configuration_noting(const struct options *o, struct sensor_settings *settings, char *why,
                                     size_t len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&text, &size);
	if (!mem)
		return load_configuration(o, settings);
	int rc = settings_from_file(o->config_path, o->sets, o->nsets, settings, mem);
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

static int check_dump_dir(const char *dir)
{
	struct stat st;
	errno = 0;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tlsobs: --dump-streams %s: %s\n", dir, errno ? strerror(errno) : "not a directory");
		return -1;
	}
	return 0;
}

/* A state database in a directory that is not there is a configuration mistake, told before anything runs. */
static int check_state_db(const struct sensor_settings *settings)
{
	if (!settings->state_db[0])
		return 0;
	char dir[sizeof settings->state_db];
	snprintf(dir, sizeof dir, "%s", settings->state_db);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	struct stat st;
	errno = 0;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tlsobs: state_db %s: directory %s: %s\n", settings->state_db, dir,
		        errno ? strerror(errno) : "not a directory");
		return -1;
	}
	return 0;
}

/* A CA bundle that cannot be loaded is a configuration error, reported before anything runs. */
static int check_ca_file(const struct sensor_settings *settings)
{
	if (!settings->ca_file[0])
		return 0;
	char err[1024];
	struct tls_inspector *ti = tls_inspector_new(settings->ca_file, err, sizeof err);
	if (!ti) {
		fprintf(stderr, "tlsobs: tls.ca_file %s: %s\n", settings->ca_file, err);
		return -1;
	}
	tls_inspector_free(ti);
	return 0;
}

/*
 * geoip: the databases open before privileges are dropped. One that does not
 * open is a warning (the sensor runs without its fields) and, under -T, an
 * error; an invalid record path is always an error. *ok false: stop (exit 2).
 */
static struct geoip *open_geoip(const struct sensor_settings *st, bool strict, bool *ok)
{
	const struct geoip_config *c = &st->geoip;
	*ok = true;
	if (!c->location_db[0] && !c->asn_db[0])
		return NULL;
#define OR_NULL(v) ((v)[0] ? (v) : NULL)
	struct geoip_settings gs = {OR_NULL(c->location_db), OR_NULL(c->asn_db), OR_NULL(c->paths[0]),
	                            OR_NULL(c->paths[1]),    OR_NULL(c->paths[2]), OR_NULL(c->paths[3]),
	                            OR_NULL(c->paths[4]),    OR_NULL(c->paths[5]), OR_NULL(c->paths[6])};
#undef OR_NULL
	char err[600];
	struct geoip *g = geoip_open(&gs, err, sizeof err);
	if (!g) {
		fprintf(stderr, "tlsobs: %s\n", err);
		*ok = false;
		return NULL;
	}
	for (int d = 0; d < GEOIP_DB_COUNT; d++) {
		struct geoip_db_status status;
		geoip_db_status(g, (enum geoip_db)d, &status);
		if (!status.problem[0])
			continue;
		fprintf(stderr, "tlsobs: %s%s\n", strict ? "" : "warning: ", status.problem);
		if (strict)
			*ok = false;
	}
	return g;
}

/* -T: networks of two partners (or twice one) that overlap: the first partner in the file takes the session. */
static void warn_overlap(const struct partner_policy *a, const struct ip_network *na, const struct partner_policy *b,
                         const struct ip_network *nb, void *ctx)
{
	char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
	ip_addr_format(&na->addr, x, sizeof x);
	ip_addr_format(&nb->addr, y, sizeof y);
	fprintf(stderr,
	        "tlsobs: warning: policy.partners: network %s/%u of %s overlaps network %s/%u of %s: a session there "
	        "goes to the first partner listed\n",
	        x, (unsigned)na->prefix, a->domain, y, (unsigned)nb->prefix, b->domain);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static void install_signal_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() must wake up */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* What the capture callbacks need: the sensor, and the options to reload the configuration with. */
struct run_ctx {
	struct sensor *sensor;
	const struct options *options;
};

/*
 * SIGHUP: the configuration file and --set again, applied to the running
 * sensor (sensor_reload). A configuration that does not load is reported and
 * the running one kept: a typo must not stop the sensor.
 */
static void reload_configuration(struct run_ctx *r)
{
	reload_requested = 0;
	struct sensor_settings next;
	struct config_source src;
	config_source_read(r->options->config_path, &src);
	char why[1024] = "";
	if (load_configuration_noting(r->options, &next, why, sizeof why) != 0) {
		fprintf(stderr, "tlsobs: reload failed: the running configuration is kept\n");
		sensor_audit_reload_failed(r->sensor, &src.view, why);
		return;
	}
	char err[1024];
	if (sensor_reload_audited(r->sensor, &next, &src.view, err, sizeof err) != 0)
		fprintf(stderr, "tlsobs: reload failed (%s): the running configuration is kept\n", err);
	else if (r->options->verbosity >= 0)
		fprintf(stderr, "tlsobs: configuration reloaded from %s\n",
		        r->options->config_path ? r->options->config_path : "--set");
	settings_free(&next);
}

static void on_capture_packet(void *ctx, const struct capture_packet *p)
{
	struct run_ctx *r = ctx;
	if (reload_requested)
		reload_configuration(r);
	sensor_packet(r->sensor, p);
}

static void on_capture_tick(void *ctx, uint64_t now_us)
{
	struct run_ctx *r = ctx;
	if (reload_requested)
		reload_configuration(r);
	sensor_tick(r->sensor, now_us);
}

/* Opens capture and outputs, drops privileges, runs to the end. Returns the exit code. */
static int run(const struct options *o, const struct sensor_settings *settings, struct output **outputs,
	       size_t noutputs)
{
	char err[1024];
	uint16_t ports[2 * SETTINGS_MAX_PORTS];
	size_t nports = 0;
	for (size_t i = 0; i < settings->n_smtp_ports; i++)
		ports[nports++] = settings->smtp_ports[i];
	for (size_t i = 0; i < settings->n_implicit_tls_ports; i++)
		ports[nports++] = settings->implicit_tls_ports[i];
	if (settings->any_port)
		nports = 0; /* the default filter is then every TCP packet */
	struct capture_options copt = {o->bpf, ports, nports, (int)settings->snaplen, settings->promiscuous,
				       (int)settings->buffer_size};
	enum capture_open_status status;
	struct capture *cap = capture_open(o->files, o->nfiles, o->ifaces, o->nifaces, &copt, &status, err, sizeof err);
	if (!cap) {
		fprintf(stderr, "tlsobs: %s\n", err);
		return status == CAPTURE_USAGE_ERROR ? EXIT_USAGE : EXIT_RUNTIME;
	}
	int code = status == CAPTURE_OK ? EXIT_OK : EXIT_RUNTIME;
	/* Everything that opens files (CA bundle, outputs, capture) comes before dropping privileges. */
	struct sensor *s = sensor_new(settings, outputs, noutputs, o->dump_dir, err, sizeof err);
	if (!s) {
		fprintf(stderr, "tlsobs: %s\n", err);
		capture_close(cap);
		return EXIT_RUNTIME;
	}
	bool geoip_ok;
	struct geoip *geo = open_geoip(settings, false, &geoip_ok);
	if (!geoip_ok) {
		sensor_free(s);
		capture_close(cap);
		return EXIT_USAGE;
	}
	sensor_set_geoip(s, geo);
	if ((o->user || o->group) && privileges_drop(o->user, o->group, err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		sensor_free(s);
		capture_close(cap);
		return EXIT_RUNTIME;
	}
	install_signal_handlers();
	sensor_set_capture(s, cap);
	if (o->config_path) { /* the audit trail starts with the policy in force */
		struct config_source src;
		config_source_read(o->config_path, &src);
		sensor_audit_policy_loaded(s, &src.view);
	}
	struct run_ctx rc = {s, o};
	struct capture_handler handler = {on_capture_packet, on_capture_tick, &rc};
	if (capture_run(cap, &handler, &stop_requested) != 0)
		code = EXIT_RUNTIME;
	sensor_finish(s, stop_requested ? FLOW_CLOSE_SHUTDOWN : FLOW_CLOSE_END_OF_CAPTURE);
	sensor_emit_final_stats(s);
	if (o->verbosity >= 0)
		sensor_print_summary(s, stderr);
	if (sensor_stats(s)->events_dropped)
		code = EXIT_RUNTIME;
	sensor_free(s);
	capture_close(cap);
	return code;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return report_main(argc - 1, argv + 1, stdout, stderr);
	struct options o = {0};
	int parsed = parse_options(argc, argv, &o);
	if (parsed != 0)
		return parsed > 0 ? EXIT_OK : EXIT_USAGE;
	/* No -c: the installed configuration, when there is one (packaging/tlsobs.yaml). */
	if (!o.config_path && access(TLSOBS_DEFAULT_CONFIG, F_OK) == 0)
		o.config_path = TLSOBS_DEFAULT_CONFIG;
	struct sensor_settings settings;
	if (load_configuration(&o, &settings) != 0)
		return EXIT_USAGE;
	use_configured_sources(&o, &settings);
	char err[1024];
	if (o.bpf && capture_check_filter(o.bpf, err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		return settings_done(&settings, EXIT_USAGE);
	}
	if (o.dump_dir && check_dump_dir(o.dump_dir) != 0)
		return settings_done(&settings, EXIT_USAGE);
	if (check_ca_file(&settings) != 0 || check_state_db(&settings) != 0)
		return settings_done(&settings, EXIT_USAGE);
	if (o.test_config) {
		bool geoip_ok;
		geoip_free(open_geoip(&settings, true, &geoip_ok));
		if (!geoip_ok)
			return settings_done(&settings, EXIT_USAGE);
		policy_network_overlaps(&settings.policy, warn_overlap, NULL);
		fprintf(stderr, "tlsobs: configuration OK\n");
		return settings_done(&settings, EXIT_OK);
	}
	if (o.nfiles == 0 && o.nifaces == 0) {
		fprintf(stderr, "tlsobs: nothing to capture: give -r FILE or -i IFACE (see tlsobs -h)\n");
		return settings_done(&settings, EXIT_USAGE);
	}
	if (privileges_check(o.user, o.group, err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		return settings_done(&settings, EXIT_USAGE);
	}
	/* Before the outputs start threads: what this sets is per thread, and inherited. */
	if ((o.user || o.group) && privileges_harden(err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		return settings_done(&settings, EXIT_RUNTIME);
	}
	static char default_output[] = "json:-";
	if (o.noutputs == 0)
		o.outputs[o.noutputs++] = default_output;
	struct output *outputs[MAX_ARGS];
	size_t opened = 0;
	int code = EXIT_OK;
	for (; opened < o.noutputs; opened++) {
		if (!(outputs[opened] = output_open(o.outputs[opened], &settings.kafka, err, sizeof err))) {
			fprintf(stderr, "tlsobs: %s\n", err);
			code = EXIT_USAGE;
			break;
		}
	}
	if (code == EXIT_OK)
		code = run(&o, &settings, outputs, opened);
	for (size_t i = 0; i < opened; i++) {
		/* output_close frees the output: its spec comes from the command line, which outlives it. */
		if (output_close(outputs[i], o.verbosity >= 0 ? stderr : NULL) != 0) {
			fprintf(stderr, "tlsobs: %s: could not write or deliver every event\n", o.outputs[i]);
			code = EXIT_RUNTIME;
		}
	}
	settings_free(&settings);
	return code;
}
