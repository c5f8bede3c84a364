/*
 * report_html.h: `tlsobs report html -c CONFIG -o FILE [--since DATE] [--at DATE]`,
 * the coverage and the certificate inventory as one self-contained HTML page
 * with charts, for people: per partner and domain the encrypted share per day,
 * the TLS version mix, failures by type over time, the certificates by days to
 * expiry, and the tables behind every chart (readable without JavaScript).
 *
 * The page works offline: its style, its script and the chart library (Chart.js
 * from Debian's libjs-chart.js, read at report time from TLSOBS_CHARTJS) are
 * inlined, and a Content-Security-Policy forbids every fetch. The data sits in
 * a <script type="application/json"> block (html_escape.h).
 *
 * Exit codes as the other reports: 0 done, 1 the database (or the chart
 * library, or the output file) cannot be read or written, 2 usage.
 */
#ifndef TLSOBS_REPORT_HTML_H
#define TLSOBS_REPORT_HTML_H

#include <stdio.h>

/* argv[0] is "html". Messages go to err. */
int report_html_main(int argc, char **argv, FILE *err);

#endif
