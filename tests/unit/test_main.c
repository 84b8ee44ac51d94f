/* The core's unit tests: one program, so it also runs on the lx106. */
#include <stdio.h>
#include <stdlib.h>

#include "test.h"

unsigned test_passed, test_failed;

void test_name(void);
void test_wire(void);
void test_zone(void);
void test_xfr(void);
void test_answer(void);
void test_refresh(void);
void test_dnssec(void);
void test_rrl(void);
void test_patch(void);
void test_self(void);
void test_catz(void);
#ifndef TEST_NO_TSIG /* builds without HMAC (the lx106's) leave TSIG out */
void test_tsig(void);
#endif

/* Test data lives in tests/data; the path is relative to the repository
 * unless TEST_DATA_DIR says otherwise. */
const char *test_data_dir(void);
const char *test_data_dir(void)
{
	const char *d = getenv("TEST_DATA_DIR");
	return d ? d : "tests/data";
}

int main(void)
{
	test_name();
	test_wire();
	test_zone();
	test_xfr();
	test_answer();
	test_refresh();
	test_dnssec();
	test_rrl();
	test_patch();
	test_self();
	test_catz();
#ifndef TEST_NO_TSIG
	test_tsig();
#else
	printf("core: TSIG tests left out (no HMAC in this build)\n");
#endif
	printf("core: %u passed, %u failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}
