/* Server configuration: what the command line and the configuration file
 * (docs/configuration.md) describe.  Parsing only; nothing here opens a
 * socket or touches a zone. */
#ifndef ICBIND_CONFIG_H
#define ICBIND_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "../../core/name.h"

/* An address with a port, as written "ADDR[@PORT]". */
struct cfg_addr {
	struct sockaddr_storage sa; /* AF_INET or AF_INET6, port in network order */
	socklen_t len;
};

/* An address prefix, as written "ADDR[/LEN]". */
struct cfg_prefix {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* 4 or 16 bytes used */
	unsigned bits;       /* prefix length */
};

#define CFG_MAX_LISTEN    16
#define CFG_MAX_PRIMARIES 8
#define CFG_MAX_ACL       16

struct cfg_zone {
	uint8_t name[NAME_MAXLEN];  /* wire format, lower case */
	char text[NAME_TEXT_MAX];   /* presentation form, no final dot except the root */
	struct cfg_addr primary[CFG_MAX_PRIMARIES];
	size_t n_primary;
	struct cfg_prefix allow_notify[CFG_MAX_ACL]; /* empty: the primaries */
	size_t n_allow_notify;
	int strip_dnssec;           /* drop RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY... */
	unsigned line;              /* where it was defined, for messages */
};

struct cfg {
	struct cfg_addr listen[CFG_MAX_LISTEN];
	size_t n_listen;            /* 0: the defaults, 0.0.0.0@53 and ::@53 */
	unsigned udp_max_payload;   /* our EDNS(0) buffer size, 512..4096 */
	unsigned tcp_clients;       /* simultaneous inbound TCP connections */
	unsigned tcp_idle_timeout;  /* seconds */
	unsigned xfr_timeout;       /* seconds without progress before a transfer is abandoned */
	unsigned verbosity;         /* 0 errors, 1 notices (default), 2 info, 3 debug */
	int foreground;
	char pidfile[256];
	struct cfg_zone *zones;     /* heap array */
	size_t n_zones;
};

/* Defaults for everything. */
void cfg_init(struct cfg *c);
void cfg_free(struct cfg *c);

/* Parse the configuration file at path into c (zones are appended).
 * Returns 0, or -1 after writing "path:line: what is wrong" into err. */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen);

/* Parse "ADDR[@PORT]" (IPv4 or IPv6, no brackets) with default_port. */
int cfg_parse_addr(const char *s, unsigned default_port, struct cfg_addr *out);
/* Parse "ADDR[/BITS]". */
int cfg_parse_prefix(const char *s, struct cfg_prefix *out);
/* Does the prefix contain this socket address? */
int cfg_prefix_match(const struct cfg_prefix *p, const struct sockaddr *sa);

/* "127.0.0.1@53" / "::1@53" into buf. */
const char *cfg_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* The zone with this (lower-case wire) name, or NULL. */
const struct cfg_zone *cfg_find_zone(const struct cfg *c, const uint8_t *name);
/* Append a copy of z to c->zones; -1 when out of memory. */
int cfg_add_zone(struct cfg *c, const struct cfg_zone *z);
/* Set z->name and z->text from the presentation form s; 0 or a name_err. */
int cfg_zone_name(struct cfg_zone *z, const char *s);

#endif
