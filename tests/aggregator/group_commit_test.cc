// Group commit (aggregator/store.h): batches that wait while another commit is under way are
// committed together in one transaction. Each gets its own result and audit entry; a batch
// whose statements fail is undone alone (the group is committed again without it), the
// others are stored, and the trail continues without a gap; checkpoints fall on exact
// multiples.
//
// The groups are made deterministic by holding SQLite's write lock from a second
// connection: the first batch's leader waits in BEGIN IMMEDIATE while the others queue
// (Store::PendingCommits), and they form the next group when the lock is released.
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "audit/aggregator_events.h"
#include "aggregator/store/store.h"
#include "audit/chain.h"
#include "crypto/signature.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using testing::FreshDir;
using testing::MakeReport;
using testing::Tok;

// Opened once; Wait returns whether it was opened within 30 seconds (a test hook waits at
// it, or the test waits for a hook to have run).
class Latch {
 public:
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

constexpr char kQueryEvent[] = "test_query";

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/data";
    signer_ = *crypto::Signer::Generate();
    store_ = *Store::Open(dir_, *crypto::SecretBytes::Random(32), {"nid", "name_dob", "phone"});
    AuditOptions o;
    o.signer = signer_.get();
    o.checkpoint_dir = dir_ + "/../checkpoints";
    o.checkpoint_every = 2;
    ASSERT_OK(store_->AttachAudit(o));
    // Batch k: reports 100k+1 .. 100k+3 of agency `agencies_[k]`, with nid tokens.
    for (int k = 0; k < 4; ++k) {
      for (int i = 1; i <= 3; ++i) reports_[k].push_back(MakeReport(100 * k + i, {{"nid", Tok(100 * k + i)}}));
      BatchToStore& b = batches_[k];
      b.batch_id = testing::Id(9000 + k);
      b.agency = k == 2 ? "evil" : "police";
      b.digest = std::string(32, static_cast<char>('a' + k));
      b.received_unix = 1700000000;
      b.report_count = 3;
      for (size_t i = 0; i < reports_[k].size(); ++i) {
        b.reports.push_back({static_cast<uint32_t>(i), &reports_[k][i]});
      }
    }
  }

  // Commits batch 0 while the write lock is held elsewhere, queues `others` behind it,
  // then releases the lock; returns each batch's result (index = batch number).
  std::vector<absl::StatusOr<CommitResult>> CommitAsGroup(const std::vector<int>& others) {
    sqlite3* blocker = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ + "/aggregator.db").c_str(), &blocker), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    std::vector<absl::StatusOr<CommitResult>> results(4, absl::UnknownError("not run"));
    std::vector<std::thread> threads;
    threads.emplace_back([&] { results[0] = store_->CommitBatch(batches_[0]); });
    // Batch 0 is pending once its caller took the lead (in the same step as it queued);
    // its group cannot finish while the lock is held, so the others queue behind it.
    WaitForPending(1);
    for (size_t n = 0; n < others.size(); ++n) {
      const int k = others[n];
      threads.emplace_back([&, k] { results[k] = store_->CommitBatch(batches_[k]); });
      WaitForPending(n + 2);
    }
    EXPECT_EQ(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(blocker);
    for (auto& t : threads) t.join();
    return results;
  }

  // Commits batch 0 on a thread of its own; once the test's hook has opened `first_in`
  // (inside batch 0's group), queues batches 1, 3 and 2 behind it, in that order.
  void CommitZeroThenQueue(Latch& first_in, std::vector<absl::StatusOr<CommitResult>>* results,
                           std::vector<std::thread>* threads) {
    threads->emplace_back([this, results] { (*results)[0] = store_->CommitBatch(batches_[0]); });
    ASSERT_TRUE(first_in.Wait());
    const std::vector<int> queued = {1, 3, 2};
    for (size_t n = 0; n < queued.size(); ++n) {
      const int k = queued[n];
      threads->emplace_back(
          [this, results, k] { (*results)[k] = store_->CommitBatch(batches_[k]); });
      WaitForPending(n + 2);
    }
  }

  // Runs `sql` on a connection of its own (a trigger that makes the "evil" batch fail).
  void RunSql(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/aggregator.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  void WaitForPending(size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (store_->PendingCommits() != n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_EQ(store_->PendingCommits(), n);
  }

  // The trail verifies, and its batch_received entries name these batch ids in order.
  void ExpectTrail(const std::vector<int>& batches) {
    ASSERT_OK_AND_ASSIGN(std::vector<audit::Entry> entries, store_->ReadAudit(1, 1000));
    ASSERT_OK_AND_ASSIGN(crypto::Verifier v, crypto::Verifier::New(signer_->public_key()));
    EXPECT_OK(audit::Verify(entries, v, std::nullopt));
    std::vector<std::string> received;
    for (const audit::Entry& e : entries) {
      if (e.event == kEventBatchReceived) received.push_back(e.details);
    }
    ASSERT_EQ(received.size(), batches.size());
    for (size_t i = 0; i < batches.size(); ++i) {
      EXPECT_NE(received[i].find(testing::Id(9000 + batches[i])), std::string::npos) << received[i];
    }
  }

  // The trail in order: a batch's entry as its number ("0".."3"), a query's as "q".
  std::vector<std::string> TrailOrder() {
    std::vector<std::string> order;
    auto entries = store_->ReadAudit(1, 1000);
    EXPECT_OK(entries);
    if (!entries.ok()) return order;
    for (const audit::Entry& e : *entries) {
      if (e.event == kQueryEvent) order.push_back("q");
      for (int k = 0; k < 4; ++k) {
        if (e.event == kEventBatchReceived &&
            e.details.find(testing::Id(9000 + k)) != std::string::npos) {
          order.push_back(std::to_string(k));
        }
      }
    }
    return order;
  }

  // Query entries committed, read on a connection of its own: callable from a hook inside a
  // group's open transaction, it sees only what is durable.
  int CommittedQueryEntries() {
    const std::vector<std::string> n = testing::Column(
        dir_ + "/aggregator.db", absl::StrCat("SELECT count(*) FROM audit WHERE event = '",
                                              kQueryEvent, "'"));
    return n.size() == 1 ? std::stoi(n[0]) : -1;
  }

  std::string dir_;
  std::unique_ptr<crypto::Signer> signer_;
  std::unique_ptr<Store> store_;
  std::vector<v1::Report> reports_[4];
  BatchToStore batches_[4];
};

TEST_F(GroupCommitTest, QueuedBatchesCommitTogetherEachWithItsResultAndEntry) {
  batches_[2].agency = "zorg";
  // Batch 3 re-sends batch 1's first report: within the group it is a duplicate.
  reports_[3][0].set_report_id(testing::Id(101));
  auto results = CommitAsGroup({1, 3, 2});
  for (int k = 0; k < 4; ++k) ASSERT_OK(results[k]) << k;
  EXPECT_EQ(results[0]->accepted, 3u);
  EXPECT_EQ(results[1]->accepted, 3u);
  EXPECT_EQ(results[3]->accepted, 2u);
  EXPECT_EQ(results[3]->duplicates, 1u);
  EXPECT_EQ(results[2]->accepted, 3u);
  EXPECT_EQ(*store_->CountRows("reports"), 11);
  EXPECT_EQ(*store_->CountRows("batches"), 4);
  ExpectTrail({0, 1, 3, 2});
}

TEST_F(GroupCommitTest, CheckpointsFallOnExactMultiplesWithinAGroup) {
  batches_[2].agency = "zorg";
  auto results = CommitAsGroup({1, 2, 3});
  for (int k = 0; k < 4; ++k) ASSERT_OK(results[k]) << k;
  const uint64_t last = store_->audit_last_seq();
  ASSERT_GE(last, 4u);
  std::set<std::string> names;
  for (const auto& f : std::filesystem::directory_iterator(dir_ + "/../checkpoints")) {
    names.insert(f.path().filename().string());
  }
  std::set<std::string> expected;
  for (uint64_t seq = 2; seq <= last; seq += 2) {
    char name[48];
    std::snprintf(name, sizeof name, "%012llu.checkpoint", static_cast<unsigned long long>(seq));
    expected.insert(name);
  }
  EXPECT_EQ(names, expected);
}

TEST_F(GroupCommitTest, ALeaderWhoseBatchDidNotFitCommitsGroupAfterGroup) {
  store_->SetMaxCommitGroupReports(4);  // one batch (3 reports) per group
  batches_[2].agency = "zorg";
  auto results = CommitAsGroup({1, 3, 2});
  for (int k = 0; k < 4; ++k) ASSERT_OK(results[k]) << k;
  EXPECT_EQ(*store_->CountRows("reports"), 12);
  EXPECT_EQ(store_->PendingCommits(), 0u);
  ExpectTrail({0, 1, 3, 2});
}

TEST_F(GroupCommitTest, AFailingBatchIsUndoneAloneAndTheTrailGoesOn) {
  // A statement of the "evil" batch (number 2) fails inside the group's transaction.
  RunSql("CREATE TRIGGER fail_evil BEFORE INSERT ON reports WHEN NEW.agency = 'evil' "
         "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");

  auto results = CommitAsGroup({1, 2, 3});
  ASSERT_OK(results[0]);  // its own group, before the lock was released
  ASSERT_OK(results[1]);
  EXPECT_THAT(results[2], ::samenzicht::testing::StatusIs(absl::StatusCode::kInternal,
                                                          "injected failure"));
  ASSERT_OK(results[3]);
  EXPECT_EQ(results[3]->accepted, 3u);
  // Nothing of batch 2: neither its reports, nor its batch row, nor an audit entry.
  EXPECT_EQ(*store_->CountRows("reports"), 9);
  EXPECT_EQ(*store_->CountRows("batches"), 3);
  EXPECT_EQ(testing::Column(dir_ + "/aggregator.db", "SELECT count(*) FROM reports WHERE agency = 'evil'"),
            std::vector<std::string>{"0"});
  ExpectTrail({0, 1, 3});

  // Resent alone it fails again; the trail goes on without a gap.
  EXPECT_THAT(store_->CommitBatch(batches_[2]),
              ::samenzicht::testing::StatusIs(absl::StatusCode::kInternal));
  batches_[2].agency = "zorg";
  ASSERT_OK(store_->CommitBatch(batches_[2]));
  EXPECT_EQ(*store_->CountRows("reports"), 12);
  ExpectTrail({0, 1, 3, 2});
}

TEST_F(GroupCommitTest, AFailedCommitLeavesNoReportIdBehind) {
  // The "evil" batch (number 2) breaks a deferred foreign key: every statement succeeds and
  // the group's COMMIT fails, so all of its batches are refused with the error.
  RunSql("CREATE TABLE parent(id INTEGER PRIMARY KEY);"
         "CREATE TABLE child(p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);"
         "CREATE TRIGGER fail_at_commit AFTER INSERT ON reports WHEN NEW.agency = 'evil' "
         "BEGIN INSERT INTO child VALUES (42); END");

  auto results = CommitAsGroup({1, 2, 3});
  ASSERT_OK(results[0]);  // its own group, before the lock was released
  for (int k : {1, 2, 3}) {
    EXPECT_THAT(results[k], ::samenzicht::testing::StatusIs(absl::StatusCode::kInternal,
                                                            "FOREIGN KEY constraint failed"))
        << k;
  }
  EXPECT_EQ(*store_->CountRows("reports"), 3);
  EXPECT_EQ(*store_->CountRows("report_ids"), 3);
  ExpectTrail({0});

  // Nothing else wrote to the database, so the store's id map is not read again: the ids the
  // failed group had added must be gone from it, or these would count as held already.
  for (int k : {1, 3}) {
    ASSERT_OK_AND_ASSIGN(CommitResult c, store_->CommitBatch(batches_[k]));
    EXPECT_EQ(c.accepted, 3u) << k;
    EXPECT_EQ(c.duplicates, 0u) << k;
  }
  EXPECT_EQ(*store_->CountRows("reports"), 9);
  ExpectTrail({0, 1, 3});
}

// A query's audit entry (AppendAudit) that arrives while a group is being written is
// committed with the batches written so far; the group's remaining batches follow in the
// next group. The group is held open by a test hook after its first batch, and every batch
// written after the entry started waiting checks, on a connection of its own, that the
// entry is already committed.
TEST_F(GroupCommitTest, AQuerysEntryDoesNotWaitForTheRestOfTheGroupInProgress) {
  batches_[2].agency = "zorg";
  Latch first_in, first_go, group_in, group_go, query_waiting;
  std::mutex mu;
  int calls = 0;
  bool query_queued = false;
  std::vector<int> seen;  // per batch written after the query's entry began to wait
  Store::TestHooks hooks;
  hooks.batch_written = [&](size_t) {
    int call;
    bool after;
    {
      std::lock_guard<std::mutex> lock(mu);
      call = calls++;
      after = query_queued;
    }
    if (call == 0) {  // batch 0, a group of its own while the others queue
      first_in.Open();
      first_go.Wait();
    } else if (call == 1) {  // batch 1, the first of the group {1, 3, 2}
      group_in.Open();
      group_go.Wait();
    } else if (after) {
      const int committed = CommittedQueryEntries();
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(committed);
    }
  };
  hooks.audit_waiting = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      query_queued = true;
    }
    query_waiting.Open();
  };
  store_->SetTestHooks(hooks);

  std::vector<absl::StatusOr<CommitResult>> results(4, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  CommitZeroThenQueue(first_in, &results, &threads);
  first_go.Open();
  ASSERT_TRUE(group_in.Wait());
  absl::Status audited = absl::UnknownError("not run");
  threads.emplace_back(
      [&] { audited = store_->AppendAudit(kQueryEvent, "analyst", R"({"table":"t"})"); });
  ASSERT_TRUE(query_waiting.Wait());
  group_go.Open();
  for (auto& t : threads) t.join();

  ASSERT_OK(audited);
  for (int k = 0; k < 4; ++k) ASSERT_OK(results[k]) << k;
  // Batches 3 and 2 were written after the entry was committed, not before.
  EXPECT_EQ(seen, (std::vector<int>{1, 1}));
  EXPECT_EQ(TrailOrder(), (std::vector<std::string>{"0", "1", "q", "3", "2"}));
  ExpectTrail({0, 1, 3, 2});
  EXPECT_EQ(*store_->CountRows("reports"), 12);
  EXPECT_EQ(store_->PendingCommits(), 0u);
}

