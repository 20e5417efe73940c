#include "agency_node/store/state_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;

std::string FreshDir(const std::string& tag) {
  std::string d = ::testing::TempDir() + "/state_store_test/" + tag;
  std::filesystem::remove_all(d);
  return d;
}

TEST(StateStoreTest, CreatesAPrivateFolderAndReusesReportIds) {
  std::string dir = FreshDir("reuse");
  std::vector<std::string> first;
  {
    ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir));
    ASSERT_OK_AND_ASSIGN(first, store->AssignReportIds({"R1", "R2", "R3"}));
  }
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(first.size(), 3u);
  for (const auto& id : first) {
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  EXPECT_NE(first[0], first[1]);
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir));  // reopened: persisted
  ASSERT_OK_AND_ASSIGN(auto again, store->AssignReportIds({"R3", "R4", "R1"}));
  EXPECT_EQ(again[0], first[2]);
  EXPECT_EQ(again[2], first[0]);
  EXPECT_NE(again[1], first[0]);
  ASSERT_OK_AND_ASSIGN(std::string rep, store->FindReportId("R2"));
  EXPECT_EQ(rep, first[1]);
  ASSERT_OK_AND_ASSIGN(std::string rec, store->FindRecordId(first[1]));
  EXPECT_EQ(rec, "R2");
  EXPECT_THAT(store->FindReportId("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->FindRecordId("nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(StateStoreTest, UsesWal) {
  std::string dir = FreshDir("wal");
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(dir));
  ASSERT_OK(store->AssignReportIds({"R1"}).status());
  EXPECT_TRUE(std::filesystem::exists(dir + "/node.db-wal"));
}

TEST(StateStoreTest, SentLogAndAcks) {
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(FreshDir("log")));
  SentBatch b;
  b.batch_id = "b1";
  b.digest_hex = "ab";
  b.report_count = 2;
  b.created_unix = 100;
  b.sent_unix = 101;
  ASSERT_OK(store->RecordSent(b, {{"rep1", "form=sexual", 3}, {"rep2", "", 0}}));
  ASSERT_OK_AND_ASSIGN(auto list, store->ListSent());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0].ack_code.has_value());

  v1::BatchAck ack;
  ack.set_batch_id("b1");
  ack.set_code(3);
  ack.set_message("some refused");
  ack.set_accepted(1);
  auto* e = ack.add_errors();
  e->set_index(1);
  e->set_code(3);
  e->set_message("bad token");
  ASSERT_OK(store->RecordAck(ack, 200));
  ASSERT_OK_AND_ASSIGN(list, store->ListSent());
  ASSERT_TRUE(list[0].ack_code.has_value());
  EXPECT_EQ(*list[0].ack_code, 3);
  EXPECT_EQ(list[0].ack_message, "some refused");
  EXPECT_EQ(list[0].accepted, 1);
  EXPECT_EQ(list[0].refused_reports, 1);
  EXPECT_EQ(list[0].ack_unix, 200);
  ASSERT_OK_AND_ASSIGN(auto reports, store->ListReports("b1"));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].report_id, "rep1");
  EXPECT_EQ(reports[0].categories, "form=sexual");
  EXPECT_EQ(reports[0].token_count, 3);

  ack.set_batch_id("unknown");
  EXPECT_THAT(store->RecordAck(ack, 1), StatusIs(absl::StatusCode::kNotFound));
}

TEST(StateStoreTest, EmptyStateDirIsRefused) {
  EXPECT_THAT(StateStore::Open(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

// The node stopped after recording an acknowledgement and before the batch left the
// outbox: the resend is a replay (ALREADY_EXISTS, nothing counted). The sent log keeps the
// first acknowledgement's counts.
TEST(StateStoreTest, AReplayKeepsTheFirstAcknowledgementsCounts) {
  ASSERT_OK_AND_ASSIGN(auto store, StateStore::Open(FreshDir("replay")));
  SentBatch b;
  b.batch_id = "b1";
  b.digest_hex = std::string(64, 'a');
  b.report_count = 3;
  ASSERT_OK(store->RecordSent(b, {{"r1", "", 1}, {"r2", "", 1}, {"r3", "", 1}}));
  v1::BatchAck first;
  first.set_batch_id("b1");
  first.set_code(0);
  first.set_accepted(2);
  first.set_duplicates(1);
  ASSERT_OK(store->RecordAck(first, 100));
  v1::BatchAck replay;
  replay.set_batch_id("b1");
  replay.set_code(6);  // ALREADY_EXISTS
  replay.set_message("batch already committed; nothing changed");
  ASSERT_OK(store->RecordAck(replay, 200));
  ASSERT_OK_AND_ASSIGN(auto sent, store->ListSent());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(*sent[0].ack_code, 0);
  EXPECT_EQ(sent[0].accepted, 2);
  EXPECT_EQ(sent[0].duplicates, 1);
  EXPECT_EQ(sent[0].ack_unix, 100);
}

}  // namespace
}  // namespace samenzicht::agency_node
