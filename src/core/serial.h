/* Serial number arithmetic, RFC 1982 section 3.2. */
#ifndef ICBIND_SERIAL_H
#define ICBIND_SERIAL_H

#include <stdint.h>

/* Is a newer than b?  Undefined pairs (exactly 2^31 apart) are not newer,
 * so a primary cannot make us flip back and forth between them. */
static inline int serial_newer(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

#endif
