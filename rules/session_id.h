/* session_id.h: the id that ties a session event to its alerts. */
#ifndef TLSOBS_SESSION_ID_H
#define TLSOBS_SESSION_ID_H

#include <stdint.h>

enum { SESSION_ID_LEN = 20 }; /* "S" + 18 base-32 characters + NUL */

/* A session id unique across sensor runs: a per-run nonce mixed with the flow number. */
void session_id_make(char out[SESSION_ID_LEN], uint64_t run_nonce, uint64_t flow_id);

#endif
