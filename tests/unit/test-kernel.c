/* kernel: values against the closed form, gradients against central
 * finite differences, Hamming distance for categorical dimensions. */
#include <stdlib.h>

#include "kernel.h"
#include "test.h"

static void test_values(void)
{
	struct kernel k;
	ASSERT_EQ_INT(kernel_init(&k, 2, NULL), 0);
	double ll[2] = {log(0.5), log(2.0)};
	kernel_set(&k, ll, log(1.7));
	double a[2] = {0.1, 0.2}, b[2] = {0.4, 0.9};
	double r2 = 0.3 * 0.3 / 0.25 + 0.7 * 0.7 / 4.0;
	double r = sqrt(r2);
	double want = 1.7 * (1 + sqrt(5) * r + 5.0 / 3.0 * r2) * exp(-sqrt(5) * r);
	ASSERT_REL_DBL(kernel_r2(&k, a, b), r2, 1e-14);
	ASSERT_REL_DBL(kernel_eval(&k, a, b), want, 1e-14);
	ASSERT_REL_DBL(kernel_eval(&k, a, a), 1.7, 1e-15);
	ASSERT_REL_DBL(kernel_eval(&k, a, b), kernel_eval(&k, b, a), 1e-15);
	kernel_free(&k);
	kernel_free(&k); /* idempotent */
}

static void test_hamming(void)
{
	unsigned char cat[2] = {0, 1};
	struct kernel k;
	ASSERT_EQ_INT(kernel_init(&k, 2, cat), 0);
	double ll[2] = {log(0.3), log(0.8)};
	kernel_set(&k, ll, 0.0);
	/* categories 0 and 2 of 3 are as far as 0 and 1: the distance is 1 */
	double a[2] = {0.5, 0.5 / 3}, b[2] = {0.5, 2.5 / 3}, c[2] = {0.5, 1.5 / 3};
	ASSERT_REL_DBL(kernel_r2(&k, a, b), 1.0 / 0.64, 1e-14);
	ASSERT_REL_DBL(kernel_r2(&k, a, c), 1.0 / 0.64, 1e-14);
	ASSERT_EQ_DBL(kernel_r2(&k, b, b), 0.0, 0.0);
	double g[2];
	kernel_grad_x(&k, a, b, g);
	ASSERT_EQ_DBL(g[1], 0.0, 0.0);
	kernel_free(&k);
}

static void test_gradients(void)
{
	enum { D = 4 };
	unsigned char cat[D] = {0, 0, 1, 0};
	struct kernel k;
	ASSERT_EQ_INT(kernel_init(&k, D, cat), 0);
	double ll[D] = {log(0.3), log(0.7), log(0.5), log(1.3)};
	kernel_set(&k, ll, log(0.8));
	double a[D] = {0.2, 0.9, 0.25, 0.4}, b[D] = {0.6, 0.5, 0.75, 0.41};
	double g[D], dk[D + 1], h = 1e-6;
	kernel_grad_x(&k, a, b, g);
	for (int i = 0; i < D; i++) {
		if (cat[i])
			continue;
		double ap[D], am[D];
		memcpy(ap, a, sizeof(a));
		memcpy(am, a, sizeof(a));
		ap[i] += h;
		am[i] -= h;
		double fd = (kernel_eval(&k, ap, b) - kernel_eval(&k, am, b)) / (2 * h);
		ASSERT_EQ_DBL(g[i], fd, 1e-8);
	}
	kernel_grad_theta(&k, a, b, dk);
	for (int i = 0; i <= D; i++) {
		double lp[D], lm[D];
		memcpy(lp, ll, sizeof(ll));
		memcpy(lm, ll, sizeof(ll));
		double sp = log(0.8), sm = log(0.8);
		if (i < D) {
			lp[i] += h;
			lm[i] -= h;
		} else {
			sp += h;
			sm -= h;
		}
		kernel_set(&k, lp, sp);
		double fp = kernel_eval(&k, a, b);
		kernel_set(&k, lm, sm);
		double fm = kernel_eval(&k, a, b);
		ASSERT_EQ_DBL(dk[i], (fp - fm) / (2 * h), 1e-8);
	}
	/* at r = 0 the input gradient is finite (zero) */
	kernel_set(&k, ll, 0.0);
	kernel_grad_x(&k, a, a, g);
	for (int i = 0; i < D; i++)
		ASSERT_EQ_DBL(g[i], 0.0, 0.0);
	kernel_free(&k);
}

int main(void)
{
	test_values();
	test_hamming();
	test_gradients();
	return test_done("kernel");
}
