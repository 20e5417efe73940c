#include "aggregator/query/query_history.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "aggregator/query/totals.h"
#include "common/disk_full.h"
#include "common/status_macros.h"

namespace samenzicht::aggregator {
namespace {

std::string Clean(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (c == '\t' || c == '\n' || c == '\r') c = '_';
  }
  return out;
}

bool SameQuery(const AskedQuery& a, const AskedQuery& b) {
  return a.by == b.by && a.from_month == b.from_month && a.to_month == b.to_month;
}

uint32_t Lo(const AskedQuery& q) { return q.from_month; }
uint32_t Hi(const AskedQuery& q) { return q.to_month == 0 ? 999912 : q.to_month; }

}  // namespace

absl::StatusOr<std::unique_ptr<QueryHistory>> QueryHistory::Open(const std::string& path) {
  std::unique_ptr<QueryHistory> h(new QueryHistory(path));
  if (path.empty()) return h;
  std::ifstream in(path);
  if (!in) return h;  // created on the first Record
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    AskedQuery q;
    bool ok = f.size() == 6 && f[0] == "v1" && absl::SimpleAtoi(f[3], &q.from_month) &&
              absl::SimpleAtoi(f[4], &q.to_month) && absl::SimpleAtoi(f[5], &q.at_unix);
    if (ok) {
      q.analyst = f[1];
      for (absl::string_view d : absl::StrSplit(f[2], ',', absl::SkipEmpty())) {
        int v = 0;
        if (!absl::SimpleAtoi(d, &v) || !v1::Dimension_IsValid(v) || v == 0) {
          ok = false;
          break;
        }
        q.by.push_back(static_cast<v1::Dimension>(v));
      }
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": line ", n, " is not a query history entry"));
    }
    h->entries_.push_back(std::move(q));
  }
  return h;
}

std::vector<AskedQuery> QueryHistory::Of(const std::string& analyst) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AskedQuery> out;
  for (const AskedQuery& q : entries_) {
    if (q.analyst != analyst) continue;
    bool seen = std::any_of(out.begin(), out.end(),
                            [&](const AskedQuery& o) { return SameQuery(o, q); });
    if (!seen) out.push_back(q);
  }
  return out;
}

absl::Status QueryHistory::Record(const AskedQuery& q) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!path_.empty()) {
    std::vector<int> dims(q.by.begin(), q.by.end());
    std::string line = absl::StrCat("v1\t", Clean(q.analyst), "\t", absl::StrJoin(dims, ","),
                                    "\t", q.from_month, "\t", q.to_month, "\t", q.at_unix, "\n");
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return absl::InternalError(absl::StrCat("cannot open query history ", path_));
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
              ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) {
      absl::Status s = absl::InternalError(absl::StrCat("cannot write query history ", path_, ": ",
                                                        std::strerror(err)));
      return disk_full::IsErrno(err) ? disk_full::Mark(s) : s;
    }
  }
  entries_.push_back(q);
  return absl::OkStatus();
}

namespace {

// label path -> (persons, signals); "" for the totals, "#unlinkable" for unlinkable.
using Flat = std::map<std::string, std::pair<uint64_t, uint64_t>>;

absl::StatusOr<Flat> Flatten(const RawTotalsSource& totals, const std::vector<v1::Dimension>& by,
                             uint32_t from, uint32_t to) {
  v1::TotalsRequest req;
  for (v1::Dimension d : by) req.add_by(d);
  req.set_from_month(from);
  req.set_to_month(to);
  ASSIGN_OR_RETURN(RawTotals raw, totals(req));
  Flat f;
  f[""] = {raw.total.persons, raw.total.signals};
  f["#unlinkable"] = {raw.unlinkable, raw.unlinkable};
  for (const RawRow& r : raw.rows) {
    f[absl::StrJoin(r.labels, "\x1f")] = {r.cell.persons, r.cell.signals};
  }
  return f;
}

bool Small(uint64_t a, uint64_t b, uint32_t k) {
  uint64_t d = a > b ? a - b : b - a;
  return d >= 1 && d < k;
}

}  // namespace

absl::Status CheckDifferencing(const Dataset& ds, const LinkResult& link,
                               const std::vector<AskedQuery>& earlier, const AskedQuery& asked,
                               uint32_t k) {
  return CheckDifferencing(
      [&](const v1::TotalsRequest& req) { return ComputeRawTotals(ds, link, req); }, earlier,
      asked, k);
}

absl::Status CheckDifferencing(const RawTotalsSource& totals,
                               const std::vector<AskedQuery>& earlier, const AskedQuery& asked,
                               uint32_t k) {
  if (k == 0) k = kDefaultMinCellSize;
  std::map<std::tuple<std::vector<v1::Dimension>, uint32_t, uint32_t>, Flat> cache;
  auto flat = [&](const std::vector<v1::Dimension>& by, uint32_t from,
                  uint32_t to) -> absl::StatusOr<const Flat*> {
    auto key = std::make_tuple(by, from, to);
    auto it = cache.find(key);
    if (it == cache.end()) {
      ASSIGN_OR_RETURN(Flat f, Flatten(totals, by, from, to));
      it = cache.emplace(key, std::move(f)).first;
    }
    return &it->second;
  };
  for (const AskedQuery& e : earlier) {
    if (e.from_month == asked.from_month && e.to_month == asked.to_month) continue;
    if (Lo(e) > Hi(asked) || Lo(asked) > Hi(e)) continue;  // disjoint
    std::vector<v1::Dimension> common;
    for (v1::Dimension d : asked.by) {
      if (std::find(e.by.begin(), e.by.end(), d) != e.by.end()) common.push_back(d);
    }
    // Every subset of the shared categories (at most two: four subsets).
    for (uint32_t mask = 0; mask < (1u << common.size()); ++mask) {
      std::vector<v1::Dimension> s;
      for (size_t i = 0; i < common.size(); ++i) {
        if (mask & (1u << i)) s.push_back(common[i]);
      }
      ASSIGN_OR_RETURN(const Flat* a, flat(s, asked.from_month, asked.to_month));
      ASSIGN_OR_RETURN(const Flat* b, flat(s, e.from_month, e.to_month));
      std::set<std::string> keys;
      for (const auto& [key, v] : *a) keys.insert(key);
      for (const auto& [key, v] : *b) keys.insert(key);
      for (const std::string& key : keys) {
        auto ia = a->find(key);
        auto ib = b->find(key);
        std::pair<uint64_t, uint64_t> va = ia == a->end() ? std::pair<uint64_t, uint64_t>{}
                                                          : ia->second;
        std::pair<uint64_t, uint64_t> vb = ib == b->end() ? std::pair<uint64_t, uint64_t>{}
                                                          : ib->second;
        if (Small(va.first, vb.first, k) || Small(va.second, vb.second, k)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "query refused: its period overlaps an earlier query of yours (",
              e.from_month == 0 ? std::string("open") : absl::StrCat(e.from_month), "..",
              e.to_month == 0 ? std::string("open") : absl::StrCat(e.to_month),
              ") and subtracting the two answers would single out fewer than ", k,
              " persons; ask for the same period again, or a period that does not overlap"));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace samenzicht::aggregator
