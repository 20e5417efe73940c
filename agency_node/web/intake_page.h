// The intake page of an agency node: a small HTTPS form on the agency's own network where
// a professional without a case system (a teacher, a social worker, a municipal desk)
// registers one signal, corrects it or withdraws it. Served by `agency-node serve` when
// the node configuration sets `intake_listen_address` (and `intake_tls`).
//
//   ASSIGN_OR_RETURN(auto page, IntakePage::Start(config, log));
//   page->port();  page->Stop();
//
// What it does with a signal: the form's fields become one record of the node's CSV
// contract (record id "web-" + the local reference), which goes through the same import as
// an export file (Delivery::Import: validation, normalisation, tokens, report id, signing,
// the outbox), read from memory, never written to disk in the clear. The daemon delivers it
// like any other batch. A correction imports the same record id again with the changed
// categories (same report id); a withdrawal queues a retraction of the report, which the
// daemon sends, and deletes the stored identifiers. The identifiers typed in are kept in
// `<state_dir>/intake.db`, sealed (crypto/secret_box.h, a key derived from the node's
// signing key), for corrections and key rotation, and deleted `intake_retention_days` after
// the signal last changed (0 = 30).
//
// Security: local accounts (IntakeStore; `agency-node accounts`), passwords checked with
// Argon2id; after 5 wrong passwords for a name (or 20 from one address) in 15 minutes
// sign-in is refused with 429 for the rest of that window. A session is a random 256-bit
// token in a `__Host-` cookie (Secure, HttpOnly, SameSite=Strict, Path=/), kept in memory
// only (a restart signs everyone out), ending after 30 idle minutes or 12 hours. Every POST
// carries a CSRF token bound to the session (to a pre-session cookie for sign-in) and a
// cross-site Origin is refused: 403 otherwise. Answers carry a strict Content-Security-Policy
// (no script at all), HSTS and no-store. Nothing that was typed about a person appears in
// any log line or message: the log names the account, the reference and the field names.
//
// Roles: a "professional" registers signals and corrects or withdraws its own; an
// "operator" also manages the accounts on the page (/accounts: list, add, remove, not its
// own). A removed account is signed out at its next request.
//
// HTTP statuses: 200 page; 303 after a successful POST (to the receipt); 400 a field
// missing or invalid (the page names each field); 401 wrong name or password; 403 CSRF or
// Origin refused, or the accounts page asked by a professional; 404 unknown page, a signal
// of another account or an unknown account; 409 a correction after the identifiers were
// deleted, or of a withdrawn signal, an account name already taken, or an operator removing
// its own account; 413 body too large; 429 too many wrong passwords; 500 a failure of the
// node (the signal is not stored).
//
// Thread-safety: requests are served on the HTTP library's threads; the page serialises
// its state with one mutex. Stop may be called more than once.
#ifndef SAMENZICHT_AGENCY_NODE_WEB_INTAKE_PAGE_H_
#define SAMENZICHT_AGENCY_NODE_WEB_INTAKE_PAGE_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include <spdlog/spdlog.h>

#include "absl/status/statusor.h"
#include "agency_node/normalise.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::agency_node::web {

class IntakePageImpl;

struct IntakePageOptions {
  // The import's "today" (later dates are refused), for tests; unset: the date of each
  // request, so a page that runs for months takes this month's signals.
  std::optional<Date> today;
  // The time in Unix seconds (sessions, sign-in failures, the retention of identifiers),
  // for tests; unset: the system clock.
  std::function<int64_t()> clock;
  int max_failures_per_name = 5;
  int max_failures_per_address = 20;
  int failure_window_seconds = 15 * 60;
};

class IntakePage {
 public:
  // InvalidArgument when intake_listen_address or intake_tls is not set or malformed; the
  // errors of the HTTPS server (NotFound for a missing certificate, Unavailable when the
  // address cannot be bound), of Delivery::New (keys, profile, state) and of the store.
  // Signals to send again under a new key epoch or profile are sent before Start returns;
  // when the key service does not answer (IsKeyServiceError) the page starts all the same
  // and a background thread tries again with the daemon's backoff (retry_initial_ms to
  // retry_max_ms) until they are sent or the page stops (they wait in intake.db).
  static absl::StatusOr<std::unique_ptr<IntakePage>> Start(const v1::NodeConfig& config,
                                                           spdlog::logger& log,
                                                           const IntakePageOptions& options = {});
  ~IntakePage();
  int port() const;
  void Stop();

 private:
  IntakePage() = default;
  std::unique_ptr<IntakePageImpl> impl_;
};

// `agency-node accounts add|remove|list`: the operator's management of the page's local
// accounts, in `<state_dir>/intake.db`. `add` reads the password from the first line of
// `password_in` (at least 12 characters); role "professional" or "operator".
// AlreadyExists / NotFound naming the account; InvalidArgument for a bad name, role or
// password (never echoed).
absl::Status AccountsAddCommand(const std::string& config_path, const std::string& name,
                                const std::string& role, std::istream& password_in,
                                std::ostream& os);
absl::Status AccountsRemoveCommand(const std::string& config_path, const std::string& name,
                                   std::ostream& os);
absl::Status AccountsListCommand(const std::string& config_path, std::ostream& os);

// `agency-node serve` with the intake page: starts the page when the configuration sets
// intake_listen_address, then runs ServeCommand (daemon.h) until SIGTERM/SIGINT, then
// stops the page. Without intake_listen_address it is ServeCommand.
absl::Status ServeWithIntakeCommand(const std::string& config_path, spdlog::logger& log);

}  // namespace samenzicht::agency_node::web

#endif  // SAMENZICHT_AGENCY_NODE_WEB_INTAKE_PAGE_H_
