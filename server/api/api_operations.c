/* Operations: GET returns a stored (done) Operation again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "api_internal.h"
#include "operation_json.h"
#include "trial_json.h"

int api_operations_get(struct api_call *c, json_t **out, struct err *e)
{
	char *text = NULL;
	int rc = service_operation_get(c->api->sv, c->r->owner, c->r->study, c->r->op, &text, e);
	if (rc)
		return rc;
	json_t *op = tj_load(text);
	free(text);
	if (!json_is_object(op)) {
		json_decref(op);
		return err_set(e, ERR_INTERNAL, "stored operation %" PRId64 " is not a JSON object",
		               c->r->op);
	}
	/* Stored without its name (operation_json.h): the name holds the id. */
	oj_name(op, c->r->owner, c->r->study, c->r->op);
	*out = op;
	return 0;
}
