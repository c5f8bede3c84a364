/*
 * report_html.c: `tlsobs report html`: the command line, the output file, and
 * the page: header, overview, one section per partner or domain (three charts
 * and the daily table behind them), the certificates, then the data as JSON
 * and the three inlined scripts (see report_html.h). What the page draws is
 * sensor/report/report_html/report.js; what it reads is report_html_data.c.
 */
#include "sensor/report/report_html.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "parsers/ascii.h"
#include "parsers/digest.h"
#include "sensor/report/html_escape.h"
#include "sensor/report/report_html_assets.h"
#include "sensor/report/report_html_data.h"
#include "sensor/report/report_internal.h"
#include "sensor/config/settings_file.h"
#include "sensor/state/state_db.h"

#include "version.h"

#ifndef TLSOBS_CHARTJS
#define TLSOBS_CHARTJS "/usr/share/javascript/chart.js/chart.min.js"
#endif

enum { CHARTJS_CAP = 4 << 20, EXPIRY_SOON_DAYS = 30, NAV_PARTNERS = 24 };

struct html_options {
	const char *output, *since, *at;
	struct report_source src;
};

struct page {
	FILE *out;
	const struct report_html_data *d;
	const struct html_options *o;
	const char *chartjs;
	size_t chartjs_len;
	int64_t at;
	size_t figures;
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: tlsobs report html -c CONFIG -o FILE [--set KEY=VALUE]... [--since YYYY-MM-DD]\n"
	    "                          [--at YYYY-MM-DD] [--kafka BROKERS]\n"
	    "\n"
	    "  One self-contained HTML page (works offline) with charts and the tables behind them:\n"
	    "  per partner and domain the encrypted share per day, the TLS version mix, failures by\n"
	    "  type over time, and the certificates by days to expiry.\n"
	    "  -c CONFIG     the sensor's configuration: its state_db is read\n"
	    "  -o FILE       the page to write (mode 0640; a symbolic link is refused)\n"
	    "  --since       days from this one (default all)\n"
	    "  --at          certificates' days left are counted from this day (default now)\n"
	    "  --kafka BROKERS  all sensors' session events from Kafka (the topic\n"
	    "                <kafka.topic_prefix>session of CONFIG, from --since on) instead of state_db\n");
}

/* "2026-11-28", or with_time "2026-11-28 16:01:36Z". */
static void format_date(int64_t s, char *buf, size_t len, bool with_time)
{
	time_t t = (time_t)s;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || (with_time ? strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm)
	                                     : strftime(buf, len, "%Y-%m-%d", &tm)) == 0)
		snprintf(buf, len, "-");
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* ---- tables ---- */

/* "1.3 5, 1.2 2" for one partner's day, from rows sorted by partner and day; *cursor walks forward. */
static void day_counts(FILE *out, const struct report_html_count *rows, size_t n, size_t *cursor,
                       size_t partner, const char *day)
{
	size_t i = *cursor;
	while (i < n && (rows[i].partner != partner || strcmp(rows[i].day, day) < 0))
		i++;
	bool any = false;
	for (; i < n && rows[i].partner == partner && strcmp(rows[i].day, day) == 0; i++) {
		fputs(any ? ", " : "", out);
		html_escape_cstr(out, rows[i].name);
		fprintf(out, " %" PRIu64, rows[i].count);
		any = true;
	}
	if (!any)
		fputs("&ndash;", out);
	*cursor = i;
}

/* The first row of partner p in rows sorted by partner (rows of one partner are contiguous). */
static size_t first_of(const struct report_html_count *rows, size_t n, size_t p)
{
	size_t i = 0;
	while (i < n && rows[i].partner != p)
		i++;
	return i;
}

