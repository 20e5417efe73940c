// Password hashing (Argon2id) and the secret box for identifiers at rest: a wrong password
// fails, a stored hash names its algorithm and is salted; a sealed record that is changed,
// moved to another row or opened under another node's key does not open.
#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/key_file.h"
#include "crypto/password_hash.h"
#include "crypto/secret_box.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto {
namespace {

using samenzicht::testing::StatusIs;

TEST(PasswordHashTest, Argon2idSaltedAndOnlyTheRightPasswordVerifies) {
  ASSERT_OK_AND_ASSIGN(std::string h1, HashPassword("correct horse battery"));
  ASSERT_OK_AND_ASSIGN(std::string h2, HashPassword("correct horse battery"));
  EXPECT_EQ(h1.rfind("$argon2id$", 0), 0u) << h1;
  EXPECT_NE(h1, h2) << "salted: the same password hashes differently";
  EXPECT_EQ(h1.find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword(h1, "correct horse battery"));
  EXPECT_TRUE(VerifyPassword(h2, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(h1, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword(h1, ""));
  EXPECT_FALSE(VerifyPassword("", "correct horse battery"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "correct horse battery"));
  EXPECT_THAT(HashPassword("short"), StatusIs(absl::StatusCode::kInvalidArgument, "at least 12"));
}

TEST(SecretBoxTest, SealedRecordsOpenOnlyUnchangedInTheirRowUnderTheirKey) {
  const std::string dir = ::testing::TempDir() + "/secret_box_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_OK(GenerateKeyFile(dir + "/a.key", KeyKind::kSigning).status());
  ASSERT_OK(GenerateKeyFile(dir + "/b.key", KeyKind::kSigning).status());
  ASSERT_OK_AND_ASSIGN(auto a, SecretBox::FromSigningKeyFile(dir + "/a.key", "purpose.v1"));
  ASSERT_OK_AND_ASSIGN(auto a_again, SecretBox::FromSigningKeyFile(dir + "/a.key", "purpose.v1"));
  ASSERT_OK_AND_ASSIGN(auto a_other, SecretBox::FromSigningKeyFile(dir + "/a.key", "purpose.v2"));
  ASSERT_OK_AND_ASSIGN(auto b, SecretBox::FromSigningKeyFile(dir + "/b.key", "purpose.v1"));
  const std::string plain = "surname=Jansen&date_of_birth=01-02-2010";
  const std::string sealed = a->Seal(plain, "REF-1");
  EXPECT_EQ(sealed.size(), 24 + plain.size() + 16);
  EXPECT_EQ(sealed.find("Jansen"), std::string::npos);
  EXPECT_NE(a->Seal(plain, "REF-1"), sealed) << "a fresh nonce per seal";
  ASSERT_OK_AND_ASSIGN(std::string opened, a_again->Open(sealed, "REF-1"));
  EXPECT_EQ(opened, plain) << "the same key after a restart";
  std::string flipped = sealed;
  flipped[30] ^= 1;
  EXPECT_THAT(a->Open(flipped, "REF-1"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(a->Open(sealed, "REF-2"), StatusIs(absl::StatusCode::kDataLoss)) << "another row";
  EXPECT_THAT(b->Open(sealed, "REF-1"), StatusIs(absl::StatusCode::kDataLoss)) << "another node";
  EXPECT_THAT(a_other->Open(sealed, "REF-1"), StatusIs(absl::StatusCode::kDataLoss))
      << "another purpose";
  EXPECT_THAT(a->Open(sealed.substr(0, 30), "REF-1"), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace samenzicht::crypto
