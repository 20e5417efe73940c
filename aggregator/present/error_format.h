// A refused or failed request as JSON, for the dashboard's answers:
//
//   {"error": "the English message", "code": "INVALID_ARGUMENT",
//    "refusal": {"key": "refusedOffGrid", "values": {"period": "..."}, "options": ["..."]}}
//
// on one line, followed by a newline. "refusal" is there only when the status carries one
// (aggregator/query/disclosure.h, RefusalOf): its key names a label of /labels.json, so a page
// says it in its own language.
//
// Thread-safety: a pure function.
#ifndef SAMENZICHT_AGGREGATOR_PRESENT_ERROR_FORMAT_H_
#define SAMENZICHT_AGGREGATOR_PRESENT_ERROR_FORMAT_H_

#include <string>

#include "absl/status/status.h"

namespace samenzicht::aggregator {

std::string FormatErrorJson(const absl::Status& status);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_PRESENT_ERROR_FORMAT_H_
