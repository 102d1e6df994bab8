/* The study-spec parser: a request body -> ju_parse_body -> spec_parse
 * under the default limits. Invariants:
 *  - a rejected spec is a 4xx with a message;
 *  - an accepted spec is a space the designer accepts (space_check), and
 *    every point decoded from the unit cube is valid in it;
 *  - the canonical JSON is a fixed point: parsing it gives the same
 *    canonical text, and spec_parse_text reads it back. */
#include <math.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "json_util.h"
#include "space.h"
#include "spec.h"

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_defaults(&cfg);
	/* Small limits reach the limit checks with small inputs. */
	cfg.max_parameters = 12;
	cfg.max_categories = 8;
	cfg.max_metrics = 4;
	cfg.max_string_len = 32;
	return 0;
}

static void check_points(const struct spec *s, const uint8_t *data, size_t size)
{
	size_t n = s->space.n;
	double *u = calloc(n, sizeof(double));
	double *v = calloc(n, sizeof(double));
	double *u2 = calloc(n, sizeof(double));
	char why[256];
	FUZZ_CHECK(u && v && u2, "out of memory");
	/* The corners, the centre and points taken from the input bytes. */
	for (int k = 0; k < 4; k++) {
		for (size_t i = 0; i < n; i++) {
			double b = size ? data[(i * 7 + (size_t)k * 13) % size] / 255.0 : 0.5;
			u[i] = k == 0 ? 0.0 : k == 1 ? 1.0 : k == 2 ? 0.5 : b;
		}
		space_decode(&s->space, u, v);
		FUZZ_CHECK(space_valid(&s->space, v, why, sizeof(why)), "decoded point invalid: %s",
		           why);
		space_encode(&s->space, v, u2);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(u2[i] >= 0 && u2[i] <= 1, "u[%zu] = %g outside [0, 1]", i,
			           u2[i]);
			/* A double parameter's encoding is continuous: decode then
			 * encode gives the point back (a range too wide for the
			 * arithmetic would send every point to an end). */
			if (s->space.params[i].type == SPACE_DOUBLE && !isnan(v[i]))
				FUZZ_CHECK(
				    fabs(u2[i] - u[i]) < 1e-6,
				    "parameter %zu: u %.17g decodes to %.17g, encodes to %.17g", i,
				    u[i], v[i], u2[i]);
		}
	}
	free(u);
	free(v);
	free(u2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = {0};
	if (!cfg.max_json_depth)
		LLVMFuzzerInitialize(NULL, NULL);
	json_t *root = ju_parse_body((const char *)data, size, cfg.max_json_depth, &e);
	if (!root) {
		FUZZ_CHECK_CLIENT_ERROR(-(int)e.code, &e);
		return 0;
	}
	/* A whole create-study body, or a bare StudySpec. */
	const json_t *v = json_object_get(root, "studySpec");
	if (!v)
		v = root;
	struct spec s;
	char *canon = NULL;
	memset(&s, 0, sizeof(s));
	int rc = spec_parse(v, "studySpec", &cfg, &s, &canon, &e);
	if (rc != 0) {
		FUZZ_CHECK_CLIENT_ERROR(rc, &e);
		json_decref(root);
		return 0;
	}
	char why[256];
	FUZZ_CHECK(space_check(&s.space, why, sizeof(why)) == 0, "accepted spec, bad space: %s",
	           why);
	FUZZ_CHECK(s.n_metrics >= 1 && s.n_objectives <= s.n_metrics, "metrics %zu objectives %zu",
	           s.n_metrics, s.n_objectives);
	FUZZ_CHECK(s.space.n <= (size_t)cfg.max_parameters, "%zu parameters", s.space.n);
	check_points(&s, data, size);
	FUZZ_CHECK(canon != NULL, "no canonical text");

	json_error_t jerr;
	json_t *again = json_loads(canon, 0, &jerr);
	FUZZ_CHECK(again != NULL, "canonical text does not parse: %s: %s", jerr.text, canon);
	struct spec s2;
	char *canon2 = NULL;
	memset(&s2, 0, sizeof(s2));
	rc = spec_parse(again, "studySpec", &cfg, &s2, &canon2, &e);
	FUZZ_CHECK(rc == 0, "canonical spec rejected: %s: %s", e.msg, canon);
	FUZZ_CHECK(strcmp(canon, canon2) == 0, "canonical text not a fixed point:\n%s\n%s", canon,
	           canon2);
	FUZZ_CHECK(s2.space.n == s.space.n, "%zu != %zu parameters", s2.space.n, s.space.n);

	struct spec s3;
	memset(&s3, 0, sizeof(s3));
	rc = spec_parse_text(canon, &s3, &e);
	FUZZ_CHECK(rc == 0, "spec_parse_text rejected the canonical text: %s", e.msg);
	spec_free(&s3);
	spec_free(&s2);
	free(canon2);
	json_decref(again);
	spec_free(&s);
	free(canon);
	json_decref(root);
	return 0;
}
