// vigil eval: error rates offline from a file of labelled decisions (feedback/eval_data.h for the
// format), with confusion matrices along the threshold, ROC and DET data, the threshold meeting a
// target BPCER/FPR as a policy fragment, and an HTML report. See docs/feedback.md.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/file.h"
#include "feedback/eval_report.h"

namespace vigil::cli {
namespace {

// A one-line progress bar on standard error.
void DrawProgress(std::uint64_t done, std::uint64_t total) {
  if (total == 0) return;
  const int pct = static_cast<int>(std::min<std::uint64_t>(100, done * 100 / total));
  static int last = -1;
  if (pct == last) return;
  last = pct;
  char bar[41];
  const int filled = pct * 40 / 100;
  for (int i = 0; i < 40; ++i) bar[i] = i < filled ? '#' : '.';
  bar[40] = '\0';
  std::fprintf(stderr, "\rreading [%s] %3d%% (%.1f MB)%s", bar, pct, static_cast<double>(done) / 1e6,
               pct == 100 ? "\n" : "");
  std::fflush(stderr);
}

int Write(const std::string& path, const std::string& text, const char* what) {
  if (path == "-") {
    std::cout << text;
    return 0;
  }
  if (Status s = WriteFileAtomic(path, text); !s.ok()) {
    std::cerr << "error: " << s.error().ToString() << "\n";
    return 2;
  }
  std::cerr << "wrote " << what << " " << path << "\n";
  return 0;
}

}  // namespace

void RegisterEvalCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("eval", "Error rates, ROC/DET and target thresholds from labelled decisions");
  static std::string data, score_column = "score", score_is = "auto", json_out = "-", html_out, policy_out, flow;
  static double threshold = 0.5, target_bpcer = NAN, target_fpr = NAN;
  static bool progress = false, quiet = false;
  cmd->add_option("--data", data, "CSV with a header: label, score[, attack_type][, decision]")->required();
  cmd->add_option("--score-column", score_column, "Name of the score column")->capture_default_str();
  cmd->add_option("--score-is", score_is, "risk (P(attack/fraud)), genuine (P(genuine)) or auto")
      ->check(CLI::IsMember({"auto", "risk", "genuine"}))->capture_default_str();
  cmd->add_option("--threshold", threshold, "Flag when risk >= this, for files without decisions")->capture_default_str();
  cmd->add_option("--target-bpcer", target_bpcer, "Find the threshold with BPCER <= this (liveness)");
  cmd->add_option("--target-fpr", target_fpr, "Find the threshold with FPR <= this (transactions)");
  cmd->add_option("--flow", flow, "Flow the policy fragment is for (default onboarding or transaction_approval)");
  cmd->add_option("--json", json_out, "JSON report file ('-' = standard output)")->capture_default_str();
  cmd->add_option("--html", html_out, "HTML report file");
  cmd->add_option("--policy-out", policy_out, "Write the target's policy fragment (YAML) here");
  cmd->add_flag("--progress", progress, "Always show the progress bar (default: on a terminal for files over 8 MB)");
  cmd->add_flag("--quiet", quiet, "Never show the progress bar");
  cmd->callback([&exit_code] {
    EvalReadOptions ro;
    ro.score_column = score_column;
    ro.score_is = score_is;
    std::error_code ec;
    const bool big = std::filesystem::file_size(data, ec) > (8u << 20);
    if (!quiet && (progress || (big && ::isatty(2)))) ro.progress = DrawProgress;
    auto d = ReadEvalCsv(data, ro);
    if (!d.ok()) {
      std::cerr << "error: " << d.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    EvalOptions eo;
    eo.source = data;
    eo.threshold = threshold;
    eo.flow = flow;
    eo.target_fpr = !std::isnan(target_bpcer) ? target_bpcer : target_fpr;
    EvalReport r = BuildEvalReport(std::move(*d), eo);
    if (int rc = Write(json_out, EvalReportJson(r) + "\n", "JSON report"); rc) exit_code = rc;
    if (!html_out.empty()) {
      if (int rc = Write(html_out, EvalReportHtml(r), "HTML report"); rc) exit_code = rc;
    }
    if (!std::isnan(eo.target_fpr)) {
      const std::string frag = PolicyFragment(r);
      if (frag.empty()) {
        std::cerr << "no threshold meets the target " << eo.target_fpr << "\n";
        exit_code = 1;
      } else if (!policy_out.empty()) {
        if (int rc = Write(policy_out, frag, "policy fragment"); rc) exit_code = rc;
      }
    }
  });
}

}  // namespace vigil::cli
