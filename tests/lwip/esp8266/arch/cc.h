/* lwIP's architecture header for the ESP8266 (lx106: little-endian,
 * 32-bit, picolibc), for the type check of tests/lwip/Makefile. */
#ifndef ICBIND_ESP8266_ARCH_CC_H
#define ICBIND_ESP8266_ARCH_CC_H

#include <stdint.h>

#define BYTE_ORDER LITTLE_ENDIAN
#define LWIP_NO_UNISTD_H 1
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { } while (0)
uint32_t os_random(void); /* the SDK's hardware RNG */
#define LWIP_RAND() ((u32_t)os_random())
typedef uint32_t sys_prot_t;

#endif
