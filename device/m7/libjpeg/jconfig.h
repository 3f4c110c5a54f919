/*
 * jconfig.h for libjpeg-turbo 2.1.5 (Debian's source package), written by
 * hand instead of by its CMake build, for device/m7 (Cortex-M7, newlib) and
 * for the host twin of the benchmark (bench/device/jpeg_m7.c), which must
 * produce the same bytes. Settings as Debian's libjpeg62-turbo: the libjpeg
 * 6.2 API, arithmetic coding and the in-memory source/destination managers
 * compiled in; no SIMD (jsimd_none.c is linked instead).
 */
#define JPEG_LIB_VERSION  62
#define LIBJPEG_TURBO_VERSION  2.1.5
#define LIBJPEG_TURBO_VERSION_NUMBER  2001005

#define C_ARITH_CODING_SUPPORTED 1
#define D_ARITH_CODING_SUPPORTED 1
#define MEM_SRCDST_SUPPORTED 1
/* #undef WITH_SIMD */

#define BITS_IN_JSAMPLE  8      /* use 8 or 12 */

/* GCC shifts signed values arithmetically on both targets. */
/* #undef RIGHT_SHIFT_IS_UNSIGNED */
