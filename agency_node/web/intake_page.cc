#include "agency_node/web/intake_page.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <httplib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "agency_node/csv.h"
#include "agency_node/daemon.h"
#include "agency_node/keyholder_client.h"
#include "agency_node/signal.h"
#include "agency_node/web/intake_store.h"
#include "agency_node/web/labels.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/password_hash.h"
#include "crypto/secret_box.h"
#include "model/config.h"
#include "model/vocabulary.h"
#include "rpc/https_server.h"

namespace samenzicht::agency_node::web {
namespace {

using Params = std::multimap<std::string, std::string>;

constexpr char kSessionCookie[] = "__Host-sz_session";
constexpr char kPreSessionCookie[] = "__Host-sz_pre";
constexpr char kLangCookie[] = "__Host-sz_lang";
constexpr char kSealPurpose[] = "samenzicht.intake_identifiers.v1";
constexpr int64_t kIdleSeconds = 30 * 60;
constexpr int64_t kMaxSessionSeconds = 12 * 3600;
constexpr size_t kMaxIdentifierBytes = 200;

// The person's fields, in the CSV contract's names, in the order the form shows them.
const std::vector<std::string>& IdentifierFields() {
  static const auto* f = new std::vector<std::string>{
      "national_id", "given_names", "surname", "date_of_birth", "phone", "email", "postcode",
      "house_number"};
  return *f;
}
// Category fields with one value, then those with several.
const std::vector<std::string>& SingleFields() {
  static const auto* f = new std::vector<std::string>{"form", "contact", "gender", "age_band",
                                                      "background", "area"};
  return *f;
}
const std::vector<std::string>& MultiFields() {
  static const auto* f = new std::vector<std::string>{"living_situation", "recruitment_location",
                                                      "coercion", "forced_crime"};
  return *f;
}

int64_t Now() { return static_cast<int64_t>(time(nullptr)); }

// 1-64 characters of letters, digits and . _ - @ (the page's accounts).
bool ValidAccountName(const std::string& n) {
  return !n.empty() && n.size() <= 64 &&
         std::all_of(n.begin(), n.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@';
         });
}

// A Unix time in UTC as `format` (strftime) gives it: "%Y-%m-%d" -> "2026-12-07".
std::string UtcTime(int64_t unix_time, const char* format) {
  std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string Esc(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string PercentEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += absl::StrFormat("%%%02X", c);
  }
  return out;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    int v = 0;
    if (s[i] == '%' && i + 2 < s.size() && absl::SimpleHexAtoi(s.substr(i + 1, 2), &v)) {
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string EncodeFields(const Params& p) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : p) parts.push_back(absl::StrCat(PercentEncode(k), "=", PercentEncode(v)));
  return absl::StrJoin(parts, "&");
}

Params DecodeFields(absl::string_view s) {
  Params p;
  for (absl::string_view part : absl::StrSplit(s, '&', absl::SkipEmpty())) {
    size_t eq = part.find('=');
    if (eq == absl::string_view::npos) continue;
    p.emplace(PercentDecode(part.substr(0, eq)), PercentDecode(part.substr(eq + 1)));
  }
  return p;
}

std::string Get(const Params& p, const std::string& k) {
  auto it = p.find(k);
  return it == p.end() ? "" : std::string(absl::StripAsciiWhitespace(it->second));
}

std::vector<std::string> GetAll(const Params& p, const std::string& k) {
  std::vector<std::string> out;
  auto [a, b] = p.equal_range(k);
  for (auto it = a; it != b; ++it) {
    std::string v(absl::StripAsciiWhitespace(it->second));
    if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

bool SameSecret(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

std::string Cookie(const httplib::Request& req, absl::string_view name) {
  for (const auto& [k, v] : req.headers) {
    if (!absl::EqualsIgnoreCase(k, "Cookie")) continue;
    for (absl::string_view part : absl::StrSplit(v, ';')) {
      part = absl::StripAsciiWhitespace(part);
      size_t eq = part.find('=');
      if (eq != absl::string_view::npos && part.substr(0, eq) == name) {
        return std::string(part.substr(eq + 1));
      }
    }
  }
  return "";
}

std::string SetCookie(absl::string_view name, absl::string_view value, int64_t max_age = -1) {
  std::string c = absl::StrCat(name, "=", value, "; Path=/; Secure; HttpOnly; SameSite=Strict");
  if (max_age >= 0) absl::StrAppend(&c, "; Max-Age=", max_age);
  return c;
}

// The words a category field accepts (area: the configured districts).
std::vector<std::string> WordsOf(const std::string& field, const v1::NodeConfig& config) {
  if (field == "area") return {config.areas().begin(), config.areas().end()};
  absl::StatusOr<v1::Dimension> d = model::ParseDimension(field);
  if (!d.ok()) return {};
  return model::Words(*d);
}

std::string CsvField(absl::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += "\"\"";
    else out += c;
  }
  return out + "\"";
}

// A file in memory, never on disk; its path (/proc/self/fd/N) reads like a file.
class MemoryFile {
 public:
  static absl::StatusOr<MemoryFile> Of(absl::string_view bytes) {
    int fd = memfd_create("intake-signal", MFD_CLOEXEC);
    if (fd < 0) return absl::ResourceExhaustedError("cannot make an in-memory file");
    MemoryFile f(fd);
    for (size_t done = 0; done < bytes.size();) {
      ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (w <= 0) return absl::ResourceExhaustedError("cannot write an in-memory file");
      done += static_cast<size_t>(w);
    }
    return f;
  }
  MemoryFile(MemoryFile&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~MemoryFile() {
    if (fd_ >= 0) {
      // Overwrite before closing: the pages held identifiers.
      struct stat st;
      if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
        std::string zeros(static_cast<size_t>(st.st_size), '\0');
        (void)::pwrite(fd_, zeros.data(), zeros.size(), 0);
      }
      ::close(fd_);
    }
  }
  std::string path() const { return absl::StrCat("/proc/self/fd/", fd_); }

 private:
  explicit MemoryFile(int fd) : fd_(fd) {}
  int fd_;
};

struct Session {
  std::string account;
  std::string role;
  std::string csrf;
  int64_t created = 0;
  int64_t last_seen = 0;
};

struct Failures {
  int count = 0;
  int64_t window_start = 0;
};

// The outcome of checking a form: field -> problem key ("missing", "invalid", "future").
using FieldErrors = std::map<std::string, std::string>;

}  // namespace

class IntakePageImpl {
 public:
  IntakePageImpl(v1::NodeConfig config, spdlog::logger& log, IntakePageOptions options)
      : config_(std::move(config)), log_(log), options_(options) {}

  absl::Status Init();
  void Stop() {
    {
      std::lock_guard<std::mutex> l(retry_mu_);
      stopping_ = true;
    }
    retry_cv_.notify_all();
    if (retry_.joinable()) retry_.join();
    if (server_) server_->Stop();
  }
  ~IntakePageImpl() { Stop(); }
  int port() const { return server_ ? server_->port() : 0; }

 private:
  v1::NodeConfig config_;
  spdlog::logger& log_;
  IntakePageOptions options_;
  std::unique_ptr<rpc::HttpsServer> server_;

  // The resending of stale signals while the key service does not answer (ResendLater).
  std::thread retry_;
  std::mutex retry_mu_;
  std::condition_variable retry_cv_;
  bool stopping_ = false;  // guarded by retry_mu_

  std::mutex mu_;  // guards everything below
  std::unique_ptr<Delivery> delivery_;
  std::unique_ptr<IntakeStore> store_;
  std::unique_ptr<Normaliser> normaliser_;
  SignalOptions signal_options_;
  std::unique_ptr<crypto::SecretBox> box_;
  std::map<std::string, Session> sessions_;
  std::map<std::string, Failures> failures_;
  int64_t last_purge_ = 0;
  std::string dummy_hash_;  // verified against for unknown names, so timing tells nothing

  Date delivery_today_;  // the date delivery_ and signal_options_ were made for

  Date CurrentDate() const { return options_.today ? *options_.today : Today(); }
  int64_t NowUnix() const { return options_.clock ? options_.clock() : Now(); }

  uint32_t RetentionDays() const {
    return config_.intake_retention_days() == 0 ? 30 : config_.intake_retention_days();
  }

  // --- state helpers (mu_ held) ---
  std::optional<Session> SessionOf(const httplib::Request& req);
  void PurgeIfDue();

  // --- pages ---
  Lang LangOf(const httplib::Request& req) const {
    return Cookie(req, kLangCookie) == "en" ? Lang::kEn : Lang::kNl;
  }
  std::string Page(Lang lang, const std::string& title, const std::string& body,
                   const Session* s) const;
  std::string LoginPage(Lang lang, const std::string& pre, const std::string& error,
                        const std::string& name) const;
  std::string SignalForm(Lang lang, const Params& values, const FieldErrors& errors,
                         const std::string& action, const std::string& csrf, bool identifiers,
                         const std::string& button) const;
  std::string ErrorSummary(Lang lang, const FieldErrors& errors,
                           const std::string& title_key = "errors_title") const;
  std::string HomePage(Lang lang, const Session& s, const Params& values,
                       const FieldErrors& errors);
  std::string SignalPage(Lang lang, const Session& s, const IntakeSignal& sig,
                         const std::string& notice, const Params& values,
                         const FieldErrors& errors) const;
  // The operator's page: every account with a button to remove it (not one's own) and the
  // form to add one, refilled with `name` and `role` (never a password) after `errors`.
  std::string AccountsPage(Lang lang, const Session& s, const std::string& notice,
                           const std::string& name, const std::string& role,
                           const FieldErrors& errors);

  // --- form handling ---
  FieldErrors Check(const Params& p, bool identifiers) const;
  absl::StatusOr<FieldErrors> ImportRecord(const std::string& record_id, const Params& ids,
                                           const Params& categories);
  // "epoch E profile V": the tokens delivery_ makes (IntakeSignal::sent_as).
  std::string SentAs() const {
    return absl::StrCat("epoch ", delivery_->key_epoch(), " profile ", delivery_->profile_version());
  }
  // Sends again, under the current key epoch and profile, every signal last sent under
  // others whose identifiers are still kept (a key rotation or a profile change since);
  // as an agency resends its complete export. Logged by reference, never by value.
  absl::Status ResendStale();
  // After ResendStale failed for the key service (unreachable, its limit reached): the
  // page serves meanwhile, and a thread tries again with backoff (retry_initial_ms doubling
  // up to retry_max_ms) until every stale signal is sent again or the page stops. The
  // signals wait in intake.db, marked with the epoch they were last sent under, so nothing
  // is lost, also across a restart.
  void ResendLater(const absl::Status& first);

  void Routes(httplib::SSLServer& s);
};

// ---------------------------------------------------------------------------------------
// Pages

std::string IntakePageImpl::Page(Lang lang, const std::string& title, const std::string& body,
                                 const Session* s) const {
  std::string html = absl::StrCat(
      "<!doctype html>\n<html lang=\"", lang == Lang::kNl ? "nl" : "en",
      "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"><title>",
      Esc(title), " – Samenzicht</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body>"
      "<a class=\"skip\" href=\"#main\">",
      Esc(Text(lang, "skip")), "</a><header><span class=\"brand\">Samenzicht</span>",
      "<a id=\"lang\" href=\"/lang?to=", lang == Lang::kNl ? "en" : "nl", "\" lang=\"",
      lang == Lang::kNl ? "en" : "nl", "\">", Esc(Text(lang, "other_lang")), "</a>");
  if (s != nullptr && s->role == "operator") {
    absl::StrAppend(&html, "<a id=\"accounts-link\" href=\"/accounts\">",
                    Esc(Text(lang, "accounts_link")), "</a>");
  }
  if (s != nullptr) {
    absl::StrAppend(&html, "<form method=\"post\" action=\"/logout\" class=\"inline\">",
                    "<input type=\"hidden\" name=\"csrf\" value=\"", Esc(s->csrf), "\">",
                    "<span class=\"who\">", Esc(s->account), "</span> <button type=\"submit\">",
                    Esc(Text(lang, "logout_button")), "</button></form>");
  }
  absl::StrAppend(&html, "</header><main id=\"main\" tabindex=\"-1\"><h1>", Esc(title), "</h1>",
                  body, "</main></body></html>\n");
  return html;
}

std::string IntakePageImpl::LoginPage(Lang lang, const std::string& pre, const std::string& error,
                                      const std::string& name) const {
  std::string body;
  if (!error.empty()) {
    absl::StrAppend(&body, "<div class=\"error\" role=\"alert\" id=\"login-error\">", Esc(error),
                    "</div>");
  }
  absl::StrAppend(
      &body, "<form method=\"post\" action=\"/login\">",
      "<input type=\"hidden\" name=\"csrf\" value=\"", Esc(pre), "\">",
      "<p><label for=\"name\">", Esc(FieldLabel(lang, "name")), "</label>",
      "<input id=\"name\" name=\"name\" autocomplete=\"username\" autofocus value=\"", Esc(name),
      "\"></p><p><label for=\"password\">", Esc(FieldLabel(lang, "password")), "</label>",
      "<input id=\"password\" name=\"password\" type=\"password\" "
      "autocomplete=\"current-password\"></p>",
      "<p><button type=\"submit\">", Esc(Text(lang, "login_button")), "</button></p></form>");
  return Page(lang, Text(lang, "login_title"), body, nullptr);
}

std::string IntakePageImpl::ErrorSummary(Lang lang, const FieldErrors& errors,
                                        const std::string& title_key) const {
  if (errors.empty()) return "";
  std::string out = absl::StrCat(
      "<div class=\"error\" role=\"alert\" id=\"error-summary\" tabindex=\"-1\"><p>",
      Esc(Text(lang, title_key)), "</p><ul>");
  for (const auto& [field, problem] : errors) {
    absl::StrAppend(&out, "<li><a href=\"#f-", field, "\" data-field=\"", field, "\">",
                    Esc(FieldLabel(lang, field)), " ", Esc(Text(lang, problem)), "</a></li>");
  }
  return out + "</ul></div>";
}

std::string IntakePageImpl::SignalForm(Lang lang, const Params& v, const FieldErrors& errors,
                                       const std::string& action, const std::string& csrf,
                                       bool identifiers, const std::string& button) const {
  auto err_attr = [&](const std::string& f) {
    return errors.count(f) ? std::string(" aria-invalid=\"true\" class=\"invalid\"") : std::string();
  };
  auto required = [&](const std::string& f) {
    return (f == "form" || f == "signal_month")
               ? absl::StrCat(" <span class=\"req\">(", Esc(Text(lang, "required")), ")</span>")
               : std::string();
  };
  std::string out = absl::StrCat("<form method=\"post\" action=\"", Esc(action),
                                 "\" novalidate><input type=\"hidden\" name=\"csrf\" value=\"",
                                 Esc(csrf), "\">");
  if (identifiers) {
    absl::StrAppend(&out, "<fieldset><legend>", Esc(Text(lang, "person_legend")),
                    "</legend><p class=\"hint\" id=\"person-hint\">", Esc(Text(lang, "person_hint")),
                    "</p>");
    for (const std::string& f : IdentifierFields()) {
      std::string hint;
      if (f == "date_of_birth") hint = lang == Lang::kNl ? " (dd-mm-jjjj)" : " (dd-mm-yyyy)";
      absl::StrAppend(&out, "<p><label for=\"f-", f, "\">", Esc(FieldLabel(lang, f)), Esc(hint),
                      "</label><input id=\"f-", f, "\" name=\"", f, "\" value=\"", Esc(Get(v, f)),
                      "\" autocomplete=\"off\" aria-describedby=\"person-hint\"", err_attr(f),
                      "></p>");
    }
    absl::StrAppend(&out, "</fieldset>");
  }
  absl::StrAppend(&out, "<fieldset><legend>", Esc(Text(lang, "signal_legend")), "</legend>");
  absl::StrAppend(&out, "<p><label for=\"f-signal_month\">", Esc(FieldLabel(lang, "signal_month")),
                  lang == Lang::kNl ? " (jjjj-mm)" : " (yyyy-mm)", required("signal_month"),
                  "</label><input id=\"f-signal_month\" name=\"signal_month\" inputmode=\"numeric\" "
                  "aria-required=\"true\" placeholder=\"",
                  absl::StrFormat("%04d-%02d", CurrentDate().year, CurrentDate().month),
                  "\" value=\"", Esc(Get(v, "signal_month")), "\"", err_attr("signal_month"),
                  "></p>");
  for (const std::string& f : SingleFields()) {
    std::vector<std::string> words = WordsOf(f, config_);
    if (words.empty()) continue;
    const std::string cur = Get(v, f);
    absl::StrAppend(&out, "<p><label for=\"f-", f, "\">", Esc(FieldLabel(lang, f)), required(f),
                    "</label><select id=\"f-", f, "\" name=\"", f, "\"",
                    f == "form" ? " aria-required=\"true\"" : "", err_attr(f), "><option value=\"\">",
                    Esc(Text(lang, f == "form" ? "choose" : "unknown")), "</option>");
    for (const std::string& w : words) {
      absl::StrAppend(&out, "<option value=\"", Esc(w), "\"", cur == w ? " selected" : "", ">",
                      Esc(f == "area" ? w : WordLabel(lang, f, w)), "</option>");
    }
    absl::StrAppend(&out, "</select></p>");
  }
  for (const std::string& f : MultiFields()) {
    std::vector<std::string> chosen = GetAll(v, f);
    absl::StrAppend(&out, "<fieldset class=\"multi\" id=\"f-", f, "\"><legend>",
                    Esc(FieldLabel(lang, f)), "</legend>");
    for (const std::string& w : WordsOf(f, config_)) {
      bool on = std::find(chosen.begin(), chosen.end(), w) != chosen.end();
      absl::StrAppend(&out, "<label class=\"check\"><input type=\"checkbox\" id=\"c-", f, "-",
                      Esc(w), "\" name=\"", f, "\" value=\"", Esc(w), "\"", on ? " checked" : "", "> ",
                      Esc(WordLabel(lang, f, w)), "</label>");
    }
    absl::StrAppend(&out, "</fieldset>");
  }
  absl::StrAppend(&out, "</fieldset><p><button type=\"submit\" id=\"send\">", Esc(button),
                  "</button></p></form>");
  return out;
}

std::string IntakePageImpl::HomePage(Lang lang, const Session& s, const Params& values,
                                     const FieldErrors& errors) {
  std::string body = ErrorSummary(lang, errors);
  absl::StrAppend(&body, "<section class=\"privacy\" aria-labelledby=\"leaves\"><h2 id=\"leaves\">",
                  Esc(Text(lang, "what_leaves_title")), "</h2><p>", Esc(Text(lang, "what_leaves")),
                  "</p><p>",
                  Esc(absl::StrReplaceAll(Text(lang, "what_stays"),
                                          {{"%d", absl::StrCat(RetentionDays())}})),
                  "</p></section>");
  absl::StrAppend(&body, "<h2>", Esc(Text(lang, "new_signal")), "</h2>",
                  SignalForm(lang, values, errors, "/signals", s.csrf, true, Text(lang, "submit")));
  absl::StrAppend(&body, "<h2>", Esc(Text(lang, "mine")), "</h2>");
  absl::StatusOr<std::vector<IntakeSignal>> mine = store_->ListSignals(s.account);
  if (!mine.ok() || mine->empty()) {
    absl::StrAppend(&body, "<p>", Esc(Text(lang, mine.ok() ? "none" : "error")), "</p>");
  } else {
    absl::StrAppend(&body, "<table><thead><tr><th scope=\"col\">", Esc(Text(lang, "reference")),
                    "</th><th scope=\"col\">", Esc(FieldLabel(lang, "signal_month")),
                    "</th><th scope=\"col\">", Esc(FieldLabel(lang, "form")),
                    "</th><th scope=\"col\">", Esc(Text(lang, "state")), "</th></tr></thead><tbody>");
    for (const IntakeSignal& sig : *mine) {
      Params c = DecodeFields(sig.categories);
      absl::StrAppend(&body, "<tr><td><a href=\"/signals/", Esc(sig.reference), "\">",
                      Esc(sig.reference), "</a></td><td>", Esc(Get(c, "signal_month")), "</td><td>",
                      Esc(WordLabel(lang, "form", Get(c, "form"))), "</td><td>",
                      Esc(Text(lang, sig.state == "withdrawn" ? "withdrawn_state" : "sent_state")),
                      "</td></tr>");
    }
    absl::StrAppend(&body, "</tbody></table>");
  }
  return Page(lang, Text(lang, "title"), body, &s);
}

std::string IntakePageImpl::SignalPage(Lang lang, const Session& s, const IntakeSignal& sig,
                                       const std::string& notice, const Params& values,
                                       const FieldErrors& errors) const {
  std::string body = ErrorSummary(lang, errors);
  if (!notice.empty()) {
    absl::StrAppend(&body, "<div class=\"notice\" role=\"status\" id=\"notice\">", notice, "</div>");
  }
  Params c = DecodeFields(sig.categories);
  absl::StrAppend(&body, "<dl><dt>", Esc(Text(lang, "reference")), "</dt><dd id=\"reference\">",
                  Esc(sig.reference), "</dd><dt>", Esc(Text(lang, "state")), "</dt><dd id=\"state\">",
                  Esc(Text(lang, sig.state == "withdrawn" ? "withdrawn_state" : "sent_state")),
                  "</dd><dt>", Esc(FieldLabel(lang, "signal_month")), "</dt><dd>",
                  Esc(Get(c, "signal_month")), "</dd><dt>", Esc(FieldLabel(lang, "form")),
                  "</dt><dd id=\"form-value\">", Esc(WordLabel(lang, "form", Get(c, "form"))),
                  "</dd></dl>");
  if (sig.state != "withdrawn") {
    absl::StrAppend(&body, "<h2>", Esc(Text(lang, "correct_title")), "</h2>");
    if (sig.has_identifiers) {
      absl::StrAppend(&body, "<p class=\"hint\">", Esc(Text(lang, "correct_hint")), "</p>",
                      SignalForm(lang, errors.empty() ? c : values, errors,
                                 absl::StrCat("/signals/", sig.reference, "/correct"), s.csrf, false,
                                 Text(lang, "correct_button")));
    } else {
      absl::StrAppend(&body, "<p>", Esc(Text(lang, "no_identifiers")), "</p>");
    }
    absl::StrAppend(&body, "<h2>", Esc(Text(lang, "withdraw_title")), "</h2><p class=\"hint\">",
                    Esc(Text(lang, "withdraw_hint")), "</p><form method=\"post\" action=\"/signals/",
                    Esc(sig.reference), "/withdraw\"><input type=\"hidden\" name=\"csrf\" value=\"",
                    Esc(s.csrf), "\"><button type=\"submit\" id=\"withdraw\" class=\"danger\">",
                    Esc(Text(lang, "withdraw_button")), "</button></form>");
  }
  absl::StrAppend(&body, "<p><a href=\"/\" id=\"back\">", Esc(Text(lang, "back")), "</a></p>");
  return Page(lang, absl::StrCat(Text(lang, "reference"), " ", sig.reference), body, &s);
}

std::string IntakePageImpl::AccountsPage(Lang lang, const Session& s, const std::string& notice,
                                         const std::string& name, const std::string& role,
                                         const FieldErrors& errors) {
  std::string body = ErrorSummary(lang, errors, "account_errors_title");
  if (!notice.empty()) {
    absl::StrAppend(&body, "<div class=\"notice\" role=\"status\" id=\"notice\">", notice, "</div>");
  }
  absl::StrAppend(&body, "<p class=\"hint\">", Esc(Text(lang, "accounts_hint")), "</p>");
  absl::StatusOr<std::vector<Account>> accounts = store_->ListAccounts();
  if (!accounts.ok()) {
    log_.error("intake page: cannot list the accounts: {}", std::string(accounts.status().message()));
    absl::StrAppend(&body, "<p>", Esc(Text(lang, "account_error")), "</p>");
  } else {
    absl::StrAppend(&body, "<table id=\"accounts\"><thead><tr><th scope=\"col\">",
                    Esc(FieldLabel(lang, "name")), "</th><th scope=\"col\">",
                    Esc(FieldLabel(lang, "role")), "</th><th scope=\"col\">",
                    Esc(Text(lang, "created")), "</th><th scope=\"col\"></th></tr></thead><tbody>");
    for (const Account& a : *accounts) {
      absl::StrAppend(&body, "<tr><td>", Esc(a.name), "</td><td>",
                      Esc(Text(lang, absl::StrCat("role_", a.role))), "</td><td>",
                      UtcTime(a.created_unix, "%Y-%m-%d"), "</td><td>");
      if (a.name != s.account) {
        absl::StrAppend(&body, "<form method=\"post\" action=\"/accounts/remove\" class=\"inline\">",
                        "<input type=\"hidden\" name=\"csrf\" value=\"", Esc(s.csrf), "\">",
                        "<input type=\"hidden\" name=\"name\" value=\"", Esc(a.name), "\">",
                        "<button type=\"submit\" class=\"danger\" id=\"remove-", Esc(a.name),
                        "\" aria-label=\"", Esc(Text(lang, "remove_button")), " ", Esc(a.name), "\">",
                        Esc(Text(lang, "remove_button")), "</button></form>");
      }
      absl::StrAppend(&body, "</td></tr>");
    }
    absl::StrAppend(&body, "</tbody></table>");
  }
  auto err_attr = [&](const std::string& f) {
    return errors.count(f) ? std::string(" aria-invalid=\"true\" class=\"invalid\"") : std::string();
  };
  absl::StrAppend(
      &body, "<h2>", Esc(Text(lang, "add_account")), "</h2>",
      "<form method=\"post\" action=\"/accounts\" novalidate>",
      "<input type=\"hidden\" name=\"csrf\" value=\"", Esc(s.csrf), "\">",
      "<p><label for=\"f-name\">", Esc(FieldLabel(lang, "name")), "</label><input id=\"f-name\" "
      "name=\"name\" autocomplete=\"off\" value=\"", Esc(name), "\"", err_attr("name"), "></p>",
      "<p><label for=\"f-role\">", Esc(FieldLabel(lang, "role")), "</label><select id=\"f-role\" "
      "name=\"role\"", err_attr("role"), ">");
  for (const char* r : {"professional", "operator"}) {
    absl::StrAppend(&body, "<option value=\"", r, "\"", role == r ? " selected" : "", ">",
                    Esc(Text(lang, absl::StrCat("role_", r))), "</option>");
  }
  absl::StrAppend(
      &body, "</select></p><p><label for=\"f-password\">", Esc(FieldLabel(lang, "password")),
      lang == Lang::kNl ? " (minstens 12 tekens)" : " (at least 12 characters)",
      "</label><input id=\"f-password\" name=\"password\" type=\"password\" "
      "autocomplete=\"new-password\"", err_attr("password"), "></p>",
      "<p><label for=\"f-password_repeat\">", Esc(FieldLabel(lang, "password_repeat")),
      "</label><input id=\"f-password_repeat\" name=\"password_repeat\" type=\"password\" "
      "autocomplete=\"new-password\"", err_attr("password_repeat"), "></p>",
      "<p><button type=\"submit\" id=\"add-account\">", Esc(Text(lang, "add_account")),
      "</button></p></form><p><a href=\"/\" id=\"back\">", Esc(Text(lang, "back")), "</a></p>");
  return Page(lang, Text(lang, "accounts_title"), body, &s);
}

// ---------------------------------------------------------------------------------------
// Checking and importing

FieldErrors IntakePageImpl::Check(const Params& p, bool identifiers) const {
  FieldErrors e;
  const std::string month = Get(p, "signal_month");
  int y = 0, m = 0;
  if (month.empty()) {
    e["signal_month"] = "missing";
  } else if (month.size() != 7 || month[4] != '-' || !absl::SimpleAtoi(month.substr(0, 4), &y) ||
             !absl::SimpleAtoi(month.substr(5, 2), &m) || y < 1900 || m < 1 || m > 12) {
    e["signal_month"] = "invalid";
  } else if (const Date today = CurrentDate(); y * 100 + m > today.year * 100 + today.month) {
    e["signal_month"] = "future";
  }
  for (const std::string& f : SingleFields()) {
    const std::string v = Get(p, f);
    if (v.empty()) {
      if (f == "form") e[f] = "missing";
      continue;
    }
    std::vector<std::string> words = WordsOf(f, config_);
    if (std::find(words.begin(), words.end(), v) == words.end()) e[f] = "invalid";
  }
  for (const std::string& f : MultiFields()) {
    std::vector<std::string> words = WordsOf(f, config_);
    for (const std::string& v : GetAll(p, f)) {
      if (std::find(words.begin(), words.end(), v) == words.end()) e[f] = "invalid";
    }
  }
  if (identifiers) {
    for (const std::string& f : IdentifierFields()) {
      const std::string v = Get(p, f);
      bool bad = v.size() > kMaxIdentifierBytes || !IsValidUtf8(v) ||
                 std::any_of(v.begin(), v.end(),
                             [](char c) { return static_cast<unsigned char>(c) < 0x20; });
      if (bad) e[f] = "invalid";
    }
  }
  return e;
}

absl::StatusOr<FieldErrors> IntakePageImpl::ImportRecord(const std::string& record_id,
                                                         const Params& ids,
                                                         const Params& categories) {
  // One record of the CSV contract: the same path as an export file.
  std::vector<std::string> header = {"record_id"};
  std::vector<std::string> row = {record_id};
  for (const std::string& f : IdentifierFields()) {
    std::string v = Get(ids, f);
    if (v.empty()) continue;
    header.push_back(f);
    row.push_back(std::move(v));
  }
  for (const std::string& f : SingleFields()) {
    header.push_back(f);
    row.push_back(Get(categories, f));
  }
  for (const std::string& f : MultiFields()) {
    header.push_back(f);
    row.push_back(absl::StrJoin(GetAll(categories, f), ";"));
  }
  header.push_back("signal_date");
  row.push_back(absl::StrCat(Get(categories, "signal_month"), "-01"));
  std::string text = absl::StrCat(absl::StrJoin(header, ","), "\n");
  for (size_t i = 0; i < row.size(); ++i) absl::StrAppend(&text, i ? "," : "", CsvField(row[i]));
  text += "\n";

  // The import refuses dates after its "today": on a new day, a new one.
  if (const Date today = CurrentDate(); !(today == delivery_today_)) {
    ASSIGN_OR_RETURN(delivery_, Delivery::New(config_, today));
    delivery_today_ = today;
    signal_options_.today = today;
  }
  // Every field problem the import would only warn about (and send without the field) is
  // an error here: the professional is still at the form and can fix it.
  ASSIGN_OR_RETURN(CsvFile csv, ParseCsv(text));
  ASSIGN_OR_RETURN(SignalFile parsed, ParseSignals(csv, *normaliser_, signal_options_));
  csv = CsvFile();
  FieldErrors errors;
  for (const RecordIssue& w : parsed.warnings) errors[w.field.empty() ? "form" : w.field] = "invalid";
  for (const RecordIssue& s : parsed.skipped) errors[s.field.empty() ? "form" : s.field] = "invalid";
  if (errors.count("signal_date")) {
    errors["signal_month"] = errors["signal_date"];
    errors.erase("signal_date");
  }
  for (Signal& s : parsed.signals) s.person = Person();
  if (!errors.empty()) return errors;
  if (parsed.signals.size() != 1) return absl::InternalError("intake page: the record did not parse");

  ASSIGN_OR_RETURN(MemoryFile file, MemoryFile::Of(text));
  std::fill(text.begin(), text.end(), '\0');
  ASSIGN_OR_RETURN(ImportResult r, delivery_->Import(file.path()));
  if (r.reports_queued != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "intake page: record ", record_id, " was not queued (retracted earlier: ",
        r.retracted_dropped, ")"));
  }
  return errors;
}

