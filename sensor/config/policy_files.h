/*
 * policy_files.h: the files the policy names (policy.mta_sts_dir, policy.tlsa_file), read once at start.
 *
 * Every "<domain>.txt" of the directory is an MTA-STS policy (RFC 8461 3.2), at most
 * POLICY_MAX_MTA_STS of them; other names are skipped. A file that does not parse is a
 * configuration error naming the file and its line.
 */
#ifndef TLSOBS_POLICY_FILES_H
#define TLSOBS_POLICY_FILES_H

#include <stddef.h>

#include "rules/policy.h"

/* Fills p->mta_sts from dir ("" : nothing). 0, or -1 with err (nothing left allocated in p->mta_sts). */
int policy_files_load_mta_sts(struct policy *p, const char *dir, char *err, size_t errlen);
/* Fills p->tlsa from path ("": nothing). 0, or -1 with err. */
int policy_files_load_tlsa(struct policy *p, const char *path, char *err, size_t errlen);

#endif
