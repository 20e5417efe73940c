// The receipt a key service signs for each batch it evaluated: which node asked, for which
// epoch, how many elements, a digest of the evaluated elements it handed out, and the
// sequence number of the evaluation's entry in its own trail.
//
// With two key services (2-of-2) the node hands the first service's evaluated elements to
// the second, together with the first's receipt. The second checks the receipt against the
// first service's public key, its caller and the elements it is asked to evaluate, so it
// evaluates only what the first evaluated, counted and recorded for that node: a node that
// calls the second service directly has no receipt for its elements.
//
// The signed bytes (crypto::Signer, context "samenzicht.keyholder.receipt.v1"): the node's
// name as a 4-byte little-endian length and its bytes, then epoch (4 bytes), elements
// (8 bytes), elements_digest (32 bytes), trail_seq (8 bytes) and time_ms (8 bytes), each
// little-endian. The elements' digest is BLAKE2b-256 (crypto::Digest) with the domain
// "samenzicht.keyholder.receipt-elements.v1".
//
//   EvaluationReceipt r{node, epoch, n, ReceiptElementsDigest(evaluated), seq, now_ms, ""};
//   SignReceipt(signer, &r);
//   RETURN_IF_ERROR(VerifyReceipt(verifier, r));
//
// Thread-safety: free functions over values.
#ifndef SAMENZICHT_CRYPTO_EVALUATION_RECEIPT_H_
#define SAMENZICHT_CRYPTO_EVALUATION_RECEIPT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "crypto/signature.h"

namespace samenzicht::crypto {

struct EvaluationReceipt {
  std::string node;             // the caller's certificate name
  uint32_t epoch = 0;           // the token epoch evaluated
  uint64_t elements = 0;        // how many elements were evaluated
  std::string elements_digest;  // ReceiptElementsDigest of the evaluated elements (32 bytes)
  uint64_t trail_seq = 0;       // the evaluation's entry in the signing service's trail
  int64_t time_ms = 0;          // when it was evaluated (Unix milliseconds)
  std::string signature;        // 64 bytes, SignReceipt
};

// The digest of a batch of elements (32-byte group elements, concatenated) for a receipt.
std::string ReceiptElementsDigest(std::string_view elements);

// Sets `receipt->signature` over the other fields.
void SignReceipt(const Signer& signer, EvaluationReceipt* receipt);

// Unauthenticated unless `receipt.signature` is the signature of its fields by `verifier`'s
// key; InvalidArgument for a digest that is not 32 bytes.
absl::Status VerifyReceipt(const Verifier& verifier, const EvaluationReceipt& receipt);

}  // namespace samenzicht::crypto

#endif  // SAMENZICHT_CRYPTO_EVALUATION_RECEIPT_H_
