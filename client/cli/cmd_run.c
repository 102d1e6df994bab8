/* sibyl run: turn any training command into a worker.
 *
 * One thread per slot (--parallel N), each with its own client handle and
 * child: suggest, start the command, pass its stdout through while reading
 * metric lines, report them, ask about early stopping, complete the trial.
 * When the study has a staleTrialTimeout, a command that is quiet for a
 * while is covered by a heartbeat (a GET of the trial as its worker), so
 * that a long silent training step does not lose its trial.
 * Signal handlers only set a flag; every slot polls it and stops its child. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "run.h"

#define POLL_MS      200
#define LINE_MAX_LEN 65536

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted++;
}

struct run {
	struct cli *cli;
	const struct sibyl_study *study;
	const char *study_name;
	char *const *cmd;
	long long max_trials; /* 0: until the study is done */
	double grace;         /* seconds between SIGTERM and SIGKILL */
	double heartbeat;     /* seconds between heartbeats; 0: the study has no lease */
	int tty;              /* stderr is a terminal: one progress line */
	double t0;
	int objective; /* index into study->metrics, -1 when none */
	/* INFEASIBLE trials in a row that end the run (--max-failures); 0: no limit */
	long long max_failures;

	pthread_mutex_t lock; /* everything below, and stdout/stderr */
	long long started, done, succeeded, infeasible;
	long long lost;        /* given up or settled by the server while running */
	long long undelivered; /* results printed because complete failed */
	int running;
	int have_best;
	double best;
	long long best_id;
	int fatal;             /* an exit code that ends the run, 0 when none */
	int study_done;        /* suggest said the study is complete */
	int no_early_stopping; /* the server answered UNIMPLEMENTED */
	int progress_shown;
	long long failures_in_row; /* INFEASIBLE trials since the last SUCCEEDED */
	int warned_json;           /* a JSON line with no metric of the study was reported */
};

