#ifndef NABLA_THREAD_STATE_H
#define NABLA_THREAD_STATE_H
#include <stdint.h>

/* The autograd flags of one thread (grad mode, inference mode, forward-mode level, the compile tracer), as a C
   thread-local: one %fs-relative address computation per read once linked into an executable, where POSIX
   thread-specific storage cost a call to pthread_getspecific and a swift_once check of its key on every op.
   Zero-initialised means grad mode on, no inference, no forward level, no tracer. Swift names it AutogradFlags. */
typedef struct NablaAutogradFlags {
    int32_t gradDisabled;
    int32_t inference;
    int32_t forwardLevel;
    /* The Tracer recording this thread's backend calls (compile), unretained; NULL outside a trace. */
    void *tracer;
    /* The GraphRunner running a compiled graph on this thread, unretained (named in failure messages). */
    void *compiledRunner;
    /* Autograd nodes this thread has made (autogradNodesCreated()). */
    long nodesCreated;
    /* Gradient products this thread's backward passes added straight into gathered gradients
       (gradientProductsFused()). */
    long gradientProductsFused;
} NablaAutogradFlags;

extern _Thread_local NablaAutogradFlags nabla_autograd_flags;

/* This thread's flags (valid for the thread's lifetime). */
static inline NablaAutogradFlags *nabla_autograd_flags_ptr(void) { return &nabla_autograd_flags; }

#endif
