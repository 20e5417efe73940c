// node.db has one versioned schema (node_db.h), shared by the StateStore and the Outbox.
#include "agency_node/node_db.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agency_node/outbox.h"
#include "agency_node/state_store.h"
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
// tables as each declared them, user_version 0, one row in each.
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
  }
  ASSERT_EQ(UserVersion(dir), 0);
  {
    ASSERT_OK_AND_ASSIGN(auto outbox, Outbox::Open(dir));  // either opener upgrades
    ASSERT_OK_AND_ASSIGN(bool imported, outbox->WasImported("d1"));
    EXPECT_TRUE(imported);
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

}  // namespace
}  // namespace samenzicht::agency_node
