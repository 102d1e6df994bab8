/* Owners, quotas, API keys and the audit log: the rules and the write
 * transactions (service_owners.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "json_util.h"
#include "service_internal.h"
#include "service_owners.h"

const char *const svc_quota_names[SVC_N_QUOTA] = {
    "maxStudies", "maxTrialsPerStudy", "maxActiveTrials", "requestsPerSecond", "maxApiKeys",
};

/* ---- conversions (the strings move from the store's struct) ---- */

static struct svc_quota quota_from(const struct store_quota *q)
{
	return (struct svc_quota){q->max_studies, q->max_trials_per_study, q->max_active_trials,
	                          q->requests_per_second, q->max_api_keys};
}

static void key_move(struct svc_key *to, struct store_key *from)
{
	memcpy(to->keyid, from->keyid, sizeof(to->keyid));
	to->owner = from->owner;
	to->role = (enum auth_role)from->role;
	to->display_name = from->display_name;
	to->create_time = from->create_time;
	to->revoke_time = from->revoke_time;
	to->seq = from->seq;
	from->owner = from->display_name = NULL;
}

static void audit_move(struct svc_audit *to, struct store_audit *from)
{
	*to =
	    (struct svc_audit){from->id,   from->time,   from->keyid, from->owner, from->method,
	                       from->path, from->status, from->error, from->count, from->last_time};
	from->keyid = from->owner = from->method = from->path = from->error = NULL;
}

void svc_owner_clear(struct svc_owner *o)
{
	if (!o)
		return;
	free(o->id);
	free(o->display_name);
	memset(o, 0, sizeof(*o));
}

void svc_owners_free(struct svc_owner *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		svc_owner_clear(&a[i]);
	free(a);
}

void svc_key_clear(struct svc_key *k)
{
	if (!k)
		return;
	free(k->owner);
	free(k->display_name);
	memset(k, 0, sizeof(*k));
}

void svc_keys_free(struct svc_key *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		svc_key_clear(&a[i]);
	free(a);
}

void svc_audits_free(struct svc_audit *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].keyid);
		free(a[i].owner);
		free(a[i].method);
		free(a[i].path);
		free(a[i].error);
	}
	free(a);
}

void svc_secret_wipe(char secret[AUTH_KEY_LEN + 1])
{
	sodium_memzero(secret, AUTH_KEY_LEN + 1);
}

/* ---- owners ---- */

/* The fields of q named in set, against the limits; the first out of
 * range is named. */
static int quota_check(const struct svc_quota *q, unsigned set, struct err *e)
{
	const int64_t counts[SVC_N_QUOTA] = {q->max_studies, q->max_trials_per_study,
	                                     q->max_active_trials, 0, q->max_api_keys};
	for (int i = 0; i < SVC_N_QUOTA; i++) {
		if (!(set & (1u << i)))
			continue;
		if ((1u << i) == SVC_Q_RPS) {
			double d = q->requests_per_second;
			if (d < 0 || d > SVC_QUOTA_RPS_MAX)
				return err_set(
				    e, ERR_INVALID_ARGUMENT,
				    "quota.%s must be between 0 (no limit) and %.0f, not %g",
				    svc_quota_names[i], SVC_QUOTA_RPS_MAX, d);
		} else if (counts[i] < 0 || counts[i] > SVC_QUOTA_COUNT_MAX) {
			return err_set(
			    e, ERR_INVALID_ARGUMENT,
			    "quota.%s must be between 0 (no limit) and %lld, not %" PRId64,
			    svc_quota_names[i], SVC_QUOTA_COUNT_MAX, counts[i]);
		}
	}
	return 0;
}

/* Sets the fields of q named in mask from from. */
static void quota_apply(struct store_quota *q, const struct svc_quota *from, unsigned mask)
{
	if (mask & SVC_Q_MAX_STUDIES)
		q->max_studies = from->max_studies;
	if (mask & SVC_Q_MAX_TRIALS)
		q->max_trials_per_study = from->max_trials_per_study;
	if (mask & SVC_Q_MAX_ACTIVE)
		q->max_active_trials = from->max_active_trials;
	if (mask & SVC_Q_RPS)
		q->requests_per_second = from->requests_per_second;
	if (mask & SVC_Q_MAX_KEYS)
		q->max_api_keys = from->max_api_keys;
}

static int owner_read(struct store_conn *c, const char *id, struct svc_owner *out, struct err *e)
{
	struct store_owner o = {0};
	struct store_quota q;
	int rc = store_owner_get(c, id, &o, e);
	if (rc == 0)
		rc = store_owner_quota_get(c, id, &q, e);
	if (rc == 0) {
		*out = (struct svc_owner){o.id, o.display_name, o.create_time, quota_from(&q)};
		o.id = o.display_name = NULL;
	}
	store_owner_clear(&o);
	return rc;
}

