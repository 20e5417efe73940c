// Checks the fast path of Normaliser::Fold (agency_node/normalise.cc) against the ICU
// transliterators it skips (Normaliser::FoldWithIcu: "Ukrainian-Latin/BGN", then "NFKC;
// Any-Latin; Latin-ASCII; Lower", after mapping apostrophe look-alikes): the fast path takes
// ASCII and a table of the precomposed Latin letters U+00C0..U+024F, each folded alone, so
// it is right only if no such character folds differently next to another. Inputs, all
// compared exhaustively: every ASCII character and every table code point alone, every pair
// of them (each in either order), each table code point between letters of both cases and
// between two of itself; plus pseudo-random strings of 3 to 6 of them and any lines on stdin
// (e.g. the simulator's name fields). Exit 1 on a difference.
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "agency_node/normalise.h"
#include "common/version.h"

namespace {

std::string Utf8(uint32_t cp) {
  if (cp < 0x80) return std::string(1, static_cast<char>(cp));
  return {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
}

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "ascii_fold_check")) return 0;
  auto normaliser = samenzicht::agency_node::Normaliser::New();
  if (!normaliser.ok()) {
    std::cerr << normaliser.status() << "\n";
    return 1;
  }
  const auto& n = **normaliser;
  std::vector<std::string> chars;  // ASCII (without NUL) and U+00C0..U+024F
  for (uint32_t cp = 1; cp < 0x80; ++cp) chars.push_back(Utf8(cp));
  for (uint32_t cp = 0xC0; cp < 0x250; ++cp) chars.push_back(Utf8(cp));
  size_t inputs = 0, bad = 0;
  auto check = [&](const std::string& in) {
    ++inputs;
    const std::string fast = n.Fold(in), icu = n.FoldWithIcu(in);
    if (fast != icu && bad++ < 10) {
      std::cerr << "DIFF [" << in << "] icu=[" << icu << "] fast=[" << fast << "]\n";
    }
  };
  for (const auto& a : chars) {
    check(a);
    check("a" + a + "B");
    check("A" + a + "b");
    check(a + "x" + a);
    check(a + a + a);
    for (const auto& b : chars) check(a + b);
  }
  std::mt19937 rng(8);
  std::uniform_int_distribution<size_t> pick(0, chars.size() - 1), len(3, 6);
  for (int k = 0; k < 100000; ++k) {
    std::string s;
    for (size_t l = len(rng); l > 0; --l) s += chars[pick(rng)];
    check(s);
  }
  std::string line;
  if (!isatty(0)) {
    while (std::getline(std::cin, line)) check(line);
  }
  std::cout << "ascii_fold_check: " << inputs << " inputs, " << bad << " differ\n";
  return bad == 0 ? 0 : 1;
}
