/* The owners' quotas, checked by the service inside the write transaction
 * that would exceed them, under the owner's (and the study's) critical
 * section (store.h), and refused with a typed refusal (error.h
 * ERR_REFUSAL_QUOTA: the quota's API.md name and its value). The api adds
 * the owner and the value to the message. */
#include <inttypes.h>
#include <stdlib.h>

#include "service_internal.h"

static const struct {
	const char *name, *msg;
} quota_text[] = {
    [SVC_QUOTA_STUDIES] = {"maxStudies", "the owner has as many studies as its quota allows"},
    [SVC_QUOTA_TRIALS] = {"maxTrialsPerStudy",
                          "the study has as many trials as its owner's quota allows"},
    [SVC_QUOTA_ACTIVE] = {"maxActiveTrials",
                          "the owner has as many ACTIVE trials as its quota allows"},
    [SVC_QUOTA_KEYS] = {"maxApiKeys", "the owner has as many active API keys as its quota allows"},
};

int svc_quota_refuse(enum svc_quota_kind which, int64_t limit, struct err *e)
{
	return err_refuse(e, ERR_RESOURCE_EXHAUSTED, ERR_REFUSAL_QUOTA, quota_text[which].name,
	                  limit, "quota %s reached: %s", quota_text[which].name,
	                  quota_text[which].msg);
}

int svc_quota_studies(struct store_conn *w, const char *owner, const struct store_quota *q,
                      struct err *e)
{
	if (q->max_studies <= 0)
		return 0;
	/* Counted by pages of rows (the store has no count per owner), up to
	 * the quota at most. */
	int64_t total = 0, after = 0;
	for (;;) {
		struct store_study *s = NULL;
		size_t n = 0;
		int rc = store_study_list(w, owner, after, 1000, &s, &n, e);
		if (rc == 0 && n > 0)
			after = s[n - 1].rowid;
		store_studies_free(s, n);
		if (rc)
			return rc;
		total += (int64_t)n;
		if (total >= q->max_studies)
			return svc_quota_refuse(SVC_QUOTA_STUDIES, q->max_studies, e);
		if (n < 1000)
			return 0;
	}
}

int svc_quota_keys(struct store_conn *w, const char *owner, struct err *e)
{
	struct store_quota q;
	struct store_key *k = NULL;
	size_t n = 0;
	int64_t active = 0;
	int rc = store_owner_quota_get(w, owner, &q, e);
	if (rc || q.max_api_keys <= 0)
		return rc;
	if ((rc = store_key_list(w, owner, 0, 0, &k, &n, e)) == 0)
		for (size_t i = 0; i < n; i++)
			active += k[i].revoke_time == 0;
	store_keys_free(k, n);
	if (rc == 0 && active >= q.max_api_keys)
		rc = svc_quota_refuse(SVC_QUOTA_KEYS, q.max_api_keys, e);
	return rc;
}

int svc_quota_trials_room(struct store_conn *w, const struct store_quota *q, int64_t study_rowid,
                          int64_t *room, struct err *e)
{
	int64_t total;
	*room = -1;
	if (q->max_trials_per_study <= 0)
		return 0;
	int rc = store_trial_count(w, study_rowid, 0, &total, e);
	if (rc == 0)
		*room = total < q->max_trials_per_study ? q->max_trials_per_study - total : 0;
	return rc;
}

int svc_quota_active_room(struct store_conn *w, const struct store_quota *q, const char *owner,
                          int64_t *room, struct err *e)
{
	int64_t active;
	*room = -1;
	if (q->max_active_trials <= 0)
		return 0;
	int rc = store_owner_active_count(w, owner, &active, e);
	if (rc == 0)
		*room = active < q->max_active_trials ? q->max_active_trials - active : 0;
	return rc;
}

int svc_quota_new_trial(struct store_conn *w, int64_t study_rowid, struct err *e)
{
	struct store_study s;
	struct store_quota q;
	int64_t room;
	int rc = store_study_get_by_rowid(w, study_rowid, &s, e);
	if (rc)
		return rc;
	rc = store_owner_quota_get(w, s.owner, &q, e);
	store_study_clear(&s);
	if (rc == 0 && (rc = svc_quota_trials_room(w, &q, study_rowid, &room, e)) == 0 && room == 0)
		rc = svc_quota_refuse(SVC_QUOTA_TRIALS, q.max_trials_per_study, e);
	return rc;
}
