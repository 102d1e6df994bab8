/* PATCH ?updateMask=metadata of a study or a trial: the merge and its
 * write transaction (service.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "metadata.h"
#include "service_internal.h"

/* The trial's merged metadata written on w, and its Trial JSON text. */
static int patch_trial(struct service *sv, struct store_conn *w, const struct store_study *s,
                       int64_t trial, const json_t *p, struct svc_trial *out, struct err *e)
{
	struct store_trial t = {0};
	char *md = NULL;
	int rc;
	if ((rc = store_trial_get(w, s->rowid, trial, &t, e)) == 0 &&
	    (rc = md_merge(t.metadata_json, p, sv->cfg, &md, e)) == 0 &&
	    (rc = store_trial_set_metadata(w, s->rowid, t.id, md, e)) == 0) {
		free(t.metadata_json);
		t.metadata_json = md;
		md = NULL;
		rc = svc_trial_fill(w, &t, out, e);
	}
	store_trial_clear(&t);
	free(md);
	return rc;
}

/* The study's merged metadata written on w, kept in s. */
static int patch_study(struct service *sv, struct store_conn *w, struct store_study *s,
                       const json_t *p, struct err *e)
{
	char *md = NULL;
	int rc = md_merge(s->metadata_json, p, sv->cfg, &md, e);
	if (rc == 0 && (rc = store_study_set_metadata(w, s->rowid, md, e)) == 0) {
		free(s->metadata_json);
		s->metadata_json = md;
		md = NULL;
	}
	free(md);
	return rc;
}

int service_patch_metadata(struct service *sv, const char *owner, const char *study, int64_t trial,
                           const char *patch, struct store_study *study_out,
                           struct svc_trial *trial_out, struct svc_audit *audit, struct err *e)
{
	struct store_study s = {0};
	if (study_out)
		*study_out = s;
	if (trial_out)
		memset(trial_out, 0, sizeof(*trial_out));
	json_t *p = json_loads(patch, JSON_DECODE_ANY, NULL);
	if (!p)
		return err_set(e, ERR_INTERNAL, "metadata patch is not JSON text");
	struct store_conn *w = svc_write_begin(sv, audit, e);
	if (!w) {
		json_decref(p);
		return -(int)e->code;
	}
	int rc = store_study_get(w, owner, study, &s, e);
	/* The merge reads, decides and writes: under the study's section, and
	 * a study's metadata read again once it is held (store.h). */
	if (rc == 0 && (rc = store_lock_study(w, s.rowid, e)) == 0 && !trial) {
		store_study_clear(&s);
		rc = store_study_get(w, owner, study, &s, e);
	}
	if (rc == 0)
		rc = trial ? patch_trial(sv, w, &s, trial, p, trial_out, e)
		           : patch_study(sv, w, &s, p, e);
	json_decref(p);
	if (rc)
		store_write_rollback(w);
	else if ((rc = store_write_commit(w, e)) && trial)
		svc_trial_clear(trial_out);
	if (rc == 0 && !trial && study_out)
		*study_out = s;
	else
		store_study_clear(&s);
	return rc;
}