/* Commits w with out read in it; on any failure w is ended and out
 * cleared. */
static int finish(struct store_conn *w, int rc, struct svc_owner *out, struct err *e)
{
	if (rc)
		store_write_rollback(w);
	else
		rc = store_write_commit(w, e);
	if (rc)
		svc_owner_clear(out);
	return rc;
}

int service_owner_create(struct service *sv, const char *id, const struct svc_owner_change *ch,
                         struct svc_owner *out, struct svc_audit *audit, struct err *e)
{
	struct store_quota q;
	memset(out, 0, sizeof(*out));
	int rc = quota_check(&ch->quota, ch->set, e);
	if (rc)
		return rc;
	struct store_conn *w = svc_write_begin(sv, audit, e);
	if (!w)
		return -(int)e->code;
	/* The quotas not given keep the table's defaults. */
	if ((rc = store_lock_owner(w, id, e)) == 0 &&
	    (rc = store_owner_insert(w, id, ch->display_name, ju_now_ms(), e)) == 0 &&
	    (rc = store_owner_quota_get(w, id, &q, e)) == 0) {
		quota_apply(&q, &ch->quota, ch->mask);
		if ((rc = store_owner_update(w, id, NULL, &q, e)) == 0)
			rc = owner_read(w, id, out, e);
	}
	return finish(w, rc, out, e);
}

int service_owner_update(struct service *sv, const char *id, const struct svc_owner_change *ch,
                         struct svc_owner *out, struct svc_audit *audit, struct err *e)
{
	struct store_quota q;
	memset(out, 0, sizeof(*out));
	int rc = quota_check(&ch->quota, ch->set, e);
	if (rc)
		return rc;
	struct store_conn *w = svc_write_begin(sv, audit, e);
	if (!w)
		return -(int)e->code;
	if ((rc = store_lock_owner(w, id, e)) == 0 &&
	    (rc = store_owner_quota_get(w, id, &q, e)) == 0) {
		quota_apply(&q, &ch->quota, ch->mask);
		if ((rc = store_owner_update(w, id, ch->display_name, &q, e)) == 0)
			rc = owner_read(w, id, out, e);
	}
	return finish(w, rc, out, e);
}

int service_owner_get(struct service *sv, const char *id, struct svc_owner *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = owner_read(c, id, out, e);
	store_release(c);
	return rc;
}

int service_owner_list(struct service *sv, const char *after, int limit, struct svc_owner **out,
                       size_t *n, struct err *e)
{
	struct store_owner *o = NULL;
	size_t no = 0;
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_owner_list(c, after, limit, &o, &no, e);
	struct svc_owner *a = rc == 0 && no ? calloc(no, sizeof(*a)) : NULL;
	if (rc == 0 && no && !a)
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	size_t got = 0;
	for (; rc == 0 && got < no; got++)
		rc = owner_read(c, o[got].id, &a[got], e);
	store_release(c);
	store_owners_free(o, no);
	if (rc) {
		svc_owners_free(a, got);
		return rc;
	}
	*out = a;
	*n = no;
	return 0;
}

int service_owner_delete(struct service *sv, const char *id, int force, struct svc_audit *audit,
                         struct err *e)
{
	struct store_study *s = NULL;
	size_t n = 0;
	int rc = 0;
	struct store_conn *w = svc_write_begin(sv, audit, e);
	if (!w)
		return -(int)e->code;
	/* The studies that go with a forced delete, so that the service can
	 * drop what it keeps of them once they are gone; each one's section
	 * after the owner's (store.h). */
	rc = store_lock_owner(w, id, e);
	if (rc == 0 && force)
		rc = store_study_list(w, id, 0, 0, &s, &n, e);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = store_lock_study(w, s[i].rowid, e);
	if (rc == 0)
		rc = force ? store_owner_delete_all(w, id, e) : store_owner_delete(w, id, e);
	if (rc)
		store_write_rollback(w);
	else if ((rc = store_write_commit(w, e)) == 0)
		for (size_t i = 0; i < n; i++)
			service_forget_study(sv, s[i].rowid);
	store_studies_free(s, n);
	return rc;
}

/* ---- API keys ---- */

