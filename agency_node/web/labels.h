// Dutch and English labels of the intake page: the categories of the research
// questionnaire (by their CSV word, model/vocabulary.h), the form's fields, and the page's
// sentences. A word without a label shows as itself.
//
// Thread-safety: free functions over constant tables.
#ifndef SAMENZICHT_AGENCY_NODE_WEB_LABELS_H_
#define SAMENZICHT_AGENCY_NODE_WEB_LABELS_H_

#include <string>
#include <string_view>

namespace samenzicht::agency_node::web {

enum class Lang { kNl, kEn };

// The label of category word `word` of field `field` ("form", "sexual" -> "seksueel").
std::string WordLabel(Lang lang, std::string_view field, std::string_view word);
// The label of form field `field` ("signal_month" -> "Maand van het signaal").
std::string FieldLabel(Lang lang, std::string_view field);
// A sentence of the page by key; the key itself when unknown.
std::string Text(Lang lang, std::string_view key);

}  // namespace samenzicht::agency_node::web

#endif  // SAMENZICHT_AGENCY_NODE_WEB_LABELS_H_
