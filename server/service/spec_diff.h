/* spec_diff: whether the stored StudySpec of a study and the one a create
 * asks for describe the same study (create-or-load, API.md), and if not,
 * the first difference in words, for the ALREADY_EXISTS message:
 *
 *   parameter "lr" doubleValueSpec.maxValue 1 (existing) vs 2 (requested)
 *
 * Both are canonical texts of spec_parse (defaults filled in, keys sorted).
 * Order does not matter for the parameters (matched by parameterId), the
 * conditional children (by their parameterId), the metrics (by metricId),
 * the values of a categorical parameter and the parent values of a child:
 * none of these orders changes what the study means. The order of the
 * objectives among themselves does, when there are two or more (the first
 * objective chooses the BEST_MEASUREMENT measurement and the median rule's
 * metric); discrete values are increasing in both anyway. */
#ifndef SIBYL_SPEC_DIFF_H
#define SIBYL_SPEC_DIFF_H

#include <stddef.h>

/* 0 when they are the same study; 1 when not, with the difference in why
 * (always NUL-terminated, cut to cap). A text that does not parse differs
 * from everything. */
int spec_diff(const char *existing, const char *requested, char *why, size_t cap);

#endif
