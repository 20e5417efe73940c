// The configurations of a key service in tests (keyholder::Server on 127.0.0.1) and of a
// node that calls it: the fields every such test sets, in one place; a test adds what it is
// about (a limit, a second key, a second service).
//
//   v1::KeyholderConfig c = samenzicht::testing::KeyServiceConfig(
//       pki, "keyholder", dir + "/data", dir + "/oprf-1.key", dir + "/audit.key");
//   c.set_max_evaluations_per_node_per_hour(6);
//   ASSERT_OK_AND_ASSIGN(auto server, keyholder::Server::Start(c));
//   files::WriteFileAtomic(node + "/keyholder.textproto",
//       samenzicht::testing::KeyServiceClientText(server->port(), 1, "ca.crt", "police.crt", "police.key"), 0600);
#ifndef SAMENZICHT_TESTS_TESTING_KEYHOLDER_SERVICE_H_
#define SAMENZICHT_TESTS_TESTING_KEYHOLDER_SERVICE_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "samenzicht/v1/keyholder.pb.h"
#include "tests/testing/pki.h"

namespace samenzicht::testing {

// Listens on 127.0.0.1 at a free port, with the certificate `cert_name` of `pki_dir`, its
// trail in `data_dir`, the one OPRF key `key_file` and the trail signing key
// `audit_key_file`; the default limits.
inline v1::KeyholderConfig KeyServiceConfig(const std::string& pki_dir, const std::string& cert_name,
                                            const std::string& data_dir, const std::string& key_file,
                                            const std::string& audit_key_file) {
  v1::KeyholderConfig config;
  config.set_listen_address("127.0.0.1:0");
  *config.mutable_tls() = TlsFor(pki_dir, cert_name);
  config.set_data_dir(data_dir);
  config.add_keys()->set_key_file(key_file);
  config.set_audit_key_file(audit_key_file);
  return config;
}

// A node's client configuration (text format) for the key service on 127.0.0.1:`port` at
// `epoch`, with the node's CA, certificate and key files (relative paths are resolved
// against the configuration's folder).
inline std::string KeyServiceClientText(int port, uint32_t epoch, const std::string& ca_cert_file,
                                        const std::string& cert_file, const std::string& key_file) {
  return absl::StrCat("address: \"127.0.0.1:", port, "\"\nepoch: ", epoch, "\ntls { ca_cert_file: \"",
                      ca_cert_file, "\" cert_file: \"", cert_file, "\" key_file: \"", key_file, "\" }\n");
}

}  // namespace samenzicht::testing

#endif  // SAMENZICHT_TESTS_TESTING_KEYHOLDER_SERVICE_H_