// ---------------------------------------------------------------------------------------
// Sessions

std::optional<Session> IntakePageImpl::SessionOf(const httplib::Request& req) {
  const std::string token = Cookie(req, kSessionCookie);
  if (token.empty()) return std::nullopt;
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return std::nullopt;
  const int64_t now = NowUnix();
  if (now - it->second.last_seen > kIdleSeconds || now - it->second.created > kMaxSessionSeconds) {
    sessions_.erase(it);
    return std::nullopt;
  }
  // An account removed since (on the page or with `agency-node accounts remove`) is
  // signed out at its next request.
  absl::StatusOr<std::optional<Account>> account = store_->FindAccount(it->second.account);
  if (!account.ok() || !account->has_value()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.role = (*account)->role;
  it->second.last_seen = now;
  return it->second;
}

void IntakePageImpl::PurgeIfDue() {
  const int64_t now = NowUnix();
  if (now - last_purge_ < 3600) return;
  last_purge_ = now;
  absl::StatusOr<int64_t> n = store_->PurgeIdentifiers(now - int64_t{86400} * RetentionDays());
  if (!n.ok()) {
    log_.error("intake page: cannot delete expired identifiers: {}", std::string(n.status().message()));
  } else if (*n > 0) {
    log_.info("intake page: deleted the identifiers of {} signal(s) after {} days", *n, RetentionDays());
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second.last_seen > kIdleSeconds) it = sessions_.erase(it);
    else ++it;
  }
}

