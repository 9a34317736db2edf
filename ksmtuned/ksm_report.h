/* ksm_report.h - "how much is shared, by which VM?": the `ksm` control command's result. */
#ifndef MEMOPT_KSM_REPORT_H
#define MEMOPT_KSM_REPORT_H

#include <json-c/json.h>
#include <sys/types.h>
#include "ksm_tuner.h"

/* Name a process for the report: libvirt's pid file (<libvirt_run_dir>/<name>.pid) names it
 * "libvirt"; else QEMU's "-name" ("cmdline"); else its comm ("comm"). Returns 0. */
int ksm_name_process(const char *procfs_root, const char *libvirt_run_dir, pid_t pid, char *ret_name, size_t len,
		     const char **ret_source);

/* Build the `ksm` result (schema in docs/protocol.md) from the tuner's view plus a fresh walk of
 * per-process ksm_stat. Returns a new object, or NULL when out of memory. */
json_object *ksm_report_json(const char *procfs_root, const char *libvirt_run_dir);

#endif
