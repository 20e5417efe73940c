// node.db has one versioned schema (node_db.h), shared by the StateStore and the Outbox.
#include "agency_node/store/node_db.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "agency_node/store/outbox.h"
#include "agency_node/store/state_store.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;

std::string FreshDir(const std::string& tag) {
  std::string d = ::testing::TempDir() + "/node_db_test/" + tag;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// node.db as the node wrote it before it had a version: the StateStore's and the Outbox's
// tables as each declared them, user_version 0, one row in each (the outbox's row is added
// by OldQueuedBatch below: its payload is a serialized batch).
constexpr char kUnversioned[] = R"sql(
CREATE TABLE report_map (record_id TEXT PRIMARY KEY, report_id TEXT NOT NULL UNIQUE,
  first_seen_unix INTEGER NOT NULL);
CREATE TABLE sent_batches (batch_id TEXT PRIMARY KEY, digest_hex TEXT NOT NULL,
  report_count INTEGER NOT NULL, created_unix INTEGER NOT NULL, sent_unix INTEGER NOT NULL,
  ack_code INTEGER, ack_message TEXT NOT NULL DEFAULT '', accepted INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0, refused_reports INTEGER NOT NULL DEFAULT 0,
  ack_unix INTEGER NOT NULL DEFAULT 0);
CREATE TABLE sent_reports (batch_id TEXT NOT NULL REFERENCES sent_batches(batch_id),
  position INTEGER NOT NULL, report_id TEXT NOT NULL, categories TEXT NOT NULL,
  token_count INTEGER NOT NULL, error_code INTEGER, error_message TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (batch_id, position));
CREATE TABLE retractions (report_id TEXT NOT NULL, outcome TEXT NOT NULL, at_unix INTEGER NOT NULL);
CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, batch_id TEXT NOT NULL UNIQUE,
  signed_batch BLOB NOT NULL, report_count INTEGER NOT NULL, created_unix INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
CREATE TABLE imported_files (digest_hex TEXT PRIMARY KEY, batches INTEGER NOT NULL,
  reports INTEGER NOT NULL, at_unix INTEGER NOT NULL);
INSERT INTO report_map VALUES ('R1', '0123456789abcdef0123456789abcdef', 1);
INSERT INTO sent_batches(batch_id, digest_hex, report_count, created_unix, sent_unix)
  VALUES ('b1', 'ff', 1, 1, 1);
INSERT INTO sent_reports(batch_id, position, report_id, categories, token_count)
  VALUES ('b1', 0, '0123456789abcdef0123456789abcdef', 'form=sexual', 3);
INSERT INTO imported_files VALUES ('d1', 1, 1, 1);
)sql";

// A batch queued in the old outbox: one report, signature bytes as stored.
v1::SignedBatch OldQueuedBatch() {
  v1::BatchPayload payload;
  payload.set_batch_id("b0");
  payload.set_node_id("police");
  payload.set_key_epoch(1);
  payload.set_created_unix(5);
  v1::Report* r = payload.add_reports();
  r->set_report_id("fedcba9876543210fedcba9876543210");
  r->set_form(v1::FORM_SEXUAL);
  v1::SignedBatch signed_batch;
  signed_batch.set_payload(payload.SerializeAsString());
  signed_batch.set_signature(std::string(64, '\x01'));
  return signed_batch;
}

int64_t UserVersion(const std::string& dir) {
  sqlite::OpenOptions o;
  o.label = "check";
  auto db = sqlite::Database::Open(dir + "/node.db", o);
  if (!db.ok()) return -1;
  auto v = (*db)->UserVersion();
  return v.ok() ? *v : -1;
}

TEST(NodeDbTest, ANewDatabaseHasTheCurrentVersion) {
  std::string dir = FreshDir("new");
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto outbox, Outbox::Open(dir));
  EXPECT_EQ(UserVersion(dir), kNodeSchemaVersion);
}

TEST(NodeDbTest, AnUnversionedDatabaseOpensAsVersionOneAndIsUpgraded) {
  std::string dir = FreshDir("unversioned");
  {
    sqlite::OpenOptions o;
    o.label = "old node";
    ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(dir + "/node.db", o));
    ASSERT_OK(db->Exec(kUnversioned));
    ASSERT_OK_AND_ASSIGN(sqlite::Statement ins,
                         db->Prepare("INSERT INTO outbox(batch_id, signed_batch, report_count, "
                                     "created_unix, attempts, last_error) VALUES (?, ?, 1, 5, 2, ?)"));
    ASSERT_OK(ins.Bind(1, "b0")
                  .BindBlob(2, OldQueuedBatch().SerializeAsString())
                  .Bind(3, "aggregator unreachable")
                  .Run());
  }
  ASSERT_EQ(UserVersion(dir), 0);
  {
    ASSERT_OK_AND_ASSIGN(auto outbox, Outbox::Open(dir));  // either opener upgrades
    ASSERT_OK_AND_ASSIGN(bool imported, outbox->WasImported("d1"));
    EXPECT_TRUE(imported);
    // The queued batch is still queued (not held), byte for byte, with its report.
    ASSERT_OK_AND_ASSIGN(auto size, outbox->Size());
    EXPECT_EQ(size, std::make_pair(int64_t{1}, int64_t{1}));
    ASSERT_OK_AND_ASSIGN(auto held, outbox->Held());
    EXPECT_TRUE(held.empty());
    ASSERT_OK_AND_ASSIGN(std::vector<BuiltBatch> pending, outbox->Pending(10));
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].batch_id, "b0");
    EXPECT_EQ(pending[0].created_unix, 5);
    EXPECT_EQ(pending[0].signed_batch.SerializeAsString(), OldQueuedBatch().SerializeAsString());
    EXPECT_EQ(pending[0].digest, BatchDigest(OldQueuedBatch().payload()));
    ASSERT_EQ(pending[0].log.size(), 1u);
    EXPECT_EQ(pending[0].log[0].report_id, "fedcba9876543210fedcba9876543210");
  }
  EXPECT_EQ(UserVersion(dir), kNodeSchemaVersion);
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir));
  ASSERT_OK_AND_ASSIGN(std::string report_id, store->FindReportId("R1"));
  EXPECT_EQ(report_id, "0123456789abcdef0123456789abcdef");
  // The old batch takes an acknowledgement with a report error in the new column.
  v1::BatchAck ack;
  ack.set_batch_id("b1");
  ack.set_partially_accepted(true);
  auto* e = ack.add_errors();
  e->set_index(0);
  e->set_code(3);
  e->set_field("form");
  e->set_message("form is not a known value of the category");
  ASSERT_OK(store->RecordAck(ack, 2));
  ASSERT_OK_AND_ASSIGN(auto reports, store->ListReports("b1"));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].categories, "form=sexual");
  EXPECT_EQ(reports[0].error_field, "form");
  ASSERT_OK_AND_ASSIGN(auto sent, store->ListSent());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].refused_reports, 1);
}