// ---------------------------------------------------------------------------------------
// Routes

void IntakePageImpl::Routes(httplib::SSLServer& s) {
  using httplib::Request;
  using httplib::Response;

  s.set_pre_routing_handler([this](const Request& req, Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on the
    // page's own form posts, which the check below would refuse.
    res.set_header("Referrer-Policy", "same-origin");
    res.set_header("Strict-Transport-Security", "max-age=31536000");
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                   "frame-ancestors 'none'; base-uri 'none'");
    if (req.method == "POST") {
      // A cross-site form post is refused before anything else (SameSite cookies and the
      // CSRF token refuse it too).
      const std::string origin = req.get_header_value("Origin");
      const std::string host = req.get_header_value("Host");
      if (!origin.empty() && origin != absl::StrCat("https://", host)) {
        res.status = 403;
        res.set_content("cross-site request refused\n", "text/plain; charset=utf-8");
        log_.warn("intake page: refused a POST to {} from another origin", req.path);
        return httplib::Server::HandlerResponse::Handled;
      }
    } else if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD, POST");
      return httplib::Server::HandlerResponse::Handled;
    }
    std::lock_guard<std::mutex> l(mu_);
    PurgeIfDue();
    return httplib::Server::HandlerResponse::Unhandled;
  });

  s.Get("/style.css", [](const Request&, Response& res) {
    res.set_content(
        "body{font-family:system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;"
        "line-height:1.5;color:#1b1b1b}header{display:flex;gap:1rem;align-items:center;"
        "justify-content:space-between;border-bottom:2px solid #154273;padding-bottom:.5rem}"
        ".brand{font-weight:bold;color:#154273}label{display:block;font-weight:600}"
        "input,select{font:inherit;padding:.35rem;width:100%;max-width:28rem;box-sizing:border-box}"
        "input[type=checkbox]{width:auto}label.check{font-weight:normal}"
        "fieldset{border:1px solid #bbb;margin:1rem 0;padding:.5rem 1rem}legend{font-weight:bold}"
        "button{font:inherit;padding:.5rem 1rem;background:#154273;color:#fff;border:0;"
        "border-radius:3px;cursor:pointer}button.danger{background:#a4262c}"
        "a:focus,input:focus,select:focus,button:focus,main:focus{outline:3px solid #ffbf47;"
        "outline-offset:2px}.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;"
        "background:#fff;padding:.5rem}.error{border-left:5px solid #a4262c;padding:.5rem 1rem;"
        "background:#fdecea}.invalid{border:2px solid #a4262c}.notice{border-left:5px solid "
        "#2e7d32;padding:.5rem 1rem;background:#edf7ed}.privacy{background:#eef3f8;padding:"
        ".5rem 1rem}.hint{color:#444}.req{font-weight:normal;color:#a4262c}"
        "form.inline{display:inline}.who{margin-right:.5rem}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ccc;padding:.25rem .75rem;text-align:left}"
        "#reference{font-size:1.5rem;font-weight:bold;letter-spacing:.1em}\n",
        "text/css; charset=utf-8");
  });

  s.Get("/lang", [](const Request& req, Response& res) {
    const std::string to = req.get_param_value("to") == "en" ? "en" : "nl";
    res.set_header("Set-Cookie", SetCookie(kLangCookie, to, 365 * 86400));
    res.set_redirect("/", 303);
  });

  s.Get("/login", [this](const Request& req, Response& res) {
    const std::string pre = crypto::RandomId();
    res.set_header("Set-Cookie", SetCookie(kPreSessionCookie, pre));
    res.set_content(LoginPage(LangOf(req), pre, "", ""), "text/html; charset=utf-8");
  });

  s.Post("/login", [this](const Request& req, Response& res) {
    const Lang lang = LangOf(req);
    const std::string pre_cookie = Cookie(req, kPreSessionCookie);
    if (!SameSecret(pre_cookie, req.get_param_value("csrf"))) {
      res.status = 403;
      const std::string pre = crypto::RandomId();
      res.set_header("Set-Cookie", SetCookie(kPreSessionCookie, pre));
      res.set_content(LoginPage(lang, pre, Text(lang, "csrf"), ""), "text/html; charset=utf-8");
      log_.warn("intake page: refused a sign-in without a valid form token");
      return;
    }
    const std::string name(absl::StripAsciiWhitespace(req.get_param_value("name")));
    const std::string password = req.get_param_value("password");
    const std::string name_key = absl::StrCat("n:", absl::AsciiStrToLower(name));
    const std::string addr_key = absl::StrCat("a:", req.remote_addr);
    const int64_t now = NowUnix();
    std::optional<Account> account;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto locked = [&](const std::string& key, int max) {
        auto it = failures_.find(key);
        return it != failures_.end() && now - it->second.window_start < options_.failure_window_seconds &&
               it->second.count >= max;
      };
      if (locked(name_key, options_.max_failures_per_name) ||
          locked(addr_key, options_.max_failures_per_address)) {
        res.status = 429;
        res.set_header("Retry-After", absl::StrCat(options_.failure_window_seconds));
        res.set_content(LoginPage(lang, pre_cookie, Text(lang, "too_many"), name),
                        "text/html; charset=utf-8");
        log_.warn("intake page: sign-in refused after too many wrong passwords (from {})",
                  req.remote_addr);
        return;
      }
      absl::StatusOr<std::optional<Account>> a = store_->FindAccount(name);
      if (!a.ok()) {
        res.status = 500;
        log_.error("intake page: {}", std::string(a.status().message()));
        res.set_content(LoginPage(lang, pre_cookie, Text(lang, "error"), name), "text/html; charset=utf-8");
        return;
      }
      account = *a;
    }
    // Argon2id outside the lock; an unknown name costs the same as a known one.
    const bool ok = crypto::VerifyPassword(account ? account->password_hash : dummy_hash_, password) &&
                    account.has_value();
    std::lock_guard<std::mutex> l(mu_);
    if (!ok) {
      for (const std::string& key : {name_key, addr_key}) {
        Failures& f = failures_[key];
        if (now - f.window_start >= options_.failure_window_seconds) f = Failures{0, now};
        ++f.count;
      }
      res.status = 401;
      res.set_content(LoginPage(lang, pre_cookie, Text(lang, "wrong_password"), name),
                      "text/html; charset=utf-8");
      if (account) log_.warn("intake page: wrong password for account {} (from {})", account->name, req.remote_addr);
      else log_.warn("intake page: sign-in with an unknown name (from {})", req.remote_addr);
      return;
    }
    failures_.erase(name_key);
    std::string token = absl::StrCat(crypto::RandomId(), crypto::RandomId());
    sessions_[token] = Session{account->name, account->role, crypto::RandomId(), now, now};
    res.set_header("Set-Cookie", SetCookie(kSessionCookie, token));
    res.set_header("Set-Cookie", SetCookie(kPreSessionCookie, "", 0));
    res.set_redirect("/", 303);
    log_.info("intake page: {} signed in", account->name);
  });

  // Everything below needs a session; a POST also its CSRF token.
  auto with_session = [this](bool post, auto&& fn) {
    return [this, post, fn](const Request& req, Response& res) {
      std::unique_lock<std::mutex> l(mu_);
      std::optional<Session> s = SessionOf(req);
      if (!s) {
        if (post) {
          res.status = 403;
          res.set_content("signed out: sign in again\n", "text/plain; charset=utf-8");
        } else {
          res.set_redirect("/login", 303);
        }
        return;
      }
      if (post && !SameSecret(s->csrf, req.get_param_value("csrf"))) {
        res.status = 403;
        const Lang lang = LangOf(req);
        res.set_content(Page(lang, Text(lang, "title"),
                             absl::StrCat("<div class=\"error\" role=\"alert\">", Esc(Text(lang, "csrf")),
                                          "</div><p><a href=\"/\">", Esc(Text(lang, "back")), "</a></p>"),
                             &*s),
                        "text/html; charset=utf-8");
        log_.warn("intake page: refused a POST to {} by {} without a valid form token", req.path,
                  s->account);
        return;
      }
      fn(req, res, *s);
    };
  };

  s.Get("/", with_session(false, [this](const Request& req, Response& res, const Session& s) {
          res.set_content(HomePage(LangOf(req), s, {}, {}), "text/html; charset=utf-8");
        }));

  s.Post("/logout", with_session(true, [this](const Request&, Response& res, const Session& s) {
           for (auto it = sessions_.begin(); it != sessions_.end();) {
             if (it->second.csrf == s.csrf) it = sessions_.erase(it);
             else ++it;
           }
           res.set_header("Set-Cookie", SetCookie(kSessionCookie, "", 0));
           res.set_redirect("/login", 303);
         }));

  s.Post("/signals", with_session(true, [this](const Request& req, Response& res, const Session& s) {
           const Lang lang = LangOf(req);
           Params p(req.params.begin(), req.params.end());
           p.erase("csrf");
           FieldErrors errors = Check(p, true);
           std::string reference;
           if (errors.empty()) {
             const std::string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
             const std::string r = crypto::RandomBytes(8);
             for (size_t i = 0; i < r.size(); ++i) {
               if (i == 4) reference += '-';
               reference += alphabet[static_cast<unsigned char>(r[i]) % alphabet.size()];
             }
             Params ids, cats;
             for (const auto& [k, v] : p) {
               bool is_id = std::find(IdentifierFields().begin(), IdentifierFields().end(), k) !=
                            IdentifierFields().end();
               if (is_id && !v.empty()) ids.emplace(k, v);
               else if (!is_id) cats.emplace(k, v);
             }
             const std::string record_id = absl::StrCat("web-", reference);
             absl::StatusOr<FieldErrors> imported = ImportRecord(record_id, ids, cats);
             if (!imported.ok()) {
               res.status = 500;
               log_.error("intake page: signal of {} not stored: {}", s.account,
                          std::string(imported.status().message()));
               res.set_content(Page(lang, Text(lang, "title"),
                                    absl::StrCat("<div class=\"error\" role=\"alert\">",
                                                 Esc(Text(lang, "error")), "</div>"),
                                    &s),
                               "text/html; charset=utf-8");
               return;
             }
             errors = *imported;
             if (errors.empty()) {
               const int64_t now = NowUnix();
               IntakeSignal sig{reference, s.account, record_id, "sent", now, now,
                                EncodeFields(cats), "", true, SentAs()};
               std::string plain = EncodeFields(ids);
               sig.sealed_identifiers = box_->Seal(plain, reference);
               std::fill(plain.begin(), plain.end(), '\0');
               if (absl::Status st = store_->AddSignal(sig); !st.ok()) {
                 // Queued already: the receipt still stands, only a correction is lost.
                 log_.error("intake page: signal {} queued but not kept for corrections: {}",
                            reference, std::string(st.message()));
               }
               log_.info("intake page: signal {} entered by {} and queued", reference, s.account);
               res.set_redirect(absl::StrCat("/signals/", reference, "?done=new"), 303);
               return;
             }
           }
           std::vector<std::string> names;
           for (const auto& [f, why] : errors) names.push_back(absl::StrCat(f, " (", why, ")"));
           log_.info("intake page: signal of {} not accepted: {}", s.account, absl::StrJoin(names, ", "));
           res.status = 400;
           res.set_content(HomePage(lang, s, p, errors), "text/html; charset=utf-8");
         }));

  auto own_signal = [this](const Request& req, Response& res, const Session& s)
      -> std::optional<IntakeSignal> {
    absl::StatusOr<IntakeSignal> sig = store_->GetSignal(req.matches[1]);
    if (!sig.ok() || sig->account != s.account) {
      const Lang lang = LangOf(req);
      res.status = absl::IsNotFound(sig.status()) || sig.ok() ? 404 : 500;
      res.set_content(Page(lang, Text(lang, "title"),
                           absl::StrCat("<p>", Esc(Text(lang, "not_found")), "</p><p><a href=\"/\">",
                                        Esc(Text(lang, "back")), "</a></p>"),
                           &s),
                      "text/html; charset=utf-8");
      return std::nullopt;
    }
    return *sig;
  };

  s.Get(R"(/signals/([A-Z0-9-]{1,16}))",
        with_session(false, [this, own_signal](const Request& req, Response& res, const Session& s) {
          std::optional<IntakeSignal> sig = own_signal(req, res, s);
          if (!sig) return;
          const Lang lang = LangOf(req);
          const std::string done = req.get_param_value("done");
          std::string notice;
          if (done == "new") {
            notice = absl::StrCat("<p><strong>", Esc(Text(lang, "receipt_title")), "</strong></p><p>",
                                  Esc(Text(lang, "receipt")), " <strong>", Esc(sig->reference),
                                  "</strong></p>");
          } else if (done == "corrected") {
            notice = absl::StrCat("<p>", Esc(Text(lang, "corrected")), "</p>");
          } else if (done == "withdrawn") {
            notice = absl::StrCat("<p>", Esc(Text(lang, "withdrawn")), "</p>");
          }
          res.set_content(SignalPage(lang, s, *sig, notice, {}, {}), "text/html; charset=utf-8");
        }));

  s.Post(R"(/signals/([A-Z0-9-]{1,16})/correct)",
         with_session(true, [this, own_signal](const Request& req, Response& res, const Session& s) {
           std::optional<IntakeSignal> sig = own_signal(req, res, s);
           if (!sig) return;
           const Lang lang = LangOf(req);
           if (sig->state == "withdrawn" || !sig->has_identifiers) {
             res.status = 409;
             res.set_content(SignalPage(lang, s, *sig,
                                        Esc(Text(lang, sig->state == "withdrawn" ? "already_withdrawn"
                                                                                 : "no_identifiers")),
                                        {}, {}),
                             "text/html; charset=utf-8");
             return;
           }
           Params cats;
           for (const auto& [k, v] : req.params) {
             if (k == "csrf") continue;
             if (std::find(IdentifierFields().begin(), IdentifierFields().end(), k) !=
                 IdentifierFields().end()) {
               continue;  // a correction changes categories only
             }
             cats.emplace(k, v);
           }
           FieldErrors errors = Check(cats, false);
           if (errors.empty()) {
             absl::StatusOr<std::string> plain = box_->Open(sig->sealed_identifiers, sig->reference);
             if (!plain.ok()) {
               res.status = 500;
               log_.error("intake page: identifiers of signal {} do not open: {}", sig->reference,
                          std::string(plain.status().message()));
               res.set_content(SignalPage(lang, s, *sig, Esc(Text(lang, "error")), {}, {}),
                               "text/html; charset=utf-8");
               return;
             }
             Params ids = DecodeFields(*plain);
             std::fill(plain->begin(), plain->end(), '\0');
             absl::StatusOr<FieldErrors> imported = ImportRecord(sig->record_id, ids, cats);
             if (!imported.ok()) {
               res.status = 500;
               log_.error("intake page: correction of {} not stored: {}", sig->reference,
                          std::string(imported.status().message()));
               res.set_content(SignalPage(lang, s, *sig, Esc(Text(lang, "error")), {}, {}),
                               "text/html; charset=utf-8");
               return;
             }
             errors = *imported;
             if (errors.empty()) {
               absl::Status st = store_->UpdateCategories(sig->reference, EncodeFields(cats), NowUnix());
               if (st.ok()) st = store_->MarkSentAs(sig->reference, SentAs());
               if (!st.ok()) {
                 log_.error("intake page: correction of {} queued, not kept: {}", sig->reference,
                            std::string(st.message()));
               }
               log_.info("intake page: signal {} corrected by {} and queued", sig->reference, s.account);
               res.set_redirect(absl::StrCat("/signals/", sig->reference, "?done=corrected"), 303);
               return;
             }
           }
           res.status = 400;
           res.set_content(SignalPage(lang, s, *sig, "", cats, errors), "text/html; charset=utf-8");
         }));

  s.Post(R"(/signals/([A-Z0-9-]{1,16})/withdraw)",
         with_session(true, [this, own_signal](const Request& req, Response& res, const Session& s) {
           std::optional<IntakeSignal> sig = own_signal(req, res, s);
           if (!sig) return;
           const Lang lang = LangOf(req);
           if (sig->state == "withdrawn") {
             res.status = 409;
             res.set_content(SignalPage(lang, s, *sig, Esc(Text(lang, "already_withdrawn")), {}, {}),
                             "text/html; charset=utf-8");
             return;
           }
           // As `agency-node retract` does for a report still in the outbox: the retraction
           // is queued, and the daemon sends it once the report's batch has left.
           absl::Status st = [&]() -> absl::Status {
             ASSIGN_OR_RETURN(std::string report_id, delivery_->store().FindReportId(sig->record_id));
             RETURN_IF_ERROR(delivery_->store().RecordRetraction(report_id, "queued", NowUnix()));
             return store_->MarkWithdrawn(sig->reference, NowUnix());
           }();
           if (!st.ok()) {
             res.status = 500;
             log_.error("intake page: withdrawal of {} failed: {}", sig->reference, std::string(st.message()));
             res.set_content(SignalPage(lang, s, *sig, Esc(Text(lang, "error")), {}, {}),
                             "text/html; charset=utf-8");
             return;
           }
           log_.info("intake page: signal {} withdrawn by {}; retraction queued", sig->reference, s.account);
           res.set_redirect(absl::StrCat("/signals/", sig->reference, "?done=withdrawn"), 303);
         }));

  // The operator's pages: everything below is refused with 403 to other roles.
  auto operator_only = [this](auto&& fn) {
    return [this, fn](const Request& req, Response& res, const Session& s) {
      if (s.role != "operator") {
        const Lang lang = LangOf(req);
        res.status = 403;
        res.set_content(Page(lang, Text(lang, "accounts_title"),
                             absl::StrCat("<div class=\"error\" role=\"alert\">",
                                          Esc(Text(lang, "operator_only")), "</div><p><a href=\"/\">",
                                          Esc(Text(lang, "back")), "</a></p>"),
                             &s),
                        "text/html; charset=utf-8");
        log_.warn("intake page: refused {} to {} ({}): for operators only", req.path, s.account, s.role);
        return;
      }
      fn(req, res, s);
    };
  };
  // An answer with the accounts page (the list and the form).
  auto accounts_answer = [this](const Request& req, Response& res, const Session& s, int status,
                                const std::string& notice, const std::string& name,
                                const std::string& role, const FieldErrors& errors) {
    const Lang lang = LangOf(req);
    res.status = status;
    res.set_content(AccountsPage(lang, s, notice, name, role, errors), "text/html; charset=utf-8");
  };

  s.Get("/accounts", with_session(false, operator_only([this, accounts_answer](
                                             const Request& req, Response& res, const Session& s) {
          const Lang lang = LangOf(req);
          const std::string done = req.get_param_value("done");
          std::string notice;
          if (done == "added" || done == "removed") {
            notice = absl::StrCat("<p>", Esc(Text(lang, absl::StrCat("account_", done))), "</p>");
          }
          accounts_answer(req, res, s, 200, notice, "", "professional", {});
        })));

  s.Post("/accounts", with_session(true, operator_only([this, accounts_answer](
                                             const Request& req, Response& res, const Session& s) {
           const Lang lang = LangOf(req);
           const std::string name(absl::StripAsciiWhitespace(req.get_param_value("name")));
           const std::string role = req.get_param_value("role");
           std::string password = req.get_param_value("password");
           FieldErrors errors;
           if (name.empty()) errors["name"] = "missing";
           else if (!ValidAccountName(name)) errors["name"] = "invalid";
           if (role != "professional" && role != "operator") errors["role"] = "invalid";
           if (password.size() < crypto::kMinPasswordLength) errors["password"] = "too_short";
           else if (password.size() > crypto::kMaxPasswordLength) errors["password"] = "invalid";
           if (password != req.get_param_value("password_repeat")) errors["password_repeat"] = "mismatch";
           if (!errors.empty()) {
             std::fill(password.begin(), password.end(), '\0');
             std::vector<std::string> fields;
             for (const auto& [f, why] : errors) fields.push_back(absl::StrCat(f, " (", why, ")"));
             log_.info("intake page: account not added by {}: {}", s.account, absl::StrJoin(fields, ", "));
             accounts_answer(req, res, s, 400, "", ValidAccountName(name) ? name : "", role, errors);
             return;
           }
           absl::StatusOr<std::string> hash = crypto::HashPassword(password);
           std::fill(password.begin(), password.end(), '\0');
           absl::Status st = hash.ok() ? store_->AddAccount(Account{name, *hash, role, NowUnix()})
                                       : hash.status();
           if (absl::IsAlreadyExists(st)) {
             accounts_answer(req, res, s, 409, Esc(Text(lang, "account_exists")), name, role, {});
             return;
           }
           if (!st.ok()) {
             log_.error("intake page: account {} not added: {}", name, std::string(st.message()));
             accounts_answer(req, res, s, 500, Esc(Text(lang, "account_error")), name, role, {});
             return;
           }
           log_.info("intake page: account {} ({}) added by {}", name, role, s.account);
           res.set_redirect("/accounts?done=added", 303);
         })));

  s.Post("/accounts/remove", with_session(true, operator_only([this, accounts_answer](
                                                    const Request& req, Response& res,
                                                    const Session& s) {
           const Lang lang = LangOf(req);
           const std::string name = req.get_param_value("name");
           if (name == s.account) {
             accounts_answer(req, res, s, 409, Esc(Text(lang, "cannot_remove_self")), "",
                             "professional", {});
             return;
           }
           absl::Status st = store_->RemoveAccount(name);
           if (absl::IsNotFound(st)) {
             accounts_answer(req, res, s, 404, Esc(Text(lang, "account_not_found")), "",
                             "professional", {});
             return;
           }
           if (!st.ok()) {
             log_.error("intake page: account {} not removed: {}", name, std::string(st.message()));
             accounts_answer(req, res, s, 500, Esc(Text(lang, "account_error")), "", "professional", {});
             return;
           }
           for (auto it = sessions_.begin(); it != sessions_.end();) {
             if (it->second.account == name) it = sessions_.erase(it);
             else ++it;
           }
           log_.info("intake page: account {} removed by {}", name, s.account);
           res.set_redirect("/accounts?done=removed", 303);
         })));
}