static void daily_table(struct page *pg, size_t p)
{
	const struct report_html_data *d = pg->d;
	FILE *out = pg->out;
	size_t v = first_of(d->versions, d->n_versions, p), f = first_of(d->failures, d->n_failures, p);
	fprintf(out, "<details class=\"daily\" open><summary>Daily table</summary>\n"
	             "<div class=\"scroll\"><table>\n<caption>Sessions per UTC day with ");
	html_escape_cstr(out, d->partners[p].total.partner);
	fputs("</caption>\n<thead><tr><th scope=\"col\">Day</th><th scope=\"col\" class=\"num\">Sessions</th>"
	      "<th scope=\"col\" class=\"num\">Encrypted</th><th scope=\"col\" class=\"num\">Clear text</th>"
	      "<th scope=\"col\" class=\"num\">Encrypted share</th><th scope=\"col\">TLS versions</th>"
	      "<th scope=\"col\">Failures</th></tr></thead>\n<tbody>\n",
	      out);
	size_t rows = 0;
	for (size_t i = 0; i < d->n_days; i++) {
		const struct report_html_day *r = &d->days[i];
		if (r->partner != p)
			continue;
		fputs("<tr><th scope=\"row\">", out);
		html_escape_cstr(out, r->day);
		fprintf(out,
		        "</th><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%" PRIu64
		        "</td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%.1f&nbsp;%%</td><td>",
		        r->sessions, r->encrypted, r->cleartext, share(r->encrypted, r->sessions));
		day_counts(out, d->versions, d->n_versions, &v, p, r->day);
		fputs("</td><td>", out);
		day_counts(out, d->failures, d->n_failures, &f, p, r->day);
		fputs("</td></tr>\n", out);
		rows++;
	}
	if (!rows)
		fputs("<tr><td colspan=\"7\">No session in these days.</td></tr>\n", out);
	fputs("</tbody></table></div></details>\n", out);
}

static void count_list(FILE *out, const struct state_db_count *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		html_escape_cstr(out, c[i].name);
		fprintf(out, " %" PRIu64, c[i].count);
	}
	if (!n)
		fputs("&ndash;", out);
}

