/* test_seccomp_filter.c: the allow-list lets the sensor work, kills what it never does, guards the capture
 * sockets. Each case runs in a child: a filter cannot be taken off again. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sensor/capture/seccomp_filter.h"

enum { CHILD_OK = 0, CHILD_FILTER_FAILED = 10, CHILD_WRONG = 11 };

/* Runs body in a child under the filter (sockets[0..n) as the capture sockets); its wait status. */
static int in_child(int (*body)(const int *sockets), const int *sockets, size_t n)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		bool guarded;
		char err[256];
		if (seccomp_filter_apply(sockets, n, &guarded, err, sizeof err) != 0 || (n && !guarded))
			_exit(CHILD_FILTER_FAILED);
		_exit(body(sockets));
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static int write_elsewhere_but_not_to_the_capture(const int *s)
{
	int other[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, other) != 0 || write(other[0], "x", 1) != 1)
		return CHILD_WRONG;
	if (send(s[0], "x", 1, 0) != -1 || errno != EPERM || write(s[0], "x", 1) != -1 || errno != EPERM)
		return CHILD_WRONG;
	if (dup(s[0]) != -1 || errno != EPERM || dup2(s[0], 100) != -1 || errno != EPERM)
		return CHILD_WRONG;
	char c;
	return read(other[1], &c, 1) == 1 ? CHILD_OK : CHILD_WRONG;
}

Test(seccomp_filter, nothing_is_sent_through_the_capture_sockets_while_other_descriptors_work)
{
	int capture[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, capture), 0);
	int status = in_child(write_elsewhere_but_not_to_the_capture, capture, 1);
	cr_assert(WIFEXITED(status), "killed by signal %d", WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), CHILD_OK);
}

/* Two workers' capture sockets with another descriptor between them (s[2]): each socket is guarded, the one
 * between works. */
static int guard_both_workers_but_not_between(const int *s)
{
	for (int i = 0; i < 2; i++)
		if (send(s[i], "x", 1, 0) != -1 || errno != EPERM || write(s[i], "x", 1) != -1 ||
		    errno != EPERM)
			return CHILD_WRONG;
	return write(s[2], "x", 1) == 1 ? CHILD_OK : CHILD_WRONG;
}

Test(seccomp_filter, several_workers_sockets_are_guarded_though_not_numbered_one_after_the_other)
{
	int a[2], between[2], b[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, a), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, between), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, b), 0);
	int fds[3] = {a[0], b[0], between[0]}; /* the capture sockets are the first two */
	cr_assert_gt(b[0] - a[0], 1, "a descriptor lies between the two sockets");
	int status = in_child(guard_both_workers_but_not_between, fds, 2);
	cr_assert(WIFEXITED(status), "killed by signal %d", WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), CHILD_OK);
}

static int start_a_process(const int *s)
{
	(void)s;
	pid_t pid = fork(); /* clone without CLONE_THREAD */
	if (pid == 0)
		_exit(0);
	return CHILD_WRONG;
}

static int run_a_program(const int *s)
{
	(void)s;
	char *const argv[] = {"/bin/true", NULL};
	execv(argv[0], argv);
	return CHILD_WRONG;
}

Test(seccomp_filter, a_new_process_or_program_kills_the_sensor)
{
	int status = in_child(start_a_process, NULL, 0);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "fork: status %#x", status);
	status = in_child(run_a_program, NULL, 0);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "execve: status %#x", status);
}
