/* A complete sibyl worker in C: tunes x in [0, 1] to minimize (x - 0.3)^2.
 * Build: cc worker.c $(pkg-config --cflags --libs sibyl) -o worker
 * Run:   SIBYL_URL=http://127.0.0.1:8080 SIBYL_KEY=... ./worker OWNER [TRIALS] */
#include <stdio.h>
#include <stdlib.h>

#include <sibyl/sibyl.h>

static const char spec[] = "{\"metrics\": [{\"metricId\": \"loss\", \"goal\": \"MINIMIZE\"}],"
                           " \"parameters\": [{\"parameterId\": \"x\","
                           " \"doubleValueSpec\": {\"minValue\": 0, \"maxValue\": 1}}]}";

int main(int argc, char **argv)
{
	struct sibyl_client *c = sibyl_client_new(getenv("SIBYL_URL"), getenv("SIBYL_KEY"));
	struct sibyl_study *study = NULL;
	int trials = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 10, rc = 1;
	if (!c || argc < 2) {
		fprintf(stderr, "usage: SIBYL_URL=... SIBYL_KEY=... worker OWNER [TRIALS]\n");
		sibyl_client_free(c);
		return 2;
	}
	if (sibyl_study_create(c, argv[1], "quadratic", spec, &study) != 0)
		goto out;
	for (int i = 0; i < trials; i++) {
		struct sibyl_trial_list *l;
		if (sibyl_trial_suggest(c, study->name, 1, "c-worker", &l) != 0)
			goto out;
		struct sibyl_trial *t = l->trials[0]; /* the study has no trial limit */
		double x = sibyl_trial_param(t, "x")->number;
		struct sibyl_metric loss = {"loss", (x - 0.3) * (x - 0.3)};
		struct sibyl_measurement m = {
		    .elapsed_seconds = -1, .step_count = -1, .n_metrics = 1, .metrics = &loss};
		int err = sibyl_trial_complete(c, t->name, &m, 0, NULL, NULL);
		printf("trial %lld: x=%.4f loss=%.6f\n", t->id, x, loss.value);
		sibyl_trial_list_free(l);
		if (err)
			goto out;
	}
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "worker: %s: %s\n", sibyl_errname(c), sibyl_errmsg(c));
	sibyl_study_free(study);
	sibyl_client_free(c);
	return rc;
}
