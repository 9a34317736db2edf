/* sctl_apply.c - applies a host plan all or nothing: preflight, durable journal of originals, write with
 * read-back, roll back on the first failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sctl_apply.h"
#include "../common/cleanup.h"
#include "../common/fileio.h"
#include "../common/log.h"

#define KSM_RUN_KEY SCTL_JOURNAL_PREFIX "ksm.run(unmerge)"

void sctl_journal_key(const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", SCTL_JOURNAL_PREFIX, key);
}

int sctl_read_knob(const char *path, enum sctl_kind kind, char *value, size_t vlen, char *text, size_t tlen)
{
	char buf[512];
	size_t len;
	bool full;
	int r = fio_read_capped(path, buf, sizeof(buf) - 1, &len, &full);

	if (r < 0)
		return r;
	if (full)
		return -EBADMSG;
	buf[len] = '\0';
	r = sctl_parse_current(kind, buf, len, value, vlen);
	if (r < 0)
		return r;
	if (text)
		snprintf(text, tlen, "%s", buf);
	return 0;
}

static enum sctl_kind item_kind(const struct sctl_item *it)
{
	return it->id >= 0 ? sctl_knobs[it->id].kind : SK_INT;
}

static const struct sctl_knob *item_knob(const struct sctl_item *it)
{
	return it->id >= 0 ? &sctl_knobs[it->id] : &sctl_hugepages_knob;
}

int sctl_preflight(const struct sctl_plan *p, char *err, size_t errlen)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct sctl_item *it = &p->item[i];
		char now[SCTL_VALUE_MAX], text[512], e[256];
		int r;

		if (it->action != SA_CHANGE)
			continue;
		if (access(it->path, F_OK) < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s: %s", it->key, it->path, strerror(-r));
			return r;
		}
		r = sctl_read_knob(it->path, item_kind(it), now, sizeof(now), text, sizeof(text));
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot read %s: %s", it->key, it->path,
				 r == -EBADMSG ? "unexpected content" : strerror(-r));
			return r;
		}
		if (strcmp(now, it->current) != 0) {
			snprintf(err, errlen, "%s changed from '%s' to '%s' since the plan was made; nothing written, "
				 "make the plan again", it->key, it->current, now);
			return -ESTALE;
		}
		if (sctl_check_value(item_knob(it), it->desired, item_kind(it) == SK_SELECT ? text : NULL, e,
				     sizeof(e)) < 0) {
			snprintf(err, errlen, "%s", e);
			return -EINVAL;
		}
	}
	return 0;
}

/* dirname(path) + "/run": the KSM run knob next to merge_across_nodes. */
static int ksm_run_path(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		return -EINVAL;
	n = snprintf(buf, len, "%.*s/run", (int)(slash - path), path);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Unmerge every KSM page (run=2, which the kernel does inside the write), write merge_across_nodes,
 * put run back. run's original is journaled for the time in between. */
static int write_with_unmerge(struct st_journal *st, const struct sctl_item *it)
{
	char run_path[ST_PATH_MAX], run_orig[16];
	int r, r2;

	r = ksm_run_path(it->path, run_path, sizeof(run_path));
	if (r < 0)
		return r;
	r = sctl_read_knob(run_path, SK_INT, run_orig, sizeof(run_orig), NULL, 0);
	if (r < 0)
		return r;
	r = st_record(st, KSM_RUN_KEY, SCTL_OWNER, run_path, run_orig, 95);
	if (r < 0)
		return r;
	log_notice("host: unmerging every KSM page (run=2) so that %s can change", it->key);
	r = st_write_value(run_path, "2");
	if (r == 0)
		r = st_write_value(it->path, it->desired);
	r2 = st_write_value(run_path, run_orig);
	if (r2 < 0)
		log_err("host: cannot put KSM run back to %s: %s; it stays journaled", run_orig, strerror(-r2));
	else
		st_forget(st, KSM_RUN_KEY);
	return r;
}

int sctl_write_one(const struct sctl_item *it, const char *value)
{
	return st_write_value(it->path, value);
}

int sctl_apply(const struct sctl_plan *p, struct st_journal *st, bool dry_run, char *err, size_t errlen)
{
	_cleanup_free_ bool *fresh = calloc(p->n ? p->n : 1, sizeof(bool));
	_cleanup_free_ bool *written = calloc(p->n ? p->n : 1, sizeof(bool));
	char jkey[ST_KEY_MAX];
	size_t i, failed_at = p->n;
	int r = 0, nwritten = 0;

	if (!fresh || !written)
		return -ENOMEM;
	err[0] = '\0';
	r = sctl_preflight(p, err, errlen);
	if (r < 0)
		return r;
	if (dry_run) {
		for (i = 0; i < p->n; i++)
			if (p->item[i].action == SA_CHANGE)
				log_info("host: dry-run: would write '%s' to %s (%s: %s -> %s)", p->item[i].desired,
					 p->item[i].path, p->item[i].key, p->item[i].current, p->item[i].desired);
		return 0;
	}

	/* Every original on disk before the first write. */
	for (i = 0; i < p->n; i++) {
		const struct sctl_item *it = &p->item[i];
		if (it->action != SA_CHANGE)
			continue;
		sctl_journal_key(it->key, jkey, sizeof(jkey));
		fresh[i] = st_find(st, jkey) == NULL;
		r = st_record(st, jkey, SCTL_OWNER, it->path, it->current, it->order);
		if (r < 0) {
			char why[1536];
			st_health(st, why, sizeof(why));
			snprintf(err, errlen, "cannot journal the original of %s (%s); nothing written: %s", it->key,
				 strerror(-r), why);
			for (size_t j = 0; j <= i; j++)
				if (fresh[j]) {
					sctl_journal_key(p->item[j].key, jkey, sizeof(jkey));
					st_forget(st, jkey);
				}
			return r;
		}
	}

	for (i = 0; i < p->n; i++) {
		const struct sctl_item *it = &p->item[i];
		if (it->action != SA_CHANGE)
			continue;
		r = it->unmerge ? write_with_unmerge(st, it) : st_write_value(it->path, it->desired);
		if (r < 0) {
			failed_at = i;
			break;
		}
		written[i] = true;
		nwritten++;
		log_info("host: %s: %s -> %s (%s)", it->key, it->current, it->desired, it->path);
	}
	if (failed_at == p->n)
		return nwritten;

	/* Roll back: the failed knob too if the kernel took part of it (a pool that got fewer pages). */
	const struct sctl_item *bad = &p->item[failed_at];
	char now[SCTL_VALUE_MAX] = "?", done[256] = "", notdone[256] = "";
	size_t doff = 0, noff = 0;
	unsigned rolled = 0, stuck = 0;

	if (sctl_read_knob(bad->path, item_kind(bad), now, sizeof(now), NULL, 0) == 0 && strcmp(now, bad->current))
		written[failed_at] = true;
	for (size_t k = failed_at + 1; k-- > 0;) {
		const struct sctl_item *it = &p->item[k];
		if (!written[k])
			continue;
		int rr = st_write_value(it->path, it->current);
		char *buf = rr == 0 ? done : notdone;
		size_t *off = rr == 0 ? &doff : &noff;
		if (*off < sizeof(done))
			*off += (size_t)snprintf(buf + *off, sizeof(done) - *off, "%s%s=%s", *off ? ", " : "", it->key,
						 it->current);
		if (rr == 0) {
			rolled++;
			written[k] = false;
		} else {
			stuck++;
			log_err("host: rollback of %s to '%s' failed: %s; it stays journaled", it->key, it->current,
				strerror(-rr));
		}
	}
	/* Journal entries this call created for knobs that hold their original again are dropped. */
	for (i = 0; i < p->n; i++)
		if (fresh[i] && !written[i]) {
			sctl_journal_key(p->item[i].key, jkey, sizeof(jkey));
			st_forget(st, jkey);
		}
	snprintf(err, errlen, "writing '%s' to %s (%s) failed: %s%s%s; %s%u value(s) already written rolled back%s%s%s",
		 bad->desired, bad->path, bad->key, r == -EIO ? "the kernel kept '" : strerror(-r),
		 r == -EIO ? now : "", r == -EIO ? "' (read-back mismatch)" : "", stuck ? "NOT all rolled back: " : "",
		 rolled, doff ? " (" : "", done, doff ? ")" : "");
	if (stuck)
		snprintf(err + strlen(err), errlen - strlen(err), "; could not roll back: %s (kept in the journal)",
			 notdone);
	return r;
}
