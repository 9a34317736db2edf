/* state.c - durable journal of original host values (originals.json) and the checked knob writer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "log.h"
#include "fileio.h"
#include "jsonutil.h"
#include "state.h"

#define ST_VERSION 1
#define ST_FILE_LIMIT (4 * 1024 * 1024)
#define ST_READBACK_MAX 4096
#define ST_OWNER_MAX sizeof(((struct st_entry *)0)->owner)

/* Filesystems whose files ignore the offset and are never truncated by a write. */
#define SYSFS_MAGIC_ 0x62656572
#define PROC_SUPER_MAGIC_ 0x9fa0
#define CGROUP_SUPER_MAGIC_ 0x27e0eb
#define CGROUP2_SUPER_MAGIC_ 0x63677270

struct st_journal {
	char dir[PATH_MAX];
	struct st_entry *entries;
	size_t n, cap;
	char held[1280];                /* non-empty: st_record refuses, see st_open_held() */
	int save_err;                   /* -errno of the last failed save, 0 after a good one */
	char save_err_at[32];           /* which step failed: "create", "write", "rename", ... */
};

static int file_path(char *buf, size_t len, const char *dir, const char *suffix)
{
	int n = snprintf(buf, len, "%s/%s%s", dir, ST_FILE_NAME, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int entry_index(const struct st_journal *st, const char *key)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->entries[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* Copy a JSON string member into a fixed buffer; false if missing, not a string, too long or with NUL. */
static bool get_str(json_object *obj, const char *name, char *buf, size_t len)
{
	json_object *v;
	const char *s;
	int slen;

	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	slen = json_object_get_string_len(v);
	if (slen < 0 || (size_t)slen >= len || strlen(s) != (size_t)slen)
		return false;
	memcpy(buf, s, (size_t)slen + 1);
	return true;
}

static int append(struct st_journal *st, const struct st_entry *e)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		struct st_entry *n = realloc(st->entries, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		st->entries = n;
		st->cap = cap;
	}
	st->entries[st->n++] = *e;
	return 0;
}

#define BAD(...)                                                                                             \
	do {                                                                                                 \
		int _n = snprintf(err, errlen, "%s: ", path);                                                \
		if (_n >= 0 && (size_t)_n < errlen)                                                          \
			snprintf(err + _n, errlen - (size_t)_n, __VA_ARGS__);                                \
		return -EBADMSG;                                                                             \
	} while (0)

/* Parse the journal text into st (which is empty). */
static int load_text(struct st_journal *st, const char *path, const char *text, size_t len, char *err,
		     size_t errlen)
{
	_cleanup_json_ json_object *root = NULL;
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *v, *entries;
	size_t i, n, consumed;

	if (len == 0)
		BAD("empty file");
	tok = json_tokener_new_ex(8);
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	consumed = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		if (jerr == json_tokener_continue)
			BAD("truncated JSON (ends after %zu bytes)", len);
		BAD("invalid JSON at offset %zu: %s", consumed, json_tokener_error_desc(jerr));
	}
	for (; consumed < len; consumed++)
		if (!strchr(" \t\r\n", text[consumed]))
			BAD("trailing data after the JSON object at offset %zu", consumed);
	if (!json_object_is_type(root, json_type_object))
		BAD("not a JSON object");
	if (!json_object_object_get_ex(root, "v", &v) || !json_object_is_type(v, json_type_int))
		BAD("missing version \"v\"");
	if (json_object_get_int64(v) != ST_VERSION)
		BAD("unsupported version %lld (expected %d)", (long long)json_object_get_int64(v),
		    ST_VERSION);
	if (!json_object_object_get_ex(root, "entries", &entries) ||
	    !json_object_is_type(entries, json_type_array))
		BAD("missing \"entries\" array");

	n = json_object_array_length(entries);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(entries, i);
		struct st_entry e = {0};
		int64_t order;

		if (!json_object_is_type(o, json_type_object))
			BAD("entry %zu: not an object", i);
		if (!get_str(o, "key", e.key, sizeof(e.key)) || !e.key[0])
			BAD("entry %zu: missing or invalid \"key\"", i);
		if (!get_str(o, "owner", e.owner, sizeof(e.owner)))
			BAD("entry %zu (%s): missing or invalid \"owner\"", i, e.key);
		if (!get_str(o, "path", e.path, sizeof(e.path)) || e.path[0] != '/')
			BAD("entry %zu (%s): missing or invalid \"path\"", i, e.key);
		if (!get_str(o, "value", e.value, sizeof(e.value)))
			BAD("entry %zu (%s): missing or invalid \"value\"", i, e.key);
		if (!json_object_object_get_ex(o, "order", &v) || !json_object_is_type(v, json_type_int))
			BAD("entry %zu (%s): missing or invalid \"order\"", i, e.key);
		order = json_object_get_int64(v);
		if (order < INT_MIN || order > INT_MAX)
			BAD("entry %zu (%s): \"order\" out of range", i, e.key);
		e.order = (int)order;
		if (entry_index(st, e.key) >= 0)
			BAD("entry %zu: duplicate key '%s'", i, e.key);
		if (append(st, &e) < 0)
			return -ENOMEM;
	}
	return 0;
}

