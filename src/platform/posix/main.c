/* icbind: a secondary-only authoritative DNS server. */
/* chroot() and setgroups() are outside POSIX proper. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../core/hmac.h"
#include "config.h"
#include "log.h"
#include "members.h"
#include "options.h"
#include "server.h"
#include "snapshot.h"
#include "stats.h"
#include "workers.h"
#include "xfrin.h"

static struct server *the_server;

/* Where icbind was started: relative paths are taken from there, at
 * start and on reload, when a daemon works from "/" (options.h). */
static char start_dir[4096];

/* path, as seen from inside the chroot dir (in place); 0 if it is inside
 * (or there is no chroot), -1 if not. */
static int inside_chroot(char *path, const char *dir)
{
	if (!dir[0] || !path[0])
		return 0;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return 0; /* chroot to / */
	if (strncmp(path, dir, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return -1;
	if (path[n] == '\0')
		memcpy(path, "/", 2);
	else
		memmove(path, path + n, strlen(path + n) + 1);
	return 0;
}

static void on_signal(int sig)
{
	if (!the_server)
		return;
	if (sig == SIGHUP)
		the_server->reload = 1;
	else if (sig == SIGUSR1)
		the_server->report = 1;
	else
		the_server->stop = 1;
	the_server->signalled = 1;
}

/* The catalog the core answers from, made from the configuration and the
 * members of its catalog zones, with its own array of the keys (freed
 * with catalog_release()). */
static int build_catalog(struct catalog *cat, const struct cfg *cfg, const struct member_set *ms)
{
	struct tsig_key *keys = calloc(cfg->n_keys ? cfg->n_keys : 1, sizeof(*keys));
	if (!keys)
		return -1;
	/* Truncated MACs (RFC 8945 5.2.4, local policy) are not accepted:
	 * BADTRUNC, as BIND answers a key not configured for truncation. */
	for (size_t i = 0; i < cfg->n_keys; i++) {
		keys[i] = cfg->keys[i].key;
		keys[i].min_mac_len = (uint16_t)hmac_len(keys[i].alg);
	}
	cat->keys = keys;
	cat->n_keys = cfg->n_keys;
	/* What the server says of itself, in one block owned like the keys. */
	_Static_assert(CFG_NSID_MAX <= CAT_NSID_MAX, "the configured NSID must fit the core's");
	uint8_t *self = malloc(255 + 255 + CAT_NSID_MAX);
	if (!self)
		return -1;
	size_t il = strlen(cfg->identity), vl = strlen(cfg->version);
	memcpy(self, cfg->identity, il);
	memcpy(self + 255, cfg->version, vl);
	memcpy(self + 510, cfg->nsid, cfg->nsid_len);
	cat->identity = (struct cat_text){ self, (uint8_t)il };
	cat->version = (struct cat_text){ self + 255, (uint8_t)vl };
	cat->nsid = (struct cat_text){ self + 510, (uint8_t)cfg->nsid_len };
	cat->n = cfg->n_zones + ms->n;
	cat->zones = calloc(cat->n ? cat->n : 1, sizeof(*cat->zones));
	if (!cat->zones)
		return -1;
	for (size_t i = 0; i < cat->n; i++) {
		const struct member *m = i < cfg->n_zones ? NULL : &ms->m[i - cfg->n_zones];
		const struct cfg_zone *cz = m ? m->settings : &cfg->zones[i];
		struct cat_zone *z = &cat->zones[i];
		const uint8_t *apex = m ? m->name : cz->name;
		memcpy(z->apex, apex, name_len(apex));
		for (size_t p = 0; p < cz->n_primary && p < CAT_MAX_PRIMARIES; p++) {
			sockaddr_to_netaddr((const struct sockaddr *)&cz->primary[p].sa, &z->primary[p]);
			z->primary_key[p] = cz->primary_key[p] >= 0 ? &keys[cz->primary_key[p]] : NULL;
		}
		z->n_primary = (unsigned)cz->n_primary;
		for (size_t a = 0; a < cz->n_allow_notify && a < CAT_MAX_ACL; a++) {
			const struct cfg_prefix *cp = &cz->allow_notify[a];
			z->notify_acl[a].family = cp->family == AF_INET ? 4 : 6;
			memcpy(z->notify_acl[a].addr, cp->addr, 16);
			z->notify_acl[a].bits = (uint8_t)cp->bits;
			z->notify_key[a] = cz->allow_notify_key[a] >= 0 ? &keys[cz->allow_notify_key[a]] : NULL;
		}
		z->n_notify_acl = (unsigned)cz->n_allow_notify;
		z->strip_dnssec = cz->strip_dnssec;
	}
	return catalog_prepare(cat);
}

static void catalog_release(struct catalog *cat)
{
	free((uint8_t *)cat->identity.data);
	cat->identity.data = NULL;
	free((struct tsig_key *)cat->keys);
	free(cat->zones);
	cat->keys = NULL;
	cat->zones = NULL;
}

static void start_zones(struct server *s)
{
	for (size_t i = 0; i < s->cat.n; i++) {
		struct cat_zone *cz = &s->cat.zones[i];
		if (cz->user)
			continue;
		struct xfrin *x = malloc(sizeof(*x));
		if (!x) {
			log_msg(LOG_ERR_, "out of memory: a zone is not served");
			continue;
		}
		xfrin_init(x, s, cz, zone_conf(s->cfg, &s->members, cz->apex));
		cz->user = x;
		xfrin_start(x);
	}
}

static void stop_zone(struct cat_zone *cz)
{
	if (cz->user) {
		xfrin_stop(cz->user);
		free(cz->user);
		cz->user = NULL;
	}
	workers_retire(the_server, catalog_publish(cz, NULL), zone_free_v);
}

/* A catalog as the query threads see it, with the arrays it owns. */
static void live_free(void *p)
{
	struct catalog *c = p;
	free((uint8_t *)c->identity.data);
	free((struct tsig_key *)c->keys);
	free(c->zones);
	free(c);
}

static int publish_live(struct server *s)
{
	struct catalog *c = malloc(sizeof(*c));
	if (!c)
		return -1;
	*c = s->cat;
	struct catalog *old = atomic_exchange(&s->live, c);
	if (old)
		workers_retire(s, old, live_free);
	return 0;
}

/* Serve the zones of nc (the running configuration, or one just read)
 * and the members of its catalog zones: zones in both the old and the new
 * set keep what they serve and their refresh state; removed ones go,
 * added ones start.  A member whose catalog changed, or whose unique label
 * did (a reset, RFC 9432 5.5), starts again from nothing.  -1 if out of
 * memory (nothing changed then). */
static int apply_zones(struct server *s, const struct cfg *nc, size_t *kept, size_t *added,
		       size_t *removed)
{
	struct member_set nm;
	struct catalog ncat = { 0 };
	if (members_compute(s, nc, &s->members, &nm) < 0)
		return -1;
	if (build_catalog(&ncat, nc, &nm) < 0) {
		catalog_release(&ncat);
		members_free(&nm);
		return -1;
	}
	*kept = *added = *removed = 0;
	for (size_t i = 0; i < ncat.n; i++) {
		struct cat_zone *nz = &ncat.zones[i];
		struct cat_zone *oz = catalog_exact(&s->cat, nz->apex);
		const struct member *om = members_find(&s->members, nz->apex);
		const struct member *m = members_find(&nm, nz->apex);
		struct zone_conf zc = zone_conf(nc, &nm, nz->apex);
		const char *text = zc.text;
		if (m && !om)
			log_msg(LOG_NOTICE_, "zone %s: %s catalog %s", text, oz ? "now a member of" : "added by",
				m->catalog_text);
		if (oz && om && m && (!name_equal(om->catalog, m->catalog) ||
				      memcmp(om->unique, m->unique, 1 + (size_t)m->unique[0]) != 0)) {
			log_msg(LOG_NOTICE_, "zone %s: its entry in a catalog changed (a reset): transferred anew", text);
			if (nc->data_dir[0])
				snapshot_remove(nc->data_dir, text);
			oz = NULL; /* the old entry is stopped below */
		}
		if (!oz || !oz->user) { /* (no user: its start failed for want of memory) */
			(*added)++;
			continue;
		}
		/* The version moves to the new entry; the old entry keeps
		 * pointing at it for query threads still on the old catalog. */
		nz->current = oz->current;
		nz->expired = oz->expired;
		xfrin_reconfigure(oz->user, nz, zc);
		oz->user = NULL;
		(*kept)++;
	}
	for (size_t i = 0; i < s->cat.n; i++) {
		struct cat_zone *oz = &s->cat.zones[i];
		if (!oz->user)
			continue;
		(*removed)++;
		const struct member *om = members_find(&s->members, oz->apex);
		if (om && !catalog_exact(&ncat, oz->apex)) {
			log_msg(LOG_NOTICE_, "zone %s: removed from catalog %s: no longer served", om->text,
				om->catalog_text);
			/* RFC 9432 5.3: its data goes with it. */
			if (nc->data_dir[0])
				snapshot_remove(nc->data_dir, om->text);
		}
		stop_zone(oz);
	}
	/* The old arrays go with the old live catalog, once no thread reads. */
	s->cat = ncat;
	members_free(&s->members);
	s->members = nm;
	xfrin_versions_changed(s); /* zones gone: perhaps no big one is left */
	if (publish_live(s) < 0)
		log_msg(LOG_ERR_, "out of memory: the query threads answer from the zones as they were");
	return 0;
}

/* A catalog zone got a new version: serve what it lists now. */
static void catalogs_changed(struct server *s)
{
	size_t kept, added, removed;
	if (apply_zones(s, s->cfg, &kept, &added, &removed) < 0) {
		log_msg(LOG_ERR_, "out of memory: catalog changes not applied");
		return;
	}
	start_zones(s);
	if (added || removed)
		log_msg(LOG_NOTICE_, "catalogs applied: %zu zones kept, %zu added, %zu removed", kept, added,
			removed);
}

/* SIGHUP: read the configuration again, and serve what it says. */
static void reload(struct server *s, int argc, char **argv)
{
	char err[512];
	struct cfg *nc = malloc(sizeof(*nc));
	if (!nc) {
		log_msg(LOG_ERR_, "reload failed: out of memory");
		return;
	}
	cfg_init(nc);
	if (opts_parse(argc, argv, start_dir[0] ? start_dir : NULL, nc, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR_, "reload failed, keeping the running configuration: %s", err);
		goto fail;
	}
	/* Confined, the process sees data-dir without the chroot in front
	 * (as at start); the chroot itself cannot change. */
	if (inside_chroot(nc->data_dir, s->cfg->chroot_dir) < 0) {
		log_msg(LOG_ERR_, "reload failed, keeping the running configuration: data-dir %s is not inside chroot %s",
			nc->data_dir, s->cfg->chroot_dir);
		goto fail;
	}
	memcpy(nc->chroot_dir, s->cfg->chroot_dir, sizeof(nc->chroot_dir));
	memcpy(nc->pidfile, s->cfg->pidfile, sizeof(nc->pidfile));
	memcpy(nc->username, s->cfg->username, sizeof(nc->username));
	nc->foreground = s->cfg->foreground;
	nc->udp_workers = s->cfg->udp_workers; /* threads start only at start */
	size_t kept, added, removed;
	if (apply_zones(s, nc, &kept, &added, &removed) < 0) {
		log_msg(LOG_ERR_, "reload failed: out of memory");
		goto fail;
	}
	if (nc->n_listen != s->cfg->n_listen ||
	    memcmp(nc->listen, s->cfg->listen, nc->n_listen * sizeof(nc->listen[0])) != 0)
		log_msg(LOG_NOTICE_, "reload: listen addresses changed; they apply after a restart");
	memcpy(nc->listen, s->cfg->listen, sizeof(nc->listen));
	nc->n_listen = s->cfg->n_listen;
	cfg_free((struct cfg *)s->cfg);
	free((struct cfg *)s->cfg);
	s->cfg = nc;
	log_open(nc->verbosity, !nc->foreground);
	atomic_store_explicit(&s->cfg_udp_max, nc->udp_max_payload, memory_order_relaxed);
	server_fd_budget(s);
	start_zones(s);
	log_msg(LOG_NOTICE_, "reloaded: %zu zones kept, %zu added, %zu removed", kept, added, removed);
	return;
fail:
	cfg_free(nc);
	free(nc);
}

/* After the ports are bound: confine the process and give up root, as
 * NSD and Knot DNS do.  The data directory is made the user's first. */
static int drop_privileges(struct cfg *cfg)
{
	struct passwd *pw = NULL;
	if (cfg->username[0]) {
		pw = getpwnam(cfg->username);
		if (!pw) {
			log_msg(LOG_ERR_, "unknown user '%s' (username)", cfg->username);
			return -1;
		}
		if (cfg->data_dir[0] && chown(cfg->data_dir, pw->pw_uid, pw->pw_gid) < 0) {
			log_msg(LOG_ERR_, "cannot give data-dir %s to %s: %s", cfg->data_dir,
				cfg->username, strerror(errno));
			return -1;
		}
	}
	if (cfg->chroot_dir[0]) {
		if (chroot(cfg->chroot_dir) < 0 || chdir("/") < 0) {
			log_msg(LOG_ERR_, "cannot chroot to %s: %s", cfg->chroot_dir, strerror(errno));
			return -1;
		}
		/* data-dir is given as seen from outside (checked inside at
		 * start): take the chroot off. */
		inside_chroot(cfg->data_dir, cfg->chroot_dir);
	}
	if (pw && (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)) {
		log_msg(LOG_ERR_, "cannot become user %s: %s", cfg->username, strerror(errno));
		return -1;
	}
	if (pw && setuid(0) == 0) { /* must not be possible any more */
		log_msg(LOG_ERR_, "could not give up root");
		return -1;
	}
	return 0;
}

/* Become a daemon: the process that started waits until the daemon says
 * it is serving (ready()) and exits 0, or 1 if the daemon failed before
 * that, so that an init script learns of a failed start.  Until then
 * messages still go to standard error too.  Returns the descriptor to
 * tell readiness on, or -1. */
static int null_fd = -1;

static int daemonize(void)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		char ok = 0;
		ssize_t n;
		while ((n = read(p[0], &ok, 1)) < 0 && errno == EINTR)
			;
		if (n != 1)
			fprintf(stderr, "icbind: the daemon did not start (see the messages above or the system log)\n");
		_exit(n == 1 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	pid = fork(); /* never a session leader again: no controlling tty */
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -1;
	/* Opened now: a chroot may have no /dev/null. */
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	return p[1];
}

/* The daemon serves: the waiting parent exits with success, and standard
 * input and output go to /dev/null. */
static void ready(int fd)
{
	if (fd < 0)
		return;
	log_stderr_too(0);
	if (null_fd >= 0) {
		dup2(null_fd, 0);
		dup2(null_fd, 1);
		dup2(null_fd, 2);
		if (null_fd > 2)
			close(null_fd);
		null_fd = -1;
	}
	char ok = 1;
	if (write(fd, &ok, 1) != 1)
		log_msg(LOG_NOTICE_, "could not tell the starting process that the daemon runs");
	close(fd);
}

/* The pidfile: refused if it names an icbind that still runs (two
 * servers with one pidfile would remove each other's), else written.
 * As root, before the chroot: the path is the operator's. */
static int write_pidfile(const char *path)
{
	/* Written as root, in a directory the server's user may own: a
	 * symbolic link or anything but a plain file there is refused, never
	 * followed (a link to /etc/shadow would be truncated). */
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		log_msg(LOG_ERR_, "cannot write pidfile %s: %s", path,
			fd < 0 ? strerror(errno) : "not a plain file of its own (a link?)");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char text[32];
	ssize_t n = read(fd, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	long pid = strtol(text, NULL, 10);
	if (pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
		/* A live process: ours unless its name says otherwise (a
		 * stale file whose number was given again). */
		char comm[64] = "", proc[64];
		snprintf(proc, sizeof(proc), "/proc/%ld/comm", pid);
		FILE *c = fopen(proc, "r");
		if (c) {
			if (!fgets(comm, sizeof(comm), c))
				comm[0] = '\0';
			fclose(c);
		}
		if (!c || strncmp(comm, "icbind", 6) == 0) {
			log_msg(LOG_ERR_, "pidfile %s: icbind already runs as process %ld", path, pid);
			close(fd);
			return -1;
		}
	}
	int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len || close(fd) < 0) {
		log_msg(LOG_ERR_, "cannot write pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A start that failed: give back what was taken, so that a leak checker
 * sees a clean exit too.  Returns the exit status. */
static int abandon(struct server *s, int threads, const char *pidfile)
{
	if (pidfile && pidfile[0])
		unlink(pidfile); /* ours: written by this start */
	if (threads)
		workers_stop(s);
	server_close(s);
	loop_free(&s->loop);
	free(atomic_load(&s->live));
	catalog_release(&s->cat);
	free(s->rrl_mem);
	cfg_free((struct cfg *)s->cfg);
	free((struct cfg *)s->cfg);
	free(s);
	log_close();
	return 1;
}

/* The pages of a zone block that nothing reads any more (zone.h
 * zone_unused: a replaced version's nodes and indexes, kept for its
 * RRsets and octets) go back to the system now, not when the block goes.
 * Only whole pages inside the part: big blocks are mapped on their own
 * (main() below); a page read again would only read zeros. */
static void give_back(void *p, size_t len)
{
	long ps = sysconf(_SC_PAGESIZE);
	uintptr_t pg = ps > 0 ? (uintptr_t)ps : 4096;
	uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), e = ((uintptr_t)p + len) & ~(pg - 1);
	if (e > a && madvise((void *)a, e - a, MADV_DONTNEED) == 0)
		log_msg(LOG_DEBUG_, "%zu octets of a replaced version's nodes and indexes given back",
			(size_t)(e - a));
}

int main(int argc, char **argv)
{
	char err[512];
#ifdef M_MMAP_THRESHOLD
	/* Zone versions and a transfer's working memory are big blocks that
	 * live for a while and are freed whole.  glibc raises its mmap
	 * threshold after the first such free, after which they come from
	 * the heap and their pages stay with the process once freed: after
	 * one refresh of a 170k-record zone the server held 2.3 times its
	 * steady memory.  A fixed threshold keeps them mapped on their own
	 * and returned to the system on free (and stops the adjustment). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	zone_unused = give_back;
	/* Started with 0, 1 or 2 closed, the epoll descriptor or a socket
	 * would take that number, and a daemon's /dev/null over them would
	 * close it: hold them with /dev/null first. */
	int null;
	while ((null = open("/dev/null", O_RDWR)) >= 0 && null <= 2)
		;
	if (null > 2)
		close(null);
	struct cfg *cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return 1;
	cfg_init(cfg);
	if (!getcwd(start_dir, sizeof(start_dir)))
		start_dir[0] = '\0'; /* then relative paths are taken from / */
	int rc = opts_parse(argc, argv, start_dir[0] ? start_dir : NULL, cfg, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "icbind: %s\n", err);
		cfg_free(cfg);
		free(cfg);
		return rc < 0 ? 1 : 0;
	}

	struct server *s = calloc(1, sizeof(*s));
	if (!s || loop_init(&s->loop) < 0) {
		fprintf(stderr, "icbind: cannot start: %s\n", strerror(errno));
		free(s);
		cfg_free(cfg);
		free(cfg);
		return 1;
	}
	s->cfg = cfg;
	/* Not set, whatever fails before server_listen(): server_close()
	 * cancels it. */
	timer_init(&s->accept_again, NULL, s);
	log_open(cfg->verbosity, 0);
	char data_dir[sizeof(cfg->data_dir)];
	memcpy(data_dir, cfg->data_dir, sizeof(data_dir));
	if (inside_chroot(data_dir, cfg->chroot_dir) < 0) {
		log_msg(LOG_ERR_, "data-dir %s is not inside chroot %s (data-dir is written as seen from outside)",
			cfg->data_dir, cfg->chroot_dir);
		return abandon(s, 0, NULL);
	}
	if (cfg->data_dir[0] && mkdir(cfg->data_dir, 0755) < 0 && errno != EEXIST) {
		log_msg(LOG_ERR_, "cannot create data-dir %s: %s", cfg->data_dir, strerror(errno));
		return abandon(s, 0, NULL);
	}
	if (build_catalog(&s->cat, cfg, &s->members) < 0) {
		log_msg(LOG_ERR_, "cannot set up the zones: out of memory or a duplicate zone");
		return abandon(s, 0, NULL);
	}
	if (server_listen(s) < 0)
		return abandon(s, 0, NULL);
	int ready_fd = -1;
	if (!cfg->foreground) {
		ready_fd = daemonize();
		if (ready_fd < 0) {
			log_msg(LOG_ERR_, "cannot become a daemon: %s", strerror(errno));
			return abandon(s, 0, NULL);
		}
		/* To syslog from now, its socket opened before any chroot. */
		log_open(cfg->verbosity, 1);
		log_stderr_too(1);
	}
	/* The pidfile as root, from outside the chroot; removed at the end
	 * from inside it, where it can be. */
	char pidfile[sizeof(cfg->pidfile)];
	memcpy(pidfile, cfg->pidfile, sizeof(pidfile));
	if (pidfile[0] && write_pidfile(pidfile) < 0)
		return abandon(s, 0, NULL);
	if (drop_privileges(cfg) < 0)
		return abandon(s, 0, cfg->pidfile); /* (from outside: most fail before the chroot) */
	if (inside_chroot(pidfile, cfg->chroot_dir) < 0)
		pidfile[0] = '\0'; /* out of reach once confined: left behind */

	the_server = s;
	s->started = time(NULL);
	stats_init(&s->tcp_stats);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: the loop's wait returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	atomic_store_explicit(&s->cfg_udp_max, cfg->udp_max_payload, memory_order_relaxed);
	if (cfg->rrl.responses_per_second) {
		/* One table, allocated once; its hash seeded anew each start. */
		size_t len = rrl_mem_size(cfg->rrl_table_size);
		uint64_t seed = 0;
		if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
			seed = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ (uint64_t)time(NULL);
		s->rrl_mem = len ? malloc(len) : NULL;
		s->rrl = s->rrl_mem ? rrl_init(s->rrl_mem, len, &cfg->rrl, seed) : NULL;
		if (!s->rrl) {
			log_msg(LOG_ERR_, "cannot set up response rate limiting (rrl-table-size %u)",
				cfg->rrl_table_size);
			return abandon(s, 0, pidfile);
		}
		pthread_mutex_init(&s->rrl_lock, NULL);
		log_msg(LOG_INFO_, "response rate limiting: %u responses a second, slip %u",
			cfg->rrl.responses_per_second, cfg->rrl.slip);
	}
	if (publish_live(s) < 0 || workers_start(s) < 0) {
		log_msg(LOG_ERR_, "cannot start the query threads: %s", strerror(errno));
		return abandon(s, 1, pidfile);
	}
	log_msg(LOG_DEBUG_, "UDP batches are looked up a step at a time while a zone version of %u octets or more is served",
		(unsigned)ICB_PREFETCH_BYTES);
	start_zones(s);
	server_fd_budget(s);
	log_msg(LOG_NOTICE_, "started: %zu zone%s, %u sockets, %u query thread%s", s->cat.n,
		s->cat.n == 1 ? "" : "s", s->n_listeners, s->n_workers, s->n_workers == 1 ? "" : "s");
	ready(ready_fd);

	rc = 0;
	while (!s->stop && rc == 0) {
		rc = loop_run(&s->loop, &s->signalled);
		s->signalled = 0;
		if (s->reload && !s->stop) {
			s->reload = 0;
			reload(s, argc, argv);
		}
		if (s->report && !s->stop) {
			s->report = 0;
			stats_report(s);
		}
		while (s->catalogs_dirty && !s->stop) {
			s->catalogs_dirty = 0;
			catalogs_changed(s);
		}
	}
	log_msg(LOG_NOTICE_, "stopping");

	workers_stop(s); /* no reader left: what follows frees at once */
	for (size_t i = 0; i < s->cat.n; i++)
		stop_zone(&s->cat.zones[i]);
	server_close(s);
	loop_free(&s->loop);
	free(atomic_load(&s->live)); /* its arrays are the ones below */
	if (s->rrl)
		pthread_mutex_destroy(&s->rrl_lock);
	free(s->rrl_mem);
	catalog_release(&s->cat);
	members_free(&s->members);
	cfg_free((struct cfg *)s->cfg);
	free((struct cfg *)s->cfg);
	free(s);
	if (pidfile[0])
		unlink(pidfile);
	log_close();
	return rc < 0 ? 1 : 0;
}
