// Notes the aggregator writes into a batch acknowledgement's `message` that the agency node
// reads back (the acknowledgement has no field for them).
//
// A batch that corrected stored reports (the same report ids sent again with other
// content, aggregator/store.h CommitBatch) is acknowledged with a message that starts with
// kCorrectedAckPrefix and the number of corrected reports: "corrected 2 report(s): ...".
#ifndef SAMENZICHT_MODEL_ACK_NOTES_H_
#define SAMENZICHT_MODEL_ACK_NOTES_H_

#include <cstdint>
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace samenzicht::model {

inline constexpr char kCorrectedAckPrefix[] = "corrected ";

// The number of corrected reports an acknowledgement message names; 0 when none.
inline uint32_t CorrectedInAckMessage(absl::string_view message) {
  if (!absl::StartsWith(message, kCorrectedAckPrefix)) return 0;
  message.remove_prefix(sizeof(kCorrectedAckPrefix) - 1);
  const size_t end = message.find(' ');
  uint32_t n = 0;
  if (!absl::SimpleAtoi(message.substr(0, end), &n)) return 0;
  return n;
}

}  // namespace samenzicht::model

#endif  // SAMENZICHT_MODEL_ACK_NOTES_H_
