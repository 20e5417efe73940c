// The aggregator Store's map of every report id it holds, in memory (schema 5 has no index
// on report ids, see aggregator/store/schema.cc): a stored report's id -> its row number in
// `reports` (from 1), a retracted id -> kRetracted. The Store guards it with its writer lock
// and consults it only inside a write transaction, after `Store::SyncReportIds`: loaded on
// the first write, and loaded again when another connection has committed to the database
// since (`PRAGMA data_version`; a second process writing to the same folder), so that every
// decision matches the database it is written to. Report ids are 128 random bits chosen by
// the nodes; the map's hash is seeded per process. About 40-55 bytes per id.
//
// Thread-safety: none of its own (the Store's write_mu_).
#ifndef SAMENZICHT_AGGREGATOR_STORE_REPORT_ID_MAP_H_
#define SAMENZICHT_AGGREGATOR_STORE_REPORT_ID_MAP_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "aggregator/store/store.h"

namespace samenzicht::aggregator {

struct ReportIdMap {
  using Key = std::array<uint8_t, kReportIdBytes>;
  static constexpr int64_t kRetracted = 0;

  absl::flat_hash_map<Key, int64_t> row;
  bool loaded = false;
  int64_t data_version = 0;  // of the writer connection when loaded
  std::vector<Key> added;    // by the open transaction; removed again if it fails

  static Key KeyOf(const uint8_t* id) {
    Key k;
    std::memcpy(k.data(), id, k.size());
    return k;
  }
  // Forgets what the failed transaction added.
  void Undo() {
    for (const Key& k : added) row.erase(k);
    added.clear();
  }
  // Bytes of memory the map takes: flat_hash_map has one slot (key and value) and one
  // control byte per bucket.
  size_t MemoryBytes() const {
    return row.capacity() * (sizeof(std::pair<const Key, int64_t>) + 1);
  }
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_STORE_REPORT_ID_MAP_H_
