#include "presentation/labels.h"

#include <cstdlib>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/json.h"

namespace samenzicht::presentation {
namespace internal {
extern const char kLabelsTsv[];
}  // namespace internal

namespace {

struct Table {
  std::vector<std::string> keys;
  std::map<std::string, std::pair<std::string, std::string>, std::less<>> labels;  // nl, en
  std::string json;
};

using json::JsonString;

const Table& TheTable() {
  static const Table* table = [] {
    auto* t = new Table;
    for (absl::string_view line : absl::StrSplit(internal::kLabelsTsv, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> f = absl::StrSplit(line, '\t');
      // labels.tsv is compiled in and checked by its test: a malformed line is a build
      // defect, not input.
      if (f.size() != 3 || f[0].empty() || f[1].empty() || f[2].empty()) std::abort();
      if (!t->labels.emplace(f[0], std::make_pair(f[1], f[2])).second) std::abort();
      t->keys.push_back(f[0]);
    }
    for (int lang = 0; lang < 2; ++lang) {
      absl::StrAppend(&t->json, lang == 0 ? "{\"nl\": {" : "},\n\"en\": {");
      bool first = true;
      for (const std::string& k : t->keys) {
        const auto& l = t->labels.at(k);
        absl::StrAppend(&t->json, first ? "\n" : ",\n", JsonString(k), ": ",
                        JsonString(lang == 0 ? l.first : l.second));
        first = false;
      }
    }
    t->json += "}}\n";
    return t;
  }();
  return *table;
}

}  // namespace

absl::StatusOr<Language> ParseLanguage(std::string_view code) {
  if (code.empty() || code == "nl") return Language::kDutch;
  if (code == "en") return Language::kEnglish;
  return absl::InvalidArgumentError("language must be nl (Dutch, the default) or en (English)");
}

const char* LanguageCode(Language lang) { return lang == Language::kEnglish ? "en" : "nl"; }

std::string Label(std::string_view key, Language lang) {
  const Table& t = TheTable();
  auto it = t.labels.find(key);
  if (it == t.labels.end()) {
    std::string shown(key);
    for (char& c : shown) c = c == '_' ? ' ' : c;
    return shown;
  }
  return lang == Language::kEnglish ? it->second.second : it->second.first;
}

std::string Label(std::string_view key, Language lang,
                  const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out = Label(key, lang);
  for (const auto& [name, value] : values) {
    out = absl::StrReplaceAll(out, {{absl::StrCat("{", name, "}"), value}});
  }
  return out;
}

bool HasLabel(std::string_view key) { return TheTable().labels.count(key) > 0; }

const std::string& LabelsJson() { return TheTable().json; }

std::vector<std::string> LabelKeys() { return TheTable().keys; }

}  // namespace samenzicht::presentation
