/* log: levels, the line format, and that a disabled level does not
 * evaluate its arguments. */
#include "log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "test.h"

static int evaluated;

static int count(void)
{
	return ++evaluated;
}

/* Runs the logging below with stderr sent to a file; returns its text. */
static void capture(char *out, size_t cap)
{
	char path[] = "/tmp/sibyl-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	dup2(fd, 2);
	ASSERT_EQ_INT(log_set_level("info"), 0);
	log_debug("event=hidden n=%d", count());
	log_info("event=shown n=%d", count());
	log_warn("event=warned path=\"%s\"", "/v1/x");
	ASSERT_EQ_INT(log_set_level("error"), 0);
	log_warn("event=hidden2 n=%d", count());
	log_error("event=failed");
	ASSERT_EQ_INT(log_set_level("debug"), 0);
	log_debug("event=debugged");
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
}

int main(void)
{
	static char out[8192];
	enum log_level l;

	capture(out, sizeof(out));
	ASSERT_EQ_INT(evaluated, 1); /* only the info line's argument */
	ASSERT_TRUE(strstr(out, "event=hidden") == NULL);
	ASSERT_TRUE(strstr(out, " level=info event=shown n=1\n") != NULL);
	ASSERT_TRUE(strstr(out, " level=warn event=warned path=\"/v1/x\"\n") != NULL);
	ASSERT_TRUE(strstr(out, " level=error event=failed\n") != NULL);
	ASSERT_TRUE(strstr(out, " level=debug event=debugged\n") != NULL);
	ASSERT_TRUE(strncmp(out, "ts=20", 5) == 0);
	/* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
	ASSERT_EQ_INT(out[26], 'Z');
	ASSERT_EQ_INT(out[22], '.');

	ASSERT_EQ_INT(log_set_level("loud"), -1);
	ASSERT_EQ_INT(log_threshold, LOG_LEVEL_DEBUG); /* unchanged */
	ASSERT_EQ_INT(log_parse_level("warn", &l), 0);
	ASSERT_EQ_INT(l, LOG_LEVEL_WARN);
	ASSERT_EQ_INT(log_parse_level(NULL, &l), -1);
	return test_done("log");
}