#undef BAD

static int load(struct st_journal *st, char *err, size_t errlen)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX];
	size_t len = 0;
	int r;

	r = file_path(path, sizeof(path), st->dir, "");
	if (r < 0) {
		snprintf(err, errlen, "%s: state directory path too long", st->dir);
		return r;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	bool full;
	r = fio_read_fd_alloc(fd, ST_FILE_LIMIT, &buf, &len, &full);
	if (r < 0) {
		snprintf(err, errlen, "%s: read failed: %s", path, strerror(-r));
		return r;
	}
	if (full) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, ST_FILE_LIMIT);
		return -EBADMSG;
	}
	return load_text(st, path, buf, len, err, errlen);
}

int st_open(const char *state_dir, struct st_journal **ret, char *err, size_t errlen)
{
	struct st_journal *st;
	int r, n;

	if (errlen)
		err[0] = '\0';
	r = fio_mkdir_p(state_dir, 0700);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot create state directory: %s", state_dir, strerror(-r));
		return r;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	n = snprintf(st->dir, sizeof(st->dir), "%s", state_dir);
	if (n < 0 || (size_t)n >= sizeof(st->dir)) {
		free(st);
		snprintf(err, errlen, "%s: path too long", state_dir);
		return -ENAMETOOLONG;
	}
	r = load(st, err, errlen);
	if (r < 0) {
		st_close(st);
		return r;
	}
	*ret = st;
	return 0;
}

void st_close(struct st_journal *st)
{
	if (!st)
		return;
	free(st->entries);
	free(st);
}

int st_open_held(const char *state_dir, const char *reason, struct st_journal **ret)
{
	struct st_journal *st = calloc(1, sizeof(*st));
	int n;

	if (!st)
		return -ENOMEM;
	n = snprintf(st->dir, sizeof(st->dir), "%s", state_dir);
	if (n < 0 || (size_t)n >= sizeof(st->dir)) {
		free(st);
		return -ENAMETOOLONG;
	}
	snprintf(st->held, sizeof(st->held), "%s", reason && *reason ? reason : "held");
	*ret = st;
	return 0;
}

int st_find_quarantined(const char *state_dir, char *buf, size_t len)
{
	static const char prefix[] = ST_FILE_NAME ".corrupt-";
	DIR *d = opendir(state_dir);
	struct dirent *de;
	size_t off = 0;
	int n = 0;

	if (len)
		buf[0] = '\0';
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, sizeof(prefix) - 1) != 0)
			continue;
		if (off < len) {
			int w = snprintf(buf + off, len - off, "%s%s", n ? ", " : "", de->d_name);
			if (w > 0)
				off += (size_t)w < len - off ? (size_t)w : len - off - 1;
		}
		n++;
	}
	closedir(d);
	return n;
}

