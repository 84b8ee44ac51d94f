/* Response rate limiting (RRL) for UDP answers, in the manner of BIND, NSD
 * and Knot DNS: a defence against reflection attacks, where forged queries
 * make us send answers to a victim.
 *
 * Each UDP response is put in a class: the client's network (an IPv4 /24
 * or IPv6 /56 by default), the kind of response and the name it is about.
 * Each class has a token bucket that refills at responses-per-second and
 * holds at most one second's worth; a response that finds the bucket empty
 * is limited.  Limited responses still count, as a debt of up to `window`
 * seconds, so a flood keeps its class limited until it stops (or slows
 * below the rate) and the debt is paid off.  Of the limited responses every
 * slip-th is "slipped": sent as a small truncated answer (TC=1, nothing in
 * its sections) so that a real client behind the forged address retries
 * over TCP, which cannot be forged; the others are dropped.
 *
 * The table of classes has a fixed size, given at rrl_init(), and is never
 * grown; nothing is allocated per query.  The caller passes the time and a
 * random seed; there are no OS calls.  Not thread-safe: one instance per
 * thread, or a lock around rrl_check(). */
#ifndef ICBIND_RRL_H
#define ICBIND_RRL_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

/* Limits of the configuration, for the configuration parser too. */
#define RRL_MAX_RATE   1000000u /* responses-per-second */
#define RRL_MAX_WINDOW 3600u    /* seconds */
#define RRL_MAX_SLIP   10u

/* Defaults, as BIND's (NSD and Knot DNS are alike). */
#define RRL_DEFAULT_RATE        0u  /* off */
#define RRL_DEFAULT_WINDOW      15u
#define RRL_DEFAULT_SLIP        2u
#define RRL_DEFAULT_IPV4_PREFIX 24u
#define RRL_DEFAULT_IPV6_PREFIX 56u
#define RRL_DEFAULT_TABLE_SIZE  10000u

struct rrl_config {
	uint32_t responses_per_second; /* 0: off (rrl_check always sends) */
	uint32_t window;               /* seconds of debt, 0..RRL_MAX_WINDOW */
	uint8_t slip;                  /* 0: drop all, 1: slip all, n: every n-th */
	uint8_t ipv4_prefix_length;    /* 0..32 */
	uint8_t ipv6_prefix_length;    /* 0..128 */
};

/* What the response is: it decides which name keys the class. */
enum rrl_kind {
	RRL_ANSWER,   /* positive answer: name = qname (for an answer made from
	               * a wildcard, the wildcard's owner, "*.example.com"),
	               * keyed with qtype */
	RRL_NODATA,   /* name exists, no data of the type: name = qname */
	RRL_NXDOMAIN, /* name = the zone's apex: all NXDOMAINs of a zone share */
	RRL_REFERRAL, /* name = the delegation point (owner of the NS set) */
	RRL_ERROR,    /* any other rcode (REFUSED, FORMERR, SERVFAIL, NOTIMP...):
	               * name ignored (may be NULL), keyed with rcode */
};

/* What to do with the response. */
enum rrl_action {
	RRL_SEND = 0, /* send it as it is */
	RRL_DROP = 1, /* send nothing */
	RRL_SLIP = 2, /* send a truncated one instead: the header with TC=1 and
	               * the question only, no answer, authority or additional */
};

struct rrl_stats {
	uint64_t sent, dropped, slipped; /* responses checked, by outcome */
	uint64_t evicted; /* classes still in use pushed out of a full table */
};

struct rrl;

void rrl_config_default(struct rrl_config *cfg);

/* 0 if cfg is within the limits above, else -1. */
int rrl_config_check(const struct rrl_config *cfg);

/* Octets of memory rrl_init() needs for a table of `entries` classes
 * (including slack for alignment); 0 if that would overflow. */
size_t rrl_mem_size(size_t entries);

/* Set up an instance in mem (mem_len octets, any alignment; give it
 * rrl_mem_size(table_size)): the table takes as many classes as fit.
 * seed: random, from the platform, secret, new at every start.  Returns
 * NULL when cfg is out of its limits or mem cannot hold one class.  With
 * responses_per_second 0 only rrl_mem_size(0) octets are needed and
 * rrl_check() always sends (a caller may as well keep a NULL instance).
 * Nothing else is allocated, and there is nothing to free but mem. */
struct rrl *rrl_init(void *mem, size_t mem_len, const struct rrl_config *cfg, uint64_t seed);

/* Classes the table holds (0 when off). */
size_t rrl_entries(const struct rrl *r);

/* Decide about one UDP response about to be sent to client.  name is in
 * uncompressed wire form (case does not matter); see enum rrl_kind for
 * which name to pass.  now_ms: any monotonic clock, in milliseconds, never
 * going backwards.  r may be NULL (RRL off): RRL_SEND.  Returns an
 * enum rrl_action. */
int rrl_check(struct rrl *r, const struct netaddr *client, const uint8_t *name,
	      uint16_t qtype, uint8_t rcode, int kind, uint64_t now_ms);

/* Counts since rrl_init(). */
void rrl_get_stats(const struct rrl *r, struct rrl_stats *out);

#endif
