/* run: the pieces of `sibyl run` that do not talk to the server: starting
 * the training command for a trial, and reading its metric lines. */
#ifndef SIBYL_CLI_RUN_H
#define SIBYL_CLI_RUN_H

#include <stddef.h>
#include <sys/types.h>

#include <sibyl/sibyl.h>

struct run_child {
	pid_t pid; /* also its process group: the child leads its own */
	int fd;    /* read end of its stdout; -1 once closed */
};

/* Starts argv (argv[0] found on PATH) for trial t: environment
 * SIBYL_PARAM_<ID> for every parameter (ID upper-cased, other than [A-Z0-9]
 * turned into '_'), SIBYL_TRIAL_ID, SIBYL_TRIAL_NAME, SIBYL_LAST_STEP (the
 * trial's run_last_step(), 0 for a new trial) and SIBYL_STEP_START (one
 * more), "{parameterId}" in
 * argv replaced by the value; its stdout into a pipe, in its own process
 * group, signals at their defaults. Returns 0, or -1 with err filled. */
int run_spawn(char *const *argv, const struct sibyl_trial *t, struct run_child *child, char *err,
              size_t errlen);

/* The step a trial's measurements reached: the largest stepCount, or
 * their number when none has one; 0 when it has none. */
long long run_last_step(const struct sibyl_trial *t);

/* The last value of each of the study's metrics in t's measurements, into
 * last[i] (seen[i] set to 1) for the study's metric i; both sized by the
 * caller to study->n_metrics. */
void run_last_values(const struct sibyl_trial *t, const struct sibyl_study *s, double *last,
                     int *seen);

/* A result that complete could not deliver, for the user to deliver later:
 * the complete call's body with the trial's name as JSON text (malloc'd;
 * NULL when out of memory), and the `sibyl trial complete` command line
 * that sends it (into buf). final NULL: infeasible with reason. */
char *run_result_json(const char *name, const struct sibyl_measurement *final, const char *reason);
void run_result_command(char *buf, size_t len, const char *name,
                        const struct sibyl_measurement *final, const char *reason);

/* A value as the child sees it: the shortest text that reads back the same
 * number, or the string. Writes into buf. */
void run_format_value(const struct sibyl_parameter *p, char *buf, size_t len);

/* The environment variable name for a parameter id: SIBYL_PARAM_<ID>. */
void run_env_name(const char *id, char *buf, size_t len);

/* The study's staleTrialTimeout in seconds (the spec's "600s" or
 * "0.500s"), 0 when it has none or it cannot be read. */
double run_lease_seconds(const struct sibyl_study *study);

/* How often `sibyl run` sends the heartbeat for a lease of that many
 * seconds: a third of it, but not more often than once a second; 0 (no
 * heartbeat) when lease is 0. */
double run_heartbeat_every(double lease);

/* One parsed metric line. values[i] belongs to the study's metric i. */
struct run_report {
	size_t n_known; /* the study's metric count */
	double *values; /* n_known */
	int *has;       /* n_known: 1 when the line set that metric */
	long long step; /* -1 when the line gave none */
};

/* Reads line (no newline) as `sibyl: m=v [m2=v] [step=N]` or as a JSON
 * object `{"m": v, "step": N}`. Returns 1 when it set at least one of the
 * study's metrics (filling r, whose arrays the caller sizes), 0 when it is
 * not a metric line, -1 when it is a `sibyl:` line that is malformed or
 * names an unknown metric, or a JSON line whose metric is not a number
 * (message in err), -2 when it is a JSON object that looks like metrics
 * (a "step", or only numbers) but names none of the study's (message in
 * err: the keys and the study's metrics). */
int run_parse_line(const char *line, const struct sibyl_study *study, struct run_report *r,
                   char *err, size_t errlen);

/* Reads line as `sibyl: attr KEY=VALUE` (run_attr.c): metadata for the
 * trial. Returns 1 with the key copied into key (keylen bytes) and the
 * value at *value (into line, *valuelen bytes: the rest of the line
 * without trailing blanks; may be empty), 0 when it is not such a line,
 * -1 when it is one but malformed (message in err). */
int run_parse_attr(const char *line, char *key, size_t keylen, const char **value, size_t *valuelen,
                   char *err, size_t errlen);

/* Checks the {placeholders} of argv against the study's parameter ids
 * (conditional children included; "${...}" is left to the shell). Returns
 * how many name no parameter, with a message in err naming the first and
 * listing the parameter ids. */
int run_check_placeholders(char *const *argv, const struct sibyl_study *study, char *err,
                           size_t errlen);

/* Whether cmd can be started as run_spawn() starts it (a path, or a name
 * found on PATH, executable): 0, or -1 with "cannot run CMD: why" in err.
 * A cmd holding a {placeholder} is taken as runnable (known per trial). */
int run_find_command(const char *cmd, char *err, size_t errlen);

#endif
