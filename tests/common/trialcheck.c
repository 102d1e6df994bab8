/* trialcheck: see trialcheck.h. */
#include "trialcheck.h"

#include <stdlib.h>
#include <string.h>

int ack_cmp(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;
	return x->trial < y->trial ? -1 : x->trial > y->trial;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int trial_check(json_t *trials, const struct ack *acks, size_t n_acks, struct trial_check *out)
{
	size_t n = json_array_size(trials);
	memset(out, 0, sizeof(*out));
	char **params = calloc(n + 1, sizeof(char *));
	if (!params)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_t *t = json_array_get(trials, i);
		const char *state = json_string_value(json_object_get(t, "state"));
		const char *id = json_string_value(json_object_get(t, "id"));
		params[i] = json_dumps(json_object_get(t, "parameters"), JSON_SORT_KEYS);
		out->bad_state += !state || strcmp(state, "SUCCEEDED") != 0;
		struct ack key = {id ? strtoll(id, NULL, 10) : -1, 0};
		const struct ack *a = bsearch(&key, acks, n_acks, sizeof(key), ack_cmp);
		json_t *m = json_array_get(
		    json_object_get(json_object_get(t, "finalMeasurement"), "metrics"), 0);
		if (!a)
			out->unacked++;
		else if (json_number_value(json_object_get(m, "value")) != a->value)
			out->bad_value++;
	}
	qsort(params, n, sizeof(char *), str_cmp);
	for (size_t i = 1; i < n; i++)
		out->dups += params[i] && params[i - 1] && strcmp(params[i], params[i - 1]) == 0;
	for (size_t i = 0; i < n; i++)
		free(params[i]);
	free(params);
	return 0;
}
