// Process hardening for daemons and commands that hold key material.
#ifndef SAMENZICHT_COMMON_PROCESS_H_
#define SAMENZICHT_COMMON_PROCESS_H_

namespace samenzicht::process {

// Disables core dumps (RLIMIT_CORE = 0, PR_SET_DUMPABLE = 0) so key bytes cannot end up
// in a core file. Safe to call more than once.
void DisableCoreDumps();

}  // namespace samenzicht::process

#endif  // SAMENZICHT_COMMON_PROCESS_H_
