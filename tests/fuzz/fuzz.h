/* fuzz.h: what every fuzz target shares. A target checks invariants of the
 * parser it drives (round trips, outputs inside their domain, errors that
 * are client errors with a message); FUZZ_CHECK aborts on a broken one, so
 * that libFuzzer saves the input and the replay test fails. */
#ifndef SIBYL_FUZZ_H
#define SIBYL_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

#define FUZZ_CHECK(cond, ...)                                                                   \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz invariant %s failed at %s:%d: ", #cond, __FILE__, \
			        __LINE__);                                                      \
			fprintf(stderr, __VA_ARGS__);                                           \
			fputc('\n', stderr);                                                    \
			abort();                                                                \
		}                                                                               \
	} while (0)

/* A rejected input must be the client's fault (4xx) and say why. */
#define FUZZ_CHECK_CLIENT_ERROR(rc, e)                                                             \
	do {                                                                                       \
		FUZZ_CHECK((rc) < 0 && (rc) == -(int)(e)->code, "rc %d, code %d", (rc),            \
		           (int)(e)->code);                                                        \
		FUZZ_CHECK(err_http_status((e)->code) >= 400 && err_http_status((e)->code) < 500,  \
		           "status %s for a bad input: %s", err_status_name((e)->code), (e)->msg); \
		FUZZ_CHECK((e)->msg[0] != '\0', "empty message for %s",                            \
		           err_status_name((e)->code));                                            \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
