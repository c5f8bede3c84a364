/*
 * report_html_assets.h: the HTML report's own style and script
 * (sensor/report/report_html/report.css, report.js), built into the binary by CMake
 * as byte arrays so the page never depends on files beside the program.
 */
#ifndef TLSOBS_REPORT_HTML_ASSETS_H
#define TLSOBS_REPORT_HTML_ASSETS_H

#include <stddef.h>

extern const unsigned char report_html_assets_css[];
extern const size_t report_html_assets_css_len;
extern const unsigned char report_html_assets_js[];
extern const size_t report_html_assets_js_len;

#endif
