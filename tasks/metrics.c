/* Full-reference image quality: PSNR and SSIM. */
#include "tasks/task.h"

#include <math.h>

double task_psnr(const util_image *ref, const util_image *img)
{
    size_t n = util_image_size(ref);
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)ref->px[i] - (double)img->px[i];
        se += d * d;
    }
    if (se == 0)
        return TASK_PSNR_MAX;
    double psnr = 10.0 * log10(255.0 * 255.0 * (double)n / se);
    return psnr > TASK_PSNR_MAX ? TASK_PSNR_MAX : psnr;
}

#define SSIM_WIN 11
#define SSIM_SIGMA 1.5

static void gaussian(double *g, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double x = i - (n - 1) / 2.0;
        g[i] = exp(-x * x / (2 * SSIM_SIGMA * SSIM_SIGMA));
        sum += g[i];
    }
    for (int i = 0; i < n; i++)
        g[i] /= sum;
}

/* SSIM of one window with its top-left corner at (x0, y0), channel ch. */
static double window_ssim(const util_image *a, const util_image *b, int ch,
                          int x0, int y0, const double *gx, int wx,
                          const double *gy, int wy)
{
    const double c1 = (0.01 * 255) * (0.01 * 255);
    const double c2 = (0.03 * 255) * (0.03 * 255);
    double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
    for (int y = 0; y < wy; y++)
        for (int x = 0; x < wx; x++) {
            size_t i = ((size_t)(y0 + y) * a->w + (x0 + x)) * a->c + ch;
            double w = gx[x] * gy[y], va = a->px[i], vb = b->px[i];
            ma += w * va;
            mb += w * vb;
            saa += w * va * va;
            sbb += w * vb * vb;
            sab += w * va * vb;
        }
    double va = saa - ma * ma, vb = sbb - mb * mb, cov = sab - ma * mb;
    return ((2 * ma * mb + c1) * (2 * cov + c2)) /
           ((ma * ma + mb * mb + c1) * (va + vb + c2));
}

double task_ssim(const util_image *ref, const util_image *img)
{
    int wx = ref->w < SSIM_WIN ? ref->w : SSIM_WIN;
    int wy = ref->h < SSIM_WIN ? ref->h : SSIM_WIN;
    double gx[SSIM_WIN], gy[SSIM_WIN];
    gaussian(gx, wx);
    gaussian(gy, wy);
    double sum = 0;
    size_t count = 0;
    for (int ch = 0; ch < ref->c; ch++)
        for (int y = 0; y + wy <= ref->h; y++)
            for (int x = 0; x + wx <= ref->w; x++) {
                sum += window_ssim(ref, img, ch, x, y, gx, wx, gy, wy);
                count++;
            }
    return sum / (double)count;
}
