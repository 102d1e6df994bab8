/* trials: the trial methods of API.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Suggest operations are normally done at once; when one is not, poll it
 * this often, this many times (about two minutes in all). */
#define POLL_MS  200
#define POLL_MAX 600

static int trial_call(struct sibyl_client *c, const char *method, const char *path, json_t *body,
                      enum client_retry retry, struct sibyl_trial **out)
{
	json_t *root = NULL;
	int rc = client_call(c, method, path, body, retry, &root);
	if (rc == 0 && out)
		rc = codec_trial(c, root, out);
	json_decref(root);
	return rc;
}

/* "NAME:VERB" into buf; -EUSAGE when name is bad or too long. */
static int verb_path(struct sibyl_client *c, char *buf, size_t len, const char *what,
                     const char *name, const char *verb)
{
	int rc = client_check_name(c, what, name);
	if (rc)
		return rc;
	if ((size_t)snprintf(buf, len, "%s%s", name, verb) >= len)
		return client_fail(c, SIBYL_EUSAGE, "%s is too long", what);
	return 0;
}

/* Polls *op until it is done (replacing *op); 0 or a negated code. */
static int wait_done(struct sibyl_client *c, struct sibyl_operation **op)
{
	int rc = 0;
	for (int i = 0; rc == 0 && !(*op)->done && i < POLL_MAX; i++) {
		if (!(*op)->name)
			return client_fail(c, SIBYL_EPROTOCOL, "operation without a name");
		client_sleep_ms(POLL_MS);
		struct sibyl_operation *next = NULL;
		rc = sibyl_operation_get(c, (*op)->name, &next);
		if (rc == 0) {
			sibyl_operation_free(*op);
			*op = next;
		}
	}
	if (rc == 0 && !(*op)->done)
		rc = client_fail(c, SIBYL_DEADLINE_EXCEEDED, "operation %s is not done",
		                 (*op)->name ? (*op)->name : "");
	return rc;
}

/* POSTs body to path (safe to repeat), waits for the Operation it starts
 * and checks that it did not fail. 0 and *op (free with
 * sibyl_operation_free()), or a negated code with *op NULL. */
static int run_operation(struct sibyl_client *c, const char *path, json_t *body, const char *what,
                         struct sibyl_operation **op)
{
	json_t *root = NULL;
	*op = NULL;
	int rc = client_call(c, "POST", path, body, CLIENT_IDEMPOTENT, &root);
	if (rc == 0)
		rc = codec_operation(c, root, op);
	json_decref(root);
	if (rc == 0)
		rc = wait_done(c, op);
	if (rc == 0 && (*op)->error_code) {
		int code = (*op)->error_code;
		rc = client_fail(c, code > 0 && code < 100 ? code : SIBYL_UNKNOWN, "%s",
		                 (*op)->error_message ? (*op)->error_message : what);
	}
	if (rc) {
		sibyl_operation_free(*op);
		*op = NULL;
	}
	return rc;
}

int sibyl_trial_suggest(struct sibyl_client *c, const char *study, int count, const char *client_id,
                        struct sibyl_trial_list **out)
{
	char path[1024];
	struct sibyl_operation *op = NULL;
	int rc;
	*out = NULL;
	if ((rc = verb_path(c, path, sizeof path, "study name", study, "/trials:suggest")) != 0)
		return rc;
	if (count < 1)
		return client_fail(c, SIBYL_EUSAGE, "suggestion count must be >= 1");
	if (!client_id || !*client_id)
		return client_fail(c, SIBYL_EUSAGE, "client id is empty");
	json_t *body = json_pack("{s:i,s:s}", "suggestionCount", count, "clientId", client_id);
	if (!body)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	/* Safe to repeat: the server hands this client its own ACTIVE trials first. */
	rc = run_operation(c, path, body, "suggest failed", &op);
	json_decref(body);
	if (rc == 0 && !op->trials)
		rc = client_fail(c, SIBYL_EPROTOCOL, "suggest operation without trials");
	if (rc == 0) {
		*out = op->trials;
		(*out)->operation_name = op->name;
		op->name = NULL;
		op->trials = NULL;
	}
	sibyl_operation_free(op);
	return rc;
}

