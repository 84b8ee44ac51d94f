/* A minimal unit-test harness: CHECK() counts, main() prints
 * "N passed, N failed" and exits non-zero on any failure.  Portable C only,
 * so the same tests run on the host and on the lx106. */
#ifndef ICBIND_TEST_H
#define ICBIND_TEST_H

#include <stdio.h>

extern unsigned test_passed, test_failed;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (cond) {                                                  \
			test_passed++;                                       \
		} else {                                                     \
			test_failed++;                                       \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                            \
	} while (0)

#define CHECK_EQ(a, b)                                                             \
	do {                                                                       \
		long long va_ = (long long)(a), vb_ = (long long)(b);              \
		if (va_ == vb_) {                                                  \
			test_passed++;                                             \
		} else {                                                           \
			test_failed++;                                             \
			printf("FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__,  \
			       __LINE__, #a, #b, va_, vb_);                        \
		}                                                                  \
	} while (0)

/* Each test file defines its suite function; test_main.c lists them. */
typedef void (*test_suite_fn)(void);

#endif
