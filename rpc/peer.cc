#include "rpc/peer.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace samenzicht::rpc {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAgency:
      return "agency";
    case Role::kAnalyst:
      return "analyst";
    case Role::kPrivacyOfficer:
      return "privacy_officer";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

namespace {

// The text of every entry of `nid` in `name`, as UTF-8.
std::vector<std::string> EntriesOf(const X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    out.push_back(n < 0 ? std::string() : std::string(reinterpret_cast<char*>(utf8), n));
    OPENSSL_free(utf8);
  }
  return out;
}

bool IsPartyName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<Peer> PeerFromCertificate(const x509_st* cert) {
  if (cert == nullptr) return absl::UnauthenticatedError("no client certificate");
  const X509_NAME* subject = X509_get_subject_name(cert);
  if (subject == nullptr) return absl::UnauthenticatedError("client certificate has no subject");
  std::vector<std::string> cns = EntriesOf(subject, NID_commonName);
  std::vector<std::string> ous = EntriesOf(subject, NID_organizationalUnitName);
  if (cns.empty()) return absl::UnauthenticatedError("client certificate has no common name");
  if (cns.size() > 1) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate has ", cns.size(),
                                                   " common names; exactly one is accepted"));
  }
  if (!IsPartyName(cns[0])) {
    return absl::UnauthenticatedError(
        "client certificate's common name may hold only A-Z a-z 0-9 . _ - (at most 64)");
  }
  const std::string& cn = cns[0];
  if (ous.size() != 1) {
    return absl::PermissionDeniedError(
        absl::StrCat("client certificate of '", cn, "' has ", ous.size(),
                     " organisational units; exactly one, naming its role, is accepted"));
  }
  Peer peer{cn, Role::kAgency};
  const std::string& ou = ous[0];
  if (ou == "agency") {
    peer.role = Role::kAgency;
  } else if (ou == "analyst") {
    peer.role = Role::kAnalyst;
  } else if (ou == "privacy_officer") {
    peer.role = Role::kPrivacyOfficer;
  } else if (ou == "admin") {
    peer.role = Role::kAdmin;
  } else {
    return absl::PermissionDeniedError(
        absl::StrCat("client certificate of '", cn, "' carries no known role"));
  }
  return peer;
}

absl::StatusOr<Peer> PeerFromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::ResourceExhaustedError("out of memory reading a certificate");
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return absl::InvalidArgumentError("the peer certificate does not parse");
  absl::StatusOr<Peer> peer = PeerFromCertificate(cert);
  X509_free(cert);
  return peer;
}

}  // namespace samenzicht::rpc
