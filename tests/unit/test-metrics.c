/* metrics: counters by route and code, cumulative histogram buckets, the
 * exposition format, cutting at a line when the buffer is small, and
 * updates from several threads. */
#include "metrics.h"

#include <pthread.h>

#include "test.h"

static char out[65536];

static void expect(const char *want)
{
	if (!strstr(out, want))
		TEST_FAIL("metrics lack \"%s\":\n%s", want, out);
	test_checks++;
}

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		metrics_observe_request("trials.get", 200, 0.002);
		metrics_observe_suggest(0.3);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[4];
	size_t n;

	metrics_reset();
	metrics_observe_request("studies.create", 200, 0.0005);
	metrics_observe_request("studies.create", 200, 0.02);
	metrics_observe_request("studies.create", 409, 3.0);
	metrics_observe_request(NULL, 404, 20.0);
	metrics_observe_request("bad\"label\\x", 400, 0.001);
	metrics_observe_suggest(0.7);
	n = metrics_render(out, sizeof(out));
	ASSERT_EQ_INT(n, strlen(out));
	expect("# TYPE sibyl_http_requests_total counter\n");
	expect("sibyl_http_requests_total{route=\"studies.create\",code=\"200\"} 2\n");
	expect("sibyl_http_requests_total{route=\"studies.create\",code=\"409\"} 1\n");
	expect("sibyl_http_requests_total{route=\"unknown\",code=\"404\"} 1\n");
	expect("sibyl_http_requests_total{route=\"bad_label_x\",code=\"400\"} 1\n");
	/* buckets are cumulative: 0.0005 and 0.001 are <= 0.001 */
	expect("sibyl_http_request_duration_seconds_bucket{le=\"0.001\"} 2\n");
	expect("sibyl_http_request_duration_seconds_bucket{le=\"0.025\"} 3\n");
	expect("sibyl_http_request_duration_seconds_bucket{le=\"5\"} 4\n");
	expect("sibyl_http_request_duration_seconds_bucket{le=\"10\"} 4\n");
	expect("sibyl_http_request_duration_seconds_bucket{le=\"+Inf\"} 5\n");
	expect("sibyl_http_request_duration_seconds_count 5\n");
	expect("sibyl_suggest_duration_seconds_bucket{le=\"0.5\"} 0\n");
	expect("sibyl_suggest_duration_seconds_bucket{le=\"1\"} 1\n");
	expect("sibyl_suggest_duration_seconds_sum 0.7\n");
	ASSERT_EQ_INT(out[n - 1], '\n');

	/* a small buffer: whole lines only */
	char small[200];
	size_t k = metrics_render(small, sizeof(small));
	ASSERT_TRUE(k > 0 && k < sizeof(small));
	ASSERT_EQ_INT(k, strlen(small));
	ASSERT_EQ_INT(small[k - 1], '\n');
	ASSERT_TRUE(strncmp(small, out, k) == 0);
	ASSERT_EQ_INT(metrics_render(small, 0), 0);

	metrics_reset();
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, hammer, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	metrics_render(out, sizeof(out));
	expect("sibyl_http_requests_total{route=\"trials.get\",code=\"200\"} 4000\n");
	expect("sibyl_http_request_duration_seconds_count 4000\n");
	expect("sibyl_suggest_duration_seconds_count 4000\n");
	return test_done("metrics");
}
