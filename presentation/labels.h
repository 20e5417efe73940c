// The one label table of every rendering for people: the council report (report.h) and the
// analyst's dashboard (served as /labels.json) load the same table, presentation/labels.tsv,
// compiled in. One language per rendering: Dutch by default, English on request.
//
//   using presentation::Language;
//   Label("age_band", Language::kDutch);            // a category word as is: "age_band"
//   Label("dim.age_band", Language::kDutch);        // "leeftijd"
//   Label("18_26", Language::kEnglish);             // "18-26"
//   Label("knownTo", Language::kDutch, {{"n", "2"}});  // "bekend bij 2 instantie(s)"
//
// Keys: the category words the query service returns (row keys such as "sexual"), the
// categories as "dim.<category>", and the page's texts (camelCase keys). A key that is not in
// the table (an area's own name, a month such as "2024-03") is shown as it is, with '_' as a
// space, in both languages.
//
// Thread-safety: the table is parsed once, thread-safely, and read-only afterwards.
#ifndef SAMENZICHT_PRESENTATION_LABELS_H_
#define SAMENZICHT_PRESENTATION_LABELS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace samenzicht::presentation {

enum class Language { kDutch, kEnglish };

// "nl" (or "") -> Dutch, "en" -> English; InvalidArgument naming the valid codes otherwise.
absl::StatusOr<Language> ParseLanguage(std::string_view code);
const char* LanguageCode(Language lang);  // "nl" or "en"

// The label of `key` in `lang`; a key not in the table as described above.
std::string Label(std::string_view key, Language lang);
// The same with every "{name}" replaced by its value.
std::string Label(std::string_view key, Language lang,
                  const std::vector<std::pair<std::string, std::string>>& values);
bool HasLabel(std::string_view key);

// The whole table as one JSON object: {"nl": {"key": "label", ...}, "en": {...}}.
const std::string& LabelsJson();

// Every key of the table, in the table's order.
std::vector<std::string> LabelKeys();

}  // namespace samenzicht::presentation

#endif  // SAMENZICHT_PRESENTATION_LABELS_H_