// A query's entry that arrives while a group is being written, with a large group queued
// behind it, is committed before that next group starts.
TEST_F(GroupCommitTest, AQuerysEntryDoesNotWaitForTheNextGroup) {
  batches_[2].agency = "zorg";
  Latch first_in, first_go, query_waiting;
  std::mutex mu;
  int calls = 0;
  std::vector<int> seen;  // per batch of the next group
  Store::TestHooks hooks;
  hooks.batch_written = [&](size_t) {
    int call;
    {
      std::lock_guard<std::mutex> lock(mu);
      call = calls++;
    }
    if (call == 0) {
      first_in.Open();
      first_go.Wait();
      return;
    }
    const int committed = CommittedQueryEntries();
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(committed);
  };
  hooks.audit_waiting = [&] { query_waiting.Open(); };
  store_->SetTestHooks(hooks);

  std::vector<absl::StatusOr<CommitResult>> results(4, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  CommitZeroThenQueue(first_in, &results, &threads);
  absl::Status audited = absl::UnknownError("not run");
  threads.emplace_back([&] { audited = store_->AppendAudit(kQueryEvent, "analyst", "{}"); });
  ASSERT_TRUE(query_waiting.Wait());
  first_go.Open();
  for (auto& t : threads) t.join();

  ASSERT_OK(audited);
  for (int k = 0; k < 4; ++k) ASSERT_OK(results[k]) << k;
  EXPECT_EQ(seen, (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(TrailOrder(), (std::vector<std::string>{"0", "q", "1", "3", "2"}));
  ExpectTrail({0, 1, 3, 2});
}

// A group's COMMIT that fails (here a batch breaks a deferred foreign key) refuses its
// batches, but not a query's entry that joined the group: the entry is committed in a
// transaction without them.
TEST_F(GroupCommitTest, AGroupsFailedCommitDoesNotRefuseAQuerysEntryInIt) {
  RunSql("CREATE TABLE parent(id INTEGER PRIMARY KEY);"
         "CREATE TABLE child(p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);"
         "CREATE TRIGGER fail_at_commit AFTER INSERT ON reports WHEN NEW.agency = 'evil' "
         "BEGIN INSERT INTO child VALUES (42); END");
  Latch batch_in, batch_go, query_waiting;
  Store::TestHooks hooks;
  hooks.batch_written = [&](size_t) {
    batch_in.Open();
    batch_go.Wait();
  };
  hooks.audit_waiting = [&] { query_waiting.Open(); };
  store_->SetTestHooks(hooks);

  absl::StatusOr<CommitResult> evil = absl::UnknownError("not run");
  absl::Status audited = absl::UnknownError("not run");
  std::thread batch([&] { evil = store_->CommitBatch(batches_[2]); });
  ASSERT_TRUE(batch_in.Wait());
  std::thread query([&] { audited = store_->AppendAudit(kQueryEvent, "analyst", "{}"); });
  ASSERT_TRUE(query_waiting.Wait());
  batch_go.Open();
  batch.join();
  query.join();

  EXPECT_THAT(evil, ::samenzicht::testing::StatusIs(absl::StatusCode::kInternal,
                                                    "FOREIGN KEY constraint failed"));
  ASSERT_OK(audited);
  EXPECT_EQ(TrailOrder(), (std::vector<std::string>{"q"}));
  EXPECT_EQ(CommittedQueryEntries(), 1);
  EXPECT_EQ(*store_->CountRows("reports"), 0);
  ExpectTrail({});
}

}  // namespace
}  // namespace samenzicht::aggregator
