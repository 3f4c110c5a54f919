/*
 * jconfigint.h for libjpeg-turbo 2.1.5, by hand (see jconfig.h). Valid for
 * GCC on both arm-none-eabi (32-bit size_t) and the 64-bit host: the sizes
 * come from the compiler's own predefined macros.
 */
#define BUILD  "device-m7"

#undef inline
#define INLINE  __inline__ __attribute__((always_inline))

/* Single-threaded bare metal: no thread-local storage needed. */
#define THREAD_LOCAL

#define PACKAGE_NAME  "libjpeg-turbo"
#define VERSION  "2.1.5"

#define SIZEOF_SIZE_T  __SIZEOF_SIZE_T__

/* GCC has __builtin_ctzl, and sizeof(unsigned long) == sizeof(size_t) on
 * both targets (4 on arm-none-eabi, 8 on x86-64 Linux). */
#define HAVE_BUILTIN_CTZL

#if defined(__has_attribute)
#if __has_attribute(fallthrough)
#define FALLTHROUGH  __attribute__((fallthrough));
#else
#define FALLTHROUGH
#endif
#else
#define FALLTHROUGH
#endif

/* Bare metal has no environment: no JPEGMEM variable (jmemmgr.c) and no
 * setenv(), which newlib hides under -std=c11 anyway. The host twin uses the
 * same settings. */
#define NO_GETENV
#define NO_PUTENV
