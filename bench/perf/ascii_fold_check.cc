// Checks the ASCII fast path of Normaliser::Fold (agency_node/normalise.cc): for ASCII input
// the ICU transliterators Fold uses ("Ukrainian-Latin/BGN", then "NFKC; Any-Latin;
// Latin-ASCII; Lower", after mapping the backtick to an apostrophe) must change nothing but
// upper case, which the fast path assumes. Inputs: every ASCII character alone and in
// context, plus any lines on stdin (e.g. the simulator's name fields). Exit 1 on a difference.
#include <unicode/translit.h>
#include <unicode/unistr.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>
int main() {
  UParseError pe; UErrorCode st = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> cyr(icu::Transliterator::createInstance(icu::UnicodeString::fromUTF8("Ukrainian-Latin/BGN"), UTRANS_FORWARD, pe, st));
  std::unique_ptr<icu::Transliterator> lat(icu::Transliterator::createInstance(icu::UnicodeString::fromUTF8("NFKC; Any-Latin; Latin-ASCII; Lower"), UTRANS_FORWARD, pe, st));
  if (U_FAILURE(st)) { std::cerr << "icu fail\n"; return 1; }
  int bad = 0;
  std::string line;
  std::vector<std::string> inputs;
  for (int c = 1; c < 128; ++c) { inputs.push_back(std::string(1, (char)c)); inputs.push_back("a" + std::string(1,(char)c) + "B"); inputs.push_back(std::string(1,(char)c) + "x" + std::string(1,(char)c)); }
  if (!isatty(0)) while (std::getline(std::cin, line)) inputs.push_back(line);
  for (auto& in : inputs) {
    bool ascii = true; for (unsigned char c : in) if (c >= 0x80) ascii = false;
    if (!ascii) continue;
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(in);
    u.findAndReplace(icu::UnicodeString((UChar)0x60), icu::UnicodeString('\''));
    cyr->transliterate(u); lat->transliterate(u);
    std::string s; u.toUTF8String(s);
    std::string f; for (char c : in) { char d = c == '`' ? '\'' : c; if (d >= 'A' && d <= 'Z') d = d - 'A' + 'a'; f.push_back(d); }
    if (s != f) { if (bad++ < 10) std::cerr << "DIFF [" << in << "] icu=[" << s << "] fast=[" << f << "]\n"; }
  }
  std::cout << "ascii_fold_check: " << inputs.size() << " inputs, " << bad << " differ\n";
  return bad == 0 ? 0 : 1;
}
