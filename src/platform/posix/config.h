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
#include "../../core/rrl.h"
#include "../../core/tsig.h"

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

/* A TSIG key ("key:" section). */
struct cfg_key {
	struct tsig_key key;        /* name (wire, lower case), algorithm, secret */
	char text[NAME_TEXT_MAX];   /* the name as written, for messages */
	unsigned line;
};

#define CFG_NO_KEY (-1)

/* A hash index from names to positions in an array (zones, keys), so that
 * lookups stay fast with thousands of zones.  Private to config.c: add
 * zones with cfg_add_zone() and it stays in step with the array. */
struct cfg_index_slot;
struct cfg_index {
	struct cfg_index_slot *slot; /* open addressing, linear probing */
	size_t size;                 /* slots: 0 or a power of two */
	size_t n;                    /* entries: array[0..n) are indexed */
};

struct cfg_zone {
	uint8_t name[NAME_MAXLEN];  /* wire format, lower case */
	char text[NAME_TEXT_MAX];   /* presentation form, no final dot except the root */
	struct cfg_addr primary[CFG_MAX_PRIMARIES];
	int primary_key[CFG_MAX_PRIMARIES];  /* index into cfg.keys, or CFG_NO_KEY */
	size_t n_primary;
	struct cfg_prefix allow_notify[CFG_MAX_ACL]; /* empty: the primaries */
	int allow_notify_key[CFG_MAX_ACL];   /* index into cfg.keys, or CFG_NO_KEY */
	size_t n_allow_notify;
	int strip_dnssec;           /* drop RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY... */
	int request_ixfr;           /* ask for IXFR (default yes) */
	int xfr_drop_old;           /* free the served version before a transfer */
	int catalog;                /* "catalog: consumer": serve the zones it lists (RFC 9432) */
	int member_pattern;         /* catalog-member-pattern: index in cfg.templates, or -1 */
	/* Bounds on the SOA timers, seconds (NSD's names). */
	uint32_t min_refresh, max_refresh, min_retry, max_retry, min_expire, max_expire;
	unsigned line;              /* where it was defined, for messages */
};

/* The longest NSID (the core's CAT_NSID_MAX). */
#define CFG_NSID_MAX 128

struct cfg {
	struct cfg_addr listen[CFG_MAX_LISTEN];
	size_t n_listen;            /* 0: the defaults, 0.0.0.0@53 and ::@53 */
	unsigned udp_max_payload;   /* our EDNS(0) buffer size, 512..4096 */
	unsigned tcp_clients;       /* simultaneous inbound TCP connections */
	unsigned tcp_idle_timeout;  /* seconds */
	unsigned xfr_timeout;       /* seconds without progress before a transfer is abandoned */
	unsigned verbosity;         /* 0 errors, 1 notices (default), 2 info, 3 debug */
	unsigned udp_workers;       /* threads answering UDP (the main one included) */
	struct rrl_config rrl;      /* response rate limiting (off at rate 0) */
	unsigned rrl_table_size;
	int foreground;
	char pidfile[256];
	unsigned xfr_concurrency;   /* SOA checks and transfers under way at once */
	/* Bounds on one transfer: octets received, records, seconds (0: none). */
	uint32_t xfr_max_size, xfr_max_records, xfr_max_time;
	char data_dir[256];         /* persistence of zone versions; empty: none */
	char username[64];          /* run as this user after binding; empty: stay */
	char chroot_dir[256];       /* confine to this directory after binding */
	/* What the server says of itself (RFC 4892, RFC 5001); empty: nothing. */
	char identity[256];
	char version[256];
	uint8_t nsid[CFG_NSID_MAX];
	size_t nsid_len;
	struct cfg_zone *zones;     /* heap array */
	size_t n_zones;
	struct cfg_key *keys;       /* heap array */
	size_t n_keys;
	/* Every pattern as the settings of a zone that includes only it
	 * (text: the pattern's name), for catalog member zones. */
	struct cfg_zone *templates;
	size_t n_templates;
	struct cfg_index zone_index; /* zones by name (cfg_find_zone) */
	struct cfg_index key_index;  /* keys by name (cfg_find_key) */
};

/* The pattern named name as a zone's settings (members of catalog zones
 * take them), or NULL. */
const struct cfg_zone *cfg_find_template(const struct cfg *c, const char *name);

/* Defaults for everything. */
void cfg_init(struct cfg *c);
/* Frees the zones, the keys (secrets wiped) and the indexes. */
void cfg_free(struct cfg *c);
/* A zone with the defaults: nothing but request_ixfr = 1, the timer
 * bounds of docs/configuration.md and every key CFG_NO_KEY. */
void cfg_zone_init(struct cfg_zone *z);

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
/* The index in c->keys of the key with this wire name (any case), or
 * CFG_NO_KEY. */
int cfg_find_key(const struct cfg *c, const uint8_t *name);
/* Append a copy of z to c->zones (and to the index); -1 when out of
 * memory. */
int cfg_add_zone(struct cfg *c, const struct cfg_zone *z);
/* Set z->name and z->text from the presentation form s; 0 or a name_err. */
int cfg_zone_name(struct cfg_zone *z, const char *s);

/* Decode base64 (RFC 4648 section 4: padded, no blanks, pad bits zero)
 * into out.  Returns the length, -1 when s is not base64, -2 when it is
 * but decodes to more than cap octets (out then holds the first cap). */
int cfg_base64_decode(const char *s, uint8_t *out, size_t cap);

#endif
