// Test certificates, made with the deployment's own deploy/pki.sh under a temp dir.
//
//   std::string dir = samenzicht::testing::MakePki("intake_test",
//       {{"aggregator", "server"}, {"police", "agency"}, {"gemeente", "analyst"}});
//   // dir/ca.crt, dir/police.crt, dir/police.key, ...
#ifndef SAMENZICHT_TESTS_TESTING_PKI_H_
#define SAMENZICHT_TESTS_TESTING_PKI_H_

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "samenzicht/v1/config.pb.h"

namespace samenzicht::testing {

// Creates a fresh CA and one certificate per (name, role) under TempDir()/`tag`/pki.
// Fails the test (and returns "") when openssl is missing.
inline std::string MakePki(const std::string& tag,
                           const std::vector<std::pair<std::string, std::string>>& parties) {
  std::string dir = ::testing::TempDir() + "/" + tag + "/pki";
  std::filesystem::remove_all(dir);
  std::string script = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/pki.sh";
  std::string cmd = script + " init " + dir + " >/dev/null";
  for (const auto& [name, role] : parties) {
    cmd += " && " + script + " issue " + dir + " " + name + " " + role + " >/dev/null";
  }
  if (std::system(cmd.c_str()) != 0) {
    ADD_FAILURE() << "could not create test certificates: " << cmd;
    return "";
  }
  return dir;
}

// Issues `name`.crt/.key in `pki_dir` with an arbitrary OpenSSL -subj string (for example
// "/O=Samenzicht,OU=analyst/OU=agency/CN=mallory") and the client EKU: certificates that
// pki.sh would never issue, to show that a crafted subject is refused.
inline bool IssueWithSubject(const std::string& pki_dir, const std::string& name,
                             const std::string& subject) {
  std::string cmd =
      "cd '" + pki_dir + "' && umask 077 && "
      "openssl ecparam -name prime256v1 -genkey -noout -out '" + name + ".key' 2>/dev/null && "
      "printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n"
      "extendedKeyUsage=clientAuth\\n' > '" + name + ".ext' && "
      "openssl req -new -key '" + name + ".key' -subj '" + subject + "' -out '" + name +
      ".csr' 2>/dev/null && "
      "openssl x509 -req -in '" + name + ".csr' -CA ca.crt -CAkey ca.key -CAcreateserial "
      "-days 30 -sha256 -extfile '" + name + ".ext' -out '" + name + ".crt' 2>/dev/null && "
      "chmod 644 '" + name + ".crt'";
  if (std::system(cmd.c_str()) != 0) {
    ADD_FAILURE() << "could not issue a crafted certificate: " << cmd;
    return false;
  }
  return true;
}

inline v1::TlsFiles TlsFor(const std::string& pki_dir, const std::string& name) {
  v1::TlsFiles t;
  t.set_ca_cert_file(pki_dir + "/ca.crt");
  t.set_cert_file(pki_dir + "/" + name + ".crt");
  t.set_key_file(pki_dir + "/" + name + ".key");
  return t;
}

}  // namespace samenzicht::testing

#endif  // SAMENZICHT_TESTS_TESTING_PKI_H_
