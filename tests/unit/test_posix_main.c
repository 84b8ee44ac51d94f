/* The POSIX platform's unit tests. */
#include <stdio.h>

#include "test.h"

unsigned test_passed, test_failed;

void test_config(void);
void test_loop(void);
void test_workers(void);

int main(void)
{
	test_config();
	test_loop();
	test_workers();
	printf("posix: %u passed, %u failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}
