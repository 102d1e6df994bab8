/* service_meas.c: the measurements of the trials being measured, kept so
 * that addTrialMeasurement, whose answer is the trial with all its
 * measurements, does not read them all again under the one writer at
 * every call (it did: the largest part of the call). service_internal.h
 * has the rules that keep it right. */
#include <stdlib.h>
#include <string.h>

#include "service_internal.h"

static struct meas_slot *slot(struct service *sv, int64_t rowid, int64_t trial)
{
	uint64_t h = (uint64_t)rowid * 0x9e3779b97f4a7c15ull ^ (uint64_t)trial;
	return &sv->meas[h % SVC_MEAS_SLOTS];
}

int svc_meas_get(struct service *sv, int64_t rowid, int64_t trial, int64_t count, char **text,
                 size_t *len, size_t *last)
{
	int hit = 0;
	*text = NULL;
	pthread_mutex_lock(&sv->meas_mu);
	struct meas_slot *m = slot(sv, rowid, trial);
	if (m->text && m->rowid == rowid && m->trial == trial && m->count == count &&
	    (*text = malloc(m->len + 1))) {
		memcpy(*text, m->text, m->len + 1);
		*len = m->len;
		*last = m->last;
		hit = 1;
	}
	pthread_mutex_unlock(&sv->meas_mu);
	return hit;
}

void svc_meas_put(struct service *sv, int64_t rowid, int64_t trial, int64_t count, const char *text,
                  size_t len, size_t last)
{
	char *copy = len <= SVC_MEAS_MAX ? malloc(len + 1) : NULL;
	if (copy)
		memcpy(copy, text, len + 1);
	pthread_mutex_lock(&sv->meas_mu);
	struct meas_slot *m = slot(sv, rowid, trial);
	char *old = m->text;
	/* Another writer of the same trial may have put a longer list first. */
	int same = old && m->rowid == rowid && m->trial == trial;
	if (same && m->count > count) {
		pthread_mutex_unlock(&sv->meas_mu);
		free(copy);
		return;
	}
	*m = (struct meas_slot){
	    .rowid = rowid, .trial = trial, .count = count, .text = copy, .len = len, .last = last};
	pthread_mutex_unlock(&sv->meas_mu);
	free(old);
}

void svc_meas_drop(struct service *sv, int64_t rowid, int64_t trial)
{
	char *old = NULL;
	pthread_mutex_lock(&sv->meas_mu);
	struct meas_slot *m = slot(sv, rowid, trial);
	if (m->rowid == rowid && m->trial == trial) {
		old = m->text;
		memset(m, 0, sizeof(*m));
	}
	pthread_mutex_unlock(&sv->meas_mu);
	free(old);
}

void svc_meas_free(struct service *sv)
{
	for (size_t i = 0; i < SVC_MEAS_SLOTS; i++)
		free(sv->meas[i].text);
}
