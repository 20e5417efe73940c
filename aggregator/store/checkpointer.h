// Checkpoints of `aggregator.db` (copying the WAL back into the database file, and syncing
// that file) on a thread and connection of their own, as SQLite's WAL documentation
// suggests, instead of inside the COMMIT of whichever group crosses wal_autocheckpoint while
// every other batch waits.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Checkpointer> c, Checkpointer::Start(path));
//   sqlite3_wal_hook(writer, &Checkpointer::OnCommit, c.get());
//
// The writer's WAL hook asks for a (PASSIVE) checkpoint once the WAL holds
// `background_pages`. A checkpoint that runs beside the writer cannot let the WAL start over
// (new frames keep arriving), so once the WAL holds `inline_pages` the writer checkpoints
// itself, right after its commit: by then little is left to copy, and the next write
// transaction starts the WAL from the beginning. The WAL file thus stays near
// `inline_pages` pages. A checkpoint that finds another one under way does nothing.
//
// Thread-safety: OnCommit runs on the writer's thread; SetPages and Pause from any thread.
// Remove the WAL hook before destroying the Checkpointer.
#ifndef SAMENZICHT_AGGREGATOR_STORE_CHECKPOINTER_H_
#define SAMENZICHT_AGGREGATOR_STORE_CHECKPOINTER_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "aggregator/store/store.h"
#include "common/sqlite/sqlite.h"

struct sqlite3;

namespace samenzicht::aggregator {

class Checkpointer {
 public:
  // Opens its own connection to `path` (an existing WAL database) and starts the thread.
  // The errors of sqlite::Database::Open and its first read.
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Start(const std::string& path);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // The writer's WAL hook (after each commit, with the pages the WAL holds); `arg` is the
  // Checkpointer.
  static int OnCommit(void* arg, sqlite3* writer, const char* schema, int wal_pages);

  void SetPages(int background_pages, int inline_pages);

  // While a Pause lives the thread starts no checkpoint; making one waits for a checkpoint
  // under way to end (the writer's TRUNCATE would otherwise find it and do nothing).
  class Pause {
   public:
    explicit Pause(Checkpointer* c);
    ~Pause();
    Pause(const Pause&) = delete;
    Pause& operator=(const Pause&) = delete;

   private:
    Checkpointer* const c_;
  };

 private:
  explicit Checkpointer(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  void Run();

  const std::unique_ptr<sqlite::Database> db_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false, stop_ = false, running_ = false;
  int paused_ = 0;
  std::atomic<int> background_pages_{kBackgroundCheckpointPages};
  std::atomic<int> inline_pages_{kInlineCheckpointPages};
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_STORE_CHECKPOINTER_H_
