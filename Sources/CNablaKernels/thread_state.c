/* The per-thread autograd flags (see include/nabla_thread_state.h). */
#include "nabla_thread_state.h"

_Thread_local NablaAutogradFlags nabla_autograd_flags;
