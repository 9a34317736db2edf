/* virtloop.c - libvirt event implementation on top of common/loop.c: handles multiplexed per fd,
 * timeouts re-armed as one-shot loop timers, free callbacks deferred as libvirt requires. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>

#include "log.h"
#include "loop.h"
#include "virtloop.h"

struct vwatch {
	int id;
	int fd;
	int events;                     /* VIR_EVENT_HANDLE_* wanted */
	virEventHandleCallback cb;
	void *opaque;
	virFreeCallback ff;
	bool dead;
};

struct vtimer {
	int id;
	int freq_ms;                    /* -1 disabled, 0 every iteration, >0 period */
	virEventTimeoutCallback cb;
	void *opaque;
	virFreeCallback ff;
	int64_t ev_id;                  /* armed loop timer, -1 none */
	bool dead;
};

static struct vwatch *W;
static size_t nw, capw;
static struct vtimer *Tm;
static size_t nt, capt;
static int next_id = 1;

/* Free callbacks waiting for the next loop iteration; vloop_fini() runs what is left. */
struct deferred_free { virFreeCallback ff; void *opaque; };
static struct deferred_free *F;
static size_t nf, capf;
static int64_t free_timer = -1;

static void run_frees(void *data)
{
	(void)data;
	free_timer = -1;
	/* A free callback may remove further handles and so defer more frees: take the list first. */
	while (nf > 0) {
		struct deferred_free d = F[--nf];
		d.ff(d.opaque);
	}
}

/* libvirt: "the ff callback must be invoked at a later time, not from within the remove function". */
static void defer_free(virFreeCallback ff, void *opaque)
{
	if (!ff)
		return;
	if (nf == capf) {
		size_t nc = capf ? capf * 2 : 16;
		struct deferred_free *x = realloc(F, nc * sizeof(*x));
		if (!x) {
			log_err("libvirt events: out of memory, leaking a callback's data");
			return;
		}
		F = x;
		capf = nc;
	}
	F[nf++] = (struct deferred_free){ .ff = ff, .opaque = opaque };
	if (free_timer < 0)
		free_timer = ev_add_timeout(0, run_frees, NULL);
}

static short to_poll(int ev)
{
	short p = 0;
	if (ev & VIR_EVENT_HANDLE_READABLE)
		p |= POLLIN;
	if (ev & VIR_EVENT_HANDLE_WRITABLE)
		p |= POLLOUT;
	return p;
}

static int from_poll(short r)
{
	int e = 0;
	if (r & POLLIN)
		e |= VIR_EVENT_HANDLE_READABLE;
	if (r & POLLOUT)
		e |= VIR_EVENT_HANDLE_WRITABLE;
	if (r & POLLERR)
		e |= VIR_EVENT_HANDLE_ERROR;
	if (r & POLLHUP)
		e |= VIR_EVENT_HANDLE_HANGUP;
	return e;
}

static void on_fd(int fd, short revents, void *data);

/* Keep the loop's registration of fd equal to the union of its live watches. */
static void sync_fd(int fd)
{
	int want = 0;
	bool any = false;
	for (size_t i = 0; i < nw; i++)
		if (!W[i].dead && W[i].fd == fd && W[i].events) {
			want |= W[i].events;
			any = true;
		}
	ev_del_fd(fd);
	if (any && ev_add_fd(fd, to_poll(want), on_fd, NULL) < 0)
		log_err("libvirt events: cannot watch fd %d", fd);
}

static void on_fd(int fd, short revents, void *data)
{
	(void)data;
	int ev = from_poll(revents);
	/* A callback may add or remove watches: iterate by id snapshot. */
	size_t n = nw;
	int ids[64];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 64; i++)
		if (!W[i].dead && W[i].fd == fd)
			ids[k++] = W[i].id;
	for (size_t j = 0; j < k; j++) {
		for (size_t i = 0; i < nw; i++) {
			if (W[i].id != ids[j] || W[i].dead)
				continue;
			int fire = ev & (W[i].events | VIR_EVENT_HANDLE_ERROR | VIR_EVENT_HANDLE_HANGUP);
			if (fire && W[i].events)
				W[i].cb(W[i].id, fd, fire, W[i].opaque);
			break;
		}
	}
}

