/*
 * main.c: the tlsobs command line (Suricata/Zeek idioms) and the run's lifecycle:
 * options, configuration and checks, opening the outputs, captures and sensor;
 * the run itself (signals, capture loop, the last events) is run_loop.c.
 *
 * Exit codes: 0 done; 1 runtime error (unreadable or truncated capture, output
 * failure; what was seen is still reported); 2 usage or configuration error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outputs/logger.h"
#include "outputs/metrics.h"
#include "outputs/output.h"
#include "outputs/private_dir.h"
#include "rules/policy_diff.h"
#include "sensor/capture/capture.h"
#include "sensor/config/config.h"
#include "sensor/config/config_source.h"
#include "sensor/app/geoip.h"
#include "outputs/metrics_http.h"
#include "sensor/capture/privileges.h"
#include "sensor/report/report.h"
#include "sensor/capture/seccomp_filter.h"
#include "sensor/config/secrets.h"
#include "sensor/run_loop.h"
#include "sensor/sensor.h"
#include "sensor/config/settings.h"
#include "sensor/config/settings_file.h"
#include "sensor/config/settings_table.h"
#include "sensor/app/tls_inspect.h"

#include "version.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tlsobs [-r FILE|DIR]... [-i IFACE]... [-c CONFIG] [--set KEY=VALUE]... [-f BPF]\n"
	    "              [-o OUTPUT]... [--dump-streams DIR] [--ca-file PATH] [--any-port] [--all-flows] "
	    "[-T]\n"
	    "              [--workers N|auto]\n"
	    "              [-u USER] [-g GROUP] [-v|-q]\n"
	    "              [-V] [-h]\n"
	    "       tlsobs report coverage|certificates|tlsrpt|html -c CONFIG ... (tlsobs report -h)\n"
	    "\n"
	    "  -r FILE|DIR        read pcap/pcapng files (a directory: the captures in it), in time order\n"
	    "  -i IFACE           capture live on an interface (may be repeated)\n"
	    "  -c CONFIG          YAML configuration file (default: " TLSOBS_DEFAULT_CONFIG " if it exists)\n"
	    "  --set KEY=VALUE    override a configuration key, e.g. --set flow.memcap=256mb\n"
	    "  -f BPF             capture filter (default: the mail ports under up to 4 VLAN tags, MPLS, "
	    "tunnels,\n"
	    "                     IP fragments; -T -v prints it)\n"
	    "  -o OUTPUT          json:- (default, standard output) or json:PATH (may be repeated)\n"
	    "  --dump-streams DIR write each reassembled direction of each flow to DIR\n"
	    "  --ca-file PATH     CA bundle (PEM) for certificate validation (default: the system store)\n"
	    "  --any-port         every TCP port: nDPI finds SMTP wherever it runs (capture.any_port)\n"
	    "  --all-flows        with --any-port, session events for flows that are not mail too\n"
	    "  --workers N|auto   packet worker threads (capture.workers; auto: one per online CPU)\n"
	    "  -T                 check the configuration and exit (with -v: print the capture filter,\n"
	    "                     and every setting's effective value on standard output)\n"
	    "  --list-settings    every configuration key with its type, default and bounds (Markdown)\n"
	    "  -u USER, -g GROUP  drop to this user and group once capture and files are open\n"
	    "  -v, -q             more messages (-v info, -v -v debug), or errors only and no summary\n"
	    "  -V                 print the version\n"
	    "  -h                 this help\n"
	    "\n"
	    "Exit status: 0 done, 1 runtime error (what was seen is still reported), 2 usage or "
	    "configuration error.\n");
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
	enum {
		OPT_SET = 256,
		OPT_DUMP_STREAMS,
		OPT_CA_FILE,
		OPT_ANY_PORT,
		OPT_ALL_FLOWS,
		OPT_HELP,
		OPT_VERSION,
		OPT_LIST_SETTINGS,
		OPT_WORKERS
	};
	static char any_port_set[] = "capture.any_port=true", all_flows_set[] = "capture.all_flows=true";
	static const struct option longopts[] = {
	    {"set", required_argument, NULL, OPT_SET},
	    {"dump-streams", required_argument, NULL, OPT_DUMP_STREAMS},
	    {"ca-file", required_argument, NULL, OPT_CA_FILE},
	    {"any-port", no_argument, NULL, OPT_ANY_PORT},
	    {"all-flows", no_argument, NULL, OPT_ALL_FLOWS},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"list-settings", no_argument, NULL, OPT_LIST_SETTINGS},
	    {"workers", required_argument, NULL, OPT_WORKERS},
	    {NULL, 0, NULL, 0},
	};
	char name[8];
	int c, rc = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":r:i:c:f:o:Tu:g:vqVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rc = add_arg(o->files, &o->nfiles, optarg, "-r");
			break;
		case 'i':
			rc = add_arg(o->ifaces, &o->nifaces, optarg, "-i");
			break;
		case 'o':
			rc = add_arg(o->outputs, &o->noutputs, optarg, "-o");
			break;
		case OPT_SET:
			rc = add_arg(o->sets, &o->nsets, optarg, "--set");
			break;
		case 'c':
			o->config_path = optarg;
			break;
		case 'f':
			o->bpf = optarg;
			break;
		case 'T':
			o->test_config = true;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'v':
			o->verbosity++;
			break;
		case 'q':
			o->verbosity = -1;
			break;
		case OPT_DUMP_STREAMS:
			o->dump_dir = optarg;
			break;
		case OPT_CA_FILE: /* the same as --set tls.ca_file=PATH, applied after the file */
			snprintf(o->ca_file_set, sizeof o->ca_file_set, "tls.ca_file=%s", optarg);
			rc = add_arg(o->sets, &o->nsets, o->ca_file_set, "--ca-file");
			break;
		/* The same as --set capture.any_port=true (all_flows), applied after the file. */
		case OPT_ANY_PORT:
			rc = add_arg(o->sets, &o->nsets, any_port_set, "--any-port");
			break;
		case OPT_ALL_FLOWS:
			rc = add_arg(o->sets, &o->nsets, all_flows_set, "--all-flows");
			break;
		case OPT_WORKERS: /* the same as --set capture.workers=N, applied after the file */
			snprintf(o->workers_set, sizeof o->workers_set, "capture.workers=%s", optarg);
			rc = add_arg(o->sets, &o->nsets, o->workers_set, "--workers");
			break;
		case 'V':
		case OPT_VERSION:
			printf("tlsobs %s\n", TLSOBS_VERSION);
			return 1;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return 1;
		case OPT_LIST_SETTINGS:
			if (settings_list(stdout) == 0)
				return 1;
			fprintf(stderr, "tlsobs: --list-settings: the defaults do not load\n");
			return -1;
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

