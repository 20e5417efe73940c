// The aggregator's audit events are declared in audit/aggregator_events.h; this header
// forwards to it for the files that still include it by this name.
#ifndef SAMENZICHT_AGGREGATOR_AUDIT_EVENTS_H_
#define SAMENZICHT_AGGREGATOR_AUDIT_EVENTS_H_

#include "audit/aggregator_events.h"

#endif  // SAMENZICHT_AGGREGATOR_AUDIT_EVENTS_H_
