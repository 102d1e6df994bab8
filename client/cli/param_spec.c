/* param_spec: `sibyl study create --param` into a StudySpec's parameters.
 *
 *   ID:double:MIN:MAX[:SCALE]   ID:int:MIN:MAX[:SCALE]
 *   ID:categorical:A,B,C        ID:discrete:V1,V2,...[:SCALE]
 *   any of them + @PARENT=V1,V2: a conditional child of PARENT, active when
 *   PARENT takes one of those values.
 *
 * Every error names the part that is wrong; what the server would refuse
 * anyway (MIN > MAX, a parent value it does not have) is left to it, so
 * that its message is the one the user sees. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_EXACT_INT 9007199254740992.0 /* 2^53: the server's bound for integers */

const char pspec_forms[] = "want one of\n"
                           "  ID:double:MIN:MAX[:SCALE]     ID:int:MIN:MAX[:SCALE]\n"
                           "  ID:categorical:A,B,C          ID:discrete:V1,V2,...[:SCALE]\n"
                           "SCALE: linear (the default), log or reverselog; add\n"
                           "@PARENT=V1,V2 for a child active only when PARENT is V1 or V2.";

/* Prints `bad --param "ARG": WHY` and the forms; returns NULL. */
static json_t *bad(const char *arg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *bad(const char *arg, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sibyl: bad --param \"%s\": ", arg);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s\n", pspec_forms);
	return NULL;
}

/* The API's name of a scale; "" when none was given (the spec then has no
 * scaleType, as the JSON a person writes), NULL when unknown. */
static const char *scale_name(const char *s)
{
	if (!s)
		return "";
	if (strcmp(s, "linear") == 0)
		return "UNIT_LINEAR_SCALE";
	if (strcmp(s, "log") == 0)
		return "UNIT_LOG_SCALE";
	if (strcmp(s, "reverselog") == 0)
		return "UNIT_REVERSE_LOG_SCALE";
	return NULL;
}

/* A number of a range or a list: integers for int (and int parents), else
 * doubles. NULL after a message naming `what`. */
static json_t *number(const char *arg, const char *what, const char *text, int integer)
{
	double d;
	if (cli_parse_double(text, &d) != 0)
		return bad(arg, "%s \"%s\" is not a number", what, text);
	if (!integer)
		return json_real(d);
	if (d != floor(d) || fabs(d) > MAX_EXACT_INT)
		return bad(arg, "%s \"%s\" is not an integer (within +-2^53)", what, text);
	return json_integer((json_int_t)d);
}

/* "a,b,c" into an array of strings, or of numbers when kind is 'd'
 * (doubles) or 'i' (integers). NULL after a message. */
static json_t *value_list(const char *arg, const char *list, int kind)
{
	json_t *arr = json_array();
	char *copy = strdup(list);
	if (!arr || !copy) {
		free(copy);
		json_decref(arr);
		return bad(arg, "out of memory");
	}
	for (char *tok = copy, *next; tok; tok = next) {
		if ((next = strchr(tok, ',')))
			*next++ = '\0';
		json_t *v = !*tok         ? bad(arg, "an empty value in the list \"%s\"", list)
		            : kind == 's' ? json_string(tok)
		                          : number(arg, "the value", tok, kind == 'i');
		if (!v) {
			arr = (json_decref(arr), NULL);
			break;
		}
		json_array_append_new(arr, v);
	}
	free(copy);
	return arr;
}

static json_t *with_scale(json_t *p, const char *scale)
{
	if (p && *scale)
		json_object_set_new(p, "scaleType", json_string(scale));
	return p;
}

/* ID:TYPE:... (no @ part) into a ParameterSpec; f holds n fields. */
static json_t *make_param(const char *arg, char **f, int n)
{
	const char *type = f[1];
	int is_int = strcmp(type, "int") == 0 || strcmp(type, "integer") == 0;
	if (is_int || strcmp(type, "double") == 0) {
		if (n < 4 || n > 5)
			return bad(arg, "%s takes ID:%s:MIN:MAX[:SCALE] (%d parts given)", type,
			           type, n);
		const char *scale = scale_name(n == 5 ? f[4] : NULL);
		if (!scale)
			return bad(arg, "unknown scale \"%s\": linear, log or reverselog", f[4]);
		json_t *lo = number(arg, "MIN", f[2], is_int);
		json_t *hi = lo ? number(arg, "MAX", f[3], is_int) : NULL;
		if (!hi) {
			json_decref(lo);
			return NULL;
		}
		return with_scale(json_pack("{s:s,s:{s:o,s:o}}", "parameterId", f[0],
		                            is_int ? "integerValueSpec" : "doubleValueSpec",
		                            "minValue", lo, "maxValue", hi),
		                  scale);
	}
	if (strcmp(type, "categorical") == 0) {
		if (n != 3)
			return bad(arg, "categorical takes ID:categorical:A,B,C (no scale)");
		json_t *vals = value_list(arg, f[2], 's');
		return vals ? json_pack("{s:s,s:{s:o}}", "parameterId", f[0],
		                        "categoricalValueSpec", "values", vals)
		            : NULL;
	}
	if (strcmp(type, "discrete") == 0) {
		if (n < 3 || n > 4)
			return bad(arg, "discrete takes ID:discrete:V1,V2,...[:SCALE]");
		const char *scale = scale_name(n == 4 ? f[3] : NULL);
		if (!scale)
			return bad(arg, "unknown scale \"%s\": linear, log or reverselog", f[3]);
		json_t *vals = value_list(arg, f[2], 'd');
		return vals ? with_scale(json_pack("{s:s,s:{s:o}}", "parameterId", f[0],
		                                   "discreteValueSpec", "values", vals),
		                         scale)
		            : NULL;
	}
	return bad(arg, "unknown type \"%s\": double, int, categorical or discrete", type);
}

