#include "agency_node/signal.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "model/vocabulary.h"

namespace samenzicht::agency_node {
namespace {

using v1::Field;

enum class Column {
  kRecordId, kGivenNames, kSurname, kDateOfBirth, kGender, kNationalId, kPhone, kEmail,
  kPostcode, kStreet, kHouseNumber, kCity, kForm, kContact, kAgeBand, kBackground,
  kLivingSituation, kRecruitmentLocation, kCoercion, kForcedCrime, kArea, kSignalDate,
  kNationalIdScheme,
};

const std::map<std::string, Column>& Columns() {
  static const auto* m = new std::map<std::string, Column>{
      {"record_id", Column::kRecordId},     {"given_names", Column::kGivenNames},
      {"surname", Column::kSurname},        {"date_of_birth", Column::kDateOfBirth},
      {"gender", Column::kGender},          {"national_id", Column::kNationalId},
      {"phone", Column::kPhone},            {"email", Column::kEmail},
      {"postcode", Column::kPostcode},      {"street", Column::kStreet},
      {"house_number", Column::kHouseNumber}, {"city", Column::kCity},
      {"form", Column::kForm},              {"contact", Column::kContact},
      {"age_band", Column::kAgeBand},       {"background", Column::kBackground},
      {"living_situation", Column::kLivingSituation},
      {"recruitment_location", Column::kRecruitmentLocation},
      {"coercion", Column::kCoercion},      {"forced_crime", Column::kForcedCrime},
      {"area", Column::kArea},              {"signal_date", Column::kSignalDate},
      {"national_id_scheme", Column::kNationalIdScheme},
  };
  return *m;
}

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

// Parses one (possibly multi-valued: words separated by ';') category cell into enum
// numbers, appended to `out` without repeats; false on an unknown word. Each word is
// trimmed and lower-cased into `word`, a buffer the caller reuses.
bool ParseCategory(model::Dimension d, std::string_view cell, std::vector<int>* out,
                   std::string* word) {
  const bool multi = model::IsMultiValued(d);
  while (true) {
    const size_t end = multi ? cell.find(';') : std::string_view::npos;
    word->assign(Trimmed(cell.substr(0, end)));
    for (char& c : *word) c = absl::ascii_tolower(static_cast<unsigned char>(c));
    auto n = model::ParseWord(d, *word);
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
  // Column layout.
  std::vector<Column> layout;
  std::vector<std::string> names, unknown, repeated;
  std::set<Column> seen;
  for (const std::string& h : csv.header) {
    std::string name = Lower(Trimmed(h));
    auto it = Columns().find(name);
    if (it == Columns().end()) {
      unknown.push_back(absl::StrCat("'", name.substr(0, 40), "'"));
      layout.push_back(Column::kStreet);  // placeholder; the file is refused below
    } else {
      if (!seen.insert(it->second).second) repeated.push_back(name);
      layout.push_back(it->second);
    }
    names.push_back(name);
  }
  if (!unknown.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown column", unknown.size() > 1 ? "s " : " ", absl::StrJoin(unknown, ", "),
        "; known columns: ", absl::StrJoin(Columns(), ", ", [](std::string* o, const auto& kv) {
          o->append(kv.first);
        })));
  }
  if (!repeated.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("repeated column: ", absl::StrJoin(repeated, ", ")));
  }
  if (!seen.count(Column::kRecordId)) {
    return absl::InvalidArgumentError("the required column record_id is missing");
  }
  std::vector<std::string> allowed_areas;
  for (const auto& a : options.areas) {
    allowed_areas.push_back(Lower(Trimmed(a)));
  }

  SignalFile out;
  out.records_read = static_cast<int>(csv.records.size() + csv.errors.size());
  for (const CsvError& e : csv.errors) out.skipped.push_back({e.line, "", "", e.message});
  // Record id (a view into `csv`) -> the line it was first seen on.
  absl::flat_hash_map<std::string_view, int> first_line;
  first_line.reserve(csv.records.size());
  out.signals.reserve(csv.records.size());
  // Category cells repeat (a few words per dimension): each distinct cell of a column is
  // parsed once per file (up to kCachedCells of them), then looked up. Reused buffers for
  // the cells past that: no allocation per cell once grown.
  struct ParsedCell {
    bool ok = false;
    std::vector<int> values;  // empty when !ok
  };
  constexpr size_t kCachedCells = 256;
  std::vector<absl::flat_hash_map<std::string, ParsedCell>> category_cache(layout.size());
  ParsedCell uncached;
  std::string category_word;