absl::Status IntakePageImpl::ResendStale() {
  const std::string now_as = SentAs();
  ASSIGN_OR_RETURN(std::vector<IntakeSignal> stale, store_->SignalsToResend(now_as));
  if (stale.empty()) return absl::OkStatus();
  int resent = 0, failed = 0;
  for (const IntakeSignal& sig : stale) {
    absl::StatusOr<std::string> plain = box_->Open(sig.sealed_identifiers, sig.reference);
    if (!plain.ok()) {
      ++failed;
      log_.error("intake page: signal {} not sent again: its identifiers do not open: {}",
                 sig.reference, std::string(plain.status().message()));
      continue;
    }
    Params ids = DecodeFields(*plain);
    std::fill(plain->begin(), plain->end(), '\0');
    absl::StatusOr<FieldErrors> imported = ImportRecord(sig.record_id, ids, DecodeFields(sig.categories));
    for (auto& [k, v] : ids) std::fill(v.begin(), v.end(), '\0');
    if (!imported.ok()) return imported.status();  // the state: the daemon cannot go on either
    if (!imported->empty()) {
      ++failed;
      std::vector<std::string> fields;
      for (const auto& [f, why] : *imported) fields.push_back(f);
      log_.error("intake page: signal {} not sent again under {}: field(s) {} no longer accepted",
                 sig.reference, now_as, absl::StrJoin(fields, ", "));
      continue;
    }
    RETURN_IF_ERROR(store_->MarkSentAs(sig.reference, now_as));
    ++resent;
  }
  log_.info("intake page: {} signal(s) sent again under {} ({} not)", resent, now_as, failed);
  return absl::OkStatus();
}