const char *st_health(const struct st_journal *st, char *detail, size_t len)
{
	if (st->held[0]) {
		snprintf(detail, len, "%s", st->held);
		return "held";
	}
	/* A directory remounted read-only is seen before the next record fails on it. */
	if (!st->save_err && access(st->dir, W_OK) < 0 && errno == EROFS) {
		snprintf(detail, len, "%s: read-only file system; host changes that need a new record are refused",
			 st->dir);
		return "failing";
	}
	if (st->save_err) {
		snprintf(detail, len, "%s/%s: last %s failed: %s; host changes that need a new record are refused",
			 st->dir, ST_FILE_NAME, st->save_err_at, strerror(-st->save_err));
		return "failing";
	}
	snprintf(detail, len, "%s/%s, %zu original(s) recorded", st->dir, ST_FILE_NAME, st->n);
	return "ok";
}

int st_quarantine(const char *state_dir)
{
	char from[PATH_MAX], to[PATH_MAX], suffix[64];
	long long now = (long long)time(NULL);
	int r;

	r = file_path(from, sizeof(from), state_dir, "");
	if (r < 0)
		return r;
	/* Never over an earlier quarantined journal (two in the same second): link() fails with EEXIST
	 * where rename() would silently replace it. */
	for (int i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(suffix, sizeof(suffix), ".corrupt-%lld", now);
		else
			snprintf(suffix, sizeof(suffix), ".corrupt-%lld-%d", now, i);
		r = file_path(to, sizeof(to), state_dir, suffix);
		if (r < 0)
			return r;
		if (link(from, to) == 0) {
			if (unlink(from) < 0) {
				r = -errno;
				unlink(to);
				return r;
			}
			log_warn("%s: corrupt journal kept as %s", from, to);
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

size_t st_count(const struct st_journal *st)
{
	return st->n;
}

const struct st_entry *st_get(const struct st_journal *st, size_t i)
{
	return i < st->n ? &st->entries[i] : NULL;
}

const struct st_entry *st_find(const struct st_journal *st, const char *key)
{
	int i = entry_index(st, key);

	return i < 0 ? NULL : &st->entries[i];
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static json_object *to_json(const struct st_journal *st)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	size_t i;

	if (!root || !arr)
		goto fail;
	json_object_object_add(root, "v", json_object_new_int(ST_VERSION));
	json_object_object_add(root, "entries", arr);
	for (i = 0; i < st->n; i++) {
		const struct st_entry *e = &st->entries[i];
		json_object *o = json_object_new_object();

		if (!o)
			goto fail_root;
		json_object_object_add(o, "key", json_object_new_string(e->key));
		json_object_object_add(o, "owner", json_object_new_string(e->owner));
		json_object_object_add(o, "path", json_object_new_string(e->path));
		json_object_object_add(o, "value", json_object_new_string(e->value));
		json_object_object_add(o, "order", json_object_new_int(e->order));
		json_object_array_add(arr, o);
	}
	return root;
fail:
	json_object_put(arr);
fail_root:
	json_object_put(root);
	return NULL;
}

/* Write the journal durably: temp file, fsync, rename over, fsync the directory. */
static int save_(const struct st_journal *st, const char **step);

static int save(struct st_journal *st)
{
	const char *step = "write";
	int r;

	/* A held journal never touches the disk: originals.json may still be the corrupt file. */
	if (st->held[0])
		return -ENOTRECOVERABLE;
	r = save_(st, &step);

	st->save_err = r;
	snprintf(st->save_err_at, sizeof(st->save_err_at), "%s", r < 0 ? step : "");
	return r;
}

static int save_(const struct st_journal *st, const char **step)
{
	_cleanup_json_ json_object *root = NULL;
	_cleanup_close_ int dfd = -1;
	char tmp[PATH_MAX], path[PATH_MAX];
	const char *text;
	int fd, r;

	if (file_path(path, sizeof(path), st->dir, "") < 0 ||
	    file_path(tmp, sizeof(tmp), st->dir, ".tmp") < 0)
		return -ENAMETOOLONG;
	root = to_json(st);
	if (!root)
		return -ENOMEM;
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		return -ENOMEM;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		*step = "create of the temporary file";
		log_err("%s: cannot create: %s", tmp, strerror(-r));
		return r;
	}
	r = write_all(fd, text, strlen(text));
	if (r == 0)
		r = write_all(fd, "\n", 1);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
		*step = "rename";
	}
	if (r < 0) {
		log_err("%s: cannot write journal: %s", path, strerror(-r));
		unlink(tmp);
		return r;
	}
	/* The rename is only durable once the directory is on disk too. */
	dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		r = -errno;
		*step = "directory sync";
		log_err("%s: cannot sync directory: %s", st->dir, strerror(-r));
		return r;
	}
	return 0;
}