struct slot {
	struct run *run;
	struct sibyl_client *client;
	char client_id[256];
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* With run->lock held: wipe the progress line before other output. */
static void clear_progress(struct run *r)
{
	if (r->tty && r->progress_shown) {
		fputs("\r\033[K", stderr);
		r->progress_shown = 0;
	}
}

static void best_text(struct run *r, char *buf, size_t len)
{
	if (r->objective >= 0 && r->have_best)
		snprintf(buf, len, "best %s=%.6g (trial %lld)",
		         r->study->metrics[r->objective].metric_id, r->best, r->best_id);
	else
		snprintf(buf, len, "no result yet");
}

/* With run->lock held: redraw the progress line on a terminal. */
static void show_progress(struct run *r)
{
	if (!r->tty)
		return;
	char best[256], max[32] = "?";
	if (r->max_trials)
		snprintf(max, sizeof max, "%lld", r->max_trials);
	best_text(r, best, sizeof best);
	long el = (long)(now() - r->t0);
	fprintf(stderr, "\r\033[K[sibyl] trial %lld of %s, %d running, %s, %02ld:%02ld:%02ld",
	        r->started, max, r->running, best, el / 3600, el / 60 % 60, el % 60);
	fflush(stderr);
	r->progress_shown = 1;
}

/* Prints a plain status line (stderr) and redraws the progress. */
static void say(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct run *r, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&r->lock);
	clear_progress(r);
	fputs("sibyl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	show_progress(r);
	pthread_mutex_unlock(&r->lock);
}

static void pass_through(struct run *r, const char *line, size_t len)
{
	pthread_mutex_lock(&r->lock);
	clear_progress(r);
	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	show_progress(r);
	pthread_mutex_unlock(&r->lock);
}

/* A slot's wait hook: says that a call waits for the server (through the
 * progress line's lock), and ends the wait on Ctrl-C or SIGTERM. */
static int run_wait(const struct sibyl_wait *w, void *ud)
{
	struct slot *sl = ud;
	char msg[1024];
	if (sibyl_wait_describe(w, msg, sizeof msg))
		say(sl->run, "%s (%s)", msg, sl->client_id);
	return interrupted != 0;
}

/* What happened to one trial's child. */
struct trial_run {
	struct slot *slot;
	const struct sibyl_trial *trial;
	struct run_child child;
	struct run_report rep;
	double *last; /* last value of each study metric */
	int *seen;
	long long steps; /* measurements reported */
	long long last_step;
	double start;
	double killed_at; /* 0: not signalled by us */
	double last_call; /* when a call last renewed the trial's lease */
	int early_stopped;
	int lost; /* the trial is no longer ours: stop, do not report */
	int warned_beat;
	int stopped_by_signal; /* we stopped it because of Ctrl-C */
	int reaped;
	int status;
	int warned_measure;
	long long n_ignored; /* metric lines ignored, the first's reason: */
	char first_ignored[256];
};

static void kill_child(struct trial_run *tr, int sig)
{
	if (tr->child.pid > 0 && !tr->reaped)
		kill(-tr->child.pid, sig);
}

static void stop_child(struct trial_run *tr)
{
	if (tr->killed_at == 0) {
		tr->killed_at = now();
		kill_child(tr, SIGTERM);
	}
}

/* A `sibyl: attr KEY=VALUE` line: the key set in the trial's metadata.
 * Returns 1 when the line was one (handled, or refused with a warning). */
static int attach_attr(struct trial_run *tr, const char *line)
{
	struct run *r = tr->slot->run;
	char key[512], err[256];
	const char *value;
	size_t vlen;
	int rc = run_parse_attr(line, key, sizeof key, &value, &vlen, err, sizeof err);
	if (rc < 0)
		say(r, "trial %lld: ignored attr line: %s", tr->trial->id, err);
	if (rc <= 0 || tr->lost)
		return rc != 0;
	char *v = strndup(value, vlen);
	const char *keys[] = {key}, *values[] = {v};
	struct sibyl_client *c = tr->slot->client;
	if (v && sibyl_trial_set_metadata(c, tr->trial->name, keys, values, 1, NULL) != 0)
		say(r, "trial %lld: attr %s not recorded: %s: %s", tr->trial->id, key,
		    sibyl_errname(c), sibyl_errmsg(c));
	free(v);
	return 1;
}

static void report(struct trial_run *tr, const char *line)
{
	if (attach_attr(tr, line))
		return;
	struct run *r = tr->slot->run;
	char err[256];
	int rc = run_parse_line(line, r->study, &tr->rep, err, sizeof err);
	if (rc == -1) {
		say(r, "trial %lld: ignored metric line: %s", tr->trial->id, err);
		if (!tr->n_ignored++)
			snprintf(tr->first_ignored, sizeof tr->first_ignored, "%s", err);
	}
	if (rc == -2) { /* said once: it may be every line of a log */
		pthread_mutex_lock(&r->lock);
		int first = !r->warned_json++;
		pthread_mutex_unlock(&r->lock);
		if (first)
			say(r, "trial %lld: ignored: %s (said once)", tr->trial->id, err);
	}
	if (rc <= 0 || tr->killed_at)
		return;
	struct sibyl_metric ms[64];
	struct sibyl_measurement m = {.elapsed_seconds = now() - tr->start, .metrics = ms};
	for (size_t i = 0; i < tr->rep.n_known && m.n_metrics < 64; i++) {
		if (!tr->rep.has[i])
			continue;
		ms[m.n_metrics].metric_id = r->study->metrics[i].metric_id;
		ms[m.n_metrics++].value = tr->rep.values[i];
		tr->last[i] = tr->rep.values[i];
		tr->seen[i] = 1;
	}
	tr->steps++;
	m.step_count = tr->rep.step >= 0 ? tr->rep.step : tr->steps;
	tr->last_step = m.step_count;
	struct sibyl_client *c = tr->slot->client;
	struct sibyl_trial *after = NULL;
	if (sibyl_trial_add_measurement(c, tr->trial->name, &m, &after) != 0) {
		if (!tr->warned_measure++)
			say(r, "trial %lld: measurement not recorded: %s: %s", tr->trial->id,
			    sibyl_errname(c), sibyl_errmsg(c));
		return;
	}
	tr->last_call = now();
	int stopping = after->state == SIBYL_TRIAL_STOPPING;
	sibyl_trial_free(after);
	if (stopping) {
		say(r, "trial %lld: the trial was stopped; stopping the command", tr->trial->id);
		tr->early_stopped = 1;
		stop_child(tr);
		return;
	}
	pthread_mutex_lock(&r->lock);
	int skip = r->no_early_stopping;
	pthread_mutex_unlock(&r->lock);
	if (skip)
		return;
	int should_stop = 0;
	if (sibyl_trial_should_stop(c, tr->trial->name, &should_stop) != 0) {
		if (sibyl_errcode(c) == SIBYL_UNIMPLEMENTED) {
			/* The server has no early stopping: never stop, and ask no more. */
			pthread_mutex_lock(&r->lock);
			r->no_early_stopping = 1;
			pthread_mutex_unlock(&r->lock);
			say(r, "early stopping: not available on the server (UNIMPLEMENTED); "
			       "trials run to the end");
		} else {
			say(r, "trial %lld: early stopping check failed: %s: %s", tr->trial->id,
			    sibyl_errname(c), sibyl_errmsg(c));
		}
		return;
	}
	tr->last_call = now();
	if (should_stop) {
		say(r, "trial %lld: early stopping at step %lld; stopping the command",
		    tr->trial->id, tr->last_step);
		tr->early_stopped = 1;
		stop_child(tr);
	}
}

/* Renews the trial's lease once the command has been quiet for
 * run->heartbeat seconds. The answer says whether the trial is still ours:
 * STOPPING (stopped through the API) stops the command as an early stop
 * does; any other state than ACTIVE means the server gave the trial up or
 * settled it after its lease lapsed (or it was deleted), so the command is
 * stopped and nothing is reported for it. */
static void heartbeat(struct trial_run *tr)
{
	struct run *r = tr->slot->run;
	if (!r->heartbeat || tr->lost || interrupted || now() - tr->last_call < r->heartbeat)
		return;
	struct sibyl_client *c = tr->slot->client;
	struct sibyl_trial *t = NULL;
	/* Also after a failure: the next try comes one interval later. */
	tr->last_call = now();
	int rc = sibyl_trial_get_as(c, tr->trial->name, tr->slot->client_id, &t);
	if (rc == -SIBYL_NOT_FOUND) {
		say(r, "trial %lld: the trial is gone from the server; stopping the command",
		    tr->trial->id);
		tr->lost = 1;
		stop_child(tr);
		return;
	}
	if (rc != 0) {
		if (!tr->warned_beat++)
			say(r, "trial %lld: heartbeat failed: %s: %s", tr->trial->id,
			    sibyl_errname(c), sibyl_errmsg(c));
		return;
	}
	if (t->state == SIBYL_TRIAL_STOPPING && !tr->killed_at) {
		say(r, "trial %lld: the trial was stopped; stopping the command", tr->trial->id);
		tr->early_stopped = 1;
		stop_child(tr);
	} else if (t->state != SIBYL_TRIAL_ACTIVE && t->state != SIBYL_TRIAL_STOPPING) {
		say(r,
		    "trial %lld: the trial is %s on the server%s%s%s; stopping the command "
		    "and not reporting it",
		    tr->trial->id, sibyl_trial_state_name(t->state),
		    t->infeasible_reason ? " (" : "",
		    t->infeasible_reason ? t->infeasible_reason : "",
		    t->infeasible_reason ? ")" : "");
		tr->lost = 1;
		stop_child(tr);
	}
	sibyl_trial_free(t);
}

/* Reads what the child wrote; returns 0, or -1 at EOF. */
static int read_child(struct trial_run *tr, char *buf, size_t *len)
{
	ssize_t n = read(tr->child.fd, buf + *len, LINE_MAX_LEN - *len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return -1;
	*len += (size_t)n;
	size_t startl = 0;
	for (size_t i = 0; i < *len; i++) {
		if (buf[i] != '\n')
			continue;
		buf[i] = '\0';
		pass_through(tr->slot->run, buf + startl, i - startl);
		report(tr, buf + startl);
		startl = i + 1;
	}
	memmove(buf, buf + startl, *len - startl);
	*len -= startl;
	if (*len == LINE_MAX_LEN) { /* a line too long to be a metric line */
		pass_through(tr->slot->run, buf, *len);
		*len = 0;
	}
	return 0;
}

/* Runs the child to its end, reporting as it goes. */
static void supervise(struct trial_run *tr)
{
	struct run *r = tr->slot->run;
	char *buf = malloc(LINE_MAX_LEN + 1);
	size_t len = 0;
	double reaped_at = 0, drawn = now();
	for (;;) {
		if (r->tty && now() - drawn >= 1.0) { /* keep the elapsed time moving */
			pthread_mutex_lock(&r->lock);
			show_progress(r);
			pthread_mutex_unlock(&r->lock);
			drawn = now();
		}
		if (tr->child.fd >= 0 && buf) {
			struct pollfd pfd = {.fd = tr->child.fd, .events = POLLIN};
			int n = poll(&pfd, 1, POLL_MS);
			if (n > 0 && read_child(tr, buf, &len) != 0) {
				if (len) {
					buf[len] = '\0';
					pass_through(r, buf, len);
					report(tr, buf);
					len = 0;
				}
				close(tr->child.fd);
				tr->child.fd = -1;
			}
		} else {
			struct timespec ts = {0, POLL_MS * 1000000L};
			nanosleep(&ts, NULL);
		}
		if (!tr->reaped)
			heartbeat(tr);
		if (interrupted && !tr->stopped_by_signal && !tr->reaped) {
			tr->stopped_by_signal = 1;
			stop_child(tr);
		}
		if (tr->killed_at && !tr->reaped &&
		    (now() - tr->killed_at > r->grace || interrupted > 1))
			kill_child(tr, SIGKILL);
		if (!tr->reaped) {
			pid_t p = waitpid(tr->child.pid, &tr->status, WNOHANG);
			if (p == tr->child.pid || (p < 0 && errno == ECHILD)) {
				tr->reaped = 1;
				reaped_at = now();
			}
		}
		/* A grandchild may keep the pipe open: give it a second, then go. */
		if (tr->reaped && (tr->child.fd < 0 || now() - reaped_at > 1.0))
			break;
	}
	if (tr->child.fd >= 0) {
		close(tr->child.fd);
		tr->child.fd = -1;
	}
	free(buf);
}

/* complete failed even after the retry window: the result must not be
 * lost, so it goes to stderr as JSON (and as the command that delivers
 * it). When the server is unreachable or failing, the run stops. */
static void undelivered(struct trial_run *tr, const struct sibyl_measurement *final,
                        const char *reason)
{
	struct run *r = tr->slot->run;
	struct sibyl_client *c = tr->slot->client;
	int code = sibyl_errcode(c), down = code == SIBYL_ECONNECT || sibyl_errstatus(c) >= 500;
	char *json = run_result_json(tr->trial->name, final, reason);
	char cmd[1024];
	run_result_command(cmd, sizeof cmd, tr->trial->name, final, reason);
	say(r,
	    "trial %lld: the result was not delivered: %s: %s\n"
	    "sibyl: trial %lld: result %s\n"
	    "sibyl: trial %lld: to deliver it later: %s",
	    tr->trial->id, sibyl_errname(c), sibyl_errmsg(c), tr->trial->id,
	    json ? json : "(out of memory)", tr->trial->id, cmd);
	free(json);
	pthread_mutex_lock(&r->lock);
	r->running--;
	r->undelivered++;
	if (down && !r->fatal)
		r->fatal = cli_exit_code(code);
	pthread_mutex_unlock(&r->lock);
}

static void exit_reason(const struct trial_run *tr, char *buf, size_t len)
{
	if (WIFEXITED(tr->status) && WEXITSTATUS(tr->status) == 0 && tr->n_ignored)
		snprintf(buf, len,
		         "the command exited with status 0 without reporting a metric (%lld metric "
		         "lines ignored, the first: %s)",
		         tr->n_ignored, tr->first_ignored);
	else if (WIFEXITED(tr->status) && WEXITSTATUS(tr->status) == 0)
		snprintf(buf, len, "the command exited with status 0 without reporting a metric");
	else if (WIFEXITED(tr->status))
		snprintf(buf, len, "the command exited with status %d", WEXITSTATUS(tr->status));
	else if (WIFSIGNALED(tr->status))
		snprintf(buf, len, "the command was killed by signal %d (%s)", WTERMSIG(tr->status),
		         strsignal(WTERMSIG(tr->status)));
	else
		snprintf(buf, len, "the command ended with wait status %d", tr->status);
}

/* With run->lock held: one more INFEASIBLE trial in a row; at
 * --max-failures the run stops (a broken command or environment would
 * otherwise mark every trial of the study infeasible). */
static void count_failure(struct run *r, const char *reason)
{
	if (++r->failures_in_row < r->max_failures || !r->max_failures || r->fatal)
		return;
	r->fatal = EXIT_FAILURES;
	clear_progress(r);
	fprintf(stderr,
	        "sibyl: stopping: %lld trials in a row were INFEASIBLE (the last: %s); fix the "
	        "command, or raise --max-failures (0: no limit)\n",
	        r->failures_in_row, reason[0] ? reason : "see above");
}

static void finish(struct trial_run *tr)
{
	struct run *r = tr->slot->run;
	struct sibyl_client *c = tr->slot->client;
	const struct sibyl_study *s = r->study;
	struct sibyl_metric ms[64];
	struct sibyl_measurement final = {
	    .elapsed_seconds = now() - tr->start, .step_count = tr->last_step, .metrics = ms};
	for (size_t i = 0; i < s->n_metrics && final.n_metrics < 64; i++) {
		if (!tr->seen[i])
			continue;
		ms[final.n_metrics].metric_id = s->metrics[i].metric_id;
		ms[final.n_metrics++].value = tr->last[i];
	}
	int ok_exit = WIFEXITED(tr->status) && WEXITSTATUS(tr->status) == 0;
	int feasible = final.n_metrics > 0 && (ok_exit || tr->early_stopped);
	char reason[600] = "";
	if (!feasible)
		exit_reason(tr, reason, sizeof reason);
	struct sibyl_trial *done = NULL;
	int rc = sibyl_trial_complete(c, tr->trial->name, feasible ? &final : NULL, !feasible,
	                              feasible ? NULL : reason, &done);
	if (rc == -SIBYL_INVALID_ARGUMENT && feasible) {
		/* The metrics it printed do not make a final measurement (one
		 * objective missing...): say so on the trial rather than leave it. */
		snprintf(reason, sizeof reason, "the final measurement was refused: %s",
		         sibyl_errmsg(c));
		feasible = 0;
		rc = sibyl_trial_complete(c, tr->trial->name, NULL, 1, reason, &done);
	}
	if (rc != 0) {
		undelivered(tr, feasible ? &final : NULL, reason);
		return;
	}
	char result[512] = "", best[256];
	size_t n = 0;
	for (size_t i = 0; done->final_measurement && i < done->final_measurement->n_metrics; i++)
		n += (size_t)snprintf(result + n, sizeof result > n ? sizeof result - n : 0,
		                      " %s=%.6g", done->final_measurement->metrics[i].metric_id,
		                      done->final_measurement->metrics[i].value);
	pthread_mutex_lock(&r->lock);
	r->running--;
	r->done++;
	if (done->state == SIBYL_TRIAL_SUCCEEDED) {
		r->succeeded++;
		for (size_t i = 0; r->objective >= 0 && done->final_measurement &&
		                   i < done->final_measurement->n_metrics;
		     i++) {
			const struct sibyl_metric *m = &done->final_measurement->metrics[i];
			if (strcmp(m->metric_id, s->metrics[r->objective].metric_id) != 0)
				continue;
			int maximize = s->metrics[r->objective].goal == SIBYL_GOAL_MAXIMIZE;
			if (!r->have_best || (maximize ? m->value > r->best : m->value < r->best)) {
				r->have_best = 1;
				r->best = m->value;
				r->best_id = done->id;
			}
		}
		r->failures_in_row = 0;
	} else if (done->state == SIBYL_TRIAL_INFEASIBLE) {
		r->infeasible++;
		count_failure(r, reason);
	}
	best_text(r, best, sizeof best);
	char max[32] = "";
	if (r->max_trials)
		snprintf(max, sizeof max, " of %lld", r->max_trials);
	clear_progress(r);
	fprintf(stderr, "sibyl: trial %lld %s%s%s%s%s | %lld%s done, %s, elapsed %.1fs\n", done->id,
	        sibyl_trial_state_name(done->state), result, reason[0] ? " (" : "", reason,
	        reason[0] ? ")" : "", r->done, max, best, now() - r->t0);
	show_progress(r);
	pthread_mutex_unlock(&r->lock);
	sibyl_trial_free(done);
}

/* A trial handed back to its worker (same client id) after a restart
 * already has measurements: number the new ones after its last step, and
 * start from its last value of each metric. */
static void resume(struct trial_run *tr)
{
	const struct sibyl_trial *t = tr->trial;
	if (t->n_measurements == 0)
		return;
	tr->last_step = run_last_step(t);
	tr->steps = tr->last_step;
	run_last_values(t, tr->slot->run->study, tr->last, tr->seen);
	say(tr->slot->run, "trial %lld: resumed after step %lld (%zu measurements reported before)",
	    t->id, tr->last_step, t->n_measurements);
}

static void run_one(struct slot *sl, const struct sibyl_trial *t)
{
	struct run *r = sl->run;
	size_t nm = r->study->n_metrics ? r->study->n_metrics : 1;
	struct trial_run tr = {.slot = sl, .trial = t, .last_step = -1};
	tr.rep.n_known = r->study->n_metrics;
	tr.rep.values = calloc(nm, sizeof(double));
	tr.rep.has = calloc(nm, sizeof(int));
	tr.last = calloc(nm, sizeof(double));
	tr.seen = calloc(nm, sizeof(int));
	char err[512], params[1024] = "";
	if (!tr.rep.values || !tr.rep.has || !tr.last || !tr.seen) {
		say(r, "out of memory");
		pthread_mutex_lock(&r->lock);
		r->fatal = EXIT_SERVER;
		r->running--;
		pthread_mutex_unlock(&r->lock);
		goto out;
	}
	size_t n = 0;
	for (size_t i = 0; i < t->n_parameters && n < sizeof params; i++) {
		char v[256];
		run_format_value(&t->parameters[i], v, sizeof v);
		n += (size_t)snprintf(params + n, sizeof params - n, " %s=%s",
		                      t->parameters[i].parameter_id, v);
	}
	say(r, "trial %lld started (%s):%s", t->id, sl->client_id, params);
	resume(&tr);
	tr.start = now();
	tr.last_call = tr.start; /* the suggest that handed it out renewed the lease */
	if (run_spawn(r->cmd, t, &tr.child, err, sizeof err) != 0) {
		/* Every trial would fail the same way: stop the run, leave the
		 * trial ACTIVE for the next worker with this client id. */
		say(r, "%s", err);
		pthread_mutex_lock(&r->lock);
		r->fatal = EXIT_USAGE;
		r->running--;
		pthread_mutex_unlock(&r->lock);
		goto out;
	}
	supervise(&tr);
	if (tr.stopped_by_signal) {
		if (r->heartbeat)
			say(r,
			    "trial %lld: interrupted; left ACTIVE: resume it with --client-id %s, "
			    "or its staleTrialTimeout gives it to another worker",
			    t->id, sl->client_id);
		else
			say(r,
			    "trial %lld: interrupted; left ACTIVE until it is resumed (run again "
			    "with --client-id %s), completed or stopped (sibyl trial complete %s "
			    "--infeasible REASON): the study has no staleTrialTimeout",
			    t->id, sl->client_id, t->name);
		pthread_mutex_lock(&r->lock);
		r->running--;
		pthread_mutex_unlock(&r->lock);
		goto out;
	}
	if (tr.lost) {
		pthread_mutex_lock(&r->lock);
		r->running--;
		r->lost++;
		pthread_mutex_unlock(&r->lock);
		goto out;
	}
	finish(&tr);
out:
	free(tr.rep.values);
	free(tr.rep.has);
	free(tr.last);
	free(tr.seen);
}

static void *slot_main(void *arg)
{
	struct slot *sl = arg;
	struct run *r = sl->run;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		int go = !interrupted && !r->fatal && !r->study_done &&
		         (!r->max_trials || r->started < r->max_trials);
		if (go) {
			r->started++;
			r->running++;
			show_progress(r);
		}
		pthread_mutex_unlock(&r->lock);
		if (!go)
			break;
		struct sibyl_trial_list *l = NULL;
		struct sibyl_client *c = sl->client;
		int rc = sibyl_trial_suggest(c, r->study_name, 1, sl->client_id, &l);
		int empty = rc == 0 && l->n == 0;
		if (rc != 0 || empty) {
			int complete = empty || sibyl_errcode(c) == SIBYL_FAILED_PRECONDITION;
			if (complete)
				say(r, "the study is complete: no more trials");
			else
				say(r, "suggest failed: %s: %s", sibyl_errname(c), sibyl_errmsg(c));
			pthread_mutex_lock(&r->lock);
			r->started--;
			r->running--;
			if (complete)
				r->study_done = 1;
			else if (!r->fatal)
				r->fatal = cli_exit_code(sibyl_errcode(c));
			pthread_mutex_unlock(&r->lock);
			sibyl_trial_list_free(l);
			break;
		}
		if (interrupted) {
			/* Ctrl-C while asking: do not start what would be killed at once. */
			pthread_mutex_lock(&r->lock);
			r->running--;
			pthread_mutex_unlock(&r->lock);
			sibyl_trial_list_free(l);
			break;
		}
		run_one(sl, l->trials[0]);
		sibyl_trial_list_free(l);
	}
	return NULL;
}

static const char run_help[] =
    "usage: sibyl run --study OWNER/STUDY --client-id ID [--max-trials N] [--parallel N]\n"
    "                 [--grace SECONDS] [--max-failures N] -- CMD [ARGS...]\n\n"
    "For each trial: suggest, run CMD with the parameters as environment variables\n"
    "SIBYL_PARAM_<ID> (ID upper-cased, other characters as _), SIBYL_TRIAL_ID and\n"
    "SIBYL_TRIAL_NAME, and {ID} in ARGS replaced by the value. CMD's stdout is passed\n"
    "through; lines `sibyl: METRIC=VALUE [METRIC2=VALUE] [step=N]` or JSON objects\n"
    "`{\"METRIC\": VALUE, \"step\": N}` are reported as measurements. After each one the\n"
    "service is asked whether to stop early; if so CMD gets SIGTERM (SIGKILL after\n"
    "--grace seconds, default 10) and the trial completes with its last values.\n"
    "When CMD exits 0 the trial completes with the last value of each metric; when it\n"
    "fails or reports nothing, the trial is INFEASIBLE with the reason.\n"
    "When the study has a staleTrialTimeout, the trial is renewed by a heartbeat every\n"
    "third of it (at most once a second) while CMD runs, however long it is silent; if\n"
    "the server gave the trial up or settled it meanwhile, CMD is stopped as above and\n"
    "the trial is not reported.\n"
    "A trial handed back to the same client id goes on from its last step: CMD gets\n"
    "SIBYL_LAST_STEP and SIBYL_STEP_START, and lines without step= are numbered from there.\n"
    "While the server is down or restarting, calls are retried for the retry window\n"
    "(sibyl --retry-window SECONDS run ..., or SIBYL_RETRY_WINDOW; default 300 s); a result\n"
    "that could not be delivered in it is printed on stderr as JSON, and the run exits 2.\n"
    "--parallel N runs N commands at once, with client ids ID-1 ... ID-N.\n"
    "Without --max-trials it runs until the study is complete. --max-failures N\n"
    "(default 5; 0: no limit) stops the run after N INFEASIBLE trials in a row; the\n"
    "run exits 8 then, or when trials ended and none succeeded. Ctrl-C or SIGTERM\n"
    "stops the commands and exits 130; their trials stay ACTIVE: run again with the\n"
    "same --client-id to resume them (or the study's staleTrialTimeout gives them\n"
    "to another worker).\n";

int cmd_run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"study", required_argument, NULL, 's'},
	                                     {"client-id", required_argument, NULL, 'c'},
	                                     {"max-trials", required_argument, NULL, 'n'},
	                                     {"parallel", required_argument, NULL, 'p'},
	                                     {"grace", required_argument, NULL, 'g'},
	                                     {"max-failures", required_argument, NULL, 'F'},
	                                     {NULL, 0, NULL, 0}};
	const char *study_ref = NULL, *client_id = NULL;
	long long max_trials = 0, parallel = 1, max_failures = 5;
	double grace = 10;
	int ch;
	optind = 0;
	while ((ch = cli_getopt(cli, argc, argv, "+h", opts)) != -1) {
		switch (ch) {
		case 'h':
			fputs(run_help, stdout);
			return EXIT_OK;
		case 'J':
			break;
		case 's':
			study_ref = optarg;
			break;
		case 'c':
			client_id = optarg;
			break;
		case 'n':
			if (cli_parse_ll(optarg, &max_trials) || max_trials < 1)
				return cli_usage("bad --max-trials \"%s\"", optarg);
			break;
		case 'p':
			if (cli_parse_ll(optarg, &parallel) || parallel < 1 || parallel > 256)
				return cli_usage("bad --parallel \"%s\": 1 to 256", optarg);
			break;
		case 'g':
			if (cli_parse_double(optarg, &grace) || grace < 0)
				return cli_usage("bad --grace \"%s\"", optarg);
			break;
		case 'F':
			if (cli_parse_ll(optarg, &max_failures) || max_failures < 0)
				return cli_usage(
				    "bad --max-failures \"%s\": a count, 0 for no limit", optarg);
			break;
		default:
			fputs(run_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (!study_ref || !client_id || !*client_id || optind >= argc) {
		fputs(run_help, stderr);
		return cli_usage("run needs --study, --client-id and a command after --");
	}
	if (strlen(client_id) > 200)
		return cli_usage("--client-id is too long");
	char why[4200];
	if (run_find_command(argv[optind], why, sizeof why))
		return cli_usage("%s (no trial was asked for)", why);
	if (cli_connect(cli))
		return EXIT_USAGE;
	char *study_name = cli_study_name(study_ref);
	if (!study_name)
		return EXIT_USAGE;
	struct sibyl_study *study = NULL;
	if (sibyl_study_get(cli->client, study_name, &study) != 0) {
		int rc = cli_fail(cli, "run");
		sibyl_free(study_name);
		return rc;
	}
	struct run r = {.cli = cli,
	                .study = study,
	                .study_name = study_name,
	                .cmd = argv + optind,
	                .max_trials = max_trials,
	                .grace = grace,
	                .heartbeat = run_heartbeat_every(run_lease_seconds(study)),
	                .tty = isatty(STDERR_FILENO),
	                .max_failures = max_failures,
	                .t0 = now(),
	                .objective = -1};
	pthread_mutex_init(&r.lock, NULL);
	char warn[2600];
	if (run_check_placeholders(r.cmd, study, warn, sizeof warn))
		say(&r, "warning: %s", warn);
	for (size_t i = 0; i < study->n_metrics; i++)
		if (!study->metrics[i].is_constraint) {
			r.objective = (int)i;
			break;
		}

	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term,
	                 ign = {.sa_handler = SIG_IGN};
	struct sigaction old_pipe;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGPIPE, &ign, &old_pipe);

	struct slot *slots = calloc((size_t)parallel, sizeof *slots);
	pthread_t *threads = calloc((size_t)parallel, sizeof *threads);
	int *started = calloc((size_t)parallel, sizeof *started);
	int rc = EXIT_OK;
	if (!slots || !threads || !started) {
		rc = cli_usage("out of memory");
		goto out;
	}
	for (long long i = 0; i < parallel; i++) {
		slots[i].run = &r;
		if (parallel == 1)
			snprintf(slots[i].client_id, sizeof slots[i].client_id, "%s", client_id);
		else
			snprintf(slots[i].client_id, sizeof slots[i].client_id, "%s-%lld",
			         client_id, i + 1);
		slots[i].client = cli_client_new(cli);
		if (!slots[i].client) {
			rc = cli_usage("cannot make a client for %s", cli->url);
			goto out;
		}
		sibyl_client_set_wait_hook(slots[i].client, run_wait, &slots[i]);
	}
	for (long long i = 0; i < parallel; i++) {
		if (pthread_create(&threads[i], NULL, slot_main, &slots[i]) != 0) {
			say(&r, "cannot start worker thread %lld", i + 1);
			pthread_mutex_lock(&r.lock);
			r.fatal = EXIT_SERVER;
			pthread_mutex_unlock(&r.lock);
			break;
		}
		started[i] = 1;
	}
	for (long long i = 0; i < parallel; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	pthread_mutex_lock(&r.lock);
	clear_progress(&r);
	char best[256];
	best_text(&r, best, sizeof best);
	char lost[128] = "";
	if (r.lost)
		snprintf(lost, sizeof lost, ", %lld given up by the server", r.lost);
	if (r.undelivered)
		snprintf(lost + strlen(lost), sizeof lost - strlen(lost),
		         ", %lld not delivered (printed above)", r.undelivered);
	fprintf(stderr, "sibyl: %lld trial%s done (%lld succeeded, %lld infeasible)%s, %s\n",
	        r.done, r.done == 1 ? "" : "s", r.succeeded, r.infeasible, lost, best);
	rc = interrupted ? EXIT_INTERRUPTED : r.fatal;
	if (rc == EXIT_OK && r.infeasible > 0 && r.succeeded == 0) {
		fprintf(stderr, "sibyl: no trial succeeded\n");
		rc = EXIT_FAILURES;
	}
	pthread_mutex_unlock(&r.lock);
out:
	for (long long i = 0; slots && i < parallel; i++)
		sibyl_client_free(slots[i].client);
	free(slots);
	free(threads);
	free(started);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	pthread_mutex_destroy(&r.lock);
	sibyl_study_free(study);
	sibyl_free(study_name);
	return rc;
}