int sibyl_trial_create(struct sibyl_client *c, const char *study,
                       const struct sibyl_parameter *params, size_t n,
                       const struct sibyl_measurement *final, struct sibyl_trial **out)
{
	char path[1024];
	int rc;
	*out = NULL;
	if ((rc = verb_path(c, path, sizeof path, "study name", study, "/trials")) != 0)
		return rc;
	if (n && !params)
		return client_fail(c, SIBYL_EUSAGE, "parameters is NULL");
	json_t *body = json_object();
	json_t *p = codec_parameters_json(c, params, n);
	if (!body || !p) {
		json_decref(body);
		json_decref(p);
		return p ? client_fail(c, SIBYL_ENOMEM, "out of memory") : -sibyl_errcode(c);
	}
	rc = json_object_set_new(body, "parameters", p) ? -SIBYL_ENOMEM : 0;
	if (rc == 0 && final) {
		json_t *m = codec_measurement_json(c, final);
		if (!m) {
			json_decref(body);
			return -sibyl_errcode(c);
		}
		rc = json_object_set_new(body, "finalMeasurement", m) ||
		             json_object_set_new(body, "state", json_string("SUCCEEDED"))
		         ? -SIBYL_ENOMEM
		         : 0;
	}
	if (rc) {
		json_decref(body);
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	rc = trial_call(c, "POST", path, body, CLIENT_ONCE, out);
	json_decref(body);
	return rc;
}

int sibyl_trial_get(struct sibyl_client *c, const char *name, struct sibyl_trial **out)
{
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "trial name", name)) != 0)
		return rc;
	return trial_call(c, "GET", name, NULL, CLIENT_IDEMPOTENT, out);
}

