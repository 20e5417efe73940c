#include "aggregator/store/checkpointer.h"

#include <sqlite3.h>

#include "common/status_macros.h"

namespace samenzicht::aggregator {

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path) {
  sqlite::OpenOptions options;
  options.label = path;
  options.no_mutex = true;
  options.busy_timeout_ms = 10000;
  // A first read opens the WAL on this connection; a checkpoint before would do nothing.
  options.pragmas = {"synchronous=FULL"};
  ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, options));
  RETURN_IF_ERROR(db->Exec("SELECT count(*) FROM sqlite_schema"));
  std::unique_ptr<Checkpointer> c(new Checkpointer(std::move(db)));
  c->thread_ = std::thread([c = c.get()] { c->Run(); });
  return c;
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int Checkpointer::OnCommit(void* arg, sqlite3* writer, const char* schema, int wal_pages) {
  auto* self = static_cast<Checkpointer*>(arg);
  if (wal_pages >= self->background_pages_.load()) {
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->wanted_ = true;
    }
    self->cv_.notify_all();
  }
  // Busy (the thread is checkpointing) or held back by a reader: tried again after the
  // next commit.
  if (wal_pages >= self->inline_pages_.load()) {
    sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  return SQLITE_OK;
}

void Checkpointer::SetPages(int background_pages, int inline_pages) {
  background_pages_ = background_pages;
  inline_pages_ = inline_pages;
}

Checkpointer::Pause::Pause(Checkpointer* c) : c_(c) {
  std::unique_lock<std::mutex> lock(c_->mu_);
  ++c_->paused_;
  c_->cv_.wait(lock, [this] { return !c_->running_; });
}

Checkpointer::Pause::~Pause() {
  {
    std::lock_guard<std::mutex> lock(c_->mu_);
    --c_->paused_;
  }
  c_->cv_.notify_all();
}

void Checkpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return (wanted_ && paused_ == 0) || stop_; });
    if (stop_) return;
    wanted_ = false;
    running_ = true;
    lock.unlock();
    sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    running_ = false;
    cv_.notify_all();  // a Pause may be waiting
  }
}

}  // namespace samenzicht::aggregator
