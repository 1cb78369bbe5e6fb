/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * measure [-n RUNS] [-w WARMUP] [-r RAWFILE] @LABEL CMD [ARGS...] [@LABEL CMD...]
 *
 * Runs each command RUNS times, alternating between them (run 1 of each,
 * then run 2 of each, ...) so that a machine getting busier or quieter
 * affects them all alike, and prints one line per command: median and p90
 * wall time, the ratio of its median to the first command's (the floor),
 * peak RSS (the largest of the command and the descendants it waited for,
 * as wait4() reports it) and how many runs failed.  Output of the commands
 * goes to /dev/null.  RAWFILE gets one line per run: label, index, wall
 * time in ns, peak RSS in KiB, exit status.
 */
#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct command {
	const char *label;
	char **argv;
	uint64_t *ns;
	long max_rss_kib;
	unsigned failed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int run_once(char **argv, uint64_t *ns, long *rss_kib)
{
	struct rusage ru;
	uint64_t t0 = now_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		err(1, "fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		err(1, "wait4");
	*ns = now_ns() - t0;
	*rss_kib = ru.ru_maxrss;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The value below which @p of the sorted @v lie (nearest rank). */
static uint64_t percentile(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * n + 0.999999);

	return v[i ? i - 1 : 0];
}

int main(int argc, char *argv[])
{
	struct command cmds[32];
	size_t n_cmds = 0, runs = 100, warmup = 3;
	FILE *raw = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "+n:w:r:")) != -1) {
		switch (opt) {
		case 'n':
			runs = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			warmup = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			raw = fopen(optarg, "we");
			if (!raw)
				err(1, "%s", optarg);
			break;
		default:
			return 2;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (argv[i][0] != '@')
			continue;
		if (n_cmds == 32)
			errx(2, "at most 32 commands");
		argv[i][0] = '\0';
		cmds[n_cmds] = (struct command){.label = argv[i] + 1, .argv = argv + i + 1};
		cmds[n_cmds].ns = calloc(runs, sizeof(uint64_t));
		if (!cmds[n_cmds].ns)
			err(1, "calloc");
		n_cmds++;
	}
	/* Each command's argv ends where the next label starts. */
	for (int i = optind; i < argc; i++)
		if (argv[i][0] == '\0')
			argv[i] = NULL;
	if (!n_cmds || !runs)
		errx(2,
		     "usage: measure [-n RUNS] [-w WARMUP] [-r RAWFILE] @LABEL CMD [ARGS...]...");

	for (size_t r = 0; r < warmup + runs; r++)
		for (size_t c = 0; c < n_cmds; c++) {
			uint64_t ns;
			long rss;
			int status = run_once(cmds[c].argv, &ns, &rss);

			if (r < warmup)
				continue;
			cmds[c].ns[r - warmup] = ns;
			if (rss > cmds[c].max_rss_kib)
				cmds[c].max_rss_kib = rss;
			if (status != 0)
				cmds[c].failed++;
			if (raw)
				fprintf(raw, "%s %zu %llu %ld %d\n", cmds[c].label, r - warmup,
					(unsigned long long)ns, rss, status);
		}

	printf("%-24s %10s %10s %8s %14s %8s\n", "command", "median ms", "p90 ms", "ratio",
	       "peak RSS MiB", "failed");
	double floor_ms = 0;
	for (size_t c = 0; c < n_cmds; c++) {
		qsort(cmds[c].ns, runs, sizeof(uint64_t), cmp_u64);
		double median = percentile(cmds[c].ns, runs, 0.5) / 1e6;
		double p90 = percentile(cmds[c].ns, runs, 0.9) / 1e6;

		if (c == 0)
			floor_ms = median;
		printf("%-24s %10.2f %10.2f %8.2f %14.2f %8u\n", cmds[c].label, median, p90,
		       median / floor_ms, cmds[c].max_rss_kib / 1024.0, cmds[c].failed);
	}
	if (raw)
		fclose(raw);
	int status = 0;

	for (size_t c = 0; c < n_cmds; c++) {
		if (cmds[c].failed)
			status = 1;
		free(cmds[c].ns);
	}
	return status;
}
