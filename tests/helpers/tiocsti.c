/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tiocsti TEXT: push TEXT into the input of the terminal on fd 0, as an
 * attacker inside the target would; prints what each ioctl returned. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

int main(int argc, char **argv)
{
	int pushed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: tiocsti TEXT\n");
		return 2;
	}
	for (const char *p = argv[1]; *p; p++)
		if (ioctl(0, TIOCSTI, p) == 0)
			pushed++;
	printf("tiocsti: pushed %d of %zu bytes (%s)\n", pushed, strlen(argv[1]),
	       pushed ? "ok" : strerror(errno));
	return pushed ? 0 : 1;
}
