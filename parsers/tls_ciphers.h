/*
 * tls_ciphers.h: names for TLS code points a passive observer reports.
 *
 * Cipher suites and named groups follow the IANA registries (TLS Cipher
 * Suites, TLS Supported Groups), generated from Wireshark's value strings by
 * scripts/gen-tls-ciphers.py into tls_cipher_table.inc; alert descriptions are
 * RFC 8446 6.2 (plus the TLS 1.0-1.2 ones it retired). Every function returns a
 * static string, or NULL for a code point nobody registered (GREASE included).
 */
#ifndef TLSOBS_TLS_CIPHERS_H
#define TLSOBS_TLS_CIPHERS_H

#include <stdbool.h>
#include <stdint.h>

/* "TLS_AES_128_GCM_SHA256" for 0x1301; NULL when unregistered. */
const char *tls_cipher_name(uint16_t code);

/*
 * True for suites nobody should negotiate any more (RFC 9325 4.1): NULL
 * encryption, EXPORT, anonymous key exchange, RC4, RC2, DES, 3DES, IDEA.
 * *cbc (when cbc is not NULL) is set to whether the suite uses a CBC-mode
 * cipher (RFC 7366 and Lucky13 territory). Unregistered codes: false, *cbc false.
 */
bool tls_cipher_weak(uint16_t code, bool *cbc);

/* "x25519" for 0x001d, "secp256r1" for 0x0017, "ffdhe2048" ...; NULL when unregistered. */
const char *tls_group_name(uint16_t group);

/* "handshake_failure" for 40 ...; NULL when unregistered. */
const char *tls_alert_name(uint8_t description);

#endif