absl::Status IntakePageImpl::Init() {
  if (config_.intake_listen_address().empty()) {
    return absl::InvalidArgumentError("intake_listen_address is not set in the node config");
  }
  if (config_.intake_tls().cert_file().empty() || config_.intake_tls().key_file().empty()) {
    return absl::InvalidArgumentError(
        "intake_tls.cert_file and intake_tls.key_file must be set for the intake page");
  }
  delivery_today_ = CurrentDate();
  ASSIGN_OR_RETURN(delivery_, Delivery::New(config_, delivery_today_));
  ASSIGN_OR_RETURN(store_, IntakeStore::Open(config_.state_dir()));
  ASSIGN_OR_RETURN(normaliser_, Normaliser::New());
  ASSIGN_OR_RETURN(v1::LinkageProfile profile, model::LoadProfile(config_.profile_file()));
  signal_options_.areas.assign(config_.areas().begin(), config_.areas().end());
  signal_options_.today = delivery_today_;
  ASSIGN_OR_RETURN(signal_options_.national_ids, NationalIds::FromProfile(profile));
  ASSIGN_OR_RETURN(box_, crypto::SecretBox::FromSigningKeyFile(config_.signing_key_file(), kSealPurpose));
  ASSIGN_OR_RETURN(dummy_hash_, crypto::HashPassword(crypto::RandomId()));
  PurgeIfDue();
  bool resend_later = false;
  absl::Status resent = ResendStale();
  if (IsKeyServiceError(resent)) {
    resend_later = true;
  } else {
    RETURN_IF_ERROR(resent);
  }

  rpc::HttpsServerOptions o;
  o.label = "intake page";
  o.address_setting = "intake_listen_address";
  o.listen_address = config_.intake_listen_address();
  o.cert_file = config_.intake_tls().cert_file();
  o.key_file = config_.intake_tls().key_file();
  o.max_body_bytes = 32 << 10;
  ASSIGN_OR_RETURN(server_, rpc::HttpsServer::New(o));
  Routes(server_->http());
  RETURN_IF_ERROR(server_->Start());
  log_.info("intake page listening on https://{}:{}/", server_->host(), server_->port());
  if (resend_later) ResendLater(resent);
  return absl::OkStatus();
}

