/* run_child: start the training command, parse its metric lines. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "run.h"

extern char **environ;

void run_env_name(const char *id, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "SIBYL_PARAM_");
	for (const char *p = id; *p && n + 1 < len; p++) {
		unsigned char ch = (unsigned char)*p;
		buf[n++] = isalnum(ch) && ch < 128 ? (char)toupper(ch) : '_';
	}
	buf[n < len ? n : len - 1] = '\0';
}

/* v in the fewest significant digits that read back exactly, written as a
 * person would: plain decimals when the exponent is within [-5, 15] (50,
 * 100, 0.001, 0.00001, 3.14159), else exponent form (1e-07, 1e+20). */
static void format_number(double v, char *buf, size_t len)
{
	char e[40];
	int prec = 1;
	if (!isfinite(v)) {
		snprintf(buf, len, "%g", v);
		return;
	}
	if (v == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (; prec < 17; prec++) {
		snprintf(e, sizeof e, "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	snprintf(e, sizeof e, "%.*e", prec - 1, v);
	int exp10 = (int)strtol(strchr(e, 'e') + 1, NULL, 10);
	if (exp10 >= -5 && exp10 <= 15) {
		int decimals = prec - 1 - exp10;
		snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.*g", prec, v);
}

void run_format_value(const struct sibyl_parameter *p, char *buf, size_t len)
{
	if (p->type == SIBYL_VALUE_STRING)
		snprintf(buf, len, "%s", p->string ? p->string : "");
	else
		format_number(p->number, buf, len);
}

/* arg with every {id} of t's parameters replaced; a new string or NULL. */
static char *substitute(const char *arg, const struct sibyl_trial *t)
{
	size_t cap = strlen(arg) + 1, len = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	for (const char *p = arg; *p;) {
		const char *val = NULL;
		char num[64];
		size_t skip = 0;
		if (*p == '{') {
			const char *close = strchr(p, '}');
			for (size_t i = 0; close && i < t->n_parameters; i++) {
				const char *id = t->parameters[i].parameter_id;
				if (strlen(id) == (size_t)(close - p - 1) &&
				    strncmp(p + 1, id, strlen(id)) == 0) {
					run_format_value(&t->parameters[i], num, sizeof num);
					val = t->parameters[i].type == SIBYL_VALUE_STRING
					          ? t->parameters[i].string
					          : num;
					skip = (size_t)(close - p) + 1;
					break;
				}
			}
		}
		size_t add = val ? strlen(val) : 1;
		if (len + add + 1 > cap) {
			cap = (len + add + 1) * 2;
			char *grown = realloc(out, cap);
			if (!grown) {
				free(out);
				return NULL;
			}
			out = grown;
		}
		if (val) {
			memcpy(out + len, val, add);
			p += skip;
		} else {
			out[len] = *p++;
		}
		len += add;
	}
	out[len] = '\0';
	return out;
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

int run_spawn(char *const *argv, const struct sibyl_trial *t, struct run_child *child, char *err,
              size_t errlen)
{
	size_t nargs = 0, nenv = 0, k = 0;
	char **args = NULL, **env = NULL;
	int fds[2] = {-1, -1}, rc = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int have_fa = 0, have_attr = 0;
	child->pid = -1;
	child->fd = -1;
	while (argv[nargs])
		nargs++;
	while (environ[nenv])
		nenv++;
	args = calloc(nargs + 1, sizeof *args);
	env = calloc(nenv + t->n_parameters + 6, sizeof *env);
	if (!args || !env)
		goto oom;
	for (size_t i = 0; i < nargs; i++)
		if (!(args[i] = substitute(argv[i], t)))
			goto oom;
	/* Our own variables replace any the caller had. */
	for (size_t i = 0; i < nenv; i++) {
		if (strncmp(environ[i], "SIBYL_PARAM_", 12) == 0 ||
		    strncmp(environ[i], "SIBYL_TRIAL_", 12) == 0 ||
		    strncmp(environ[i], "SIBYL_LAST_STEP=", 16) == 0 ||
		    strncmp(environ[i], "SIBYL_STEP_START=", 17) == 0)
			continue;
		if (!(env[k++] = strdup(environ[i])))
			goto oom;
	}
	for (size_t i = 0; i < t->n_parameters; i++) {
		char name[256], val[4096];
		run_env_name(t->parameters[i].parameter_id, name, sizeof name);
		run_format_value(&t->parameters[i], val, sizeof val);
		size_t len = strlen(name) + strlen(val) + 2;
		if (!(env[k] = malloc(len)))
			goto oom;
		snprintf(env[k++], len, "%s=%s", name, val);
	}
	if (asprintf(&env[k], "SIBYL_TRIAL_ID=%lld", t->id) < 0) {
		env[k] = NULL;
		goto oom;
	}
	k++;
	if (asprintf(&env[k], "SIBYL_TRIAL_NAME=%s", t->name) < 0) {
		env[k] = NULL;
		goto oom;
	}
	k++;
	long long last = run_last_step(t);
	if (asprintf(&env[k], "SIBYL_LAST_STEP=%lld", last) < 0) {
		env[k] = NULL;
		goto oom;
	}
	k++;
	if (asprintf(&env[k], "SIBYL_STEP_START=%lld", last + 1) < 0) {
		env[k] = NULL;
		goto oom;
	}
	k++;
	/* Python block-buffers a pipe: its metric lines would all come at its
	 * exit, too late for early stopping and lost with a killed command. */
	if (!getenv("PYTHONUNBUFFERED") && !(env[k++] = strdup("PYTHONUNBUFFERED=1")))
		goto oom;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	sigset_t none, dflt;
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGHUP);
	if (posix_spawn_file_actions_init(&fa) != 0 || !(have_fa = 1) ||
	    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO) != 0 ||
	    posix_spawnattr_init(&attr) != 0 || !(have_attr = 1) ||
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	                                        POSIX_SPAWN_SETSIGDEF) != 0 ||
	    posix_spawnattr_setpgroup(&attr, 0) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &dflt) != 0) {
		snprintf(err, errlen, "cannot set up the child");
		goto out;
	}
	int e = posix_spawnp(&child->pid, args[0], &fa, &attr, args, env);
	if (e != 0) {
		child->pid = -1;
		snprintf(err, errlen, "cannot run %s: %s", args[0], strerror(e));
		goto out;
	}
	child->fd = fds[0];
	fds[0] = -1;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (have_fa)
		posix_spawn_file_actions_destroy(&fa);
	if (have_attr)
		posix_spawnattr_destroy(&attr);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free_strv(args);
	free_strv(env);
	return rc;
}

double run_lease_seconds(const struct sibyl_study *study)
{
	json_t *spec = study->spec_json ? json_loads(study->spec_json, 0, NULL) : NULL;
	json_t *v = json_object_get(spec, "staleTrialTimeout");
	double secs = 0;
	if (json_is_number(v)) {
		secs = json_number_value(v);
	} else if (json_is_string(v)) {
		/* The server writes durations as decimal seconds with an "s". */
		const char *text = json_string_value(v);
		char *end;
		errno = 0;
		double d = strtod(text, &end);
		if (errno == 0 && end != text && strcmp(end, "s") == 0)
			secs = d;
	}
	json_decref(spec);
	return isfinite(secs) && secs > 0 ? secs : 0;
}

double run_heartbeat_every(double lease)
{
	if (lease <= 0)
		return 0;
	return lease / 3 > 1.0 ? lease / 3 : 1.0;
}

long long run_last_step(const struct sibyl_trial *t)
{
	long long last = 0;
	int any = 0;
	for (size_t i = 0; i < t->n_measurements; i++)
		if (t->measurements[i].step_count >= 0) {
			any = 1;
			if (t->measurements[i].step_count > last)
				last = t->measurements[i].step_count;
		}
	return any ? last : (long long)t->n_measurements;
}

void run_last_values(const struct sibyl_trial *t, const struct sibyl_study *s, double *last,
                     int *seen)
{
	for (size_t k = 0; k < t->n_measurements; k++)
		for (size_t j = 0; j < t->measurements[k].n_metrics; j++)
			for (size_t i = 0; i < s->n_metrics; i++)
				if (strcmp(t->measurements[k].metrics[j].metric_id,
				           s->metrics[i].metric_id) == 0) {
					last[i] = t->measurements[k].metrics[j].value;
					seen[i] = 1;
				}
}

char *run_result_json(const char *name, const struct sibyl_measurement *final, const char *reason)
{
	json_t *o = json_pack("{s:s}", "name", name);
	if (final) {
		json_t *ms = json_array(), *m = json_object();
		for (size_t i = 0; ms && i < final->n_metrics; i++)
			json_array_append_new(ms, json_pack("{s:s,s:f}", "metricId",
			                                    final->metrics[i].metric_id, "value",
			                                    final->metrics[i].value));
		json_object_set_new(m, "metrics", ms);
		if (final->step_count >= 0) {
			char step[32];
			snprintf(step, sizeof step, "%lld", final->step_count);
			json_object_set_new(m, "stepCount", json_string(step));
		}
		json_object_set_new(o, "finalMeasurement", m);
	} else {
		json_object_set_new(o, "trialInfeasible", json_true());
		json_object_set_new(o, "infeasibleReason", json_string(reason));
	}
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
	json_decref(o);
	return text;
}

void run_result_command(char *buf, size_t len, const char *name,
                        const struct sibyl_measurement *final, const char *reason)
{
	size_t n = (size_t)snprintf(buf, len, "sibyl trial complete %s", name);
	for (size_t i = 0; final && i < final->n_metrics && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %s=%.17g", final->metrics[i].metric_id,
		                      final->metrics[i].value);
	if (!final && n < len)
		snprintf(buf + n, len - n, " --infeasible '%s'", reason);
}

static int metric_index(const struct sibyl_study *s, const char *id, size_t len)
{
	for (size_t i = 0; i < s->n_metrics; i++)
		if (strlen(s->metrics[i].metric_id) == len &&
		    strncmp(s->metrics[i].metric_id, id, len) == 0)
			return (int)i;
	return -1;
}

/* "loss, acc": the study's metric ids, for messages. */
static void metric_ids(const struct sibyl_study *s, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n_metrics && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
		                      s->metrics[i].metric_id);
}

