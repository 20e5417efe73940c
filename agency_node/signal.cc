#include "agency_node/signal.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "model/vocabulary.h"

namespace samenzicht::agency_node {
namespace {

using v1::Field;

// Without leading and trailing ASCII whitespace (as absl::StripAsciiWhitespace); a view
// into `s`, so no copy is made per field.
std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  absl::AsciiStrToLower(&out);
  return out;
}

bool ValidAreaCode(const std::string& a) {
  if (a.empty() || a.size() > 64) return false;
  for (char c : a) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

bool ValidRecordId(std::string_view id) {
  if (id.size() > 200) return false;
  for (unsigned char c : id) {
    if (c < 0x20 || c == 0x7F) return false;
  }
  return true;
}

// Dutch words and common synonyms for the category words (README, "Category words"), as
// their key (CategoryKey: lower case, spaces and hyphens as '_') -> the English word.
struct Synonym {
  model::Dimension dimension;
  const char* key;
  const char* word;
};
using D0 = model::Dimension;
const Synonym kSynonyms[] = {
    {D0::DIMENSION_FORM, "seksueel", "sexual"},
    {D0::DIMENSION_FORM, "sexueel", "sexual"},
    {D0::DIMENSION_FORM, "seksuele_uitbuiting", "sexual"},
    {D0::DIMENSION_FORM, "sexuele_uitbuiting", "sexual"},
    {D0::DIMENSION_FORM, "crimineel", "criminal"},
    {D0::DIMENSION_FORM, "criminele_uitbuiting", "criminal"},
    {D0::DIMENSION_FORM, "seksueel_en_crimineel", "sexual_and_criminal"},
    {D0::DIMENSION_FORM, "sexueel_en_crimineel", "sexual_and_criminal"},
    {D0::DIMENSION_FORM, "arbeid", "labour"},
    {D0::DIMENSION_FORM, "arbeidsuitbuiting", "labour"},
    {D0::DIMENSION_FORM, "labor", "labour"},
    {D0::DIMENSION_FORM, "overig", "other"},
    {D0::DIMENSION_FORM, "anders", "other"},
    {D0::DIMENSION_CONTACT, "direct_contact", "direct"},
    {D0::DIMENSION_CONTACT, "rechtstreeks", "direct"},
    {D0::DIMENSION_CONTACT, "waargenomen", "observed"},
    {D0::DIMENSION_CONTACT, "geobserveerd", "observed"},
    {D0::DIMENSION_CONTACT, "indirect", "observed"},
    {D0::DIMENSION_AGE_BAND, "27+", "27_plus"},
    {D0::DIMENSION_AGE_BAND, "27_en_ouder", "27_plus"},
    {D0::DIMENSION_GENDER, "vrouw", "female"},
    {D0::DIMENSION_GENDER, "v", "female"},
    {D0::DIMENSION_GENDER, "f", "female"},
    {D0::DIMENSION_GENDER, "meisje", "female"},
    {D0::DIMENSION_GENDER, "man", "male"},
    {D0::DIMENSION_GENDER, "m", "male"},
    {D0::DIMENSION_GENDER, "jongen", "male"},
    {D0::DIMENSION_GENDER, "x", "other"},
    {D0::DIMENSION_GENDER, "anders", "other"},
    {D0::DIMENSION_GENDER, "overig", "other"},
    {D0::DIMENSION_BACKGROUND, "nederlands", "dutch"},
    {D0::DIMENSION_BACKGROUND, "europees", "european"},
    {D0::DIMENSION_BACKGROUND, "niet_europees", "non_european"},
    {D0::DIMENSION_BACKGROUND, "buiten_europa", "non_european"},
    {D0::DIMENSION_LIVING_SITUATION, "bij_ouders", "with_parents"},
    {D0::DIMENSION_LIVING_SITUATION, "thuis", "with_parents"},
    {D0::DIMENSION_LIVING_SITUATION, "bij_uitbuiter", "with_exploiter"},
    {D0::DIMENSION_LIVING_SITUATION, "pleeggezin", "foster_family"},
    {D0::DIMENSION_LIVING_SITUATION, "zorginstelling", "care_institution"},
    {D0::DIMENSION_LIVING_SITUATION, "begeleid_wonen", "care_institution"},
    {D0::DIMENSION_LIVING_SITUATION, "azc", "asylum_shelter"},
    {D0::DIMENSION_LIVING_SITUATION, "asielopvang", "asylum_shelter"},
    {D0::DIMENSION_LIVING_SITUATION, "dakloos", "homeless"},
    {D0::DIMENSION_LIVING_SITUATION, "justitiële_jeugdinrichting", "judicial_institution"},
    {D0::DIMENSION_LIVING_SITUATION, "justitiele_jeugdinrichting", "judicial_institution"},
    {D0::DIMENSION_LIVING_SITUATION, "jji", "judicial_institution"},
    {D0::DIMENSION_LIVING_SITUATION, "zelfstandig", "independent"},
    {D0::DIMENSION_LIVING_SITUATION, "overig", "other"},
    {D0::DIMENSION_LIVING_SITUATION, "anders", "other"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "basisschool", "school_primary"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "praktijkonderwijs", "school_practical"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "middelbare_school", "school_secondary"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "voortgezet_onderwijs", "school_secondary"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "vmbo", "school_secondary"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "havo", "school_secondary"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "vwo", "school_secondary"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "mbo", "school_mbo"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "hbo", "school_higher"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "universiteit", "school_higher"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "straat", "street"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "hangplek", "street"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "buurthuis", "community_centre"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "jongerencentrum", "community_centre"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "horeca", "hospitality"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "coffeeshop", "hospitality"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "shishalounge", "hospitality"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "zorginstelling", "care_institution"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "sportclub", "sports_club"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "sportvereniging", "sports_club"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "azc", "refugee_shelter"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "asielopvang", "refugee_shelter"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "daklozenopvang", "homeless_shelter"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "verslavingszorg", "addiction_care"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "buitenland", "abroad"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "internet", "online"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "sociale_media", "online"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "overig", "other"},
    {D0::DIMENSION_RECRUITMENT_LOCATION, "anders", "other"},
    {D0::DIMENSION_COERCION, "geweld", "physical_violence"},
    {D0::DIMENSION_COERCION, "fysiek_geweld", "physical_violence"},
    {D0::DIMENSION_COERCION, "schuld", "debt_bondage"},
    {D0::DIMENSION_COERCION, "schuldslavernij", "debt_bondage"},
    {D0::DIMENSION_COERCION, "dreigen_met_openbaarmaking", "disclosure_threat"},
    {D0::DIMENSION_COERCION, "dreigen_met_uitzetting", "eviction_threat"},
    {D0::DIMENSION_COERCION, "dreigen_met_melden_illegaal_verblijf", "illegal_stay_threat"},
    {D0::DIMENSION_COERCION, "misbruik_jonge_leeftijd", "abuse_of_young_age"},
    {D0::DIMENSION_COERCION, "misbruik_lvb", "abuse_of_intellectual_disability"},
    {D0::DIMENSION_COERCION, "lvb", "abuse_of_intellectual_disability"},
    {D0::DIMENSION_COERCION, "verslaving", "addiction"},
    {D0::DIMENSION_COERCION, "overig", "other"},
    {D0::DIMENSION_COERCION, "anders", "other"},
    {D0::DIMENSION_FORCED_CRIME, "drugshandel", "drugs"},
    {D0::DIMENSION_FORCED_CRIME, "diefstal", "theft"},
    {D0::DIMENSION_FORCED_CRIME, "inbraak", "theft"},
    {D0::DIMENSION_FORCED_CRIME, "zakkenrollen", "theft"},
    {D0::DIMENSION_FORCED_CRIME, "overval", "robbery"},
    {D0::DIMENSION_FORCED_CRIME, "beroving", "robbery"},
    {D0::DIMENSION_FORCED_CRIME, "geweldsdelict", "violent_crime"},
    {D0::DIMENSION_FORCED_CRIME, "geldezel", "money_mule"},
    {D0::DIMENSION_FORCED_CRIME, "witwassen", "money_mule"},
    {D0::DIMENSION_FORCED_CRIME, "katvanger", "straw_man"},
    {D0::DIMENSION_FORCED_CRIME, "gedwongen_aankopen", "forced_purchases"},
    {D0::DIMENSION_FORCED_CRIME, "ronselen", "recruiting"},
    {D0::DIMENSION_FORCED_CRIME, "bedelen", "begging"},
    {D0::DIMENSION_FORCED_CRIME, "overig", "other"},
    {D0::DIMENSION_FORCED_CRIME, "anders", "other"},
};

// `word` (trimmed) as a key: ASCII letters lower-cased, runs of spaces, hyphens and
// underscores as one '_' ("Seksuele uitbuiting" -> "seksuele_uitbuiting", "0-12" -> "0_12").
void CategoryKey(std::string_view word, std::string* key) {
  key->clear();
  for (char c : word) {
    if (c == ' ' || c == '-' || c == '_') {
      if (!key->empty() && key->back() != '_') key->push_back('_');
    } else {
      key->push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    }
  }
  while (!key->empty() && key->back() == '_') key->pop_back();
}

// The enum number of one word of dimension `d`: the English word, or a synonym.
absl::StatusOr<int> ParseCategoryWord(model::Dimension d, const std::string& key) {
  auto n = model::ParseWord(d, key);
  if (n.ok()) return n;
  for (const Synonym& syn : kSynonyms) {
    if (syn.dimension == d && key == syn.key) return model::ParseWord(d, syn.word);
  }
  return n.status();
}

// Parses one (possibly multi-valued: words separated by ';') category cell into enum
// numbers, appended to `out` without repeats; false on an unknown word. Each word is
// trimmed and made a key (CategoryKey) into `word`, a buffer the caller reuses.
bool ParseCategory(model::Dimension d, std::string_view cell, std::vector<int>* out,
                   std::string* word) {
  const bool multi = model::IsMultiValued(d);
  while (true) {
    const size_t end = multi ? cell.find(';') : std::string_view::npos;
    CategoryKey(Trimmed(cell.substr(0, end)), word);
    auto n = ParseCategoryWord(d, *word);
    if (!n.ok()) return false;
    if (*n != 0 && std::find(out->begin(), out->end(), *n) == out->end()) out->push_back(*n);
    if (end == std::string_view::npos) return true;
    cell.remove_prefix(end + 1);
  }
}

// `value` in decimal, zero-padded to `width` digits (as printf's %0*d for value >= 0).
void AppendPadded(int value, int width, std::string* out) {
  char buf[16];
  int n = 0;
  do {
    buf[15 - n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < 16);
  while (n < width && n < 16) buf[15 - n++] = '0';
  out->append(buf + 16 - n, n);
}

std::string Yyyymmdd(int year, int month, int day) {
  std::string s;
  AppendPadded(year, 4, &s);
  AppendPadded(month, 2, &s);
  AppendPadded(day, 2, &s);
  return s;
}

// What one file's cells are read with.
struct FileContext {
  const Normaliser& normaliser;
  const SignalOptions& options;
  std::vector<std::string> allowed_areas;  // lower-cased options.areas
};

// The signal one record builds, and what its cells say that other cells need.
struct Row {
  Signal* sig;
  std::optional<Date> dob{};
  std::optional<Date> signal_date{};
  bool age_band_given = false;
  std::string_view national_id_scheme{};  // whichever column comes first
};

// A single-identifier column: the normalised value of the person's one field.
using NormaliseFn = absl::StatusOr<std::string> (*)(std::string_view value, const FileContext&,
                                                     const Row&);
// A category column: the enum numbers of its cell (never empty) into the report.
using ApplyCategoryFn = void (*)(const std::vector<int>& values, Row&);
// Any other column: fills the row; returns the warning (without a value) when the cell
// does not parse, nothing when it did.
using FillFn = std::optional<std::string> (*)(std::string_view value, const FileContext&, Row&);

// One column of the CSV contract, said once. At most one of `normalise`, `category` and
// `fill` is set; none: the column is accepted and not used here (`record_id` /
// `national_id_scheme`, which the record loop reads itself).
struct ColumnSpec {
  const char* name;
  Field field = Field::FIELD_UNSPECIFIED;  // with `normalise`
  NormaliseFn normalise = nullptr;         // failure: "<reason>; not used"
  model::Dimension dimension = model::Dimension::DIMENSION_UNSPECIFIED;  // with `category`
  ApplyCategoryFn category = nullptr;      // failure: an unknown word, a record error
  FillFn fill = nullptr;
  // A cell of this column that does not parse makes the record an error (skipped, not
  // sent): the categories, the area and the signal date. Otherwise (identifiers) the field
  // is left out and the record goes, with a warning.
  bool record_error = false;
};

template <absl::StatusOr<std::string> (*F)(std::string_view)>
absl::StatusOr<std::string> Plain(std::string_view v, const FileContext&, const Row&) {
  return F(v);
}

// The first value of a single-valued category.
template <typename Enum, void (v1::Report::*Set)(Enum)>
void First(const std::vector<int>& v, Row& row) {
  (row.sig->report.*Set)(static_cast<Enum>(v[0]));
}

// Every value of a multi-valued category.
template <typename Enum, void (v1::Report::*Add)(Enum)>
void All(const std::vector<int>& v, Row& row) {
  for (int n : v) (row.sig->report.*Add)(static_cast<Enum>(n));
}

std::string NotUsed(const absl::Status& s) { return absl::StrCat(s.message(), "; not used"); }

std::optional<std::string> FillGivenNames(std::string_view v, const FileContext& ctx, Row& row) {
  auto g = ctx.normaliser.NormaliseGivenNames(v);
  if (!g.ok()) return NotUsed(g.status());
  Person& p = row.sig->person;
  p.Set(Field::FIELD_GIVEN_NAMES, std::move(g->all));
  p.Set(Field::FIELD_FIRST_GIVEN_NAME, std::move(g->first));
  p.Set(Field::FIELD_FIRST_INITIAL, std::move(g->initial));
  p.Set(Field::FIELD_GIVEN_NAME_PHONETIC, std::move(g->phonetic));
  return std::nullopt;
}

std::optional<std::string> FillSurname(std::string_view v, const FileContext& ctx, Row& row) {
  auto s = ctx.normaliser.NormaliseSurname(v);
  if (!s.ok()) return NotUsed(s.status());
  Person& p = row.sig->person;
  p.Set(Field::FIELD_SURNAME, std::move(s->core));
  p.Set(Field::FIELD_SURNAME_WITH_PREFIX, std::move(s->with_prefix));
  p.Set(Field::FIELD_SURNAME_PHONETIC, std::move(s->phonetic));
  p.Set(Field::FIELD_SURNAME_SORTED_LETTERS, std::move(s->sorted_letters));
  return std::nullopt;
}

std::optional<std::string> FillCity(std::string_view v, const FileContext& ctx, Row& row) {
  auto c = ctx.normaliser.NormaliseCity(v);
  if (!c.ok()) return NotUsed(c.status());
  row.sig->person.Set(Field::FIELD_CITY, *std::move(c));
  return std::nullopt;
}

// The street name's phonetic code (letters and digits of the folded name): the only use of
// the street is a token with the house number.
std::optional<std::string> FillStreet(std::string_view v, const FileContext& ctx, Row& row) {
  auto c = ctx.normaliser.NormaliseCity(v);
  if (!c.ok()) return NotUsed(absl::InvalidArgumentError("no letters in the street name"));
  std::string code = DutchPhonetic(*c);
  if (!code.empty()) row.sig->person.Set(Field::FIELD_STREET_PHONETIC, std::move(code));
  return std::nullopt;
}

std::optional<std::string> FillDateOfBirth(std::string_view v, const FileContext& ctx, Row& row) {
  auto d = ParseDate(v, ctx.options.today);
  if (!d.ok()) return NotUsed(d.status());
  row.dob = *d;
  // ParseDate's years have 4 digits (1900 to today): the year and month-day are the two
  // halves of the yyyymmdd text.
  std::string ymd = Yyyymmdd(d->year, d->month, d->day);
  Person& p = row.sig->person;
  p.Set(Field::FIELD_BIRTH_YEAR, ymd.substr(0, 4));
  p.Set(Field::FIELD_DOB_MONTH_DAY, ymd.substr(4));
  p.Set(Field::FIELD_DATE_OF_BIRTH, std::move(ymd));
  p.Set(Field::FIELD_DOB_DAY_MONTH_UNORDERED,
        Yyyymmdd(d->year, std::min(d->day, d->month), std::max(d->day, d->month)));
  return std::nullopt;
}

absl::StatusOr<std::string> NormaliseNationalId(std::string_view v, const FileContext& ctx,
                                                const Row& row) {
  return ctx.options.national_ids.Normalise(row.national_id_scheme, v);
}

void ApplyGender(const std::vector<int>& v, Row& row) {
  row.sig->report.set_gender(static_cast<v1::Gender>(v[0]));
  row.sig->person.Set(Field::FIELD_GENDER, model::Word(model::Dimension::DIMENSION_GENDER, v[0]));
}

void ApplyAgeBand(const std::vector<int>& v, Row& row) {
  row.sig->report.set_age_band(static_cast<v1::AgeBand>(v[0]));
  row.age_band_given = true;
}

std::optional<std::string> FillArea(std::string_view v, const FileContext& ctx, Row& row) {
  std::string a = Lower(v);
  const auto& allowed = ctx.allowed_areas;
  bool ok = allowed.empty() ? ValidAreaCode(a)
                            : std::find(allowed.begin(), allowed.end(), a) != allowed.end();
  if (!ok) {
    if (allowed.empty()) {
      return "not an area code (lower-case letters, digits, '_' and '-'); record not sent";
    }
    return absl::StrCat("unknown area; valid areas: ", absl::StrJoin(allowed, ", "),
                        "; record not sent");
  }
  row.sig->report.set_area(a);
  return std::nullopt;
}

std::optional<std::string> FillSignalDate(std::string_view v, const FileContext& ctx, Row& row) {
  auto d = ParseDate(v, ctx.options.today);
  if (!d.ok()) {
    return absl::StrCat(d.status().message(),
                        " (a signal date is a past date such as 2024-03-15 or 15-03-2024); "
                        "record not sent");
  }
  row.signal_date = *d;
  row.sig->report.set_signal_month(static_cast<uint32_t>(d->year * 100 + d->month));
  return std::nullopt;
}

using D = model::Dimension;
using R = v1::Report;

// The CSV contract (signal.h), one line per column.
const ColumnSpec kColumns[] = {
    {.name = "record_id"},
    {.name = "given_names", .fill = FillGivenNames},
    {.name = "surname", .fill = FillSurname},
    {.name = "date_of_birth", .fill = FillDateOfBirth},
    {.name = "gender", .dimension = D::DIMENSION_GENDER, .category = ApplyGender},
    {.name = "national_id", .field = Field::FIELD_NATIONAL_ID, .normalise = NormaliseNationalId},
    {.name = "national_id_scheme"},
    {.name = "phone", .field = Field::FIELD_PHONE, .normalise = Plain<NormalisePhone>},
    {.name = "email", .field = Field::FIELD_EMAIL, .normalise = Plain<NormaliseEmail>},
    {.name = "postcode", .field = Field::FIELD_POSTCODE, .normalise = Plain<NormalisePostcode>},
    {.name = "street", .fill = FillStreet},
    {.name = "house_number", .field = Field::FIELD_HOUSE_NUMBER,
     .normalise = Plain<NormaliseHouseNumber>},
    {.name = "city", .fill = FillCity},
    {.name = "form", .dimension = D::DIMENSION_FORM, .category = First<v1::Form, &R::set_form>},
    {.name = "contact", .dimension = D::DIMENSION_CONTACT,
     .category = First<v1::Contact, &R::set_contact>},
    {.name = "age_band", .dimension = D::DIMENSION_AGE_BAND, .category = ApplyAgeBand},
    {.name = "background", .dimension = D::DIMENSION_BACKGROUND,
     .category = First<v1::Background, &R::set_background>},
    {.name = "living_situation", .dimension = D::DIMENSION_LIVING_SITUATION,
     .category = All<v1::LivingSituation, &R::add_living_situation>},
    {.name = "recruitment_location", .dimension = D::DIMENSION_RECRUITMENT_LOCATION,
     .category = All<v1::RecruitmentLocation, &R::add_recruitment_location>},
    {.name = "coercion", .dimension = D::DIMENSION_COERCION,
     .category = All<v1::Coercion, &R::add_coercion>},
    {.name = "forced_crime", .dimension = D::DIMENSION_FORCED_CRIME,
     .category = All<v1::ForcedCrime, &R::add_forced_crime>},
    {.name = "area", .fill = FillArea, .record_error = true},
    {.name = "signal_date", .fill = FillSignalDate, .record_error = true},
};

const ColumnSpec* FindColumn(std::string_view name) {
  for (const ColumnSpec& c : kColumns) {
    if (std::string_view(c.name) == name) return &c;
  }
  return nullptr;
}

// "age_band, area, background, ...": every known column, in alphabetical order.
std::string KnownColumns() {
  std::vector<std::string> names;
  for (const ColumnSpec& c : kColumns) names.push_back(c.name);
  std::sort(names.begin(), names.end());
  return absl::StrJoin(names, ", ");
}

// The columns of a file's header, in order; InvalidArgument for unknown columns (all
// named), a repeated column, or no `record_id`.
// The message for a header with unknown columns, which are named by position only: in a
// file without a header row (or with a shifted or mangled one) the "header" is a record,
// and its identifiers must not reach a message or a log.
std::string UnknownColumnsMessage(const std::vector<std::string>& header,
                                  const std::vector<size_t>& unknown, bool any_known) {
  if (!any_known) {
    std::string hint;
    const std::string& first = header.empty() ? std::string() : header[0];
    if (header.size() == 1 && first.find_first_of(";\t|") != std::string::npos) {
      hint = " (the row has one column: is the separator a comma?)";
    }
    return absl::StrCat("the first row has no known column name", hint,
                        ": the file must start with a header row naming its ",
                        header.size(), " column(s); known columns: ", KnownColumns());
  }
  return absl::StrCat("unknown column", unknown.size() > 1 ? "s " : " ",
                      absl::StrJoin(unknown, ", ", [](std::string* out, size_t c) {
                        absl::StrAppend(out, c + 1);
                      }),
                      " (counted from 1; the names are not repeated here, a header row may hold "
                      "identifiers); known columns: ", KnownColumns());
}

absl::StatusOr<std::vector<const ColumnSpec*>> Layout(const std::vector<std::string>& header,
                                                      std::vector<std::string>* names) {
  std::vector<const ColumnSpec*> layout;
  std::vector<size_t> unknown;
  std::vector<std::string> repeated;
  std::set<const ColumnSpec*> seen;
  for (const std::string& h : header) {
    std::string name = Lower(Trimmed(h));
    const ColumnSpec* spec = FindColumn(name);
    if (spec == nullptr) {
      unknown.push_back(layout.size());
    } else if (!seen.insert(spec).second) {
      repeated.push_back(name);  // a known column's name: never a value
    }
    layout.push_back(spec);
    names->push_back(std::move(name));
  }
  if (!unknown.empty()) {
    return absl::InvalidArgumentError(
        UnknownColumnsMessage(header, unknown, !seen.empty()));
  }
  if (!repeated.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("repeated column: ", absl::StrJoin(repeated, ", ")));
  }
  if (!seen.count(FindColumn("record_id"))) {
    return absl::InvalidArgumentError("the required column record_id is missing");
  }
  return layout;
}

// Category cells repeat (a few words per dimension): each distinct cell of a column is
// parsed once per file (up to kCachedCells of them), then looked up. Reused buffers for
// the cells past that: no allocation per cell once grown.
class CategoryCache {
 public:
  explicit CategoryCache(size_t columns) : by_column_(columns) {}

  // The enum numbers of `value` in column `column`; nullptr when a word is unknown.
  const std::vector<int>* Parse(size_t column, model::Dimension d, std::string_view value) {
    auto& cache = by_column_[column];
    auto it = cache.find(absl::string_view(value.data(), value.size()));
    ParsedCell* cell = it != cache.end() ? &it->second : nullptr;
    if (cell == nullptr) {
      cell = cache.size() < kCachedCells ? &cache[std::string(value)] : &uncached_;
      cell->values.clear();
      cell->ok = ParseCategory(d, value, &cell->values, &word_);
      if (!cell->ok) cell->values.clear();
    }
    return cell->ok ? &cell->values : nullptr;
  }

 private:
  struct ParsedCell {
    bool ok = false;
    std::vector<int> values;  // empty when !ok
  };
  static constexpr size_t kCachedCells = 256;
  std::vector<absl::flat_hash_map<std::string, ParsedCell>> by_column_;
  ParsedCell uncached_;
  std::string word_;
};

// Reads one cell of column `spec` into `row`; the warning when it does not parse.
std::optional<std::string> ReadCell(const ColumnSpec& spec, size_t column, std::string_view value,
                                    const FileContext& ctx, CategoryCache& categories, Row& row) {
  if (spec.normalise != nullptr) {
    auto v = spec.normalise(value, ctx, row);
    if (!v.ok()) return NotUsed(v.status());
    row.sig->person.Set(spec.field, *std::move(v));
  } else if (spec.category != nullptr) {
    const std::vector<int>* v = categories.Parse(column, spec.dimension, value);
    if (v == nullptr) {
      return absl::StrCat("unknown word; valid words: ", absl::StrJoin(model::Words(spec.dimension), ", "),
                          " (or a Dutch word of the README's table); record not sent");
    }
    if (!v->empty()) spec.category(*v, row);
  } else if (spec.fill != nullptr) {
    return spec.fill(value, ctx, row);
  }
  return std::nullopt;
}

}  // namespace

std::string FormatIssue(const RecordIssue& i) {
  std::string s = absl::StrCat("line ", i.line);
  if (!i.record_id.empty()) absl::StrAppend(&s, ", record ", i.record_id);
  if (!i.field.empty()) absl::StrAppend(&s, ", field ", i.field);
  absl::StrAppend(&s, ": ", i.message);
  return s;
}

v1::AgeBand AgeBandAt(const Date& dob, const Date& at) {
  int age = at.year - dob.year;
  if (at.month < dob.month || (at.month == dob.month && at.day < dob.day)) --age;
  if (age < 0) return v1::AGE_BAND_UNSPECIFIED;
  if (age <= 12) return v1::AGE_BAND_0_12;
  if (age <= 17) return v1::AGE_BAND_13_17;
  if (age <= 26) return v1::AGE_BAND_18_26;
  return v1::AGE_BAND_27_PLUS;
}

absl::StatusOr<SignalFile> ParseSignals(const CsvFile& csv, const Normaliser& normaliser,
                                        const SignalOptions& options) {
  std::vector<std::string> names;
  ASSIGN_OR_RETURN(std::vector<const ColumnSpec*> layout, Layout(csv.header, &names));
  const ColumnSpec* const record_id_spec = FindColumn("record_id");
  const ColumnSpec* const scheme_spec = FindColumn("national_id_scheme");
  const size_t record_id_column = static_cast<size_t>(
      std::find(layout.begin(), layout.end(), record_id_spec) - layout.begin());
  const size_t scheme_column = static_cast<size_t>(
      std::find(layout.begin(), layout.end(), scheme_spec) - layout.begin());
  FileContext ctx{normaliser, options, {}};
  for (const auto& a : options.areas) ctx.allowed_areas.push_back(Lower(Trimmed(a)));

  SignalFile out;
  out.records_read = static_cast<int>(csv.records.size() + csv.errors.size());
  for (const CsvError& e : csv.errors) out.skipped.push_back({e.line, "", "", e.message});
  // Record id (a view into `csv`) -> the line it was first seen on.
  absl::flat_hash_map<std::string_view, int> first_line;
  first_line.reserve(csv.records.size());
  out.signals.reserve(csv.records.size());
  CategoryCache categories(layout.size());

  for (const CsvRecord& rec : csv.records) {
    const std::string_view record_id = Trimmed(rec.fields[record_id_column]);
    if (record_id.empty()) {
      out.skipped.push_back({rec.line, "", "record_id", "missing record_id; record skipped"});
      continue;
    }
    if (!ValidRecordId(record_id)) {
      out.skipped.push_back({rec.line, "", "record_id",
                             "record_id longer than 200 characters or with control characters; "
                             "record skipped"});
      continue;
    }
    auto [it, fresh] = first_line.emplace(record_id, rec.line);
    if (!fresh) {
      out.skipped.push_back({rec.line, std::string(record_id), "record_id",
                             absl::StrCat("duplicate record_id (first on line ", it->second,
                                          "); record skipped")});
      continue;
    }
    Signal& sig = out.signals.emplace_back();  // built in place
    sig.line = rec.line;
    sig.record_id = std::string(record_id);
    Row row{&sig};
    if (scheme_column < layout.size()) row.national_id_scheme = rec.fields[scheme_column];
    bool refused = false;  // a category, area or signal date did not parse: not sent
    for (size_t c = 0; c < layout.size(); ++c) {
      const std::string_view value = Trimmed(rec.fields[c]);
      if (value.empty()) continue;
      auto problem = ReadCell(*layout[c], c, value, ctx, categories, row);
      if (!problem) continue;
      const bool record_error = layout[c]->record_error || layout[c]->category != nullptr;
      if (record_error && !refused) {
        // The record's one `skipped` entry (read = signals + skipped).
        out.skipped.push_back({rec.line, sig.record_id, names[c], *std::move(problem)});
        refused = true;
      } else {
        // Further problems of a refused record, and identifier fields left out.
        out.warnings.push_back({rec.line, sig.record_id, names[c], *std::move(problem)});
      }
    }
    if (refused) {
      out.signals.pop_back();
      continue;
    }
    DeriveLinkageFields(&sig.person);
    if (!row.age_band_given && row.dob && row.signal_date && !(*row.signal_date < *row.dob)) {
      sig.report.set_age_band(AgeBandAt(*row.dob, *row.signal_date));
    }
  }
  std::stable_sort(out.skipped.begin(), out.skipped.end(),
                   [](const RecordIssue& a, const RecordIssue& b) { return a.line < b.line; });
  return out;
}

}  // namespace samenzicht::agency_node
