#include "feedback/eval_data.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "feedback/label.h"

namespace vigil {

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        cells.back() += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      cells.emplace_back();
    } else if (ch != '\r') {
      cells.back() += ch;
    }
  }
  return cells;
}

namespace {
int Find(const std::vector<std::string>& header, std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}
}  // namespace

Result<EvalData> ReadEvalCsv(const std::string& path, const EvalReadOptions& opt) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Io("cannot open", path);
  std::error_code ec;
  const std::uint64_t total = std::filesystem::file_size(path, ec);
  std::string line;
  if (!std::getline(in, line)) return Error::Parse("empty file: a header row is required", path);
  auto header = SplitCsvLine(line);
  const int c_label = Find(header, "label");
  const int c_score = Find(header, opt.score_column);
  const int c_type = Find(header, "attack_type");
  int c_decision = Find(header, "decision");
  if (c_decision < 0) c_decision = Find(header, "outcome");
  if (c_label < 0) return Error::Parse("no 'label' column in the header", path + ":1");
  if (c_score < 0) return Error::Parse("no '" + opt.score_column + "' column in the header", path + ":1");
  EvalData data;
  data.has_decisions = c_decision >= 0;
  std::vector<double> raw;  // scores as read, flipped at the end when needed
  std::vector<bool> has;
  bool saw_liveness = false, saw_transaction = false;
  std::uint64_t done = line.size() + 1, next_report = 0;
  std::size_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    done += line.size() + 1;
    if (opt.progress && done >= next_report) {
      opt.progress(done, total);
      next_report = done + total / 100 + 1;
    }
    if (line.empty() || line == "\r") continue;
    auto cells = SplitCsvLine(line);
    const std::string where = path + ":" + std::to_string(lineno);
    if (static_cast<int>(cells.size()) <= std::max(c_label, c_score)) return Error::Parse("too few cells", where);
    LabelledCase c;
    const std::string& lab = cells[static_cast<std::size_t>(c_label)];
    if (lab == "1" || lab == "0") {
      c.positive = lab == "1";
    } else if (auto cls = ParseLabelClass(lab)) {
      c.positive = IsPositive(*cls);
      (LabelKind(*cls) == FlowKind::kLiveness ? saw_liveness : saw_transaction) = true;
    } else {
      return Error::Parse("label must be genuine, attack, legitimate, fraud, 0 or 1", where);
    }
    if (c_type >= 0 && c_type < static_cast<int>(cells.size()) && c.positive) c.attack_type = cells[static_cast<std::size_t>(c_type)];
    const std::string& sc = cells[static_cast<std::size_t>(c_score)];
    double s = 0.0;
    if (!sc.empty()) {
      auto [end, err] = std::from_chars(sc.data(), sc.data() + sc.size(), s);
      if (err != std::errc() || end != sc.data() + sc.size() || !std::isfinite(s) || s < 0.0 || s > 1.0) {
        return Error::Parse("score must be a probability in [0, 1]", where);
      }
    }
    if (c_decision >= 0 && c_decision < static_cast<int>(cells.size())) {
      const std::string& d = cells[static_cast<std::size_t>(c_decision)];
      c.outcome = d;
      c.flagged = !(d == "pass" || d == "allow");
    }
    raw.push_back(s);
    has.push_back(!sc.empty());
    if (sc.empty()) ++data.skipped_no_score;
    data.cases.push_back(std::move(c));
  }
  if (saw_liveness && saw_transaction) {
    return Error::Parse("liveness (genuine/attack) and transaction (legitimate/fraud) labels are mixed; evaluate them apart", path);
  }
  data.liveness = saw_liveness;
  data.flipped = opt.score_is == "genuine" || (opt.score_is == "auto" && saw_liveness);
  for (std::size_t i = 0; i < data.cases.size(); ++i) {
    data.cases[i].has_risk = has[i];
    data.cases[i].risk = data.flipped ? 1.0 - raw[i] : raw[i];
  }
  if (opt.progress) opt.progress(total, total);
  return data;
}

}  // namespace vigil