/* Whether a JSON object with no metric of the study looks like a metric
 * line all the same (a "step", or only numbers: {"los": 0.5}), rather than
 * a log line ({"msg": "epoch done", "lr": 0.1}). */
static int looks_like_metrics(json_t *o)
{
	const char *key;
	json_t *v;
	if (json_object_get(o, "step"))
		return 1;
	json_object_foreach(o, key, v)
	{
		if (!json_is_number(v))
			return 0;
	}
	return json_object_size(o) > 0;
}

static int parse_json_line(const char *line, const struct sibyl_study *study, struct run_report *r,
                           char *err, size_t errlen)
{
	json_t *o = json_loads(line, JSON_DECODE_ANY, NULL);
	int found = 0;
	char ids[512];
	if (!json_is_object(o)) {
		json_decref(o);
		return 0;
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		if (strcmp(key, "step") == 0 && json_is_integer(v)) {
			r->step = json_integer_value(v);
			continue;
		}
		int i = metric_index(study, key, strlen(key));
		if (i < 0)
			continue;
		if (!json_is_number(v) || !isfinite(json_number_value(v))) {
			snprintf(err, errlen, "the value of \"%s\" is not a finite number", key);
			json_decref(o);
			return -1;
		}
		r->values[i] = json_number_value(v);
		r->has[i] = 1;
		found = 1;
	}
	if (!found && looks_like_metrics(o)) {
		size_t n = 0;
		char keys[256] = "";
		json_object_foreach(o, key, v)
		{
			if (n < sizeof keys)
				n += (size_t)snprintf(keys + n, sizeof keys - n, "%s\"%s\"",
				                      n ? ", " : "", key);
		}
		metric_ids(study, ids, sizeof ids);
		snprintf(err, errlen,
		         "a JSON line with %s names no metric of the study (its metrics: %s)", keys,
		         ids);
		found = -2;
	}
	json_decref(o);
	return found;
}

