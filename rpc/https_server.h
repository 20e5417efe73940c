// An HTTPS server (cpp-httplib over OpenSSL) with the project's TLS settings, shared by the
// aggregator's dashboard and the agency node's intake page (which never depend on each
// other): TLS 1.2 with ECDHE and an AEAD or TLS 1.3, no compression or renegotiation, the
// private key read from secure memory straight into OpenSSL, bounded requests (64 KiB body,
// 10 s read and write timeouts), and a listening thread of its own.
//
//   HttpsServerOptions o;
//   o.label = "dashboard";  o.address_setting = "dashboard_listen_address";
//   o.listen_address = "127.0.0.1:0";  o.cert_file = ...;  o.key_file = ...;
//   o.require_client_certificate = true;  o.ca_cert_file = ...;  // mutual TLS
//   ASSIGN_OR_RETURN(std::unique_ptr<HttpsServer> s, HttpsServer::New(o));
//   s->http().Get("/", ...);        // register handlers
//   RETURN_IF_ERROR(s->Start());    // binds and serves on its own thread
//   s->port();  s->Stop();
//
// New: InvalidArgument for a malformed address ("<address_setting> must be HOST:PORT") or an
// unusable certificate or key, NotFound for a missing TLS file or an empty or missing
// crl_directory. Start: Unavailable when the address cannot be bound. Messages start with
// the label.
//
// Thread-safety: handlers run on the library's thread pool; Stop may be called more than
// once and from any thread but a handler's.
#ifndef SAMENZICHT_RPC_HTTPS_SERVER_H_
#define SAMENZICHT_RPC_HTTPS_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class SSLServer;
}

namespace samenzicht::rpc {

struct HttpsServerOptions {
  std::string label = "https";            // prefixes every message ("dashboard: ...")
  std::string address_setting = "listen_address";  // the config field, for messages
  std::string listen_address;             // HOST:PORT, [v6]:PORT; port 0 = any free port
  std::string cert_file;                  // PEM chain
  std::string key_file;                   // PEM private key (mode 0600)
  // Mutual TLS: clients must present a certificate issued by ca_cert_file (the handshake
  // fails without one); crl_directory (optional) turns on revocation checking. When false,
  // ca_cert_file and crl_directory are not used and no client certificate is asked for.
  bool require_client_certificate = false;
  std::string ca_cert_file;
  std::string crl_directory;
  size_t max_body_bytes = 64 << 10;
};

class HttpsServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpsServer>> New(const HttpsServerOptions& options);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  httplib::SSLServer& http() { return *server_; }
  absl::Status Start();
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  void Stop();

 private:
  HttpsServer() = default;
  HttpsServerOptions options_;
  std::string host_;
  int requested_port_ = 0;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace samenzicht::rpc

#endif  // SAMENZICHT_RPC_HTTPS_SERVER_H_
