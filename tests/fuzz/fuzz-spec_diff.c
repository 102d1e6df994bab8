/* The create-or-load comparison of two study specs (spec_diff.c). The
 * input is a JSON body {"a": spec, "b": spec} (either may be missing: it
 * is then the other, or the whole body). Invariants:
 *  - any two JSON texts: 0 or 1, and when 1 a message;
 *  - specs accepted by spec_parse (small limits), as canonical text: a
 *    spec is the same as itself written otherwise (indented) and with its
 *    parameters, conditional children, categorical values and parent
 *    values in reverse order; the answer is the same both ways round, 1
 *    with a message when they differ; and the same study has as many
 *    parameters and metrics. */
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "json_util.h"
#include "spec.h"
#include "spec_diff.h"

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_defaults(&cfg);
	cfg.max_parameters = 12;
	cfg.max_categories = 8;
	cfg.max_metrics = 4;
	cfg.max_string_len = 32;
	return 0;
}

static int diff(const char *a, const char *b, char *why, size_t cap)
{
	int rc = spec_diff(a, b, why, cap);
	FUZZ_CHECK(rc == 0 || rc == 1, "spec_diff returned %d", rc);
	FUZZ_CHECK(strlen(why) < cap, "message not cut to %zu bytes", cap);
	FUZZ_CHECK(rc == 0 || why[0] != '\0', "a difference without a message");
	return rc;
}

static void reverse(json_t *arr)
{
	size_t n = json_array_size(arr);
	for (size_t i = 0; i < n / 2; i++) {
		json_t *x = json_incref(json_array_get(arr, i));
		json_array_set(arr, i, json_array_get(arr, n - 1 - i));
		json_array_set_new(arr, n - 1 - i, x);
	}
}

/* Reverses, in place, the arrays whose order means nothing; owner is the
 * key v is the value of. */
static void unorder(json_t *v, const char *owner)
{
	static const char *const sets[] = {"categoricalValueSpec", "parentCategoricalValues",
	                                   "parentDiscreteValues", "parentIntValues", NULL};
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) unorder(x, "");
		return;
	}
	json_object_foreach(v, k, x)
	{
		int set = 0;
		for (size_t j = 0; sets[j]; j++)
			set |= strcmp(owner, sets[j]) == 0 && strcmp(k, "values") == 0;
		if (set || strcmp(k, "parameters") == 0 ||
		    strcmp(k, "conditionalParameterSpecs") == 0)
			reverse(x);
		unorder(x, k);
	}
}

/* A canonical spec against itself written otherwise. */
static void check_same(const char *canon)
{
	char why[512];
	json_t *v = json_loads(canon, 0, NULL);
	FUZZ_CHECK(v != NULL, "canonical text does not parse");
	char *indented = ju_dump(v, JSON_INDENT(1));
	unorder(v, "");
	char *unordered = ju_dump(v, 0);
	FUZZ_CHECK(indented && unordered, "out of memory");
	FUZZ_CHECK(diff(canon, indented, why, sizeof(why)) == 0, "differs from itself: %s", why);
	FUZZ_CHECK(diff(canon, unordered, why, sizeof(why)) == 0,
	           "differs from itself in another order: %s\n%s\n%s", why, canon, unordered);
	FUZZ_CHECK(diff(unordered, canon, why, sizeof(why)) == 0, "differs (reversed): %s", why);
	free(indented);
	free(unordered);
	json_decref(v);
}

static char *canonical(const json_t *v, struct spec *s)
{
	char *canon = NULL;
	struct err e = {0};
	memset(s, 0, sizeof(*s));
	int rc = spec_parse(v, "studySpec", &cfg, s, &canon, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		return NULL;
	}
	FUZZ_CHECK(canon != NULL, "no canonical text");
	return canon;
}

static void check_pair(const json_t *a, const json_t *b)
{
	struct spec sa, sb;
	char why[512], why2[512], small[12];
	char *ca = canonical(a, &sa), *cb = ca ? canonical(b, &sb) : NULL;
	if (ca)
		check_same(ca);
	if (ca && cb) {
		check_same(cb);
		int d = diff(ca, cb, why, sizeof(why));
		FUZZ_CHECK(d == diff(cb, ca, why2, sizeof(why2)), "not symmetric: %s / %s", why,
		           why2);
		FUZZ_CHECK(d == diff(ca, cb, small, sizeof(small)),
		           "another answer with a short cap");
		FUZZ_CHECK(strcmp(ca, cb) != 0 || d == 0, "the same text differs: %s", why);
		FUZZ_CHECK(d == 1 || (sa.space.n == sb.space.n && sa.n_metrics == sb.n_metrics),
		           "the same study with %zu/%zu parameters, %zu/%zu metrics:\n%s\n%s",
		           sa.space.n, sb.space.n, sa.n_metrics, sb.n_metrics, ca, cb);
		spec_free(&sb);
	}
	if (ca)
		spec_free(&sa);
	free(ca);
	free(cb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};
	char why[256];
	if (!cfg.max_json_depth)
		LLVMFuzzerInitialize(NULL, NULL);
	json_t *root = ju_parse_body((const char *)data, size, cfg.max_json_depth, &e);
	if (!root) {
		FUZZ_CHECK_CLIENT_ERROR(-(int)e.code, &e);
		return 0;
	}
	const json_t *a = json_object_get(root, "a"), *b = json_object_get(root, "b");
	a = a ? a : b ? b : root;
	b = b ? b : a;
	/* Any JSON, as text: only the answer's form is promised. */
	char *ta = ju_dump(a, JSON_ENCODE_ANY), *tb = ju_dump(b, JSON_ENCODE_ANY);
	FUZZ_CHECK(ta && tb, "out of memory");
	diff(ta, tb, why, sizeof(why));
	diff(tb, ta, why, sizeof(why));
	diff(ta, "not json", why, sizeof(why));
	free(ta);
	free(tb);
	check_pair(a, b);
	json_decref(root);
	return 0;
}
