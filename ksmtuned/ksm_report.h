/* ksm_report.h - "how much is shared, by which VM?": the `ksm` control command's result. */
#ifndef MEMOPT_KSM_REPORT_H
#define MEMOPT_KSM_REPORT_H

#include <json-c/json.h>
#include <sys/types.h>
#include "ksm_sysfs.h"
#include "ksm_tuner.h"

/* Name a process for the report: libvirt's pid file (<libvirt_run_dir>/<name>.pid) names it
 * "libvirt"; else QEMU's "-name" ("cmdline"); else its comm ("comm"). Returns 0. */
int ksm_name_process(const char *procfs_root, const char *libvirt_run_dir, pid_t pid, char *ret_name, size_t len,
		     const char **ret_source);

/* A process's share of the host's KSM saving, in pages. ksm_merging_pages counts every page of the
 * process mapped to a KSM page, including the copies that are the one kept page (pages_shared), so
 * the per-process sums equal pages_shared + pages_sharing, not the saving (pages_sharing). Scale by
 * sharing / (shared + sharing) so the VMs' savings add up to the host's; zero pages count in full.
 * host may be NULL (then merging pages count in full). Pure. */
uint64_t ksm_proc_saved_pages(const struct ksm_proc_stat *p, const struct ksm_state *host);

/* Build the `ksm` result (schema in docs/protocol.md) from the tuner's view plus a fresh walk of
 * per-process ksm_stat. Returns a new object, or NULL when out of memory. */
json_object *ksm_report_json(const char *procfs_root, const char *libvirt_run_dir);

#endif
