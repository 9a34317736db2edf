/* version.h - the memopt release, shared by memoptd and memoptctl. */
#ifndef MEMOPT_VERSION_H
#define MEMOPT_VERSION_H
#define MEMOPT_VERSION "0.1.0"
#endif