int run_parse_line(const char *line, const struct sibyl_study *study, struct run_report *r,
                   char *err, size_t errlen)
{
	r->step = -1;
	for (size_t i = 0; i < r->n_known; i++)
		r->has[i] = 0;
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '{')
		return parse_json_line(line, study, r, err, errlen);
	if (strncmp(line, "sibyl:", 6) != 0)
		return 0;
	int found = 0;
	for (const char *p = line + 6;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p)
			break;
		const char *end = p;
		while (*end && *end != ' ' && *end != '\t' && *end != '\r')
			end++;
		const char *eq = memchr(p, '=', (size_t)(end - p));
		char num[64];
		size_t nlen = eq ? (size_t)(end - eq - 1) : 0;
		if (!eq || eq == p || nlen == 0 || nlen >= sizeof num) {
			snprintf(err, errlen, "\"%.*s\" is not METRIC=VALUE", (int)(end - p), p);
			return -1;
		}
		memcpy(num, eq + 1, nlen);
		num[nlen] = '\0';
		if ((size_t)(eq - p) == 4 && strncmp(p, "step", 4) == 0) {
			if (cli_parse_ll(num, &r->step) != 0 || r->step < 0) {
				snprintf(err, errlen, "bad step \"%s\"", num);
				return -1;
			}
		} else {
			int i = metric_index(study, p, (size_t)(eq - p));
			double v;
			if (i < 0) {
				char ids[512];
				metric_ids(study, ids, sizeof ids);
				snprintf(err, errlen,
				         "\"%.*s\" is not a metric of the study (its metrics: %s)",
				         (int)(eq - p), p, ids);
				return -1;
			}
			if (cli_parse_double(num, &v) != 0) {
				snprintf(err, errlen, "bad value \"%s\" for %.*s", num,
				         (int)(eq - p), p);
				return -1;
			}
			r->values[i] = v;
			r->has[i] = 1;
			found = 1;
		}
		p = end;
	}
	if (!found) {
		snprintf(err, errlen, "no metric on the line");
		return -1;
	}
	return 1;
}

