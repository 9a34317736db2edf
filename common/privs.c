/* privs.c - capability drop with libcap-ng after start-up, /proc/PID/status capability decoding, and
 * the capability-free exec of the programs memoptd starts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cap-ng.h>

#include "fileio.h"
#include "privs.h"

#define PRIV_STATUS_MAX 16384

/* capabilities(7) order; the names capsh --decode prints. */
static const char *const cap_names[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill",
	"cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
	"cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module",
	"cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot",
	"cap_sys_nice", "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
	"cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog",
	"cap_wake_alarm", "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf",
	"cap_checkpoint_restore",
};
_Static_assert(sizeof(cap_names) / sizeof(cap_names[0]) == 41, "capabilities 0..40");
_Static_assert(PRIV_CAP_SYS_PTRACE == CAP_SYS_PTRACE && PRIV_CAP_DAC_READ_SEARCH == CAP_DAC_READ_SEARCH,
	       "capability numbers");

const char *priv_cap_name(unsigned n)
{
	return n < sizeof(cap_names) / sizeof(cap_names[0]) ? cap_names[n] : NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "\t0000003fffffffff" up to the end of the line: 1..16 hex digits, blanks around. */
static int parse_hex(const char *p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	int digits = 0;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && hexval(*p) >= 0; p++) {
		if (++digits > 16)
			return -EBADMSG;
		v = v << 4 | (uint64_t)hexval(*p);
	}
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (digits == 0 || p != end)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int priv_parse_status(const char *text, size_t len, struct priv_sets *ret)
{
	struct priv_sets s = { .no_new_privs = -1 };
	static const char *const keys[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	uint64_t *fields[] = { &s.inh, &s.prm, &s.eff, &s.bnd, &s.amb };
	unsigned seen = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			size_t klen = (size_t)(colon - p);
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
				if (klen != strlen(keys[i]) || memcmp(p, keys[i], klen))
					continue;
				/* a second line with the same key is not a status file we understand */
				if (seen & (1u << i) || parse_hex(colon + 1, eol, fields[i]) < 0)
					return -EBADMSG;
				seen |= 1u << i;
			}
			if (klen == strlen("NoNewPrivs") && !memcmp(p, "NoNewPrivs", klen)) {
				uint64_t v;
				if (parse_hex(colon + 1, eol, &v) < 0 || v > 1)
					return -EBADMSG;
				s.no_new_privs = (int)v;
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (seen != (1u << (sizeof(keys) / sizeof(keys[0]))) - 1)
		return -EBADMSG;
	*ret = s;
	return 0;
}

/* Append src to buf at *pos; -ENOBUFS (buf NUL-terminated) when it does not fit. */
static int append(char *buf, size_t len, size_t *pos, const char *src)
{
	size_t n = strlen(src);
	if (*pos + n + 1 > len) {
		if (len > *pos) {
			memcpy(buf + *pos, src, len - *pos - 1);
			buf[len - 1] = '\0';
		}
		*pos = len ? len - 1 : 0;
		return -ENOBUFS;
	}
	memcpy(buf + *pos, src, n + 1);
	*pos += n;
	return 0;
}

static int format_mask_at(uint64_t mask, char *buf, size_t len, size_t *pos)
{
	char unknown[16];
	bool first = true;
	if (mask == 0)
		return append(buf, len, pos, "none");
	for (unsigned i = 0; i < 64; i++) {
		if (!(mask & (UINT64_C(1) << i)))
			continue;
		const char *name = priv_cap_name(i);
		if (!name) {
			snprintf(unknown, sizeof(unknown), "cap_%u", i);
			name = unknown;
		}
		if ((!first && append(buf, len, pos, ",") < 0) || append(buf, len, pos, name) < 0)
			return -ENOBUFS;
		first = false;
	}
	return 0;
}

int priv_format_mask(uint64_t mask, char *buf, size_t len)
{
	size_t pos = 0;
	if (len == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	int r = format_mask_at(mask, buf, len, &pos);
	return r < 0 ? r : (int)pos;
}

int priv_format_sets(const struct priv_sets *s, char *buf, size_t len)
{
	const char *labels[] = { "effective=", " permitted=", " inheritable=", " ambient=", " bounding=" };
	const uint64_t masks[] = { s->eff, s->prm, s->inh, s->amb, s->bnd };
	size_t pos = 0;
	if (len == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++)
		if (append(buf, len, &pos, labels[i]) < 0 || format_mask_at(masks[i], buf, len, &pos) < 0)
			return -ENOBUFS;
	if (append(buf, len, &pos, s->no_new_privs < 0 ? " no_new_privs=unknown"
					: s->no_new_privs ? " no_new_privs=1" : " no_new_privs=0") < 0)
		return -ENOBUFS;
	return (int)pos;
}

int priv_read_sets(const char *status_path, struct priv_sets *ret)
{
	char buf[PRIV_STATUS_MAX];
	size_t len;
	bool full;
	int r = fio_read_capped(status_path, buf, sizeof(buf), &len, &full);
	if (r < 0)
		return r;
	return priv_parse_status(buf, len, ret);
}

int priv_drop(uint64_t keep, uint64_t keep_idle, uint64_t *ret_missing, char *err, size_t errlen)
{
	struct priv_sets cur, now;
	char names[512];
	int r;

	if (geteuid() != 0)
		return 0;
	r = priv_read_sets("/proc/self/status", &cur);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the capability sets from /proc/self/status: %s", strerror(-r));
		return r;
	}
	/* Never gain: only what is held now can be kept. */
	uint64_t all = keep | keep_idle;
	uint64_t eff = keep & cur.prm, prm = all & cur.prm, bnd = all & cur.bnd;
	bool reduce_bounds = (cur.bnd & ~all) != 0;
	if (reduce_bounds && !(cur.eff & (UINT64_C(1) << CAP_SETPCAP))) {
		priv_format_mask(cur.bnd & ~all, names, sizeof(names));
		snprintf(err, errlen, "without cap_setpcap the bounding set cannot be reduced (restrict it with "
			 "CapabilityBoundingSet= in the unit, or set [daemon] drop_capabilities = no); it still holds %s",
			 names);
		return -EPERM;
	}

	capng_clear(CAPNG_SELECT_BOTH);
	for (unsigned i = 0; i < 64; i++) {
		uint64_t bit = UINT64_C(1) << i;
		if ((eff & bit) && capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, i) < 0)
			r = -EINVAL;
		if ((prm & bit) && capng_update(CAPNG_ADD, CAPNG_PERMITTED, i) < 0)
			r = -EINVAL;
		if ((bnd & bit) && capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, i) < 0)
			r = -EINVAL;
	}
	if (r < 0) {
		snprintf(err, errlen, "libcap-ng does not know a capability of the set to keep");
		return r;
	}
	/* The bounding set first: dropping from it needs cap_setpcap, which the capset below removes. */
	if (reduce_bounds && capng_apply(CAPNG_SELECT_BOUNDS) < 0) {
		snprintf(err, errlen, "cannot reduce the capability bounding set: %s", strerror(errno ? errno : EPERM));
		return -EPERM;
	}
	/* A seccomp filter may refuse capset (systemd's @privileged holds it). Started by a unit whose
	 * CapabilityBoundingSet= is the kept set, the sets are already right and only the programs we
	 * start cannot drop theirs: say so (2) rather than refuse to run. */
	bool capset_refused = false;
	if (capng_apply(CAPNG_SELECT_CAPS) < 0) {
		int e = errno ? errno : EPERM;
		if (cur.eff != eff || cur.prm != prm || cur.inh) {
			snprintf(err, errlen, "cannot set the capabilities (capset): %s", strerror(e));
			return -e;
		}
		capset_refused = true;
	}
	/* Emptied by the capset already (ambient must be a subset of inheritable); said outright here.
	 * EINVAL: a kernel before 4.3 has no ambient set. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		r = -errno;
		snprintf(err, errlen, "cannot clear the ambient capabilities: %s", strerror(-r));
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(-r));
		return r;
	}

	/* Believe the kernel, not the library. */
	r = priv_read_sets("/proc/self/status", &now);
	if (r < 0) {
		snprintf(err, errlen, "cannot read back the capability sets from /proc/self/status: %s", strerror(-r));
		return r;
	}
	if (now.eff != eff || now.prm != prm || now.inh || now.amb || (now.bnd & ~all) || now.no_new_privs == 0) {
		priv_format_sets(&now, names, sizeof(names));
		snprintf(err, errlen, "the capability sets are not what was asked for after the drop: %s", names);
		return -EPERM;
	}
	if (ret_missing)
		*ret_missing = all & ~cur.prm;
	return capset_refused ? 2 : 1;
}

int priv_child_limit(uint64_t mask)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0, 0, 0 } };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		uint32_t m = (uint32_t)(mask >> (32 * i));
		data[i].permitted &= m; /* asking for more than is permitted would fail the whole capset */
		data[i].effective = data[i].permitted;
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}
