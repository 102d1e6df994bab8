#include <math.h>

#include "pointset.h"
#include "test.h"

int main(void)
{
	struct pointset ps;
	ASSERT_EQ_INT(pointset_init(&ps, 3), 0);
	double a[] = {1.0, NAN, 0.0};
	double a2[] = {1.0, NAN, -0.0}; /* same trial: NAN = NAN, -0 = 0 */
	double b[] = {1.0, 2.0, 0.0};
	ASSERT_EQ_INT(pointset_has(&ps, a), 0);
	ASSERT_EQ_INT(pointset_add(&ps, a), 1);
	ASSERT_EQ_INT(pointset_add(&ps, a), 0);
	ASSERT_EQ_INT(pointset_has(&ps, a2), 1);
	ASSERT_EQ_INT(pointset_add(&ps, a2), 0);
	ASSERT_EQ_INT(pointset_has(&ps, b), 0);
	ASSERT_EQ_INT(pointset_add(&ps, b), 1);
	ASSERT_EQ_INT((int)ps.n, 2);

	/* Growth keeps every point findable and nothing else. */
	for (int k = 0; k < 5000; k++) {
		double v[] = {k, k * 0.5, k % 7 ? NAN : 1.0};
		ASSERT_EQ_INT(pointset_add(&ps, v), 1);
	}
	ASSERT_EQ_INT((int)ps.n, 5002);
	int missing = 0, phantom = 0;
	for (int k = 0; k < 5000; k++) {
		double v[] = {k, k * 0.5, k % 7 ? NAN : 1.0};
		double w[] = {k, k * 0.5 + 0.25, k % 7 ? NAN : 1.0};
		missing += !pointset_has(&ps, v);
		phantom += pointset_has(&ps, w);
	}
	ASSERT_EQ_INT(missing, 0);
	ASSERT_EQ_INT(phantom, 0);
	ASSERT_EQ_INT(pointset_has(&ps, a), 1);
	pointset_free(&ps);
	pointset_free(&ps);
	pointset_free(NULL);
	return test_done("test-pointset");
}
