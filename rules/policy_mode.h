/*
 * policy_mode.h: what a partner policy expects of a partner's TLS (policy.partners[].mode,
 * policy.default_mode): enforced, TLS is required; opportunistic, TLS is welcome; none, no expectation.
 *
 * Apart from policy.h, which names and parses the modes (policy_mode_str, policy_mode_parse), so that the
 * session record (session.h) carries the mode that applied without taking in the whole policy.
 */
#ifndef TLSOBS_POLICY_MODE_H
#define TLSOBS_POLICY_MODE_H

enum policy_mode { POLICY_MODE_ENFORCED, POLICY_MODE_OPPORTUNISTIC, POLICY_MODE_NONE };

#endif