void IntakePageImpl::ResendLater(const absl::Status& first) {
  auto ms = [](uint32_t v, uint32_t dflt) { return std::chrono::milliseconds(v == 0 ? dflt : v); };
  auto backoff = std::make_shared<Backoff>(ms(config_.retry_initial_ms(), 500),
                                           ms(config_.retry_max_ms(), 30000), std::random_device{}());
  auto warn = [this, backoff](const absl::Status& s, const std::string& as) {
    const std::chrono::milliseconds wait = backoff->Next();
    log_.warn("intake page: signals not sent again under {} yet: the key service made no tokens "
              "({}: {}); they wait in the page's store, tried again in {} ms (attempt {})",
              as, absl::StatusCodeToString(s.code()), std::string(s.message()), wait.count(),
              backoff->failures());
    return wait;
  };
  std::string as;
  {
    std::lock_guard<std::mutex> l(mu_);
    as = SentAs();
  }
  std::chrono::milliseconds wait = warn(first, as);
  retry_ = std::thread([this, backoff, warn, wait]() mutable {
    while (true) {
      {
        std::unique_lock<std::mutex> l(retry_mu_);
        if (retry_cv_.wait_for(l, wait, [this] { return stopping_; })) return;
      }
      absl::Status s;
      std::string as;
      {
        std::lock_guard<std::mutex> l(mu_);
        s = ResendStale();
        as = SentAs();
      }
      if (s.ok()) return;
      if (!IsKeyServiceError(s)) {
        log_.error("intake page: signals not sent again under {}: {}; they wait in the page's "
                   "store until the next start",
                   as, s.ToString());
        return;
      }
      wait = warn(s, as);
    }
  });
}