struct id_list {
	char buf[2048];
	size_t n;
};

static void add_id(const char *id, void *ud)
{
	struct id_list *l = ud;
	if (l->n < sizeof l->buf)
		l->n += (size_t)snprintf(l->buf + l->n, sizeof l->buf - l->n, "%s%s",
		                         l->n ? ", " : "", id);
}

/* Whether name (len bytes) is one of the ids in list ("a, b, c"). */
static int in_list(const char *list, const char *name, size_t len)
{
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		if (n == len && strncmp(p, name, len) == 0)
			return 1;
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return 0;
}

int run_check_placeholders(char *const *argv, const struct sibyl_study *study, char *err,
                           size_t errlen)
{
	struct id_list l = {.n = 0};
	const char *ids = l.buf;
	int bad = 0;
	cli_each_param(study->spec_json, add_id, &l);
	for (char *const *a = argv; *a; a++) {
		for (const char *p = strchr(*a, '{'); p; p = strchr(p + 1, '{')) {
			size_t len =
			    strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			                  "0123456789_.-");
			if (len == 0 || p[len + 1] != '}' || (p > *a && p[-1] == '$') ||
			    in_list(ids, p + 1, len))
				continue;
			if (!bad++)
				snprintf(err, errlen,
				         "{%.*s} in the command names no parameter of the study "
				         "(its parameters: %s); it is passed as written",
				         (int)len, p + 1, ids);
		}
	}
	return bad;
}

/* 1 when path is a file we may execute. */
static int executable(const char *path)
{
	struct stat st;
	return access(path, X_OK) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int run_find_command(const char *cmd, char *err, size_t errlen)
{
	if (strchr(cmd, '{'))
		return 0;
	if (strchr(cmd, '/')) {
		errno = 0;
		if (executable(cmd))
			return 0;
		snprintf(err, errlen, "cannot run %s: %s", cmd,
		         errno ? strerror(errno) : "not a regular file");
		return -1;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char full[4096];
		if (n) /* an empty entry is the current directory */
			snprintf(full, sizeof full, "%.*s/%s", (int)n, p, cmd);
		else
			snprintf(full, sizeof full, "./%s", cmd);
		if (executable(full))
			return 0;
		if (!end)
			break;
		p = end;
	}
	snprintf(err, errlen, "cannot run %s: not found on PATH", cmd);
	return -1;
}