int sibyl_trial_get_as(struct sibyl_client *c, const char *name, const char *client_id,
                       struct sibyl_trial **out)
{
	int rc;
	*out = NULL;
	if ((rc = client_check_name(c, "trial name", name)) != 0)
		return rc;
	if (!client_id || !*client_id)
		return client_fail(c, SIBYL_EUSAGE, "client id is empty");
	char *esc = client_escape(c, client_id);
	if (!esc)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	size_t len = strlen(name) + strlen(esc) + sizeof "?clientId=";
	char *path = malloc(len);
	if (!path) {
		free(esc);
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	snprintf(path, len, "%s?clientId=%s", name, esc);
	free(esc);
	/* Safe to repeat: a second renewal only moves the lease's end again. */
	rc = trial_call(c, "GET", path, NULL, CLIENT_IDEMPOTENT, out);
	free(path);
	return rc;
}

static int trial_list_call(struct sibyl_client *c, const char *method, const char *path,
                           json_t *body, const char *member, struct sibyl_trial_list **out)
{
	json_t *root = NULL;
	struct sibyl_trial_list *l = NULL;
	int rc = client_call(c, method, path, body, CLIENT_IDEMPOTENT, &root);
	if (rc)
		goto out;
	if (!(l = calloc(1, sizeof *l))) {
		rc = client_fail(c, SIBYL_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = codec_trial_array(c, json_object_get(root, member), l)) == 0)
		rc = codec_page_token(c, root, &l->next_page_token);
out:
	if (rc) {
		sibyl_trial_list_free(l);
		l = NULL;
	}
	*out = l;
	json_decref(root);
	return rc;
}

int sibyl_trial_list(struct sibyl_client *c, const char *study, const char *filter, int page_size,
                     const char *page_token, struct sibyl_trial_list **out)
{
	char prefix[1024];
	int rc;
	*out = NULL;
	if ((rc = verb_path(c, prefix, sizeof prefix, "study name", study, "/trials")) != 0)
		return rc;
	char *path = studies_list_path(c, prefix, page_size, page_token, filter);
	if (!path)
		return -sibyl_errcode(c);
	rc = trial_list_call(c, "GET", path, NULL, "trials", out);
	free(path);
	return rc;
}

int sibyl_trial_delete(struct sibyl_client *c, const char *name)
{
	int rc;
	if ((rc = client_check_name(c, "trial name", name)) != 0)
		return rc;
	return client_call(c, "DELETE", name, NULL, CLIENT_IDEMPOTENT, NULL);
}

int sibyl_trial_add_measurement(struct sibyl_client *c, const char *name,
                                const struct sibyl_measurement *m, struct sibyl_trial **out)
{
	char path[1024];
	int rc;
	if (out)
		*out = NULL;
	if ((rc = verb_path(c, path, sizeof path, "trial name", name, ":addTrialMeasurement")) != 0)
		return rc;
	if (!m)
		return client_fail(c, SIBYL_EUSAGE, "measurement is NULL");
	json_t *mj = codec_measurement_json(c, m);
	if (!mj)
		return -sibyl_errcode(c);
	json_t *body = json_pack("{s:o}", "measurement", mj);
	if (!body)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	/* Safe to repeat: the server adds nothing when the measurement equals
	 * the trial's last one (a retry after a lost answer). */
	rc = trial_call(c, "POST", path, body, CLIENT_IDEMPOTENT, out);
	json_decref(body);
	return rc;
}

int sibyl_trial_complete(struct sibyl_client *c, const char *name,
                         const struct sibyl_measurement *final, int infeasible, const char *reason,
                         struct sibyl_trial **out)
{
	char path[1024];
	int rc;
	if (out)
		*out = NULL;
	if ((rc = verb_path(c, path, sizeof path, "trial name", name, ":complete")) != 0)
		return rc;
	json_t *body = json_object();
	if (!body)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	int bad = 0;
	if (final) {
		json_t *m = codec_measurement_json(c, final);
		if (!m) {
			json_decref(body);
			return -sibyl_errcode(c);
		}
		bad |= json_object_set_new(body, "finalMeasurement", m) != 0;
	}
	if (infeasible)
		bad |= json_object_set_new(body, "trialInfeasible", json_true()) != 0;
	if (reason)
		bad |= json_object_set_new(body, "infeasibleReason", json_string(reason)) != 0;
	if (bad) {
		json_decref(body);
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	}
	/* Safe to repeat: completing again with the same body returns the trial. */
	rc = trial_call(c, "POST", path, body, CLIENT_IDEMPOTENT, out);
	json_decref(body);
	return rc;
}

int sibyl_trial_stop(struct sibyl_client *c, const char *name, struct sibyl_trial **out)
{
	char path[1024];
	int rc;
	if (out)
		*out = NULL;
	if ((rc = verb_path(c, path, sizeof path, "trial name", name, ":stop")) != 0)
		return rc;
	json_t *body = json_object();
	if (!body)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	rc = trial_call(c, "POST", path, body, CLIENT_IDEMPOTENT, out);
	json_decref(body);
	return rc;
}

int sibyl_trial_should_stop(struct sibyl_client *c, const char *name, int *should_stop)
{
	char path[1024];
	struct sibyl_operation *op = NULL;
	int rc;
	*should_stop = 0;
	if ((rc = verb_path(c, path, sizeof path, "trial name", name,
	                    ":checkTrialEarlyStoppingState")) != 0)
		return rc;
	json_t *body = json_object();
	if (!body)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	rc = run_operation(c, path, body, "check failed", &op);
	json_decref(body);
	if (rc == 0)
		*should_stop = op->should_stop == 1;
	sibyl_operation_free(op);
	return rc;
}

int sibyl_trial_list_optimal(struct sibyl_client *c, const char *study,
                             struct sibyl_trial_list **out)
{
	char path[1024];
	int rc;
	*out = NULL;
	if ((rc = verb_path(c, path, sizeof path, "study name", study,
	                    "/trials:listOptimalTrials")) != 0)
		return rc;
	json_t *body = json_object();
	if (!body)
		return client_fail(c, SIBYL_ENOMEM, "out of memory");
	rc = trial_list_call(c, "POST", path, body, "optimalTrials", out);
	json_decref(body);
	return rc;
}
