/*
 * policy_files.c: reads the MTA-STS policies and the TLSA file the policy names (policy_files.h).
 * Owns what it reads until the policy takes it.
 */
#include "sensor/config/policy_files.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, NUL-terminated, at most max bytes; NULL with "<key>: <path>: <why>" in err (EFBIG when
 * larger). */
static char *read_all(const char *key, const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s: %s", key, path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	bool bad = !buf || ferror(f);
	fclose(f);
	if (bad || n > max) {
		free(buf);
		snprintf(err, errlen, "%s: %s: %s", key, path, strerror(bad ? EIO : EFBIG));
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The domain of "<domain>.txt" into out (lowercase): 0, or -1 when the name is not one. */
static int domain_of_name(const char *name, char out[DOMAIN_NAME_MAX + 2])
{
	size_t n = strlen(name);
	if (n <= 4 || name[0] == '.' || strcmp(name + n - 4, ".txt") != 0 || n - 4 > DOMAIN_NAME_MAX)
		return -1;
	for (size_t i = 0; i < n - 4; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[n - 4] = '\0';
	return domain_name_valid(out) ? 0 : -1;
}

static int load_one(struct policy_mta_sts *e, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = read_all("policy.mta_sts_dir", path, MTA_STS_MAX_FILE, &len, err, errlen);
	if (!text)
		return -1;
	struct mta_sts_error me;
	int r = mta_sts_parse(text, len, &e->sts, &me);
	free(text);
	if (r != 0)
		snprintf(err, errlen, "policy.mta_sts_dir: %s: %s", path, me.message);
	return r;
}

int policy_files_load_mta_sts(struct policy *p, const char *dir, char *err, size_t errlen)
{
	if (!dir || !*dir)
		return 0;
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "policy.mta_sts_dir: %s: %s", dir, strerror(errno));
		return -1;
	}
	p->mta_sts = calloc(POLICY_MAX_MTA_STS, sizeof *p->mta_sts);
	if (!p->mta_sts) {
		closedir(d);
		snprintf(err, errlen, "policy.mta_sts_dir: out of memory");
		return -1;
	}
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		char domain[DOMAIN_NAME_MAX + 2], path[4096];
		if (domain_of_name(de->d_name, domain) != 0)
			continue;
		if (p->n_mta_sts == POLICY_MAX_MTA_STS) {
			snprintf(err, errlen, "policy.mta_sts_dir: %s: more than %d policies", dir,
			         POLICY_MAX_MTA_STS);
			rc = -1;
			break;
		}
		struct policy_mta_sts *e = &p->mta_sts[p->n_mta_sts];
		snprintf(e->domain, sizeof e->domain, "%s", domain);
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if ((rc = load_one(e, path, err, errlen)) == 0)
			p->n_mta_sts++;
	}
	closedir(d);
	if (rc != 0) {
		free(p->mta_sts);
		p->mta_sts = NULL;
		p->n_mta_sts = 0;
	}
	return rc;
}

int policy_files_load_tlsa(struct policy *p, const char *path, char *err, size_t errlen)
{
	if (!path || !*path)
		return 0;
	size_t len;
	char *text = read_all("policy.tlsa_file", path, TLSA_FILE_MAX, &len, err, errlen);
	if (!text)
		return -1;
	struct tlsa_error te;
	p->tlsa = tlsa_parse(text, len, path, &te);
	free(text);
	if (!p->tlsa) {
		snprintf(err, errlen, "%s", te.message);
		return -1;
	}
	return 0;
}