  const size_t scheme_column = static_cast<size_t>(
      std::find(layout.begin(), layout.end(), Column::kNationalIdScheme) - layout.begin());
  for (const CsvRecord& rec : csv.records) {
    std::string_view record_id;
    for (size_t c = 0; c < layout.size(); ++c) {
      if (layout[c] == Column::kRecordId) record_id = Trimmed(rec.fields[c]);
    }
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
    auto warn = [&](size_t col, std::string msg) {
      out.warnings.push_back({rec.line, sig.record_id, names[col], std::move(msg)});
    };
    std::optional<Date> dob, signal_date;
    bool age_band_given = false;
    // The scheme of the national id, whichever column comes first.
    const std::string_view national_id_scheme =
        scheme_column < layout.size() ? std::string_view(rec.fields[scheme_column]) : std::string_view();
    for (size_t c = 0; c < layout.size(); ++c) {
      const std::string_view value = Trimmed(rec.fields[c]);
      if (value.empty()) continue;
      v1::Report& r = sig.report;
      Person& p = sig.person;
      auto category = [&](model::Dimension d) -> const std::vector<int>& {
        auto& cache = category_cache[c];
        auto it = cache.find(absl::string_view(value.data(), value.size()));
        ParsedCell* cell = it != cache.end() ? &it->second : nullptr;
        if (cell == nullptr) {
          cell = cache.size() < kCachedCells ? &cache[std::string(value)] : &uncached;
          cell->values.clear();
          cell->ok = ParseCategory(d, value, &cell->values, &category_word);
          if (!cell->ok) cell->values.clear();
        }
        if (!cell->ok) warn(c, "unknown category word; left as unknown");
        return cell->values;
      };
      switch (layout[c]) {
        case Column::kRecordId:
        case Column::kStreet:
        case Column::kCity:
          break;
        case Column::kGivenNames: {
          auto g = normaliser.NormaliseGivenNames(value);
          if (!g.ok()) {
            warn(c, absl::StrCat(g.status().message(), "; not used"));
            break;
          }
          p.Set(Field::FIELD_GIVEN_NAMES, std::move(g->all));
          p.Set(Field::FIELD_FIRST_GIVEN_NAME, std::move(g->first));
          p.Set(Field::FIELD_FIRST_INITIAL, std::move(g->initial));
          p.Set(Field::FIELD_GIVEN_NAME_PHONETIC, std::move(g->phonetic));
          break;
        }
        case Column::kSurname: {
          auto s = normaliser.NormaliseSurname(value);
          if (!s.ok()) {
            warn(c, absl::StrCat(s.status().message(), "; not used"));
            break;
          }
          p.Set(Field::FIELD_SURNAME, std::move(s->core));
          p.Set(Field::FIELD_SURNAME_WITH_PREFIX, std::move(s->with_prefix));
          p.Set(Field::FIELD_SURNAME_PHONETIC, std::move(s->phonetic));
          p.Set(Field::FIELD_SURNAME_SORTED_LETTERS, std::move(s->sorted_letters));
          break;
        }
        case Column::kDateOfBirth: {
          auto d = ParseDate(value, options.today);
          if (!d.ok()) {
            warn(c, absl::StrCat(d.status().message(), "; not used"));
            break;
          }
          dob = *d;
          // ParseDate's years have 4 digits (1900 to today): the year and month-day are
          // the two halves of the yyyymmdd text.
          std::string ymd = Yyyymmdd(d->year, d->month, d->day);
          p.Set(Field::FIELD_BIRTH_YEAR, ymd.substr(0, 4));
          p.Set(Field::FIELD_DOB_MONTH_DAY, ymd.substr(4));
          p.Set(Field::FIELD_DATE_OF_BIRTH, std::move(ymd));
          p.Set(Field::FIELD_DOB_DAY_MONTH_UNORDERED,
                Yyyymmdd(d->year, std::min(d->day, d->month), std::max(d->day, d->month)));
          break;
        }
        case Column::kGender: {
          const auto& v = category(model::Dimension::DIMENSION_GENDER);
          if (!v.empty()) {
            r.set_gender(static_cast<v1::Gender>(v[0]));
            p.Set(Field::FIELD_GENDER, model::Word(model::Dimension::DIMENSION_GENDER, v[0]));
          }
          break;
        }
        case Column::kNationalId: {
          auto v = options.national_ids.Normalise(national_id_scheme, value);
          if (!v.ok()) warn(c, absl::StrCat(v.status().message(), "; not used"));
          else p.Set(Field::FIELD_NATIONAL_ID, *std::move(v));
          break;
        }
        case Column::kNationalIdScheme:
          break;
        case Column::kPhone: {
          auto v = NormalisePhone(value);
          if (!v.ok()) warn(c, absl::StrCat(v.status().message(), "; not used"));
          else p.Set(Field::FIELD_PHONE, *std::move(v));
          break;
        }
        case Column::kEmail: {
          auto v = NormaliseEmail(value);
          if (!v.ok()) warn(c, absl::StrCat(v.status().message(), "; not used"));
          else p.Set(Field::FIELD_EMAIL, *std::move(v));
          break;
        }
        case Column::kPostcode: {
          auto v = NormalisePostcode(value);
          if (!v.ok()) warn(c, absl::StrCat(v.status().message(), "; not used"));
          else p.Set(Field::FIELD_POSTCODE, *std::move(v));
          break;
        }
        case Column::kHouseNumber: {
          auto v = NormaliseHouseNumber(value);
          if (!v.ok()) warn(c, absl::StrCat(v.status().message(), "; not used"));
          else p.Set(Field::FIELD_HOUSE_NUMBER, *std::move(v));
          break;
        }
        case Column::kForm: {
          const auto& v = category(model::Dimension::DIMENSION_FORM);
          if (!v.empty()) r.set_form(static_cast<v1::Form>(v[0]));
          break;
        }
        case Column::kContact: {
          const auto& v = category(model::Dimension::DIMENSION_CONTACT);
          if (!v.empty()) r.set_contact(static_cast<v1::Contact>(v[0]));
          break;
        }
        case Column::kAgeBand: {
          const auto& v = category(model::Dimension::DIMENSION_AGE_BAND);
          if (!v.empty()) {
            r.set_age_band(static_cast<v1::AgeBand>(v[0]));
            age_band_given = true;
          }
          break;
        }
        case Column::kBackground: {
          const auto& v = category(model::Dimension::DIMENSION_BACKGROUND);
          if (!v.empty()) r.set_background(static_cast<v1::Background>(v[0]));
          break;
        }
        case Column::kLivingSituation:
          for (int n : category(model::Dimension::DIMENSION_LIVING_SITUATION)) {
            r.add_living_situation(static_cast<v1::LivingSituation>(n));
          }
          break;
        case Column::kRecruitmentLocation:
          for (int n : category(model::Dimension::DIMENSION_RECRUITMENT_LOCATION)) {
            r.add_recruitment_location(static_cast<v1::RecruitmentLocation>(n));
          }
          break;
        case Column::kCoercion:
          for (int n : category(model::Dimension::DIMENSION_COERCION)) {
            r.add_coercion(static_cast<v1::Coercion>(n));
          }
          break;
        case Column::kForcedCrime:
          for (int n : category(model::Dimension::DIMENSION_FORCED_CRIME)) {
            r.add_forced_crime(static_cast<v1::ForcedCrime>(n));
          }
          break;
        case Column::kArea: {
          std::string a = Lower(value);
          bool ok = allowed_areas.empty()
                        ? ValidAreaCode(a)
                        : std::find(allowed_areas.begin(), allowed_areas.end(), a) !=
                              allowed_areas.end();
          if (!ok) warn(c, "unknown area; left as unknown");
          else r.set_area(a);
          break;
        }
        case Column::kSignalDate: {
          auto d = ParseDate(value, options.today);
          if (!d.ok()) {
            warn(c, absl::StrCat(d.status().message(), "; signal month left unknown"));
            break;
          }
          signal_date = *d;
          r.set_signal_month(static_cast<uint32_t>(d->year * 100 + d->month));
          break;
        }
      }
    }
    if (!age_band_given && dob && signal_date && !(*signal_date < *dob)) {
      sig.report.set_age_band(AgeBandAt(*dob, *signal_date));
    }
  }
  std::stable_sort(out.skipped.begin(), out.skipped.end(),
                   [](const RecordIssue& a, const RecordIssue& b) { return a.line < b.line; });
  return out;
}

}  // namespace samenzicht::agency_node
