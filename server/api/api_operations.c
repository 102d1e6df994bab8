/* Operations: GET returns a stored (done) Operation again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "api_internal.h"
#include "trial_json.h"

int api_operations_get(struct api_call *c, json_t **out, struct err *e)
{
	struct store_study s;
	char *text = NULL;
	struct store_conn *conn = store_read(c->api->st, e);
	if (!conn)
		return -(int)e->code;
	int rc = store_study_get(conn, c->r->owner, c->r->study, &s, e);
	if (rc == 0) {
		rc = store_operation_get(conn, s.rowid, c->r->op, &text, e);
		store_study_clear(&s);
	}
	store_release(conn);
	if (rc)
		return rc;
	json_t *op = tj_load(text);
	free(text);
	if (!json_is_object(op)) {
		json_decref(op);
		return err_set(e, ERR_INTERNAL, "stored operation %" PRId64 " is not a JSON object",
		               c->r->op);
	}
	/* Stored without its name (see suggest.c): the name holds the id. */
	char name[600];
	snprintf(name, sizeof(name), "owners/%s/studies/%s/operations/%" PRId64, c->r->owner,
	         c->r->study, c->r->op);
	json_object_set_new(op, "name", json_string(name));
	*out = op;
	return 0;
}
