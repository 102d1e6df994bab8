/* The `sibyl` tool run by a client test against its daemon: the test sets
 * cli_path (SIBYL_CLI), dir (where the command runs) and env_url/env_key
 * ("SIBYL_URL=...", "SIBYL_KEY=...") in main, then calls
 * sibyl(&o, "study", "show", "o/s", NULL). After proc.h and test.h. */
#ifndef SIBYL_TEST_CLI_ENV_H
#define SIBYL_TEST_CLI_ENV_H

#include <stdarg.h>

static const char *cli_path;
static char dir[256];
static char env_url[128], env_key[128];

/* sibyl ARGS... (NULL-terminated) with SIBYL_URL/SIBYL_KEY of the daemon;
 * no sanitizer report. */
static void sibyl(struct proc_out *o, ...)
{
	const char *env[] = {env_url, env_key, NULL};
	va_list ap;
	va_start(ap, o);
	proc_runv(dir, env, o, cli_path, NULL, ap);
	va_end(ap);
	ASSERT_TRUE(!proc_sanitized(o));
}

#endif
