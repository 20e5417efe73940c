// A complete agency node for the intake page's tests: keys, profile, state and import
// folders, a server certificate for the page (deploy/pki.sh), and accounts. The aggregator
// address is never reached: the tests look at the outbox and the state instead.
#ifndef SAMENZICHT_TESTS_AGENCY_NODE_WEB_INTAKE_FIXTURE_H_
#define SAMENZICHT_TESTS_AGENCY_NODE_WEB_INTAKE_FIXTURE_H_

#include <filesystem>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "agency_node/web/intake_page.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "google/protobuf/text_format.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::testing {

// Writes `dir`/node.textproto and everything it names; the page's certificate is issued by
// a fresh CA in `dir`/pki (server certificate "intake"). Returns the config file's path.
inline absl::StatusOr<std::string> MakeIntakeNode(const std::string& dir) {
  std::filesystem::remove_all(dir);
  RETURN_IF_ERROR(files::MakeDirs(dir));
  const std::string pki = dir + "/pki";
  const std::string script = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/pki.sh";
  const std::string cmd = absl::StrCat(script, " init ", pki, " >/dev/null && ", script, " issue ",
                                       pki, " intake server >/dev/null");
  if (std::system(cmd.c_str()) != 0) return absl::InternalError("cannot make certificates: " + cmd);
  RETURN_IF_ERROR(crypto::GenerateKeyFile(dir + "/hashing.key", crypto::KeyKind::kHashing, 1).status());
  RETURN_IF_ERROR(crypto::GenerateKeyFile(dir + "/signing.key", crypto::KeyKind::kSigning).status());
  v1::NodeConfig c;
  c.set_node_id("school");
  c.set_aggregator_address("127.0.0.1:1");
  c.set_hashing_key_file(dir + "/hashing.key");
  c.set_signing_key_file(dir + "/signing.key");
  c.set_profile_file(std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/config/profile.textproto");
  c.set_state_dir(dir + "/state");
  c.set_import_dir(dir + "/import");
  c.add_areas("zuid");
  c.add_areas("oost");
  c.set_intake_listen_address("127.0.0.1:0");
  c.mutable_intake_tls()->set_cert_file(pki + "/intake.crt");
  c.mutable_intake_tls()->set_key_file(pki + "/intake.key");
  std::string text;
  google::protobuf::TextFormat::PrintToString(c, &text);
  const std::string path = dir + "/node.textproto";
  RETURN_IF_ERROR(files::WriteFileAtomic(path, text, 0600));
  return path;
}

inline absl::Status AddAccount(const std::string& config, const std::string& name,
                               const std::string& role, const std::string& password) {
  std::istringstream in(password + "\n");
  std::ostringstream out;
  return agency_node::web::AccountsAddCommand(config, name, role, in, out);
}

}  // namespace samenzicht::testing

#endif  // SAMENZICHT_TESTS_AGENCY_NODE_WEB_INTAKE_FIXTURE_H_