static void summary_table(struct page *pg)
{
	FILE *out = pg->out;
	fputs("<div class=\"scroll\"><table id=\"summary\">\n<caption>Coverage per partner and "
	      "domain</caption>\n"
	      "<thead><tr><th scope=\"col\">Partner or domain</th><th scope=\"col\">Mode</th>"
	      "<th scope=\"col\" class=\"num\">Sessions</th><th scope=\"col\" class=\"num\">Encrypted "
	      "share</th>"
	      "<th scope=\"col\">TLS versions</th><th scope=\"col\">Failures</th><th scope=\"col\">Last "
	      "failure</th>"
	      "</tr></thead>\n<tbody>\n",
	      out);
	for (size_t i = 0; i < pg->d->n_partners; i++) {
		const struct report_html_partner *p = &pg->d->partners[i];
		const struct state_partner_coverage *c = &p->total;
		fprintf(out, "<tr><th scope=\"row\"><a href=\"#p%zu\">", i);
		html_escape_cstr(out, c->partner);
		fputs("</a></th><td><span class=\"mode mode-", out);
		html_escape_cstr(out, p->mode);
		fputs("\">", out);
		html_escape_cstr(out, p->mode);
		fprintf(out, "</span></td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">", c->sessions);
		if (c->sessions)
			fprintf(out, "%.1f&nbsp;%%", share(c->encrypted, c->sessions));
		else
			fputs("&ndash;", out);
		fputs("</td><td>", out);
		count_list(out, c->versions, c->n_versions);
		fputs("</td><td>", out);
		count_list(out, c->failures, c->n_failures);
		fputs("</td><td>", out);
		if (c->last_failure_us) {
			char when[32];
			format_date((int64_t)(c->last_failure_us / 1000000u), when, sizeof when, true);
			fprintf(out, "%s ", when);
			html_escape_cstr(out, c->last_failure_type);
		} else {
			fputs("&ndash;", out);
		}
		fputs("</td></tr>\n", out);
	}
	if (!pg->d->n_partners)
		fputs("<tr><td colspan=\"7\">No partner configured and no session recorded.</td></tr>\n",
		      out);
	fputs("</tbody></table></div>\n", out);
}

static const char *expiry_class(int64_t days)
{
	return days < 0 ? "expired" : days <= EXPIRY_SOON_DAYS ? "soon" : "ok";
}

static void cert_row(FILE *out, const struct report_html_cert *c)
{
	char not_after[16];
	format_date(c->not_after, not_after, sizeof not_after, false);
	fprintf(out, "<tr class=\"%s\"><td class=\"date\">%s</td><td class=\"num\">%" PRId64 "</td><td>",
	        expiry_class(c->days_left), not_after, c->days_left);
	if (c->partner[0])
		html_escape_cstr(out, c->partner);
	else
		fputs("&ndash;", out);
	fputs("</td><th scope=\"row\">", out);
	html_escape_cstr(out, c->subject);
	fputs("</th><td class=\"wrap\">", out);
	html_escape_cstr(out, c->sans);
	fputs("</td><td>", out);
	html_escape_cstr(out, c->issuer);
	fputs("</td><td>", out);
	html_escape_cstr(out, c->servers);
	if (c->servers_total > STATE_DB_CERT_SERVERS)
		fprintf(out, " (+%" PRIu64 " more)", c->servers_total - STATE_DB_CERT_SERVERS);
	fputs("</td><td class=\"hash\">", out);
	html_escape_cstr(out, c->sha256);
	fputs("</td></tr>\n", out);
}

static void cert_table(struct page *pg)
{
	FILE *out = pg->out;
	fputs("<div class=\"scroll\"><table id=\"certificates-table\">\n<caption>Certificates, soonest "
	      "expiry first"
	      "</caption>\n<thead><tr><th scope=\"col\">Not after</th><th scope=\"col\" class=\"num\">Days "
	      "left</th>"
	      "<th scope=\"col\">Partner</th><th scope=\"col\">Subject</th><th scope=\"col\">Names (SAN)</th>"
	      "<th scope=\"col\">Issuer</th><th scope=\"col\">Servers</th><th "
	      "scope=\"col\">SHA-256</th></tr></thead>\n"
	      "<tbody>\n",
	      out);
	for (size_t i = 0; i < pg->d->n_certs; i++)
		cert_row(out, &pg->d->certs[i]);
	if (!pg->d->n_certs)
		fputs("<tr><td colspan=\"8\">No certificate recorded.</td></tr>\n", out);
	fputs("</tbody></table></div>\n", out);
}

/* ---- sections ---- */

/* A chart and what it says for those who cannot see it; the table it draws from follows in the section. */
static void figure(struct page *pg, const char *kind, long partner, const char *title, const char *label)
{
	FILE *out = pg->out;
	pg->figures++;
	fprintf(out, "<figure class=\"chart chart-%s\"><figcaption>%s</figcaption><div class=\"canvas\">",
	        kind, title);
	fprintf(out, "<canvas data-chart=\"%s\" data-partner=\"%ld\" role=\"img\" aria-label=\"", kind,
	        partner);
	html_escape_cstr(out, label);
	fputs("\"></canvas></div></figure>\n", out);
}

static void partner_section(struct page *pg, size_t i)
{
	FILE *out = pg->out;
	const struct report_html_partner *p = &pg->d->partners[i];
	const struct state_partner_coverage *c = &p->total;
	fprintf(out, "<section class=\"partner\" id=\"p%zu\" aria-labelledby=\"p%zu-h\">\n<h2 id=\"p%zu-h\">",
	        i, i, i);
	html_escape_cstr(out, c->partner);
	fputs(" <span class=\"mode mode-", out);
	html_escape_cstr(out, p->mode);
	fputs("\">", out);
	html_escape_cstr(out, p->mode);
	fprintf(out, "</span></h2>\n<p class=\"stats\"><strong>%" PRIu64 "</strong> sessions", c->sessions);
	if (c->sessions)
		fprintf(out,
		        ", <strong>%.1f&nbsp;%%</strong> encrypted (%" PRIu64 " encrypted, %" PRIu64
		        " clear text)",
		        share(c->encrypted, c->sessions), c->encrypted, c->cleartext);
	fputs("</p>\n<div class=\"charts\">\n", out);
	char label[160];
	snprintf(label, sizeof label, "Sessions per day, encrypted and clear text, and the encrypted share");
	figure(pg, "share", (long)i, "Encrypted share per day", label);
	figure(pg, "versions", (long)i, "TLS versions per day", "Encrypted sessions per day by TLS version");
	figure(pg, "failures", (long)i, "Failures by type per day",
	       "Failed sessions per day by failure type");
	fputs("</div>\n", out);
	daily_table(pg, i);
	fputs("</section>\n", out);
}

static void left_off_part(FILE *out, bool *first, uint64_t n, const char *what, int cap)
{
	if (!n)
		return;
	fprintf(out, "%s%" PRIu64 " %s (past %d)", *first ? "" : ", ", n, what, cap);
	*first = false;
}

static void left_off_notice(FILE *out, const struct report_html_left_off *l)
{
	if (!(l->partners || l->days || l->versions || l->failures || l->certificates))
		return;
	bool first = true;
	fputs("<p class=\"notice\" role=\"note\">Left off by the report's caps: ", out);
	left_off_part(out, &first, l->partners, "partners or domains", REPORT_HTML_PARTNERS_CAP);
	left_off_part(out, &first, l->days, "partner days", REPORT_HTML_ROWS_CAP);
	left_off_part(out, &first, l->versions, "daily TLS version counts", REPORT_HTML_ROWS_CAP);
	left_off_part(out, &first, l->failures, "daily failure counts", REPORT_HTML_ROWS_CAP);
	left_off_part(out, &first, l->certificates, "certificates", REPORT_HTML_CERTS_CAP);
	fputs(". Narrow the days with --since.</p>\n", out);
}

/* A CSP source for one inline script (CSP Level 3, section 8.4): 'sha256-' and the base64 of its SHA-256. */
static void csp_hash(FILE *out, const void *script, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char hex[65];
	unsigned char raw[33] = {0}; /* one spare zero byte: the last base64 group reads it */
	digest_sha256_hex(script, len, hex, false);
	for (size_t i = 0; i < 32 && hex[2 * i] && hex[2 * i + 1]; i++) {
		char pair[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
		raw[i] = (unsigned char)strtoul(pair, NULL, 16);
	}
	fputs(" 'sha256-", out);
	for (size_t i = 0; i < 32; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		             (uint32_t)(i + 2 < 32 ? raw[i + 2] : 0);
		fputc(b64[v >> 18 & 63], out);
		fputc(b64[v >> 12 & 63], out);
		fputc(i + 1 < 32 ? b64[v >> 6 & 63] : '=', out);
		fputc(i + 2 < 32 ? b64[v & 63] : '=', out);
	}
	fputc('\'', out);
}

static void page_head(struct page *pg)
{
	FILE *out = pg->out;
	/*
	 * Scripts and styles are inline by design (one file). Nothing may be fetched (no network, no
	 * tracking), and only our two scripts, named by their hashes, may run: should markup ever slip
	 * through the escaping, an injected script or event handler is refused by the browser too.
	 */
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src",
	      out);
	csp_hash(out, pg->chartjs, pg->chartjs_len);
	csp_hash(out, report_html_assets_js, report_html_assets_js_len);
	fputs("; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"tlsobs report html\">\n<title>tlsobs: TLS coverage "
	      "report</title>\n"
	      "<style>\n",
	      out);
	fwrite(report_html_assets_css, 1, report_html_assets_css_len, out);
	fputs("</style>\n</head>\n", out);
}

static void page_header(struct page *pg)
{
	FILE *out = pg->out;
	char now[32], at[16];
	format_date((int64_t)time(NULL), now, sizeof now, true);
	format_date(pg->at, at, sizeof at, false);
	fputs("<header>\n<h1>TLS coverage report</h1>\n<p class=\"meta\">Generated ", out);
	fputs(now, out);
	fputs(" by tlsobs from <code>", out);
	html_escape_cstr(out, pg->o->src.config_path ? pg->o->src.config_path : "");
	fputs("</code>. Days: ", out);
	if (pg->o->since) {
		fputs("from ", out);
		html_escape_cstr(out, pg->o->since);
	} else {
		fputs("all recorded", out);
	}
	fprintf(out, " (UTC). Certificate days left counted from %s.</p>\n", at);
	fputs("<noscript><p class=\"notice\">Charts need JavaScript; every figure is in the "
	      "tables.</p></noscript>\n",
	      out);
	left_off_notice(out, &pg->d->left_off);
	/* The first partners as links; past NAV_PARTNERS the overview's table (one link a row) is the index.
	 */
	fputs("<nav aria-label=\"Partners and domains\"><ul>\n<li><a href=\"#overview\">Overview</a></li>\n",
	      out);
	for (size_t i = 0; i < pg->d->n_partners && i < NAV_PARTNERS; i++) {
		fprintf(out, "<li><a href=\"#p%zu\">", i);
		html_escape_cstr(out, pg->d->partners[i].total.partner);
		fputs("</a></li>\n", out);
	}
	if (pg->d->n_partners > NAV_PARTNERS)
		fprintf(out, "<li><a href=\"#summary\">all %zu in the table&hellip;</a></li>\n",
		        pg->d->n_partners);
	fputs("<li><a href=\"#certificates\">Certificates</a></li>\n</ul></nav>\n</header>\n", out);
}

/* The figures a reader wants first, as text: sessions, share encrypted, domains seen, certificates due. */
static void key_figures(struct page *pg)
{
	FILE *out = pg->out;
	uint64_t sessions = 0, encrypted = 0, seen = 0, expired = 0, soon = 0;
	for (size_t i = 0; i < pg->d->n_partners; i++) {
		sessions += pg->d->partners[i].total.sessions;
		encrypted += pg->d->partners[i].total.encrypted;
		seen += pg->d->partners[i].total.sessions > 0;
	}
	for (size_t i = 0; i < pg->d->n_certs; i++) {
		expired += pg->d->certs[i].days_left < 0;
		soon += pg->d->certs[i].days_left >= 0 && pg->d->certs[i].days_left <= EXPIRY_SOON_DAYS;
	}
	fprintf(out, "<ul class=\"figures\">\n<li><strong>%" PRIu64 "</strong> sessions</li>\n", sessions);
	if (sessions)
		fprintf(out, "<li class=\"%s\"><strong>%.1f&nbsp;%%</strong> encrypted</li>\n",
		        encrypted == sessions ? "good" : "warn", share(encrypted, sessions));
	fprintf(out, "<li><strong>%" PRIu64 "</strong> of %zu partners and domains with sessions</li>\n",
	        seen, pg->d->n_partners);
	fprintf(out,
	        "<li class=\"%s\">certificates: <strong>%" PRIu64 "</strong> expired, <strong>%" PRIu64
	        "</strong> ending within %d days</li>\n</ul>\n",
	        expired ? "bad"
	        : soon  ? "warn"
	                : "good",
	        expired, soon, EXPIRY_SOON_DAYS);
}

static void page_body(struct page *pg)
{
	FILE *out = pg->out;
	page_header(pg);
	fputs("<main>\n<section id=\"overview\" aria-labelledby=\"overview-h\">\n<h2 "
	      "id=\"overview-h\">Overview</h2>\n",
	      out);
	key_figures(pg);
	fputs("<div class=\"charts\">\n", out);
	figure(pg, "overview", -1, "All partners and domains: sessions and encrypted share per day",
	       "Sessions per day over all partners and domains, and the encrypted share");
	figure(pg, "mix", -1, "Encrypted share per partner or domain, lowest first",
	       "Encrypted share of each partner or domain with sessions, lowest first");
	fputs("</div>\n", out);
	summary_table(pg);
	fputs("</section>\n", out);
	for (size_t i = 0; i < pg->d->n_partners; i++)
		partner_section(pg, i);
	fputs("<section id=\"certificates\" aria-labelledby=\"certificates-h\">\n<h2 "
	      "id=\"certificates-h\">Certificates"
	      "</h2>\n<div class=\"charts\">\n",
	      out);
	figure(pg, "expiry", -1, "Certificates by days to expiry (soonest first)",
	       "Days left for each certificate, soonest expiry first");
	figure(pg, "expiry-buckets", -1, "Certificates per expiry range",
	       "Number of certificates per range of days left");
	fputs("</div>\n", out);
	cert_table(pg);
	fputs("</section>\n</main>\n<footer><p>Charts drawn with Chart.js (MIT licence), from Debian's "
	      "libjs-chart.js. "
	      "Days are UTC.</p></footer>\n",
	      out);
}

/* ---- the data, as JSON ---- */

static void json_counts(FILE *out, const char *key, const struct report_html_count *rows, size_t n)
{
	fprintf(out, ",\n\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s[%zu,", i ? "," : "", rows[i].partner);
		html_escape_json_cstr(out, rows[i].day);
		fputc(',', out);
		html_escape_json_cstr(out, rows[i].name);
		fprintf(out, ",%" PRIu64 "]", rows[i].count);
	}
	fputc(']', out);
}