static int add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff)
{
	if (nw == capw) {
		size_t nc = capw ? capw * 2 : 16;
		struct vwatch *x = realloc(W, nc * sizeof(*x));
		if (!x)
			return -1;
		W = x;
		capw = nc;
	}
	int id = next_id++;
	W[nw++] = (struct vwatch){ .id = id, .fd = fd, .events = events, .cb = cb, .opaque = opaque, .ff = ff };
	sync_fd(fd);
	return id;
}

static struct vwatch *find_watch(int id)
{
	for (size_t i = 0; i < nw; i++)
		if (W[i].id == id && !W[i].dead)
			return &W[i];
	return NULL;
}

static void update_handle(int id, int events)
{
	struct vwatch *w = find_watch(id);
	if (!w)
		return;
	w->events = events;
	sync_fd(w->fd);
}

static int remove_handle(int id)
{
	struct vwatch *w = find_watch(id);
	if (!w)
		return -1;
	int fd = w->fd;
	virFreeCallback ff = w->ff;
	void *opaque = w->opaque;
	/* Compact now: on_fd re-looks-up by id, so removing from the array is safe. */
	*w = W[--nw];
	sync_fd(fd);
	defer_free(ff, opaque);
	return 0;
}

static struct vtimer *find_timer(int id)
{
	for (size_t i = 0; i < nt; i++)
		if (Tm[i].id == id && !Tm[i].dead)
			return &Tm[i];
	return NULL;
}

static void on_timer(void *data);

static void arm(struct vtimer *t)
{
	if (t->ev_id >= 0)
		ev_cancel_timeout(t->ev_id);
	t->ev_id = -1;
	if (t->freq_ms >= 0)
		t->ev_id = ev_add_timeout((uint64_t)t->freq_ms, on_timer, (void *)(intptr_t)t->id);
}

static void on_timer(void *data)
{
	int id = (int)(intptr_t)data;
	struct vtimer *t = find_timer(id);
	if (!t)
		return;
	t->ev_id = -1;
	virEventTimeoutCallback cb = t->cb;
	void *opaque = t->opaque;
	cb(id, opaque);
	/* Re-find: the callback may have updated, removed or added timers (moving the array). */
	t = find_timer(id);
	if (t && t->ev_id < 0)
		arm(t);
}

static int add_timeout(int freq_ms, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	if (nt == capt) {
		size_t nc = capt ? capt * 2 : 16;
		struct vtimer *x = realloc(Tm, nc * sizeof(*x));
		if (!x)
			return -1;
		Tm = x;
		capt = nc;
	}
	int id = next_id++;
	Tm[nt] = (struct vtimer){ .id = id, .freq_ms = freq_ms, .cb = cb, .opaque = opaque, .ff = ff, .ev_id = -1 };
	arm(&Tm[nt]);
	nt++;
	return id;
}

static void update_timeout(int id, int freq_ms)
{
	struct vtimer *t = find_timer(id);
	if (!t)
		return;
	t->freq_ms = freq_ms;
	arm(t);
}

static int remove_timeout(int id)
{
	struct vtimer *t = find_timer(id);
	if (!t)
		return -1;
	if (t->ev_id >= 0)
		ev_cancel_timeout(t->ev_id);
	virFreeCallback ff = t->ff;
	void *opaque = t->opaque;
	*t = Tm[--nt];
	defer_free(ff, opaque);
	return 0;
}

int vloop_register(void)
{
	virEventRegisterImpl(add_handle, update_handle, remove_handle, add_timeout, update_timeout, remove_timeout);
	return 0;
}

void vloop_fini(void)
{
	if (free_timer >= 0)
		ev_cancel_timeout(free_timer);
	run_frees(NULL);
	free(F);
	F = NULL;
	nf = capf = 0;
	for (size_t i = 0; i < nw; i++)
		ev_del_fd(W[i].fd);
	for (size_t i = 0; i < nt; i++)
		if (Tm[i].ev_id >= 0)
			ev_cancel_timeout(Tm[i].ev_id);
	free(W);
	free(Tm);
	W = NULL;
	Tm = NULL;
	nw = capw = nt = capt = 0;
}
