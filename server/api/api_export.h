/* api_export: a study's trials as CSV (RFC 4180), the answer of
 * GET .../trials with ?alt=csv or Accept: text/csv (docs/API.md).
 *
 * One header row, then one row per trial in id order:
 *   id,state,<each parameter>,<each metric>,startTime,endTime,clientId
 * parameters and metrics in the order of the study spec, metric values
 * from the final measurement. Every trial the filter selects is answered,
 * not a page, from one read snapshot. A cell holding a comma, a quote, CR
 * or LF is quoted ("" for a quote); absent values are empty cells. A
 * parameter or metric whose id would repeat an earlier column name gets
 * the prefix "param." or "metric.". Rows end with CRLF. */
#ifndef SIBYL_API_EXPORT_H
#define SIBYL_API_EXPORT_H

#include "api_internal.h"

/* 1 when the request asks for CSV: alt_csv from its query, or an Accept
 * header naming text/csv. */
int export_wants_csv(const struct http_req *req, int alt_csv);

/* Writes the CSV of the trials of the call's study in the states of
 * state_mask (0: all) with ids above after_id into *c->text (malloc'd) and sets the call's
 * content type. Returns 0 or a negative enum err_code with e set. */
int export_trials_csv(struct api_call *c, unsigned state_mask, int64_t after_id, struct err *e);

#endif
