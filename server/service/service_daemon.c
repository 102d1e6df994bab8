/* What the daemon needs of the store around the calls themselves: its
 * readiness and gauges, the page-token secret, the key a request
 * presents, and the audit log's own writes (service.h). */
#include <stdio.h>
#include <string.h>

#include "service_internal.h"
#include "service_owners.h"

int service_health(struct service *sv, struct err *e)
{
	return store_health(sv->st, e);
}

int service_gauges(struct service *sv, struct svc_gauges *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_count_studies(c, &out->studies, e);
	if (rc == 0)
		rc = store_count_trials_by_state(c, out->trials, e);
	store_release(c);
	return rc;
}

int service_secret(struct service *sv, const char *name, const unsigned char *fresh, size_t len,
                   unsigned char *out, struct err *e)
{
	return store_secret(sv->st, name, fresh, len, out, e);
}

int service_key_record(struct service *sv, const char *keyid, struct auth_key_record *rec,
                       double *owner_rps, struct err *e)
{
	struct store_key k = {0};
	memset(rec, 0, sizeof(*rec));
	struct store_conn *c = store_read(sv->st, e);
	if (!c)
		return -(int)e->code;
	int rc = store_key_get(c, keyid, &k, owner_rps, e);
	store_release(c);
	if (rc == 0) {
		memcpy(rec->keyid, k.keyid, sizeof(rec->keyid));
		snprintf(rec->owner, sizeof(rec->owner), "%s", k.owner ? k.owner : "");
		rec->role = (enum auth_role)k.role;
		memcpy(rec->salt, k.salt, sizeof(rec->salt));
		memcpy(rec->hash, k.hash, sizeof(rec->hash));
		rec->revoke_time = k.revoke_time;
	}
	store_key_clear(&k);
	return rc;
}

/* The store's view of an entry (strings borrowed). */
struct store_audit svc_audit_row(const struct svc_audit *a)
{
	return (struct store_audit){a->id,   a->time,   a->keyid, a->owner, a->method,
	                            a->path, a->status, a->error, a->count, a->last_time};
}

int service_audit_record(struct service *sv, const struct svc_audit *a, int64_t *written,
                         struct err *e)
{
	struct store_audit row = svc_audit_row(a);
	return store_audit_record(sv->st, a->id, &row, written, e);
}

int service_audit_add_count(struct service *sv, int64_t id, int64_t n, int64_t last, struct err *e)
{
	return store_audit_add_count(sv->st, id, n, last, e);
}

struct store_conn *svc_write_begin(struct service *sv, struct svc_audit *audit, struct err *e)
{
	struct store_conn *w = store_write_begin(sv->st, e);
	if (w && audit && audit->id == 0) {
		struct store_audit row = svc_audit_row(audit);
		store_write_audit(w, &row, &audit->id);
	}
	return w;
}
