/* space: the search space of a study, and the map between a trial's
 * parameter values and a point in the unit cube, shared by every algorithm.
 *
 * Parameters are kept flat: conditional children follow in the same array and
 * name their parent by index. A trial's parameters are a vector of doubles,
 * one per parameter ("value space"):
 *   DOUBLE      the value itself
 *   INTEGER     the integer value (exactly representable)
 *   DISCRETE    one of the spec's values (exactly)
 *   CATEGORICAL the index of the category in `categories`
 *   NAN         the parameter is absent (an inactive conditional child)
 *
 * The unit-cube encoding ("u space") has one coordinate per parameter, in
 * [0, 1]:
 *   DOUBLE      (scaled(x) - scaled(lo)) / (scaled(hi) - scaled(lo)), where
 *               scaled is the identity, ln, or the reverse log
 *               -ln(lo + hi - x) for UNIT_REVERSE_LOG_SCALE
 *   INTEGER     the same over [lo - 0.5, hi + 0.5], so every integer owns
 *               an equal cell (log and reverse-log scales need lo >= 1,
 *               which the spec validation enforces)
 *   DISCRETE    the same over the scaled values, each value owning the cell
 *               between the midpoints to its neighbours; decode snaps to the
 *               nearest value in the scaled space. The range is padded by
 *               half the neighbouring gap at each end (like the integers'
 *               half unit), so the end values own a full cell too; a single
 *               value encodes as 0.5
 *   CATEGORICAL (index + 0.5) / K; decode is floor(u * K) clamped to K - 1
 *   inactive    0.5 (a fixed value, so inactive children add no distance)
 * Decoding never leaves the bounds: u is clamped to [0, 1] first.
 */
#ifndef SIBYL_SPACE_H
#define SIBYL_SPACE_H

#include <stddef.h>

enum space_type { SPACE_DOUBLE, SPACE_INTEGER, SPACE_DISCRETE, SPACE_CATEGORICAL };
enum space_scale { SPACE_LINEAR, SPACE_LOG, SPACE_REVERSE_LOG };

struct space_param {
	char *id; /* parameterId; owned */
	enum space_type type;
	enum space_scale scale; /* always SPACE_LINEAR for CATEGORICAL */
	double min, max;        /* DOUBLE, INTEGER; for DISCRETE the first and last value */
	double *values;         /* DISCRETE: increasing values; owned */
	size_t n_values;
	char **categories; /* CATEGORICAL: the values in spec order; owned */
	size_t n_categories;
	double default_value; /* in value space; NAN when the spec gave none */
	/* Conditional child: parent >= 0 is the index of the parent parameter
	 * (always an earlier index); the child is active when the parent's value
	 * equals one of parent_values (value space, so a category index for a
	 * categorical parent). parent = -1 for a top-level parameter. */
	int parent;
	double *parent_values; /* owned */
	size_t n_parent_values;
};

struct space {
	struct space_param *params; /* owned */
	size_t n;
};

/* Frees everything the space owns (not the struct itself). NULL-safe. */
void space_free(struct space *s);

/* Appends a zero-initialised parameter (parent = -1, default NAN) and returns
 * it, or NULL on out-of-memory. The caller fills the fields with malloc'd
 * memory that the space then owns. Pointers into s->params are invalidated. */
struct space_param *space_add(struct space *s);

/* Index of the parameter with this id, or -1. */
int space_find(const struct space *s, const char *id);

/* 1 when parameter i is active given the other values of v (its parent is
 * active and takes one of parent_values), else 0. */
int space_active(const struct space *s, const double *v, size_t i);

/* Value space -> unit cube. Absent parameters encode as 0.5. */
void space_encode(const struct space *s, const double *v, double *u /* OUT, s->n */);

/* Unit cube -> value space: clamps, rounds integers, snaps discrete values,
 * picks categories, and sets inactive children to NAN. */
void space_decode(const struct space *s, const double *u, double *v /* OUT, s->n */);

/* Snap u in place to the encoding of the value it decodes to (the centre of
 * its integer, discrete or categorical cell; doubles are only clamped), and
 * set inactive children to 0.5. Equivalent to encode(decode(u)). */
void space_snap(const struct space *s, double *u /* IN/OUT */);

/* 1 when v is a valid point of the space: every active parameter present and
 * inside its domain (integer, a discrete value, a category index), every
 * inactive one NAN. On 0, writes what is wrong into err (may be NULL). */
int space_valid(const struct space *s, const double *v, char *err, size_t errlen);

/* 0 when the space is usable by the encoding: at least one parameter; for
 * each, min <= max, finite bounds, min > 0 on a log or reverse-log scale
 * (INTEGER: min >= 1), discrete values increasing, at least one category,
 * parent an earlier index. Else -1 with the reason in err. The API's spec
 * validation should reject such specs first; this is the designer's guard. */
int space_check(const struct space *s, char *err /* OUT */, size_t errlen);

/* One parameter's encoding, ignoring activity: value -> u in [0, 1], and
 * u (clamped) -> value in its domain. space_encode/space_decode apply these
 * and handle conditional children. */
double space_param_encode(const struct space_param *p, double x);
double space_param_decode(const struct space_param *p, double u);

/* 1 when two value vectors are the same trial (NAN equals NAN). */
int space_equal(const struct space *s, const double *a, const double *b);

/* Number of distinct points of a space with no DOUBLE parameter (counting
 * conditional children), or 0 when it has a DOUBLE parameter or the count
 * exceeds 2^53. */
double space_cardinality(const struct space *s);

#endif