TEST(NodeDbTest, ADatabaseOfANewerBuildIsRefused) {
  std::string dir = FreshDir("newer");
  {
    ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir));
  }
  {
    sqlite::OpenOptions o;
    o.label = "future node";
    ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(dir + "/node.db", o));
    ASSERT_OK(db->Exec("PRAGMA user_version = 99"));
  }
  EXPECT_THAT(StateStore::Open(dir), StatusIs(absl::StatusCode::kFailedPrecondition, "99"));
  EXPECT_THAT(Outbox::Open(dir), StatusIs(absl::StatusCode::kFailedPrecondition, "99"));
}

// Both users of node.db answer a damaged file alike (the outbox said DataLoss, the state
// store Internal, before node.db had one owner).
TEST(NodeDbTest, ADamagedDatabaseIsDataLossForBothUsers) {
  std::string dir = FreshDir("damaged");
  std::ofstream(dir + "/node.db") << std::string(8192, '\x5a');
  EXPECT_THAT(StateStore::Open(dir), StatusIs(absl::StatusCode::kDataLoss, "node state"));
  EXPECT_THAT(Outbox::Open(dir), StatusIs(absl::StatusCode::kDataLoss, "node outbox"));
}

// A writer holding node.db past the busy timeout: Unavailable (try again), for both.
TEST(NodeDbTest, ALockedDatabaseIsUnavailable) {
  std::string dir = FreshDir("locked");
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto outbox, Outbox::Open(dir));
  sqlite::OpenOptions o;
  o.label = "other process";
  ASSERT_OK_AND_ASSIGN(auto other, sqlite::Database::Open(dir + "/node.db", o));
  ASSERT_OK_AND_ASSIGN(sqlite::Transaction held, sqlite::Transaction::Begin(*other));
  // 5 s busy timeout each.
  EXPECT_THAT(store->AssignReportIds({"R9"}), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(outbox->Enqueue({}, "digest"), StatusIs(absl::StatusCode::kUnavailable));
}

// Every new connection may grow the file by no page: as if the disk were full.
int NoMorePages(sqlite3* db, char** /*error*/, const sqlite3_api_routines* /*api*/) {
  sqlite3_exec(db, "PRAGMA max_page_count=1", nullptr, nullptr, nullptr);  // clamps to the size
  return SQLITE_OK;
}

// A full disk is ResourceExhausted for both users of node.db (the mapping the aggregator's
// store uses too), and nothing of the failed write is kept.
TEST(NodeDbTest, AFullDiskIsResourceExhaustedForBothUsers) {
  std::string dir = FreshDir("full");
  { ASSERT_OK(StateStore::Open(dir).status()); }
  ASSERT_EQ(sqlite3_auto_extension(reinterpret_cast<void (*)()>(NoMorePages)), SQLITE_OK);
  absl::Status assigned, enqueued;
  {
    auto store = StateStore::Open(dir);
    auto outbox = Outbox::Open(dir);
    if (store.ok() && outbox.ok()) {
      std::vector<std::string> records;
      for (int i = 0; i < 2000; ++i) records.push_back(absl::StrCat("record-", i));
      assigned = (*store)->AssignReportIds(records).status();
      BuiltBatch big;
      big.batch_id = "big";
      big.signed_batch.set_payload(std::string(200000, '\x2a'));
      enqueued = (*outbox)->Enqueue({big}, "digest");
    } else {
      assigned = store.status();
      enqueued = outbox.status();
    }
  }
  sqlite3_cancel_auto_extension(reinterpret_cast<void (*)()>(NoMorePages));
  EXPECT_THAT(assigned, StatusIs(absl::StatusCode::kResourceExhausted, "node state"));
  EXPECT_THAT(enqueued, StatusIs(absl::StatusCode::kResourceExhausted, "node outbox"));
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir));
  EXPECT_THAT(store->FindReportId("record-0"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto outbox, Outbox::Open(dir));
  ASSERT_OK_AND_ASSIGN(auto size, outbox->Size());
  EXPECT_EQ(size, std::make_pair(int64_t{0}, int64_t{0}));
  ASSERT_OK_AND_ASSIGN(bool imported, outbox->WasImported("digest"));
  EXPECT_FALSE(imported);
}

}  // namespace
}  // namespace samenzicht::agency_node
