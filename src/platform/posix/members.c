/* The zones catalog zones bring (members.h). */
#include "members.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/catalog.h"
#include "../../core/catz.h"
#include "log.h"
#include "server.h"

static int name_cmp(const uint8_t *a, const uint8_t *b)
{
	size_t al = name_len(a), bl = name_len(b);
	int c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : al < bl ? -1 : al > bl;
}

/* By name; for one name, the catalog listed first in the file first. */
static int member_cmp(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;
	int c = name_cmp(a->name, b->name);
	return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

const struct member *members_find(const struct member_set *set, const uint8_t *apex)
{
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(set->m[mid].name, apex);
		if (c == 0)
			return &set->m[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct zone_conf zone_conf(const struct cfg *c, const struct member_set *set, const uint8_t *apex)
{
	const struct cfg_zone *z = cfg_find_zone(c, apex);
	if (z)
		return (struct zone_conf){ z, z->text, z->catalog };
	const struct member *m = members_find(set, apex);
	return (struct zone_conf){ m->settings, m->text, 0 };
}

/* A name as the configuration writes it: no final dot but for the root. */
static char *name_text(const uint8_t *name)
{
	char t[NAME_TEXT_MAX];
	if (name_to_text(name, t, sizeof(t)) < 0)
		return NULL;
	size_t n = strlen(t);
	if (n > 1 && t[n - 1] == '.')
		n--;
	char *out = malloc(n + 1); /* strdup() is POSIX, not C11 */
	if (out) {
		memcpy(out, t, n);
		out[n] = '\0';
	}
	return out;
}

/* Of a member's groups, the one that names a pattern with primaries, when
 * exactly one does (as NSD chooses); NULL otherwise. */
static const char *usable_group(const struct cfg *c, const struct catz_member *m)
{
	const char *found = NULL;
	for (unsigned i = 0; i < m->n_groups; i++) {
		const struct cfg_zone *t = cfg_find_template(c, m->groups[i]);
		if (t && t->n_primary) {
			if (found)
				return NULL;
			found = m->groups[i];
		}
	}
	return found;
}

/* The settings of a member of catalog cat: the pattern its group names
 * (as NSD chooses), else the catalog's catalog-member-pattern, else the
 * catalog zone's own. */
static const struct cfg_zone *settings_for(const struct cfg *c, const struct cfg_zone *cat,
					   const char *group)
{
	if (group[0]) {
		const struct cfg_zone *t = cfg_find_template(c, group);
		if (t && t->n_primary)
			return t;
	}
	if (cat->member_pattern >= 0 && (size_t)cat->member_pattern < c->n_templates)
		return &c->templates[cat->member_pattern];
	return cat;
}

static int add(struct member_set *set, size_t *cap, const struct cfg *c, const struct cfg_zone *cat,
	       const uint8_t *name, const uint8_t *unique, const char *group)
{
	if (set->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		void *m = realloc(set->m, nc * sizeof(*set->m));
		if (!m)
			return -1;
		set->m = m;
		*cap = nc;
	}
	struct member *m = &set->m[set->n];
	m->text = name_text(name);
	if (!m->text)
		return -1;
	set->n++;
	snprintf(m->group, sizeof(m->group), "%s", group);
	m->settings = settings_for(c, cat, m->group);
	m->catalog_text = cat->text;
	memcpy(m->name, name, name_len(name));
	memcpy(m->catalog, cat->name, name_len(cat->name));
	memcpy(m->unique, unique, 1 + (size_t)unique[0]);
	m->seq = (unsigned)set->n;
	return 0;
}

int members_compute(const struct server *s, const struct cfg *c, const struct member_set *old,
		    struct member_set *out)
{
	size_t cap = 0;
	out->m = NULL;
	out->n = 0;
	for (size_t i = 0; i < c->n_zones; i++) {
		const struct cfg_zone *cat = &c->zones[i];
		if (!cat->catalog)
			continue;
		const struct cat_zone *cz = catalog_exact(&s->cat, cat->name);
		const struct zone *z = cz ? cz->current : NULL;
		struct catz rd;
		int usable = z && catz_read(z, &rd) == 0;
		if (!usable) {
			/* RFC 9432 4.2.1: not processed; what it brought stays.
			 * So too while no version is served (xfr-drop-old frees
			 * it during each transfer). */
			if (z) {
				log_msg(LOG_NOTICE_, "catalog %s: serial %lu not used: %s; its members stay as they were",
					cat->text, (unsigned long)z->serial, rd.err);
				catz_free(&rd);
			}
			for (size_t k = 0; old && k < old->n; k++)
				if (name_equal(old->m[k].catalog, cat->name) && !cfg_find_zone(c, old->m[k].name) &&
				    add(out, &cap, c, cat, old->m[k].name, old->m[k].unique, old->m[k].group) < 0)
					goto oom;
			continue;
		}
		unsigned configured = 0, unknown_group = 0;
		for (size_t k = 0; k < rd.n; k++) {
			if (cfg_find_zone(c, rd.m[k].name)) {
				configured++;
				continue;
			}
			const char *g = usable_group(c, &rd.m[k]);
			if (rd.m[k].n_groups && !g)
				unknown_group++;
			if (add(out, &cap, c, cat, rd.m[k].name, rd.m[k].unique, g ? g : "") < 0) {
				catz_free(&rd);
				goto oom;
			}
		}
		if (unknown_group)
			log_msg(LOG_NOTICE_, "catalog %s: serial %lu: %u member%s whose groups name no pattern with a primary, "
				"or more than one: %s settings apply", cat->text, (unsigned long)z->serial, unknown_group,
				unknown_group == 1 ? "" : "s",
				cat->member_pattern >= 0 ? "the catalog-member-pattern's" : "the catalog's");
		if (rd.duplicate || rd.self || configured)
			log_msg(LOG_NOTICE_,
				"catalog %s: serial %lu: left out %u zone%s listed twice, %u naming the catalog itself, "
				"%u zone%s configured in the file (its settings apply)",
				cat->text, (unsigned long)z->serial, rd.duplicate, rd.duplicate == 1 ? "" : "s", rd.self,
				configured, configured == 1 ? "" : "s");
		catz_free(&rd);
	}
	if (!out->n)
		return 0;
	/* One entry per zone.  RFC 9432 4.3 and 5.4: a zone listed again
	 * (under another unique label, or by another catalog) stays where it
	 * is served now; a new one goes with the catalog first in the file,
	 * under its first unique label in canonical order. */
	qsort(out->m, out->n, sizeof(*out->m), member_cmp);
	size_t w = 0;
	for (size_t i = 0; i < out->n;) {
		size_t end = i + 1;
		while (end < out->n && name_equal(out->m[end].name, out->m[i].name))
			end++;
		size_t keep = i;
		const struct member *was = old ? members_find(old, out->m[i].name) : NULL;
		for (size_t k = i; was && k < end; k++)
			if (name_equal(out->m[k].catalog, was->catalog) &&
			    memcmp(out->m[k].unique, was->unique, 1 + (size_t)was->unique[0]) == 0) {
				keep = k;
				break;
			}
		for (size_t k = i; k < end; k++) {
			if (k == keep)
				continue;
			if (!name_equal(out->m[k].catalog, out->m[keep].catalog))
				log_msg(LOG_NOTICE_, "catalog %s: member zone %s left out: catalog %s has it",
					out->m[k].catalog_text, out->m[k].text, out->m[keep].catalog_text);
			free(out->m[k].text);
		}
		out->m[w++] = out->m[keep];
		i = end;
	}
	out->n = w;
	return 0;
oom:
	members_free(out);
	return -1;
}

void members_free(struct member_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->m[i].text);
	free(set->m);
	set->m = NULL;
	set->n = 0;
}
