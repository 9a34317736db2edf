/* state.h - the durable journal of original host values. Every module records a value's original
 * before its first write; clean stop restores and empties the journal; after a crash, the next start
 * restores what the journal still holds before doing anything else. */
#ifndef MEMOPT_STATE_H
#define MEMOPT_STATE_H

#include <stdbool.h>
#include <stddef.h>

#define ST_KEY_MAX 96
#define ST_PATH_MAX 512
#define ST_VALUE_MAX 128
#define ST_FILE_NAME "originals.json"

struct st_entry {
	char key[ST_KEY_MAX];           /* unique, e.g. "ksm.pages_to_scan" */
	char owner[16];                 /* module: "ksm", "sysctl", ... */
	char path[ST_PATH_MAX];         /* absolute file the value is written to */
	char value[ST_VALUE_MAX];       /* the original, exactly as it must be written back */
	int order;                      /* restore order, ascending */
};

struct st_journal;

/* Open (create the directory 0700 if needed) and load <state_dir>/originals.json.
 * A missing file is an empty journal. A corrupt file is -EBADMSG with a message in err naming the
 * file and what is wrong; the corrupt file is kept (renamed to originals.json.corrupt-<time>) only when
 * the caller asks with st_quarantine(). Returns 0 or -errno. */
int st_open(const char *state_dir, struct st_journal **ret, char *err, size_t errlen);
void st_close(struct st_journal *st);
int st_quarantine(const char *state_dir);

size_t st_count(const struct st_journal *st);
const struct st_entry *st_get(const struct st_journal *st, size_t i);
const struct st_entry *st_find(const struct st_journal *st, const char *key);

/* Open an empty journal on state_dir without reading originals.json, held: st_record refuses every
 * new entry with -ENOTRECOVERABLE, so no host value is changed. For a start-up that found a corrupt
 * or quarantined journal (reason says which); restoring the held-back originals is the operator's.
 * Returns 0 or -errno. */
int st_open_held(const char *state_dir, const char *reason, struct st_journal **ret);

/* Names of quarantined journals (originals.json.corrupt-*) in state_dir, ", "-separated, into buf.
 * Returns how many there are (0 if none or the directory cannot be read). */
int st_find_quarantined(const char *state_dir, char *buf, size_t len);

/* The journal's health for status: "ok", "held" (see st_open_held) or "failing" (the last durable
 * write failed: host changes that need a new record are refused until one succeeds again); detail
 * says why. Returns the state word. */
const char *st_health(const struct st_journal *st, char *detail, size_t len);

/* Record an original before the first change of `key`. If the key is already recorded, nothing is
 * changed (the first original wins) and 0 is returned. A held journal refuses with -ENOTRECOVERABLE.
 * Otherwise the journal is rewritten durably
 * (temp file, fsync, rename, fsync of the directory) before returning 0. On any error the journal on
 * disk is unchanged and the caller must not write the host value. */
int st_record(struct st_journal *st, const char *key, const char *owner, const char *path,
	      const char *value, int order);

/* Drop an entry (after its value was restored by its module), durably. */
int st_forget(struct st_journal *st, const char *key);

/* Restore every entry (of `owner`, or all if owner is NULL) by writing its value to its path, in
 * ascending order; entries the kernel rejects are retried once after all others (ordering between
 * dependent knobs, e.g. KSM's advisor_mode and pages_to_scan). Restored entries are forgotten;
 * failed ones stay in the journal and are logged. dry_run: log only. Returns the number of entries
 * that could not be restored (0 = all good) or -errno if the journal could not be saved. */
int st_restore(struct st_journal *st, const char *owner, bool dry_run);

/* Write a string value to a sysfs/procfs file and read it back ("[x] y" selections are compared on
 * the bracketed word). Returns 0, -EIO on a read-back mismatch, or -errno. Shared by actuators. */
int st_write_value(const char *path, const char *value);

#endif