static int copy_field(char *dst, size_t len, const char *src)
{
	size_t l = strlen(src);

	if (l >= len)
		return -ENAMETOOLONG;
	memcpy(dst, src, l + 1);
	return 0;
}

int st_record(struct st_journal *st, const char *key, const char *owner, const char *path, const char *value,
	      int order)
{
	struct st_entry e = {0};
	int r;

	if (!key || !*key || !owner || !path || path[0] != '/' || !value)
		return -EINVAL;
	if (entry_index(st, key) >= 0)
		return 0;
	if (st->held[0])
		return -ENOTRECOVERABLE;
	if (copy_field(e.key, sizeof(e.key), key) < 0 || copy_field(e.owner, sizeof(e.owner), owner) < 0 ||
	    copy_field(e.path, sizeof(e.path), path) < 0 || copy_field(e.value, sizeof(e.value), value) < 0)
		return -ENAMETOOLONG;
	e.order = order;
	r = append(st, &e);
	if (r < 0)
		return r;
	r = save(st);
	if (r < 0) {
		st->n--; /* memory must match the disk, which still holds the old journal */
		return r;
	}
	return 0;
}

int st_forget(struct st_journal *st, const char *key)
{
	struct st_entry saved;
	int i, r;

	i = entry_index(st, key);
	if (i < 0)
		return 0;
	saved = st->entries[i];
	memmove(&st->entries[i], &st->entries[i + 1], (st->n - (size_t)i - 1) * sizeof(st->entries[0]));
	st->n--;
	r = save(st);
	if (r < 0) {
		/* Put it back where it was. */
		memmove(&st->entries[i + 1], &st->entries[i], (st->n - (size_t)i) * sizeof(st->entries[0]));
		st->entries[i] = saved;
		st->n++;
		return r;
	}
	return 0;
}

/* Stable sort of entry indices by order: insertion sort, journals are small. */
static void sort_by_order(const struct st_journal *st, size_t *idx, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		size_t x = idx[i];

		for (j = i; j > 0 && st->entries[idx[j - 1]].order > st->entries[x].order; j--)
			idx[j] = idx[j - 1];
		idx[j] = x;
	}
}