absl::StatusOr<std::unique_ptr<IntakePage>> IntakePage::Start(const v1::NodeConfig& config,
                                                              spdlog::logger& log,
                                                              const IntakePageOptions& options) {
  std::unique_ptr<IntakePage> page(new IntakePage());
  page->impl_ = std::make_unique<IntakePageImpl>(config, log, options);
  RETURN_IF_ERROR(page->impl_->Init());
  return page;
}

IntakePage::~IntakePage() { Stop(); }
int IntakePage::port() const { return impl_ ? impl_->port() : 0; }
void IntakePage::Stop() {
  if (impl_) impl_->Stop();
}

// ---------------------------------------------------------------------------------------
// Commands

namespace {

absl::StatusOr<std::unique_ptr<IntakeStore>> OpenStoreFor(const std::string& config_path) {
  ASSIGN_OR_RETURN(v1::NodeConfig config, model::LoadNodeConfig(config_path));
  if (config.state_dir().empty()) return absl::InvalidArgumentError("state_dir is not set in the node config");
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir(), ec);
  ::chmod(config.state_dir().c_str(), 0700);
  return IntakeStore::Open(config.state_dir());
}

}  // namespace

absl::Status AccountsAddCommand(const std::string& config_path, const std::string& name,
                                const std::string& role, std::istream& password_in,
                                std::ostream& os) {
  process::DisableCoreDumps();
  if (!ValidAccountName(name)) {
    return absl::InvalidArgumentError(
        "--name must be 1-64 characters of letters, digits and . _ - @");
  }
  if (role != "professional" && role != "operator") {
    return absl::InvalidArgumentError("--role must be professional or operator");
  }
  std::string password;
  std::getline(password_in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  absl::StatusOr<std::string> hash = crypto::HashPassword(password);
  std::fill(password.begin(), password.end(), '\0');
  if (!hash.ok()) return hash.status();
  ASSIGN_OR_RETURN(auto store, OpenStoreFor(config_path));
  RETURN_IF_ERROR(store->AddAccount(Account{name, *hash, role, Now()}));
  os << "added account " << name << " (" << role << ")\n";
  return absl::OkStatus();
}

absl::Status AccountsRemoveCommand(const std::string& config_path, const std::string& name,
                                   std::ostream& os) {
  ASSIGN_OR_RETURN(auto store, OpenStoreFor(config_path));
  RETURN_IF_ERROR(store->RemoveAccount(name));
  os << "removed account " << name << " (signed out at its next request)\n";
  return absl::OkStatus();
}

absl::Status AccountsListCommand(const std::string& config_path, std::ostream& os) {
  ASSIGN_OR_RETURN(auto store, OpenStoreFor(config_path));
  ASSIGN_OR_RETURN(std::vector<Account> accounts, store->ListAccounts());
  for (const Account& a : accounts) {
    os << absl::StrFormat("%-32s  %-12s  %s\n", a.name, a.role,
                          UtcTime(a.created_unix, "%Y-%m-%dT%H:%M:%SZ"));
  }
  os << accounts.size() << " account(s)\n";
  return absl::OkStatus();
}

absl::Status ServeWithIntakeCommand(const std::string& config_path, spdlog::logger& log) {
  ASSIGN_OR_RETURN(v1::NodeConfig config, model::LoadNodeConfig(config_path));
  if (config.intake_listen_address().empty()) return ServeCommand(config_path, log);
  process::DisableCoreDumps();
  // Blocked before the page's threads start, so only ServeCommand's waiting thread takes
  // SIGTERM and SIGINT.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ASSIGN_OR_RETURN(std::unique_ptr<IntakePage> page, IntakePage::Start(config, log));
  absl::Status s = ServeCommand(config_path, log);
  page->Stop();
  return s;
}

}  // namespace samenzicht::agency_node::web
