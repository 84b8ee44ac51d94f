/* lwIP options for compiling the ICBIND lwIP port for the ESP8266's CPU
 * (tests/lwip/Makefile): the settings of the NONOS SDK's lwIP that matter
 * to the port (ESP8266_NONOS_SDK third_party/include/lwipopts.h, recorded
 * in shared/embedded/NOTES.md): no OS, raw API only, IPv4 only, no IP
 * fragmentation or reassembly, lwIP's memory from the one libc heap.  The
 * NONOS SDK ships a patched lwIP 1.4; the Arduino core and the RTOS SDK
 * ship lwIP 2.x, whose headers (2.1.3, Debian's liblwip-dev) these are
 * compiled against.  A type check and a size, not a device build. */
#ifndef ICBIND_ESP8266_LWIPOPTS_H
#define ICBIND_ESP8266_LWIPOPTS_H

#define NO_SYS                  1
#define LWIP_SOCKET             0
#define LWIP_NETCONN            0
#define LWIP_IPV4               1
#define LWIP_IPV6               0
#define LWIP_ARP                1
#define LWIP_ETHERNET           1
#define LWIP_UDP                1
#define LWIP_TCP                1
#define LWIP_TIMERS             1
#define LWIP_DNS                0
#define LWIP_DHCP               1
#define IP_REASSEMBLY           0
#define IP_FRAG                 0
#define MEM_LIBC_MALLOC         1
#define MEMP_MEM_MALLOC         1
#define MEM_ALIGNMENT           4
#define TCP_MSS                 1460
#define TCP_SND_BUF             (2 * TCP_MSS)
#define TCP_WND                 (4 * TCP_MSS)
#define MEMP_NUM_UDP_PCB        4
#define MEMP_NUM_TCP_PCB        5
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define TCP_LISTEN_BACKLOG      0
#define LWIP_STATS              0

#endif