static void page_json(struct page *pg)
{
	FILE *out = pg->out;
	const struct report_html_data *d = pg->d;
	fputs("<script type=\"application/json\" id=\"tlsobs-data\">\n{\"partners\":[", out);
	for (size_t i = 0; i < d->n_partners; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		html_escape_json_cstr(out, d->partners[i].total.partner);
		fputs(",\"mode\":", out);
		html_escape_json_cstr(out, d->partners[i].mode);
		fprintf(out, ",\"sessions\":%" PRIu64 ",\"encrypted\":%" PRIu64 "}",
		        d->partners[i].total.sessions, d->partners[i].total.encrypted);
	}
	fputs("],\n\"days\":[", out);
	for (size_t i = 0; i < d->n_days; i++) {
		fprintf(out, "%s[%zu,", i ? "," : "", d->days[i].partner);
		html_escape_json_cstr(out, d->days[i].day);
		fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", d->days[i].sessions,
		        d->days[i].encrypted, d->days[i].cleartext);
	}
	fputc(']', out);
	json_counts(out, "versions", d->versions, d->n_versions);
	json_counts(out, "failures", d->failures, d->n_failures);
	fputs(",\n\"certificates\":[", out);
	for (size_t i = 0; i < d->n_certs; i++) {
		char not_after[16];
		format_date(d->certs[i].not_after, not_after, sizeof not_after, false);
		fputs(i ? ",[" : "[", out);
		html_escape_json_cstr(out, d->certs[i].subject);
		fputc(',', out);
		html_escape_json_cstr(out, d->certs[i].partner);
		fprintf(out, ",%" PRId64 ",\"%s\"]", d->certs[i].days_left, not_after);
	}
	fprintf(out, "],\n\"soon_days\":%d}\n</script>\n", EXPIRY_SOON_DAYS);
}

