/* config_int.h - private to common/config*.c: the key tables (config_keys.c) and the engine (config.c). */
#ifndef MEMOPT_CONFIG_INT_H
#define MEMOPT_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum cfg_type {
	CT_BOOL,     /* bool */
	CT_ENUM,     /* int or enum, named values from .names */
	CT_PATH,     /* char[size], absolute path */
	CT_PATH_OPT, /* char[size], absolute path or "none" (stored as "") */
	CT_GROUP,    /* char[size], group name or "none" (stored as "") */
	CT_DURATION, /* uint64_t ms */
	CT_PERCENT,  /* uint32_t ppm */
	CT_SIZE,     /* uint64_t KiB */
	CT_MSIZE,    /* struct msize, size or percent of MemTotal */
	CT_U64,	     /* uint64_t plain number */
	CT_STRING,   /* char[size], printable, no blanks (a URI) */
	CT_GSIZE,    /* struct msize, size or percent of a guest's memory */
	CT_LISTEN,   /* char[size], numeric ADDRESS:PORT (common/netaddr.h) or "off" (stored as "") */
};

struct cfg_name {
	const char *name;
	int value;
};

struct cfg_key {
	const char *section;
	const char *key;
	enum cfg_type type;
	size_t offset;		      /* into struct memopt_config */
	size_t size;		      /* for strings: buffer size */
	uint64_t min, max;	      /* in the field's unit; ignored for enums, strings, msize */
	const struct cfg_name *names; /* CT_ENUM: terminated by {NULL, 0} */
	const char *help;
};

/* The keys of the fixed sections; --print-config prints them in this order. */
extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;

/* The fixed section names, in --print-config order. */
extern const char *const cfg_sections[];
extern const size_t cfg_nsections;

/* Keys of a [vm PATTERN] section, offsets into struct cfg_vm_rule. The engine parses manage by hand and
 * records has_floor, so it names them by index. */
enum { CFG_VM_FLOOR, CFG_VM_SHARES, CFG_VM_MANAGE, CFG_VM_NKEYS };
extern const struct cfg_key cfg_vm_keys[CFG_VM_NKEYS];

/* Cross-key checks of every section, run by cfg_validate() once each key is within its own range.
 * name is the config's name for messages. Returns 0, or -EINVAL with "name: [section] ..." in err. */
int cfg_validate_sections(const struct memopt_config *cfg, const char *name, char *err, size_t errlen);

/* A ppm value formatted as a percentage ("12.5%"); returns buf. */
const char *cfg_fmt_pct(uint64_t ppm, char *buf, size_t len);

#endif
