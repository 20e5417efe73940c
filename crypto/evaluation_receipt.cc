#include "crypto/evaluation_receipt.h"

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"

namespace samenzicht::crypto {
namespace {

constexpr char kReceiptContext[] = "samenzicht.keyholder.receipt.v1";
constexpr char kElementsDomain[] = "samenzicht.keyholder.receipt-elements.v1";

void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string Message(const EvaluationReceipt& r) {
  std::string m;
  m.reserve(4 + r.node.size() + 4 + 8 + kDigestBytes + 8 + 8);
  PutLe(&m, r.node.size(), 4);
  m += r.node;
  PutLe(&m, r.epoch, 4);
  PutLe(&m, r.elements, 8);
  m += r.elements_digest;
  PutLe(&m, r.trail_seq, 8);
  PutLe(&m, static_cast<uint64_t>(r.time_ms), 8);
  return m;
}

}  // namespace

std::string ReceiptElementsDigest(std::string_view elements) {
  return Digest(kElementsDomain, elements);
}

void SignReceipt(const Signer& signer, EvaluationReceipt* receipt) {
  receipt->signature = signer.Sign(kReceiptContext, Message(*receipt));
}

absl::Status VerifyReceipt(const Verifier& verifier, const EvaluationReceipt& receipt) {
  if (receipt.elements_digest.size() != kDigestBytes) {
    return absl::InvalidArgumentError(absl::StrCat("a receipt's elements digest must be ",
                                                   kDigestBytes, " bytes, got ",
                                                   receipt.elements_digest.size()));
  }
  return verifier.Verify(kReceiptContext, Message(receipt), receipt.signature);
}

}  // namespace samenzicht::crypto