static void page_scripts(struct page *pg)
{
	FILE *out = pg->out;
	/* Exactly the bytes hashed for the Content-Security-Policy, nothing added inside the elements. */
	fputs("<script>", out);
	fwrite(pg->chartjs, 1, pg->chartjs_len, out);
	fputs("</script>\n<script>", out);
	fwrite(report_html_assets_js, 1, report_html_assets_js_len, out);
	fputs("</script>\n</body>\n</html>\n", out);
}

/* ---- files ---- */

/*
 * The chart library, whole, or NULL with the reason said. It goes inside a
 * <script> element as it is, so it must not hold what would end or re-open one.
 */
static char *read_chartjs(size_t *len, FILE *err)
{
	errno = 0;
	int fd = open(TLSOBS_CHARTJS, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > CHARTJS_CAP) {
		fprintf(err, "tlsobs: report: chart library %s: %s (Debian package libjs-chart.js)\n",
		        TLSOBS_CHARTJS, errno ? strerror(errno) : "not a file of a sensible size");
		goto fail;
	}
	if (!(buf = malloc((size_t)st.st_size))) {
		fprintf(err, "tlsobs: report: chart library %s: out of memory\n", TLSOBS_CHARTJS);
		goto fail;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(err, "tlsobs: report: chart library %s: %s\n", TLSOBS_CHARTJS,
			        r < 0 ? strerror(errno) : "short");
			goto fail;
		}
		got += (size_t)r;
	}
	if (ascii_contains_nocase(buf, got, "</script") || ascii_contains_nocase(buf, got, "<!--") ||
	    ascii_contains_nocase(buf, got, "<script")) {
		fprintf(err,
		        "tlsobs: report: chart library %s holds a <script> or <!-- marker: not inlined\n",
		        TLSOBS_CHARTJS);
		goto fail;
	}
	close(fd);
	*len = got;
	return buf;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* The output: never through a symbolic link, not inherited by children, readable by the group only. */
