/*
 * report.h: `tlsobs report coverage|certificates`, read from the state
 * database the configuration names (state_db).
 *
 * coverage: per partner domain (every configured partner, and every domain
 * with sessions): mode, sessions, share encrypted, TLS version mix, failures
 * by type, last failure. certificates: the inventory, soonest expiry first,
 * with days left and the partner it belongs to.
 *
 * Exit codes as the sensor's: 0 done, 1 the database cannot be read, 2 usage
 * or configuration error.
 */
#ifndef TLSOBS_REPORT_H
#define TLSOBS_REPORT_H

#include <stdio.h>

/* argv[0] is "report". Writes the report to out, errors to err. */
int report_main(int argc, char **argv, FILE *out, FILE *err);

#endif
