/*
 * seccomp_filter.c: the libseccomp adapter behind seccomp_filter.h.
 *
 * The list is by name, resolved for the running architecture: a name the architecture does not have
 * (open, stat, poll... on arm64) is skipped. Threads may be created (librdkafka starts one per broker it
 * learns of) but not processes: clone must carry CLONE_THREAD, and clone3, whose flags sit behind a
 * pointer a filter cannot read, fails with ENOSYS so that glibc falls back to clone.
 */
#include "sensor/capture/seccomp_filter.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const allowed[] = {
    /* memory, threads, signals, time */
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "futex",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "exit",
    "exit_group",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity", /* capture.cpu_affinity: each worker thread pins itself */
    "gettid",
    "getpid",
    "getppid",
    "tgkill",
    "tkill",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigaltstack",
    "restart_syscall",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "getrandom",
    "prctl",
    "uname",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getrlimit",
    "prlimit64",
    "sysinfo",
    "getrusage",
    "times",
    "membarrier",
    /* files: outputs, dumps, the spool, SQLite and its WAL, a reloaded configuration, GeoIP, log reopen */
    "read",
    "readv",
    "pread64",
    "preadv",
    "lseek",
    "close",
    "fstat",
    "newfstatat",
    "stat",
    "lstat",
    "statx",
    "fstatfs",
    "statfs",
    "open",
    "openat",
    "creat",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "fsync",
    "fdatasync",
    "ftruncate",
    "fallocate",
    "flock",
    "access",
    "faccessat",
    "faccessat2",
    "getdents64",
    "readlink",
    "readlinkat",
    "getcwd",
    "ioctl",
    "umask",
    "fchmod",
    "fchown",
    "fadvise64",
    /* the capture loop (libpcap), Kafka and the metrics server (librdkafka, libmicrohttpd), syslog */
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd2",
    "pipe",
    "pipe2",
    "socket",
    "socketpair",
    "listen",
    "accept",
    "accept4",
    "getsockopt",
    "getsockname",
    "getpeername",
    "recvfrom",
    "recvmsg",
    "recvmmsg",
    "shutdown",
};

/* Allowed on every descriptor but the capture's packet sockets (the first argument is the descriptor); the
 * dup family and fcntl too, or a copy of a socket under another number would escape the rule. */
static const char *const not_on_capture[] = {
    "write",      "writev", "pwrite64", "pwritev", "sendto", "sendmsg", "sendmmsg",
    "setsockopt", "bind",   "connect",  "dup",     "dup2",   "dup3",    "fcntl",
};

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned nargs,
               const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not a system call of this architecture */
	return seccomp_rule_add_array(ctx, action, nr, nargs, args);
}

static int compare_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

enum { SECCOMP_MAX_SOCKETS = 64, SECCOMP_MAX_SPAN = 64 };

/* The capture sockets, sorted, and the block of descriptors [lo, hi] they lie in. */
struct socket_span {
	int fd[SECCOMP_MAX_SOCKETS];
	size_t n;
	int lo, hi;
};

static bool is_capture_socket(const struct socket_span *s, int fd)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->fd[i] == fd)
			return true;
	return false;
}

/* not_on_capture: allowed below and above the block [lo, hi], and on the descriptors inside it that are not
 * capture sockets (one worker's socket and the next one's need not be neighbours); EPERM on the sockets. */
static int add_guarded(scmp_filter_ctx ctx, const char *name, const struct socket_span *s)
{
	struct scmp_arg_cmp below = SCMP_A0(SCMP_CMP_LT, (scmp_datum_t)s->lo);
	struct scmp_arg_cmp above = SCMP_A0(SCMP_CMP_GT, (scmp_datum_t)s->hi);
	int rc = add(ctx, SCMP_ACT_ALLOW, name, 1, &below);
	if (rc == 0)
		rc = add(ctx, SCMP_ACT_ALLOW, name, 1, &above);
	for (int fd = s->lo; rc == 0 && fd <= s->hi; fd++) {
		struct scmp_arg_cmp on = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd);
		rc =
		    add(ctx, is_capture_socket(s, fd) ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_ALLOW, name, 1, &on);
	}
	return rc;
}

/* The capture sockets and their block, or false when there are none or the block is too wide for a rule per
 * descriptor in it (the kernel's filter length). */
static bool socket_span(const int *sockets, size_t n, struct socket_span *s)
{
	if (n == 0 || n > SECCOMP_MAX_SOCKETS)
		return false;
	memcpy(s->fd, sockets, n * sizeof *s->fd);
	s->n = n;
	qsort(s->fd, n, sizeof *s->fd, compare_int);
	s->lo = s->fd[0];
	s->hi = s->fd[n - 1];
	return s->hi - s->lo < SECCOMP_MAX_SPAN;
}

int seccomp_filter_apply(const int *sockets, size_t nsockets, bool *guarded, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "security.seccomp: libseccomp could not start a filter");
		return -1;
	}
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1); /* kills are logged, not only audited */
	const char *what = "attributes";
	for (size_t i = 0; rc == 0 && i < sizeof allowed / sizeof allowed[0]; i++) {
		what = allowed[i];
		rc = add(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
	}
	struct socket_span span;
	*guarded = socket_span(sockets, nsockets, &span);
	for (size_t i = 0; rc == 0 && i < sizeof not_on_capture / sizeof not_on_capture[0]; i++) {
		what = not_on_capture[i];
		rc = *guarded ? add_guarded(ctx, what, &span) : add(ctx, SCMP_ACT_ALLOW, what, 0, NULL);
	}
	struct scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	if (rc == 0 && (rc = add(ctx, SCMP_ACT_ALLOW, what = "clone", 1, &thread)) == 0)
		rc = add(ctx, SCMP_ACT_ERRNO(ENOSYS), what = "clone3", 0, NULL);
	if (rc == 0) {
		what = "load";
		rc = seccomp_load(ctx);
	}
	seccomp_release(ctx);
	if (rc != 0) {
		snprintf(err, errlen, "security.seccomp: %s: %s", what, strerror(-rc));
		return -1;
	}
	return 0;
}