static FILE *open_output(const char *path, FILE *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0 || fchmod(fd, 0640) != 0) {
		fprintf(err, "tlsobs: report: -o %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		fprintf(err, "tlsobs: report: -o %s: %s\n", path, strerror(errno));
		close(fd);
	}
	return f;
}

static int write_page(struct page *pg, FILE *err)
{
	if (!(pg->out = open_output(pg->o->output, err)))
		return REPORT_RUNTIME;
	page_head(pg);
	fputs("<body>\n", pg->out);
	page_body(pg);
	page_json(pg);
	page_scripts(pg);
	bool bad = fflush(pg->out) != 0 || ferror(pg->out);
	int saved = errno;
	if (fclose(pg->out) != 0)
		bad = true, saved = errno;
	if (bad) {
		fprintf(err, "tlsobs: report: -o %s: %s\n", pg->o->output, strerror(saved));
		return REPORT_RUNTIME;
	}
	return REPORT_OK;
}

/* ---- command line ---- */

static int parse_options(int argc, char **argv, struct html_options *o, FILE *err)
{
	const struct report_value_option own[] = {
	    {"output", 'o', &o->output, NULL},
	    {"since", 0, &o->since, NULL},
	    {"at", 0, &o->at, NULL},
	};
	int rc = report_parse_values(argc, argv, 1, own, sizeof own / sizeof own[0], &o->src, usage, err);
	if (rc != 0)
		return rc;
	if (!o->output || !o->output[0]) {
		fprintf(err, "tlsobs: report: html needs -o FILE\n");
		return -1;
	}
	return 0;
}