int service_key_create(struct service *sv, const char *owner, enum auth_role role,
                       const char *display_name, struct svc_key *out, char secret[AUTH_KEY_LEN + 1],
                       struct svc_audit *audit, struct err *e)
{
	struct auth_new_key k;
	struct store_key sk = {0};
	struct store_owner o = {0};
	memset(out, 0, sizeof(*out));
	int rc = auth_key_generate(&k, e);
	if (rc)
		return rc;
	memcpy(sk.keyid, k.keyid, sizeof(sk.keyid));
	sk.owner = (char *)owner;
	sk.role = (int)role;
	sk.display_name = (char *)(display_name ? display_name : "");
	memcpy(sk.salt, k.salt, sizeof(sk.salt));
	memcpy(sk.hash, k.hash, sizeof(sk.hash));
	sk.create_time = ju_now_ms();
	struct store_conn *w = svc_write_begin(sv, audit, e);
	if (!w) {
		auth_new_key_wipe(&k);
		return -(int)e->code;
	}
	/* The owner must exist (a key of a deleted owner is NOT_FOUND). */
	if ((rc = store_lock_owner(w, owner, e)) || (rc = store_owner_get(w, owner, &o, e)) ||
	    (rc = svc_quota_keys(w, owner, e)) || (rc = store_key_insert(w, &sk, e)))
		store_write_rollback(w);
	else
		rc = store_write_commit(w, e);
	store_owner_clear(&o);
	if (rc == 0) {
		memcpy(out->keyid, sk.keyid, sizeof(out->keyid));
		out->owner = strdup(owner);
		out->display_name = strdup(sk.display_name);
		out->role = role;
		out->create_time = sk.create_time;
		memcpy(secret, k.key, sizeof(k.key));
		if (!out->owner || !out->display_name) {
			svc_key_clear(out);
			svc_secret_wipe(secret);
			rc = err_set(e, ERR_INTERNAL, "out of memory");
		}
	}
	auth_new_key_wipe(&k);
	return rc;
}

/* NOT_FOUND when the owner is absent. */
static int owner_exists(struct store_conn *c, const char *owner, struct err *e)
{
	struct store_owner o = {0};
	int rc = store_owner_get(c, owner, &o, e);
	store_owner_clear(&o);
	return rc;
}

int service_key_list(struct service *sv, const char *owner, int64_t after, int limit,
                     struct svc_key **out, size_t *n, struct err *e)
{
	struct store_key *k = NULL;
	size_t nk = 0;
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = owner_exists(c, owner, e);
	if (rc == 0)
		rc = store_key_list(c, owner, after, limit, &k, &nk, e);
	store_release(c);
	struct svc_key *a = rc == 0 && nk ? calloc(nk, sizeof(*a)) : NULL;
	if (rc == 0 && nk && !a)
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < nk; i++)
		key_move(&a[i], &k[i]);
	store_keys_free(k, nk);
	if (rc == 0) {
		*out = a;
		*n = nk;
	}
	return rc;
}

int service_key_get(struct service *sv, const char *owner, const char *keyid, struct svc_key *out,
                    struct err *e)
{
	struct store_key k = {0};
	memset(out, 0, sizeof(*out));
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_key_get(c, keyid, &k, NULL, e);
	store_release(c);
	if (rc == 0 && strcmp(k.owner, owner) != 0)
		rc = err_set(e, ERR_NOT_FOUND, "API key owners/%s/apiKeys/%s not found", owner,
		             keyid);
	if (rc == 0)
		key_move(out, &k);
	store_key_clear(&k);
	return rc;
}

int service_key_revoke(struct service *sv, const char *owner, const char *keyid,
                       struct svc_audit *audit, struct err *e)
{
	struct store_conn *w = svc_write_begin(sv, audit, e);
	if (!w)
		return -(int)e->code;
	int rc = store_lock_owner(w, owner, e);
	if (rc == 0)
		rc = store_key_revoke(w, owner, keyid, ju_now_ms(), e);
	if (rc) {
		store_write_rollback(w);
		return rc;
	}
	return store_write_commit(w, e);
}

/* ---- audit log ---- */

int service_audit_list(struct service *sv, const char *owner, int64_t before, int limit,
                       struct svc_audit **out, size_t *n, struct err *e)
{
	struct store_audit *a = NULL;
	size_t na = 0;
	*out = NULL;
	*n = 0;
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_audit_list(c, owner, before, limit, &a, &na, e);
	store_release(c);
	struct svc_audit *r = rc == 0 && na ? calloc(na, sizeof(*r)) : NULL;
	if (rc == 0 && na && !r)
		rc = err_set(e, ERR_INTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < na; i++)
		audit_move(&r[i], &a[i]);
	store_audits_free(a, na);
	if (rc == 0) {
		*out = r;
		*n = na;
	}
	return rc;
}
