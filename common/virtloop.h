/* virtloop.h - libvirt's event callbacks (virEventRegisterImpl) served by memopt's single event loop,
 * so libvirt keepalives, domain events and reconnects run on the same loop as everything else. */
#ifndef MEMOPT_VIRTLOOP_H
#define MEMOPT_VIRTLOOP_H

/* Register the implementation with libvirt. Call once, after ev_init() and before virConnectOpen*.
 * Returns 0. */
int vloop_register(void);
/* Forget every watch and timer (after the libvirt connections are closed, before ev_fini). */
void vloop_fini(void);

#endif