/* --since and --at; with --kafka the sessions are read from --since on. */
static int check_dates(struct html_options *o, int64_t *at, FILE *err)
{
	int64_t since_s = 0;
	if (o->since && report_parse_day(o->since, &since_s) != 0) {
		fprintf(err, "tlsobs: report: --since %s: expected a date like 2026-11-01\n", o->since);
		return -1;
	}
	if (o->at && report_parse_day(o->at, at) != 0) {
		fprintf(err, "tlsobs: report: --at %s: expected a date like 2026-11-01\n", o->at);
		return -1;
	}
	o->src.since_s = since_s;
	return 0;
}

/* Reads the database and the chart library, then writes the page. */
static int report_html_run(const struct html_options *o, const struct sensor_settings *settings,
                           struct state_db *db, int64_t at, FILE *err)
{
	struct report_html_data data;
	int code = REPORT_OK;
	if (report_html_data_load(&data, db, &settings->policy, o->since, at) != 0) {
		fprintf(err, "tlsobs: report: state_db %s: %s\n", settings->state_db,
		        errno == ENOMEM ? "out of memory" : state_db_error(db));
		code = REPORT_RUNTIME;
	}
	struct page pg = {.d = &data, .o = o, .at = at};
	char *chartjs = NULL;
	if (code == REPORT_OK && !(chartjs = read_chartjs(&pg.chartjs_len, err)))
		code = REPORT_RUNTIME;
	if (code == REPORT_OK) {
		pg.chartjs = chartjs;
		code = write_page(&pg, err);
	}
	free(chartjs);
	report_html_data_free(&data);
	return code;
}

int report_html_main(int argc, char **argv, FILE *err)
{
	struct html_options o = {0};
	int parsed = parse_options(argc, argv, &o, err);
	if (parsed != 0)
		return parsed > 0 ? REPORT_OK : REPORT_USAGE;
	int64_t at = (int64_t)time(NULL);
	if (check_dates(&o, &at, err) != 0)
		return REPORT_USAGE;
	struct report_input in;
	int code = report_open(&o.src, &in, err);
	if (code != REPORT_OK)
		return code;
	code = report_html_run(&o, in.settings, in.db, at, err);
	report_close(&in);
	return code;
}
