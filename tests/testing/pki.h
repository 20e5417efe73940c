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

inline v1::TlsFiles TlsFor(const std::string& pki_dir, const std::string& name) {
  v1::TlsFiles t;
  t.set_ca_cert_file(pki_dir + "/ca.crt");
  t.set_cert_file(pki_dir + "/" + name + ".crt");
  t.set_key_file(pki_dir + "/" + name + ".key");
  return t;
}

}  // namespace samenzicht::testing

#endif  // SAMENZICHT_TESTS_TESTING_PKI_H_
