/* replay: main() for a fuzz target in the ordinary build (no libFuzzer).
 * Feeds every file of each directory argument (or each file argument) to
 * LLVMFuzzerTestOneInput, in name order, each in a buffer of exactly its
 * size so that AddressSanitizer sees any read past the end. A crash or a
 * sanitizer report fails the test; so does a corpus with no inputs, which
 * would otherwise pass while testing nothing. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", path);
		return -1;
	}
	/* An exact-size copy: a read one byte too far is an ASan report. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	long inputs = 0;
	int failed = 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			failed = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed |= run_file(argv[i]) != 0;
			inputs++;
			continue;
		}
		struct dirent **names;
		int n = scandir(argv[i], &names, not_hidden, alphasort);
		if (n < 0) {
			perror(argv[i]);
			failed = 1;
			continue;
		}
		for (int j = 0; j < n; j++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				failed |= run_file(path) != 0;
				inputs++;
			}
			free(names[j]);
		}
		free(names);
	}
	fprintf(stderr, "replay: %ld inputs\n", inputs);
	if (inputs == 0) {
		fprintf(stderr, "replay: no inputs: give corpus directories or files\n");
		return 1;
	}
	return failed;
}
