// vigil drift: every drift measure between two files offline, for teams that check drift in their
// own pipelines. Each file holds one value a line: numbers (scores, quality features) or
// categories (platform, device class, browser family). Output: one JSON object on stdout.
// Exit status: 0 ok, 2 usage or I/O error.
#include <charconv>
#include <cmath>
#include <iostream>

#include "cli/commands.h"
#include "core/file.h"
#include "core/json_writer.h"
#include "drift/compare.h"

namespace vigil::cli {
namespace {

struct Column {
  std::vector<std::string> text;
  std::vector<double> numbers;
  bool numeric = true;
};

Result<Column> ReadColumn(const std::string& path) {
  auto body = ReadFile(path);
  if (!body.ok()) return body.error();
  Column c;
  std::string_view all = *body;
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t end = all.find('\n', pos);
    if (end == std::string_view::npos) end = all.size();
    std::string_view line = all.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty()) continue;
    c.text.emplace_back(line);
    if (c.numeric) {
      double v = 0;
      auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), v);
      if (ec != std::errc() || p != line.data() + line.size() || !std::isfinite(v)) {
        c.numeric = false;
      } else {
        c.numbers.push_back(v);
      }
    }
  }
  return c;
}

}  // namespace

void RegisterDriftCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("drift", "Drift measures (PSI, KS, Jensen-Shannon, Wasserstein, mix) between two files");
  static std::string ref_path, cur_path, kind = "auto";
  static int bins = 10;
  cmd->add_option("--reference", ref_path, "Reference sample: one number or category a line")->required();
  cmd->add_option("--current", cur_path, "Current sample, same format")->required();
  cmd->add_option("--kind", kind, "numeric, categorical or auto (numeric when every line is a number)")
      ->check(CLI::IsMember({"auto", "numeric", "categorical"}));
  cmd->add_option("--bins", bins, "Equal-width bins for PSI and Jensen-Shannon (numeric)")->check(CLI::Range(1, 100000));
  cmd->callback([&exit_code] {
    auto ref = ReadColumn(ref_path);
    auto cur = ref.ok() ? ReadColumn(cur_path) : Result<Column>(ref.error());
    if (!ref.ok() || !cur.ok()) {
      std::cerr << "error: " << (ref.ok() ? cur.error() : ref.error()).ToString() << "\n";
      exit_code = 2;
      return;
    }
    if (ref->text.empty() || cur->text.empty()) {
      std::cerr << "error: both files need at least one value\n";
      exit_code = 2;
      return;
    }
    bool numeric = kind == "numeric" || (kind == "auto" && ref->numeric && cur->numeric);
    if (numeric && !(ref->numeric && cur->numeric)) {
      std::cerr << "error: --kind numeric, but " << (ref->numeric ? cur_path : ref_path) << " holds a non-number\n";
      exit_code = 2;
      return;
    }
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Field("kind", numeric ? "numeric" : "categorical");
    w.Field("conventions", "psi: natural log, empty bins as Evidently; js_distance: base 2; "
                           "wasserstein_norm: divided by the reference std (ddof 0); ks: scipy ks_2samp two-sided");
    std::string measures;
    if (numeric) {
      drift::AppendJson(measures, drift::CompareNumeric(ref->numbers, cur->numbers, bins));
    } else {
      drift::AppendJson(measures, drift::CompareCategorySamples(ref->text, cur->text));
    }
    w.Key("drift").Raw(measures).EndObject();
    std::cout << out << "\n";
  });
}

}  // namespace vigil::cli
