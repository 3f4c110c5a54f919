/*
 * The few statistics result files report: a Wilson interval for a
 * proportion, the standard error of a mean, and sample quantiles for
 * bootstrap intervals. Kept here because the runner, the comparison and
 * the mAP bootstrap all need the same definitions.
 */
#include "util/util.h"

#include <math.h>
#include <stdlib.h>

/* Acklam's rational approximation (relative error below 1.2e-9), then one
 * Halley step on erfc, which C has, to full double precision: C has no
 * inverse error function. */
static double acklam(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    if (p < 0.02425 || p > 1 - 0.02425) {
        double q = sqrt(-2 * log(p < 0.5 ? p : 1 - p));
        double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                   ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        return p < 0.5 ? x : -x;
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double util_normal_quantile(double p)
{
    if (!(p > 0 && p < 1))
        return NAN;
    double x = acklam(p);
    double e = 0.5 * erfc(-x / sqrt(2)) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

void util_wilson(double k, double n, double level, double *lo, double *hi)
{
    if (!(n > 0) || !(k >= 0) || k > n || !(level > 0 && level < 1)) {
        *lo = *hi = NAN;
        return;
    }
    double z = util_normal_quantile(0.5 + level / 2), z2 = z * z, p = k / n;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = z / (1 + z2 / n) * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    /* Rounding must not put the ends outside [0, 1] or on the wrong side
     * of p when p is 0 or 1, where the exact interval touches the end. */
    *lo = k == 0 ? 0 : fmax(0, centre - half);
    *hi = k == n ? 1 : fmin(1, centre + half);
}

double util_mean_se(const double *x, size_t n)
{
    if (n < 2)
        return NAN;
    /* Two passes: the one-pass sum of squares loses the digits that a
     * PSNR near 40 dB with a spread of 0.1 dB needs. */
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        ss += d * d;
    }
    return sqrt(ss / (double)(n - 1) / (double)n);
}

double util_quantile(const double *sorted, size_t n, double p)
{
    if (n == 0 || !(p >= 0 && p <= 1))
        return NAN;
    double h = (double)(n - 1) * p;
    size_t i = (size_t)h;
    if (i + 1 >= n)
        return sorted[n - 1];
    /* Equal neighbours (infinities for "never" among them) need no
     * interpolation, which would give inf - inf. */
    if (h == (double)i || sorted[i + 1] == sorted[i])
        return sorted[i];
    if (isinf(sorted[i + 1]))
        return sorted[i + 1];
    return sorted[i] + (h - (double)i) * (sorted[i + 1] - sorted[i]);
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

void util_sort_doubles(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
}

void util_interval(double *v, size_t n, double level, double *lo, double *hi)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    util_sort_doubles(v, k);
    if (lo)
        *lo = util_quantile(v, k, (1 - level) / 2);
    if (hi)
        *hi = util_quantile(v, k, (1 + level) / 2);
}
