/*
 * smtp_sessions.h: the SMTP sessions the parser tests share (parsers layer).
 *
 * The cap_* transcripts are copied from the sessions in the tests/fixtures
 * pcaps (tshark -z follow,tcp,raw), TLS records cut after their first bytes;
 * the t_* ones are written by hand. Each array is declared with its length so
 * that RUN() can count its steps; the compiler rejects a definition in
 * smtp_sessions.c whose length differs, so add a step there and here together.
 */
#ifndef TLSOBS_SMTP_SESSIONS_H
#define TLSOBS_SMTP_SESSIONS_H

#include "smtp_transcript.h"

/* ---- copied from the fixture captures ---- */

extern const struct step cap_mitm_mask[13];
extern const struct step cap_pipelining[11];
extern const struct step cap_bdat[11];
extern const struct step cap_auth_cleartext[15];
extern const struct step cap_starttls_tls13[6];
extern const struct step cap_inject_command[6];
extern const struct step cap_rewrite_command[15];
extern const struct step cap_refused_454[15];

/* ---- hand-written ---- */

/* t_data sends DATA_CONTENT, which ends in a line holding BODY_SENTINEL. */
#define BODY_SENTINEL "BODY-SENTINEL-7f3a9c"
#define DATA_CONTENT "Subject: x\r\n\r\n..stuffed line\r\n.x\r\nBODY-SENTINEL-7f3a9c\r\n.\r\n"
extern const struct step t_data[13];
extern const struct step t_auth_login[11];
extern const struct step t_starttls[7];
extern const struct step t_inject_held_tls[6];
extern const struct step t_early_client_hello[5];
extern const struct step t_refused_then_clear[7];
extern const struct step t_masked_command[7];
extern const struct step t_pipelined_bdat[5];
/* t_bdat_binary sends BDAT_BINARY as one BDAT chunk. */
#define BDAT_BINARY "x\r\n.\r\nSTARTTLS\r\n\0\xff\x16\x03\x01QUIT\r\n"
extern const struct step t_bdat_binary[9];
extern const struct step t_odd_lines[5];

/* Every session above, by name: split-feed and every-prefix run over all. */
extern const struct transcript transcripts[18];

#endif
