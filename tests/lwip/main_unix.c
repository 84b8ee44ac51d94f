/* ICBIND on lwIP's own TCP/IP stack on Linux: the lwIP port
 * (src/platform/lwip/) over Debian's liblwip (lwIP 2.1.3, its unix port)
 * with a TAP interface, for tests/lwip/run.sh.  Every packet ICBIND sends
 * or receives goes through lwIP (ARP, IPv4, UDP, TCP), none through the
 * Linux kernel's sockets: the kernel only carries Ethernet frames between
 * the TAP device and lwIP.
 *
 *   icbind-lwip -z ZONE -p PRIMARY[@PORT] -a ADDR/PREFIX [-l PORT] [-s]
 *               [-t SECONDS]
 *
 *   -z  the zone to serve         -p  its primary (IPv4)
 *   -a  lwIP's own address on the TAP link, e.g. 198.18.53.2/24
 *   -l  the DNS port (53)         -s  strip DNSSEC records
 *   -t  stop after SECONDS (60): a test never runs unbounded
 *
 * The TAP device is PRECONFIGURED_TAPIF from the environment (lwIP's
 * tapif reads it), made beforehand with `ip tuntap add mode tap`.  This
 * file is also the board support package of this "board": the clock, the
 * randomness and the log (icb_lwip.h); HMAC comes from OpenSSL
 * (src/platform/posix/hmac_openssl.c).
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/tcpip.h"
#include "netif/tapif.h"

#include "core/name.h"
#include "platform/lwip/icb_lwip.h"

/* ---- the board support package ------------------------------------------ */

uint64_t icb_bsp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t icb_bsp_time(void)
{
	return (uint64_t)time(NULL);
}

uint32_t icb_bsp_random(void)
{
	uint32_t r;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)icb_bsp_now_ms() * 2654435761u;
	return r;
}

void icb_bsp_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "notice", "info" };
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "icbind-lwip: %s: %s\n", level >= 0 && level <= 2 ? names[level] : "?", line);
	fflush(stderr);
}

/* ---- the program ---------------------------------------------------------- */

static struct netif tap;
static struct icb_lwip srv;
static struct icb_lwip_config cfg;
static struct cat_zone zone;
static struct icb_lwip_zone zone_state;
static ip4_addr_t my_ip, my_mask, my_gw;
static volatile sig_atomic_t stop;
static volatile int started = -2; /* -2 starting, 0 running, -1 failed */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* In lwIP's tcpip thread, where the whole server runs. */
static void init_done(void *arg)
{
	(void)arg;
	if (!netif_add(&tap, &my_ip, &my_mask, &my_gw, NULL, tapif_init, tcpip_input)) {
		started = -1;
		return;
	}
	netif_set_default(&tap);
	netif_set_up(&tap);
	started = icb_lwip_start(&srv, &cfg, &zone, &zone_state, 1);
}

static void stop_server(void *arg)
{
	(void)arg;
	icb_lwip_stop(&srv);
	started = 1;
}

static int parse_v4(const char *s, uint8_t out[4])
{
	unsigned a, b, c, d;
	char tail;
	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 ||
	    c > 255 || d > 255)
		return -1;
	out[0] = (uint8_t)a;
	out[1] = (uint8_t)b;
	out[2] = (uint8_t)c;
	out[3] = (uint8_t)d;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: icbind-lwip -z ZONE -p PRIMARY[@PORT] -a ADDR/PREFIX [-l PORT] [-s] "
			"[-t SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *zname = NULL, *primary = NULL, *addr = NULL;
	unsigned seconds = 60, port = 53;
	int strip = 0, opt;
	while ((opt = getopt(argc, argv, "z:p:a:l:st:")) != -1) {
		switch (opt) {
		case 'z': zname = optarg; break;
		case 'p': primary = optarg; break;
		case 'a': addr = optarg; break;
		case 'l': port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': strip = 1; break;
		case 't': seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (!zname || !primary || !addr || !getenv("PRECONFIGURED_TAPIF"))
		usage();

	if (name_from_text(zname, zone.apex) < 0)
		usage();
	char pbuf[64], abuf[64];
	snprintf(pbuf, sizeof(pbuf), "%s", primary);
	unsigned pport = 53;
	char *at = strchr(pbuf, '@');
	if (at) {
		*at = 0;
		pport = (unsigned)strtoul(at + 1, NULL, 10);
	}
	zone.n_primary = 1;
	zone.primary[0].family = 4;
	zone.primary[0].port = (uint16_t)pport;
	if (parse_v4(pbuf, zone.primary[0].addr) < 0)
		usage();
	zone.strip_dnssec = strip;

	snprintf(abuf, sizeof(abuf), "%s", addr);
	char *slash = strchr(abuf, '/');
	unsigned prefix = 24;
	if (slash) {
		*slash = 0;
		prefix = (unsigned)strtoul(slash + 1, NULL, 10);
	}
	uint8_t a[4];
	if (parse_v4(abuf, a) < 0 || prefix < 1 || prefix > 30)
		usage();
	IP4_ADDR(&my_ip, a[0], a[1], a[2], a[3]);
	uint32_t mask = 0xFFFFFFFFu << (32 - prefix);
	IP4_ADDR(&my_mask, mask >> 24, (mask >> 16) & 255, (mask >> 8) & 255, mask & 255);
	/* The primary is on the link: it is the gateway too. */
	IP4_ADDR(&my_gw, zone.primary[0].addr[0], zone.primary[0].addr[1], zone.primary[0].addr[2],
		 zone.primary[0].addr[3]);

	icb_lwip_config_default(&cfg);
	cfg.port = (uint16_t)port;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	tcpip_init(init_done, NULL);
	for (int i = 0; started == -2 && i < 500; i++)
		usleep(10000);
	if (started != 0) {
		fprintf(stderr, "icbind-lwip: could not start\n");
		return 1;
	}
	fprintf(stderr, "icbind-lwip: lwIP %s on %s, serving %s from %s@%u for at most %u s\n",
		LWIP_VERSION_STRING, getenv("PRECONFIGURED_TAPIF"), zname, pbuf, pport, seconds);
	uint64_t end = icb_bsp_now_ms() + (uint64_t)seconds * 1000u;
	while (!stop && icb_bsp_now_ms() < end)
		usleep(50000);
	tcpip_callback(stop_server, NULL);
	for (int i = 0; started != 1 && i < 200; i++)
		usleep(10000);
	fprintf(stderr, "icbind-lwip: stopped after %lu queries\n", srv.queries);
	return 0;
}
