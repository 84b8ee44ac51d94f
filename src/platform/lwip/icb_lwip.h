/* ICBIND over lwIP's raw (callback) API: the platform layer for the
 * ESP8266 (NONOS SDK, Arduino core, ESP8266 RTOS SDK) and any other lwIP
 * device.  docs/porting.md says how to build it and what the board support
 * package (BSP) supplies; docs/embedded.md gives the memory it needs.
 *
 * Why the raw API and not sockets: the NONOS SDK's lwIP is built with
 * NO_SYS 1, LWIP_SOCKET 0 and LWIP_NETCONN 0, so callbacks are all it has;
 * the RTOS SDK and ESP-IDF have them too (run from the tcpip thread).  The
 * raw API is also the one that fits the core: a received pbuf is handed to
 * xfr_feed() as it is, segment by segment, with no socket buffer and no
 * copy (the point of the streaming parser), and a reply is written straight
 * into the pbuf that is sent.  Sockets would add a thread, a mailbox and a
 * receive buffer per socket to a device with 40 KiB of heap.
 *
 * Everything here runs in lwIP's context: the main loop with NO_SYS 1, the
 * tcpip thread otherwise (start it from tcpip_init()'s callback, or under
 * LOCK_TCPIP_CORE()).  It is single-threaded, so a zone version is freed as
 * soon as it is replaced.
 *
 * This header names lwIP's types only through pointers, so that the state
 * below can be sized without lwIP's headers (tests/lx106/budget.c does). */
#ifndef ICBIND_LWIP_H
#define ICBIND_LWIP_H

#include <stddef.h>
#include <stdint.h>

#include "../../core/catalog.h"
#include "../../core/hmac.h"
#include "../../core/limits.h"
#include "../../core/refresh.h"

/* ---- what the board support package provides ------------------------ */

/* Milliseconds on a monotonic clock (the NONOS SDK: system_get_time() /
 * 1000 with its wrap counted; FreeRTOS: xTaskGetTickCount() scaled). */
uint64_t icb_bsp_now_ms(void);
/* Wall-clock seconds since 1970, for TSIG (RFC 8945 5.2.3: within the
 * fudge, 300 s, of the primary's); SNTP sets it.  0 if not known yet:
 * TSIG-signed checks then fail until it is. */
uint64_t icb_bsp_time(void);
/* 32 unpredictable bits: message IDs (RFC 5452 9.2) and the refresh
 * jitter.  The ESP8266's hardware RNG (os_random(), esp_random()). */
uint32_t icb_bsp_random(void);
enum { ICB_LOG_ERR = 0, ICB_LOG_NOTICE = 1, ICB_LOG_INFO = 2 };
/* One log line, printf-style, without the newline. */
void icb_bsp_log(int level, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
/* And from src/core/hmac.h: HMAC for TSIG and SHA-1 for NSEC3, from the
 * SDK's crypto library (mbedTLS in ESP-IDF and the RTOS SDK, BearSSL in
 * the Arduino core); OpenSSL on the host (src/platform/posix/
 * hmac_openssl.c). */

/* ---- configuration -------------------------------------------------- */

struct icb_lwip_config {
	uint16_t port;             /* DNS port to listen on, UDP and TCP (53) */
	int tcp;                   /* answer queries over TCP too (1) */
	unsigned tcp_clients;      /* at most this many at once (ICB_TCP_CLIENTS) */
	uint16_t udp_max;          /* our EDNS payload size (ICB_UDP_MAX) */
	size_t zone_max_bytes;     /* zb_init's limit per zone (ICB_ZONE_MAX_BYTES) */
	int xfr_drop_old;          /* free the served version before a transfer (0) */
	unsigned xfr_concurrency;  /* SOA checks and transfers at once (1) */
	uint32_t xfr_timeout_ms;   /* no progress for this long ends one (10000) */
	uint32_t xfr_max_time_ms;  /* a transfer that takes longer fails (0: none) */
	unsigned long xfr_max_bytes; /* limits on what a primary may send (0: none) */
	unsigned long xfr_max_records;
	const struct tsig_key *keys; /* for TSIG-signed queries and NOTIFY */
	size_t n_keys;
};

void icb_lwip_config_default(struct icb_lwip_config *c);

/* ---- the server ------------------------------------------------------ */

struct udp_pcb;
struct tcp_pcb;
struct xfr_parser;
struct zone_builder;
struct tsig_stream;
struct icb_lwip;

/* Keeping one zone fresh (cat_zone.user points here). */
struct icb_lwip_zone {
	struct icb_lwip *srv;
	struct cat_zone *cz;
	struct refresh r;
	int op;                    /* RA_NONE, RA_QUERY_SOA or RA_TRANSFER */
	int soa_tcp;               /* the SOA query went over TCP (UDP was truncated) */
	int has_slot;              /* counts against xfr_concurrency */
	unsigned primary;
	uint16_t id;
	uint64_t started, deadline; /* ms: of the operation, and when it times out */
	struct udp_pcb *udp;       /* the SOA query */
	struct tcp_pcb *tcp;       /* the SOA query over TCP, or the transfer */
	uint8_t *msg;              /* an SOA answer over TCP being gathered (heap) */
	uint16_t msg_len, msg_have;
	uint8_t len_have, len_buf[2];
	struct xfr_parser *xp;     /* while transferring (heap) */
	struct zone_builder *zb;
	struct tsig_stream *ts;    /* TSIG with this primary (heap, while signed) */
	uint8_t req_mac[HMAC_MAX_LEN];
	size_t req_mac_len;
};

/* An inbound TCP client. */
struct icb_lwip_client {
	struct icb_lwip *srv;
	struct tcp_pcb *pcb;
	uint8_t idle;              /* poll intervals without a query */
	uint8_t len_have, len_buf[2];
	uint16_t need, have;
	uint8_t *q;                /* the query being gathered (heap) */
};

struct icb_lwip {
	struct icb_lwip_config cfg;
	struct catalog cat;
	struct icb_lwip_zone *zones; /* one per catalog zone */
	struct udp_pcb *udp;
	struct tcp_pcb *listen;
	unsigned tcp_clients;
	unsigned xfr_active;
	int timer_armed;
	unsigned long queries, dropped;
};

/* Serve n zones: zones[] is filled by the caller (apex, primaries with
 * their ports, keys, allow-notify, strip_dnssec: src/core/catalog.h) and
 * zstate[] gives their state; both stay the caller's and must live as long
 * as the server.  Binds cfg->port (UDP, and TCP if cfg->tcp) on every
 * address and starts each zone's refresh at once.  0, or -1 (logged). */
int icb_lwip_start(struct icb_lwip *s, const struct icb_lwip_config *cfg, struct cat_zone *zones,
		   struct icb_lwip_zone *zstate, size_t n);

/* Close everything and free the zones. */
void icb_lwip_stop(struct icb_lwip *s);

#endif
