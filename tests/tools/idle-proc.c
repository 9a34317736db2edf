/* idle-proc.c - a process that sleeps until SIGTERM/SIGINT, optionally with an untouched MADV_MERGEABLE
 * mapping (ksm_stat says "ksm_mergeable: yes", yet ksmd finds no page to scan or merge). Copied as
 * qemu-system-x86_64 and run as another user, it stands in for a QEMU guest in tests that must not
 * disturb KSM (tests/integration/test_caps.sh). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static void usage(FILE *out)
{
	fputs("usage: idle-proc [--mergeable-pages N]\n"
	      "Sleep until SIGTERM or SIGINT. With N > 0, map N pages MADV_MERGEABLE and never touch them.\n", out);
}

int main(int argc, char **argv)
{
	unsigned long pages = 0;
	sigset_t set;
	int sig;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mergeable-pages") && i + 1 < argc) {
			char *end;
			errno = 0;
			pages = strtoul(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || pages > 1024) {
				fprintf(stderr, "idle-proc: invalid value '%s' for --mergeable-pages (0..1024)\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pages > 0) {
		size_t len = pages * (size_t)sysconf(_SC_PAGESIZE);
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "idle-proc: mmap of %zu bytes failed: %m\n", len);
			return 1;
		}
		if (madvise(p, len, MADV_MERGEABLE) < 0) {
			fprintf(stderr, "idle-proc: madvise(MADV_MERGEABLE) failed: %m\n");
			return 1;
		}
	}
	if (sigwait(&set, &sig) != 0)
		return 1;
	return 0;
}
