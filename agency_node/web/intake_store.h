// The intake page's own database, `<state_dir>/intake.db` (mode 0600, WAL, its own
// versioned schema): the page's local accounts and the signals entered through it.
//
//  - `accounts`: name, Argon2id password hash (crypto/password_hash.h), role
//    ("professional" or "operator"), creation time. Never a password.
//  - `signals`: the local reference the professional sees, the account that entered it,
//    the record id it was imported under ("web-" + reference), state ("sent" or
//    "withdrawn"), times, its categories and month (form-encoded, no identifier) and the
//    identifiers typed in, sealed (crypto/secret_box.h, the reference as associated data)
//    so that a correction can be tokenised again. PurgeIdentifiers deletes them after the
//    retention period; a withdrawal deletes them at once. `sent_as` names the hashing-key
//    epoch and profile version the signal was last sent with (schema version 2), so that
//    after a key rotation or a profile change the page sends it again (SignalsToResend).
//
// Thread-safety: not thread-safe; the page serialises its use with a mutex.
#ifndef SAMENZICHT_AGENCY_NODE_WEB_INTAKE_STORE_H_
#define SAMENZICHT_AGENCY_NODE_WEB_INTAKE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sqlite/sqlite.h"

namespace samenzicht::agency_node::web {

inline constexpr char kIntakeDatabaseFileName[] = "intake.db";

struct Account {
  std::string name;
  std::string password_hash;
  std::string role;  // "professional" | "operator"
  int64_t created_unix = 0;
};

struct IntakeSignal {
  std::string reference;
  std::string account;
  std::string record_id;
  std::string state;        // "sent" | "withdrawn"
  int64_t created_unix = 0;
  int64_t updated_unix = 0;
  std::string categories;   // form-encoded category fields and signal_month
  std::string sealed_identifiers;  // empty once purged or withdrawn
  bool has_identifiers = false;
  std::string sent_as;  // "epoch E profile V" of its last sending; empty before version 2
};

class IntakeStore {
 public:
  // Opens (creating) `<state_dir>/intake.db`; the folder must exist. SQLite errors as
  // common/sqlite/sqlite.h maps them.
  static absl::StatusOr<std::unique_ptr<IntakeStore>> Open(const std::string& state_dir);

  // AlreadyExists when the name is taken.
  absl::Status AddAccount(const Account& a);
  // NotFound when there is no such account.
  absl::Status RemoveAccount(const std::string& name);
  absl::StatusOr<std::vector<Account>> ListAccounts();
  absl::StatusOr<std::optional<Account>> FindAccount(const std::string& name);

  absl::Status AddSignal(const IntakeSignal& s);
  // NotFound when the reference is unknown.
  absl::StatusOr<IntakeSignal> GetSignal(const std::string& reference);
  // Newest first.
  absl::StatusOr<std::vector<IntakeSignal>> ListSignals(const std::string& account);
  absl::Status UpdateCategories(const std::string& reference, const std::string& categories,
                                int64_t now_unix);
  // Records that the signal was last sent with the tokens of `sent_as` (its retention
  // period is not restarted). NotFound when the reference is unknown.
  absl::Status MarkSentAs(const std::string& reference, const std::string& sent_as);
  // The signals still "sent", with their identifiers, last sent with other tokens than
  // `sent_as` (a key rotation or a profile change since), oldest first.
  absl::StatusOr<std::vector<IntakeSignal>> SignalsToResend(const std::string& sent_as);
  // State "withdrawn" and the identifiers deleted.
  absl::Status MarkWithdrawn(const std::string& reference, int64_t now_unix);
  // Deletes the sealed identifiers of every signal not changed since `cutoff_unix`; the
  // number of signals whose identifiers were deleted.
  absl::StatusOr<int64_t> PurgeIdentifiers(int64_t cutoff_unix);

 private:
  explicit IntakeStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace samenzicht::agency_node::web

#endif  // SAMENZICHT_AGENCY_NODE_WEB_INTAKE_STORE_H_
