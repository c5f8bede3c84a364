/*
 * config_source.h: who and what the configuration file was when it was read,
 * for the policy audit trail (tlsobs.policy: file.path, file.hash.sha256,
 * file.mtime, file.owner): stat(2), the owner's and group's names, and the
 * SHA-256 of its bytes. The file is read a second time for the hash, just
 * after the parse; an edit in between shows as a hash of the newer bytes.
 */
#ifndef TLSOBS_CONFIG_SOURCE_H
#define TLSOBS_CONFIG_SOURCE_H

#include "outputs/policy_event.h"

struct config_source {
	struct policy_source view; /* points into the buffers below */
	char path[4096];
	char sha256[65];
	char owner[64], group[64];
};

/* Fills *out for path (NULL: no file, view.path NULL). What cannot be read is left out, never an error. */
void config_source_read(const char *path, struct config_source *out);

#endif