int st_restore(struct st_journal *st, const char *owner, bool dry_run)
{
	_cleanup_free_ size_t *idx = NULL;
	_cleanup_free_ bool *done = NULL;
	size_t i, n = 0, failed = 0, w;
	int pass, r;

	if (st->n == 0)
		return 0;
	idx = calloc(st->n, sizeof(*idx));
	done = calloc(st->n, sizeof(*done));
	if (!idx || !done)
		return -ENOMEM;
	for (i = 0; i < st->n; i++)
		if (!owner || strcmp(st->entries[i].owner, owner) == 0)
			idx[n++] = i;
	if (n == 0)
		return 0;
	sort_by_order(st, idx, n);

	if (dry_run) {
		for (i = 0; i < n; i++) {
			const struct st_entry *e = &st->entries[idx[i]];
			log_info("dry-run: would restore %s: write '%s' to %s", e->key, e->value, e->path);
		}
		return 0;
	}

	/* A knob the kernel rejects may depend on another one restored later; so retry once at the end. */
	for (pass = 0; pass < 2; pass++) {
		failed = 0;
		for (i = 0; i < n; i++) {
			const struct st_entry *e = &st->entries[idx[i]];

			if (done[idx[i]])
				continue;
			r = st_write_value(e->path, e->value);
			if (r == 0) {
				done[idx[i]] = true;
				log_info("restored %s: wrote '%s' to %s", e->key, e->value, e->path);
			} else {
				failed++;
				if (pass == 1)
					log_warn("cannot restore %s: writing '%s' to %s failed: %s; kept in "
						 "the journal",
						 e->key, e->value, e->path, strerror(-r));
			}
		}
		if (failed == 0)
			break;
	}

	/* Forget the restored entries in one durable rewrite; keep order of the rest. */
	if (failed == n)
		return (int)failed;
	{
		_cleanup_free_ struct st_entry *old = malloc(st->n * sizeof(*old));
		size_t old_n = st->n;

		if (!old)
			return -ENOMEM;
		memcpy(old, st->entries, st->n * sizeof(*old));
		for (i = 0, w = 0; i < st->n; i++)
			if (!done[i])
				st->entries[w++] = st->entries[i];
		st->n = w;
		r = save(st);
		if (r < 0) {
			memcpy(st->entries, old, old_n * sizeof(*old));
			st->n = old_n;
			return r;
		}
	}
	return (int)failed;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The word to compare: the bracketed selection of "a [b] c", else the whole trimmed text. */
static void compare_form(const char *s, char *buf, size_t len)
{
	const char *open = strchr(s, '['), *close = open ? strchr(open, ']') : NULL, *end;

	if (open && close) {
		s = open + 1;
		end = close;
	} else {
		while (is_space(*s))
			s++;
		end = s + strlen(s);
		while (end > s && is_space(end[-1]))
			end--;
	}
	snprintf(buf, len, "%.*s", (int)(end - s), s);
}

static bool is_number(const char *s, size_t len)
{
	size_t i = 0;

	if (len > 0 && s[0] == '-')
		i = 1;
	if (i == len || len - i > 18)
		return false;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Token by token, numbers by value: "0010" == "10", "4 4 1 7" == "4\t4\t1\t7". */
static bool same_value(const char *a, const char *b)
{
	for (;;) {
		size_t la, lb;

		while (is_space(*a))
			a++;
		while (is_space(*b))
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		for (la = 0; a[la] && !is_space(a[la]); la++)
			;
		for (lb = 0; b[lb] && !is_space(b[lb]); lb++)
			;
		if (is_number(a, la) && is_number(b, lb)) {
			if (strtoll(a, NULL, 10) != strtoll(b, NULL, 10))
				return false;
		} else if (la != lb || memcmp(a, b, la) != 0) {
			return false;
		}
		a += la;
		b += lb;
	}
}

int st_write_value(const char *path, const char *value)
{
	char got[ST_READBACK_MAX], want_w[ST_READBACK_MAX], got_w[ST_READBACK_MAX];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value), have = 0;
	struct statfs sfs;
	struct stat sb;
	ssize_t n;
	int r;

	/* No O_CREAT, no O_TRUNC: a knob that is not there must not be invented. */
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* sysfs takes the whole value in one write() and rejects it with the write's errno. */
	n = write(fd, value, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	/* Ordinary files (test fixtures) keep old bytes past the new end; sysfs/procfs/cgroupfs don't. */
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && fstatfs(fd, &sfs) == 0 &&
	    sfs.f_type != SYSFS_MAGIC_ && sfs.f_type != PROC_SUPER_MAGIC_ &&
	    sfs.f_type != CGROUP_SUPER_MAGIC_ && sfs.f_type != CGROUP2_SUPER_MAGIC_ &&
	    ftruncate(fd, (off_t)len) < 0)
		return -errno;
	r = close(TAKE_FD(fd));
	if (r < 0)
		return -errno;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	while (have < sizeof(got) - 1) {
		n = read(fd, got + have, sizeof(got) - 1 - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Opened O_NONBLOCK so a FIFO planted at the path can't hang us: take what is there.
			 */
			if (errno == EAGAIN && have > 0)
				break;
			return -errno;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	got[have] = '\0';
	if (memchr(got, '\0', have))
		return -EIO;
	compare_form(value, want_w, sizeof(want_w));
	compare_form(got, got_w, sizeof(got_w));
	if (!same_value(want_w, got_w))
		return -EIO;
	return 0;
}
