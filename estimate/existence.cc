#include "estimate/existence.h"

#include <glpk.h>

#include <memory>

#include <Eigen/Dense>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace samenzicht::estimate {
namespace {

struct GlpkProblemDeleter {
  void operator()(glp_prob* p) const { glp_delete_prob(p); }
};

// Optimum of the Fienberg-Rinaldo LP described in the header, written with x = z + s
// (z >= 0), i.e. maximise s subject to A z + s (A 1) = t, z >= 0, s >= 0: the same optimum
// with only one row per parameter (instead of one more per cell), which keeps the LP small
// on many lists.
absl::StatusOr<double> SolveExistenceLp(const std::vector<std::vector<double>>& a,
                                        const std::vector<double>& t) {
  const int npar = static_cast<int>(a.size());
  const int ncell = npar > 0 ? static_cast<int>(a[0].size()) : 0;
  std::unique_ptr<glp_prob, GlpkProblemDeleter> lp(glp_create_prob());
  glp_set_obj_dir(lp.get(), GLP_MAX);
  glp_add_rows(lp.get(), npar);
  glp_add_cols(lp.get(), ncell + 1);  // z_1..z_ncell, s
  for (int j = 1; j <= ncell + 1; ++j) {
    glp_set_col_bnds(lp.get(), j, GLP_LO, 0.0, 0.0);
    glp_set_obj_coef(lp.get(), j, j == ncell + 1 ? 1.0 : 0.0);
  }
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0.0};
  for (int i = 0; i < npar; ++i) {
    glp_set_row_bnds(lp.get(), i + 1, GLP_FX, t[i], t[i]);
    double row_sum = 0;
    for (int j = 0; j < ncell; ++j) {
      if (a[i][j] != 0.0) {
        ia.push_back(i + 1);
        ja.push_back(j + 1);
        ar.push_back(a[i][j]);
        row_sum += a[i][j];
      }
    }
    if (row_sum != 0.0) {
      ia.push_back(i + 1);
      ja.push_back(ncell + 1);
      ar.push_back(row_sum);
    }
  }
  glp_load_matrix(lp.get(), static_cast<int>(ia.size()) - 1, ia.data(), ja.data(), ar.data());
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.presolve = GLP_ON;
  int rc = glp_simplex(lp.get(), &parm);
  if (rc != 0 || glp_get_status(lp.get()) != GLP_OPT) {
    return absl::InternalError(absl::StrCat("GLPK could not solve the existence LP (code ", rc,
                                            ", status ", glp_get_status(lp.get()), ")"));
  }
  return glp_get_obj_val(lp.get());
}

}  // namespace

std::string ModelCheck::Reason() const {
  if (ok()) return "";
  if (!exists && !identifiable) {
    return "the maximum likelihood estimate does not exist and the model is not identifiable";
  }
  if (!exists) return "the maximum likelihood estimate does not exist (it lies at infinity)";
  return "the model is not identifiable from the observed lists";
}

absl::StatusOr<ModelCheck> CheckModel(const CaptureTable& table, const HierarchicalModel& model) {
  if (table.num_lists() != model.num_lists()) {
    return absl::InvalidArgumentError(absl::StrCat("model ", model.Name(), " is for ",
                                                   model.num_lists(), " lists, the table has ",
                                                   table.num_lists()));
  }
  const ModelLayout layout = LayoutFor(table, model);
  const int npar = 1 + static_cast<int>(layout.estimated_terms.size());
  const int ncell = static_cast<int>(layout.cells.size());
  std::vector<double> x(static_cast<size_t>(ncell) * npar);
  std::vector<bool> positive(ncell);
  for (int j = 0; j < ncell; ++j) {
    FillDesignRow(layout, layout.cells[j], &x[static_cast<size_t>(j) * npar]);
    positive[j] = table.count(layout.cells[j]) > 0;
  }
  return CheckDesign(x, ncell, npar, positive);
}

absl::StatusOr<ModelCheck> CheckDesign(const std::vector<double>& x, int rows, int cols,
                                       const std::vector<bool>& positive) {
  if (rows < 0 || cols < 1 || x.size() != static_cast<size_t>(rows) * cols ||
      positive.size() != static_cast<size_t>(rows)) {
    return absl::InvalidArgumentError("design and support sizes do not match");
  }
  std::vector<std::vector<double>> a(cols, std::vector<double>(rows, 0.0));
  std::vector<double> t(cols, 0.0);
  Eigen::MatrixXd design(rows, cols);
  bool full_support = true;
  for (int r = 0; r < rows; ++r) {
    full_support = full_support && positive[r];
    for (int c = 0; c < cols; ++c) {
      const double v = x[static_cast<size_t>(r) * cols + c];
      a[c][r] = v;
      design(r, c) = v;
      if (positive[r]) t[c] += v;
    }
  }
  ModelCheck check;
  if (full_support) {
    check.exists = true;  // x = the support itself is strictly positive: s = 1
  } else {
    absl::StatusOr<double> optimum = SolveExistenceLp(a, t);
    if (!optimum.ok()) return optimum.status();
    // Vertices of this LP have small rational coordinates; anything this close
    // to zero is the simplex's rounding of an exact zero.
    check.exists = *optimum > 1e-9;
  }
  check.identifiable =
      rows >= cols && Eigen::ColPivHouseholderQR<Eigen::MatrixXd>(design).rank() == cols;
  return check;
}

absl::StatusOr<ModelCheck> ModelCheckCache::Check(const CaptureTable& table,
                                                  const HierarchicalModel& model) {
  std::vector<bool> support(table.num_histories());
  for (int h = 0; h < table.num_histories(); ++h) support[h] = table.count(h) > 0;
  auto key = std::make_pair(std::move(support), model.terms());
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  absl::StatusOr<ModelCheck> check = CheckModel(table, model);
  if (check.ok()) cache_.emplace(std::move(key), *check);
  return check;
}

}  // namespace samenzicht::estimate
