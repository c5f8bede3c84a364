/*
 * seccomp_filter.h: security.seccomp, a system call allow-list for the whole process once it has started.
 *
 * Applied after the capture, the outputs, the state database and GeoIP are open and privileges dropped,
 * to every thread at once (librdkafka's included, SECCOMP_FILTER_FLAG_TSYNC). What the capture loop, the
 * outputs (files, Kafka, the metrics HTTP server, syslog), SQLite, a SIGHUP reload and a GeoIP reload need
 * is allowed; anything else (execve, fork, ptrace, mount, a raw socket family, ...) kills the process
 * (SECCOMP_RET_KILL_PROCESS, logged by the kernel: `dmesg` or `journalctl -k` shows "audit: type=1326 ...
 * syscall=N", the number to name with `ausyscall N` or `scmp_sys_resolver N`). The one adapter to libseccomp.
 */
#ifndef TLSOBS_SECCOMP_FILTER_H
#define TLSOBS_SECCOMP_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/*
 * sockets: the capture's packet sockets (capture_sockets; with several workers, every worker's), which stay
 * open after the drop and could send (inject) frames without any capability: sending through them, or
 * binding, connecting or reconfiguring them, fails with EPERM. Other descriptors are not concerned, those
 * numbered between two sockets included. When more than 64 sockets, or sockets further apart than 64
 * descriptors (a rule per descriptor between them), they are left unrestricted, *guarded false.
 * 0, or -1 with a message in err (the kernel lacks seccomp, or libseccomp failed).
 */
int seccomp_filter_apply(const int *sockets, size_t nsockets, bool *guarded, char *err, size_t errlen);

#endif