/* detection.history.shared travels through Kafka: without a kafka: output there is nothing to share with. */
static int check_history_share(const struct options *o, const struct sensor_settings *st)
{
	if (!st->history_share.shared)
		return 0;
	for (size_t i = 0; i < o->noutputs; i++)
		if (strncmp(o->outputs[i], "kafka:", 6) == 0)
			return 0;
	fprintf(stderr,
	        "tlsobs: detection.history.shared: needs a kafka: output (-o kafka:BROKERS, or outputs: in "
	        "the configuration) to share the history through\n");
	return -1;
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

/* Secrets from files and the environment (read before the drop), and warnings where one is exposed. */
static int load_secrets(const struct options *o, struct sensor_settings *settings)
{
	char err[4400];
	secrets_warn(o->config_path, settings, o->sets, o->nsets, stderr);
	if (secrets_resolve(settings, err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		return -1;
	}
	return 0;
}

static int check_dump_dir(const char *dir)
{
	struct stat st;
	errno = 0;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tlsobs: --dump-streams %s: %s\n", dir,
		        errno ? strerror(errno) : "not a directory");
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

/* Whether uid:gid may create files in dir (by its mode bits: what open(O_CREAT) after logrotate needs). */
static bool dir_writable_by(const char *dir, uid_t uid, gid_t gid)
{
	struct stat st;
	if (uid == 0 || stat(dir, &st) != 0)
		return true; /* root may; a missing directory is output_open's to report */
	mode_t need = st.st_uid == uid   ? S_IWUSR | S_IXUSR
	              : st.st_gid == gid ? S_IWGRP | S_IXGRP
	                                 : S_IWOTH | S_IXOTH;
	return (st.st_mode & need) == need;
}

/*
 * With -u/-g, each json:PATH is reopened on SIGHUP by the run user: warn when
 * it could not create the file anew in its directory (after logrotate renamed
 * it). A warning, not an error: logrotate's `copytruncate` needs no new file.
 */
static void check_output_dirs(const struct options *o, FILE *out)
{
	if (!o->user && !o->group)
		return;
	struct passwd *pw = o->user ? getpwnam(o->user) : NULL;
	struct group *gr = o->group ? getgrnam(o->group) : NULL;
	uid_t uid = pw ? pw->pw_uid : getuid();
	gid_t gid = gr ? gr->gr_gid : pw ? pw->pw_gid : getgid();
	for (size_t i = 0; i < o->noutputs; i++) {
		const char *path = o->outputs[i] + 5;
		struct stat st;
		if (strncmp(o->outputs[i], "json:", 5) != 0 || strcmp(path, "-") == 0 ||
		    (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)))
			continue; /* standard output, /dev/null, a FIFO: nothing logrotate moves */
		char dir[4096];
		snprintf(dir, sizeof dir, "%s", path);
		char *slash = strrchr(dir, '/');
		if (!slash)
			snprintf(dir, sizeof dir, ".");
		else
			slash[slash == dir] = '\0';
		if (dir_writable_by(dir, uid, gid))
			continue;
		const char *who = o->user ? o->user : o->group;
		if (out)
			fprintf(out,
			        "tlsobs: warning: -o %s: %s cannot create files there (%s): after a SIGHUP "
			        "the file cannot be reopened once logrotate moved it\n",
			        o->outputs[i], who, dir);
		else
			logger_log(LOGGER_WARNING, "output",
			           "%s: %s cannot create files there (%s): after a SIGHUP the file cannot be "
			           "reopened once logrotate moved it",
			           o->outputs[i], who, dir);
	}
}

/* A CA bundle that cannot be loaded is a configuration error, reported before anything runs. */
static int check_ca_file(const struct sensor_settings *settings)
{
	if (!settings->ca_file[0])
		return 0;
	char err[1024];
	struct tls_inspector *ti = tls_inspector_new(settings->ca_file, 0, err, sizeof err);
	if (!ti) {
		fprintf(stderr, "tlsobs: tls.ca_file %s: %s\n", settings->ca_file, err);
		return -1;
	}
	tls_inspector_free(ti);
	return 0;
}

/*
 * --dump-streams DIR with -u/-g: the files are created after the drop, so the directory is checked and given
 * to the run user now (private_dir.h). The warning is for whoever reads the logs: dumps are not events.
 */
static int prepare_dump_dir(const struct options *o, const struct private_dir_owner *owner)
{
	char err[4200];
	int fd = private_dir_open(o->dump_dir, false, 0700, owner, err, sizeof err);
	if (fd < 0) {
		fprintf(stderr, "tlsobs: --dump-streams %s\n", err);
		return -1;
	}
	close(fd);
	fprintf(stderr,
	        "tlsobs: warning: --dump-streams %s: the dumps hold whole conversations in clear text, "
	        "AUTH credentials and message bodies included (files 0600); delete them after use\n",
	        o->dump_dir);
	return 0;
}

/* The user and group that will write the spool and the dumps after the drop. */
static int resolve_owner(const struct options *o, struct private_dir_owner *owner, char *err, size_t errlen)
{
	owner->set = false;
	if (!o->user && !o->group)
		return 0;
	if (privileges_resolve(o->user, o->group, &owner->uid, &owner->gid, err, errlen) != 0)
		return -1;
	owner->set = true;
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
	struct geoip_settings gs = {OR_NULL(c->location_db), OR_NULL(c->asn_db),   OR_NULL(c->paths[0]),
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
		if (strict)
			fprintf(stderr, "tlsobs: %s\n", status.problem);
		else
			logger_log(LOGGER_WARNING, "geoip", "%s", status.problem);
		if (strict)
			*ok = false;
	}
	return g;
}

/* -T: networks of two partners (or twice one) that overlap: the first partner in the file takes the session.
 */
static void warn_overlap(const struct partner_policy *a, const struct ip_network *na,
                         const struct partner_policy *b, const struct ip_network *nb, void *ctx)
{
	char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
	ip_addr_format(&na->addr, x, sizeof x);
	ip_addr_format(&nb->addr, y, sizeof y);
	fprintf(stderr,
	        "tlsobs: warning: policy.partners: network %s/%u of %s overlaps network %s/%u of %s: a "
	        "session there "
	        "goes to the first partner listed\n",
	        x, (unsigned)na->prefix, a->domain, y, (unsigned)nb->prefix, b->domain);
}

/* The TCP ports of the default capture filter (ports holds 2 * SETTINGS_MAX_PORTS); 0 with any_port: all TCP.
 */
static size_t filter_ports(const struct sensor_settings *settings, uint16_t *ports)
{
	size_t nports = 0;
	if (settings->any_port)
		return 0;
	for (size_t i = 0; i < settings->n_smtp_ports; i++)
		ports[nports++] = settings->smtp_ports[i];
	for (size_t i = 0; i < settings->n_implicit_tls_ports; i++)
		ports[nports++] = settings->implicit_tls_ports[i];
	return nports;
}

/* -T -v: the capture filter the run would use on Ethernet (-f, or the default one). */
static void print_capture_filter(const struct options *o, const struct sensor_settings *settings)
{
	if (o->bpf) {
		fprintf(stderr, "tlsobs: capture filter (-f): %s\n", o->bpf);
		return;
	}
	uint16_t ports[2 * SETTINGS_MAX_PORTS];
	struct capture_filter_spec spec = {ports, filter_ports(settings, ports), &settings->decode};
	char filter[CAPTURE_FILTER_MAX];
	if (capture_default_filter(&spec, CAPTURE_LINKTYPE_ETHERNET, filter, sizeof filter) == 0)
		fprintf(stderr, "tlsobs: capture filter (default, Ethernet): %s\n", filter);
}

static void close_captures(struct captures *c)
{
	for (size_t i = c->n; i-- > 0;) /* worker 0's last: the others joined its fanout groups */
		capture_close(c->cap[i]);
	c->n = 0;
}

/*
 * Files, or one worker: one capture. Live with N workers: N captures of the same interfaces, worker 0's
 * creating each interface's PACKET_FANOUT group and the others joining it, so the kernel spreads the
 * packets by their innermost address pair. 0, or the exit code (said).
 */
static int open_captures(const struct options *o, const struct sensor_settings *settings, struct captures *c,
                         int *code)
{
	char err[1024];
	size_t nports = filter_ports(settings, c->ports);
	unsigned workers = settings_workers(settings);
	size_t want = o->nifaces > 0 && workers > 1 ? workers : 1;
	struct capture_options *copt = &c->opt;
	*copt = (struct capture_options){o->bpf,
	                                 {c->ports, nports, &settings->decode},
	                                 (int)settings->snaplen,
	                                 settings->promiscuous,
	                                 (int)settings->buffer_size,
	                                 want > 1 ? (unsigned)want : 0,
	                                 NULL};
	c->n = 0;
	*code = EXIT_OK;
	for (size_t i = 0; i < want; i++) {
		enum capture_open_status status;
		copt->fanout_first = i > 0 ? c->cap[0] : NULL;
		c->cap[i] =
		    capture_open(o->files, o->nfiles, o->ifaces, o->nifaces, copt, &status, err, sizeof err);
		if (!c->cap[i]) {
			fprintf(stderr, "tlsobs: %s\n", err);
			close_captures(c);
			return status == CAPTURE_USAGE_ERROR ? EXIT_USAGE : EXIT_RUNTIME;
		}
		c->n = i + 1;
		if (status != CAPTURE_OK)
			*code = EXIT_RUNTIME;
	}
	return 0;
}

/* Opens capture and outputs, drops privileges, runs to the end. Returns the exit code. */
static int run(const struct options *o, const struct sensor_settings *settings, struct output **outputs,
               size_t noutputs)
{
	char err[1024];
	struct captures caps;
	int code, failed = open_captures(o, settings, &caps, &code);
	if (failed)
		return failed;
	/* Everything that opens files (CA bundle, outputs, capture) comes before dropping privileges. */
	struct sensor *s = sensor_new(settings, outputs, noutputs, o->dump_dir, err, sizeof err);
	if (!s) {
		fprintf(stderr, "tlsobs: %s\n", err);
		close_captures(&caps);
		return EXIT_RUNTIME;
	}
	bool geoip_ok;
	struct geoip *geo = open_geoip(settings, false, &geoip_ok);
	if (!geoip_ok) {
		sensor_free(s);
		close_captures(&caps);
		return EXIT_USAGE;
	}
	sensor_set_geoip(s, geo);
	code = run_loop(o, settings, s, &caps, outputs, noutputs, code);
	sensor_free(s);
	close_captures(&caps);
	return code;
}

int main(int argc, char **argv)
{
	umask(027); /* whatever a library creates is not world-readable; our own files give their mode */
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return report_main(argc - 1, argv + 1, stdout, stderr);
	struct options o = {.config_fd = -1};
	int parsed = parse_options(argc, argv, &o);
	if (parsed != 0)
		return parsed > 0 ? EXIT_OK : EXIT_USAGE;
	/* No -c: the installed configuration, when there is one (packaging/tlsobs.yaml). */
	if (!o.config_path && access(TLSOBS_DEFAULT_CONFIG, F_OK) == 0)
		o.config_path = TLSOBS_DEFAULT_CONFIG;
	struct sensor_settings settings;
	if (load_configuration(&o, &settings) != 0 || load_secrets(&o, &settings) != 0)
		return EXIT_USAGE;
	use_configured_sources(&o, &settings);
	run_loop_configure_logger(&o, &settings.runtime);
	char err[1024];
	if (o.bpf && capture_check_filter(o.bpf, err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		return settings_done(&settings, EXIT_USAGE);
	}
	if (o.dump_dir && check_dump_dir(o.dump_dir) != 0)
		return settings_done(&settings, EXIT_USAGE);
	if (check_ca_file(&settings) != 0 || check_state_db(&settings) != 0 ||
	    check_history_share(&o, &settings) != 0)
		return settings_done(&settings, EXIT_USAGE);
	if (o.test_config) {
		bool geoip_ok;
		geoip_free(open_geoip(&settings, true, &geoip_ok));
		if (!geoip_ok)
			return settings_done(&settings, EXIT_USAGE);
		policy_network_overlaps(&settings.policy, warn_overlap, NULL);
		if (o.verbosity > 0) {
			print_capture_filter(&o, &settings);
			settings_print(&settings, stdout); /* from the settings table, as it loaded */
		}
		check_output_dirs(&o, stderr);
		fprintf(stderr, "tlsobs: configuration OK\n");
		return settings_done(&settings, EXIT_OK);
	}
	if (o.nfiles == 0 && o.nifaces == 0) {
		fprintf(stderr, "tlsobs: nothing to capture: give -r FILE or -i IFACE (see tlsobs -h)\n");
		return settings_done(&settings, EXIT_USAGE);
	}
	if (privileges_check(o.user, o.group, err, sizeof err) != 0 ||
	    resolve_owner(&o, &settings.kafka.spool_owner, err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		return settings_done(&settings, EXIT_USAGE);
	}
	if (o.dump_dir && prepare_dump_dir(&o, &settings.kafka.spool_owner) != 0)
		return EXIT_USAGE;
	if ((o.user || o.group) && o.config_path)
		o.config_fd = open(o.config_path, O_RDONLY | O_CLOEXEC);
	/* Before the outputs start threads: what this sets is per thread, and inherited. */
	if ((o.user || o.group) && privileges_harden(err, sizeof err) != 0) {
		fprintf(stderr, "tlsobs: %s\n", err);
		return settings_done(&settings, EXIT_RUNTIME);
	}
	check_output_dirs(&o, NULL);
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
