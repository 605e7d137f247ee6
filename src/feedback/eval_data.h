// Labelled decisions for offline evaluation (`vigil eval`): a CSV file with a header row.
//   label        genuine | attack | legitimate | fraud, or 1 (positive: attack/fraud) / 0
//   score        the score column (name set by the caller); see `score_is`
//   attack_type  optional: attack or fraud type
//   decision     optional (also "outcome"): the decision made; pass/allow = not flagged
// Other columns are ignored. Rows with an empty score count for the decision figures only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "feedback/performance.h"

namespace vigil {

struct EvalReadOptions {
  std::string score_column = "score";
  // "risk": the score is the probability of attack/fraud; "genuine": of a genuine/legitimate
  // case (1 - score is used); "auto": genuine for liveness labels (the fused liveness score is
  // the probability of a genuine capture), risk otherwise.
  std::string score_is = "auto";
  // Called now and then with the bytes read so far and the file size.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct EvalData {
  std::vector<LabelledCase> cases;
  bool liveness = false;       // labels were genuine/attack
  bool has_decisions = false;  // a decision column was present
  bool flipped = false;        // 1 - score was used as the risk
  std::int64_t skipped_no_score = 0;
};

Result<EvalData> ReadEvalCsv(const std::string& path, const EvalReadOptions& opt);

// Splits one CSV line (RFC 4180 quotes) into cells.
std::vector<std::string> SplitCsvLine(const std::string& line);

}  // namespace vigil