/* The ParameterSpec of id among params and their conditional children, or
 * NULL. */
static json_t *find_param(json_t *params, const char *id)
{
	for (size_t i = 0; i < json_array_size(params); i++) {
		json_t *p = json_array_get(params, i);
		const char *pid = json_string_value(json_object_get(p, "parameterId"));
		if (pid && strcmp(pid, id) == 0)
			return p;
		json_t *kids = json_object_get(p, "conditionalParameterSpecs");
		for (size_t k = 0; k < json_array_size(kids); k++) {
			json_t *spec = json_object_get(json_array_get(kids, k), "parameterSpec");
			json_t *one = json_pack("[O]", spec);
			json_t *found = spec ? find_param(one, id) : NULL;
			json_decref(one);
			if (found)
				return found;
		}
	}
	return NULL;
}

/* Hangs child under the parent named by cond ("PARENT=V1,V2"). */
static int add_child(const char *arg, json_t *params, const char *cond, json_t *child)
{
	const char *eq = strchr(cond, '=');
	if (!eq || eq == cond || !eq[1]) {
		json_decref(child);
		bad(arg, "the condition \"@%s\" is not @PARENT=V1,V2", cond);
		return -1;
	}
	char parent_id[256];
	snprintf(parent_id, sizeof parent_id, "%.*s", (int)(eq - cond), cond);
	json_t *parent = find_param(params, parent_id);
	const char *member = json_object_get(parent, "categoricalValueSpec")
	                         ? "parentCategoricalValues"
	                     : json_object_get(parent, "integerValueSpec")  ? "parentIntValues"
	                     : json_object_get(parent, "discreteValueSpec") ? "parentDiscreteValues"
	                                                                    : NULL;
	if (!parent || !member) {
		json_decref(child);
		bad(arg,
		    parent
		        ? "the parent \"%s\" is a double; a parent is categorical, int or discrete"
		        : "the parent \"%s\" is not a parameter given before this one",
		    parent_id);
		return -1;
	}
	int kind = member[6] == 'C' ? 's' : member[6] == 'I' ? 'i' : 'd';
	json_t *vals = value_list(arg, eq + 1, kind);
	json_t *kids = json_object_get(parent, "conditionalParameterSpecs");
	if (!kids) {
		kids = json_array();
		json_object_set_new(parent, "conditionalParameterSpecs", kids);
	}
	json_t *entry =
	    vals ? json_pack("{s:o,s:{s:o}}", "parameterSpec", child, member, "values", vals)
	         : (json_decref(child), NULL);
	if (!entry || json_array_append_new(kids, entry) != 0)
		return -1;
	return 0;
}

int pspec_add(json_t *params, const char *arg)
{
	char *copy = strdup(arg);
	char *f[6] = {0};
	int n = 0, rc = -1;
	if (!copy)
		return -1;
	/* The condition comes last: @PARENT=... after the last '@'. */
	char *at = strrchr(copy, '@');
	if (at && strchr(at, '='))
		*at++ = '\0';
	else
		at = NULL;
	for (char *s = copy; n < 6;) {
		f[n++] = s;
		char *colon = strchr(s, ':');
		if (!colon)
			break;
		*colon = '\0';
		s = colon + 1;
	}
	json_t *p = NULL;
	if (!*f[0])
		bad(arg, "the ID is empty");
	else if (n < 2 || !*f[1])
		bad(arg, "no TYPE after the ID");
	else if (n < 3)
		bad(arg, "nothing after the type \"%s\"", f[1]);
	else if (find_param(params, f[0]))
		bad(arg, "\"%s\" is given twice", f[0]);
	else
		p = make_param(arg, f, n);
	if (p && at)
		rc = add_child(arg, params, at, p);
	else if (p)
		rc = json_array_append_new(params, p) == 0 ? 0 : -1;
	free(copy);
	return rc;
}
