#include "transaction/transaction_analysis.h"

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "analyzers/features.h"
#include "calibration/calibration.h"
#include "core/file.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "server/module.h"

namespace vigil {
namespace {

std::string UnderConfig(const std::string& dir, const std::string& file) {
  std::filesystem::path p(file);
  return p.is_relative() ? (std::filesystem::path(dir) / p).string() : file;
}

// A fixed-size row buffer: schemas wider than this are refused at load.
constexpr std::size_t kMaxFeatures = 512;

class StageClock {
 public:
  explicit StageClock(std::vector<StageTiming>* timings) : timings_(timings) {}
  void Lap(const char* stage) {
    if (!timings_) return;
    const auto now = std::chrono::steady_clock::now();
    timings_->push_back({stage, std::chrono::duration<double, std::milli>(now - last_).count()});
    last_ = now;
  }

 private:
  std::vector<StageTiming>* timings_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// What identifies a loaded model: its files as they are on disk, and the evaluator asked for.
std::string ModelStamp(const std::string& schema_path, const std::string& evaluator) {
  std::string stamp = evaluator;
  auto add = [&](const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    const auto time = std::filesystem::last_write_time(path, ec);
    stamp += "|" + path + ":" + std::to_string(ec ? 0 : size) + ":" +
             std::to_string(ec ? 0 : time.time_since_epoch().count());
  };
  add(schema_path);
  // The model file the schema names, found without parsing it fully.
  auto text = ReadFile(schema_path);
  if (text.ok()) {
    auto at = text->find("\"model\"");
    auto q1 = at == std::string::npos ? at : text->find('"', text->find(':', at) + 1);
    auto q2 = q1 == std::string::npos ? q1 : text->find('"', q1 + 1);
    if (q2 != std::string::npos) {
      std::filesystem::path m(text->substr(q1 + 1, q2 - q1 - 1));
      if (m.is_relative()) m = std::filesystem::path(schema_path).parent_path() / m;
      add(m.string());
    }
  }
  return stamp;
}

}  // namespace

Result<std::shared_ptr<const TransactionAnalysis::Loaded>> TransactionAnalysis::LoadConfig(
    const std::string& config_dir, const CalibrationSet* calibrations, const Loaded* previous) {
  auto cfg = analyzers::LoadAnalyzersConfig(UnderConfig(config_dir, "analyzers.yaml"));
  if (!cfg.ok()) return cfg.error();
  auto loaded = std::make_shared<Loaded>();
  loaded->config = std::move(*cfg);
  const auto& s = loaded->config.session;
  if (s.enabled && !s.model.empty()) {
    auto chain = analyzers::LoadMarkovFile(UnderConfig(config_dir, s.model));
    if (!chain.ok()) return chain.error();
    loaded->chain = std::make_shared<const analyzers::MarkovModel>(std::move(*chain));
  }
  const auto& fm = loaded->config.fraud_model;
  if (fm.enabled) {
    const auto& names = analyzers::OutputNames();
    const std::string schema_path = UnderConfig(config_dir, fm.schema);
    loaded->model_stamp = ModelStamp(schema_path, fm.evaluator);
    Result<std::shared_ptr<const HostedModel>> model = Error::Invalid("not loaded");
    if (previous && previous->model && previous->model_stamp == loaded->model_stamp) {
      model = previous->model;
    } else {
      model = HostedModel::Load(schema_path, *ParseEvaluator(fm.evaluator),
                                std::span<const std::string_view>(names.data(), names.size()));
    }
    if (!model.ok()) return model.error();
    if ((*model)->num_features() > kMaxFeatures) {
      return Error::Invalid("more than " + std::to_string(kMaxFeatures) + " features", fm.schema);
    }
    if (calibrations) {
      const std::string& signal = (*model)->schema().signal;
      const Calibrator* cal = calibrations->Find(signal);
      if (!cal) return Error::Invalid("no calibration is loaded for the hosted model's signal '" + signal + "'", fm.schema);
      if (cal->model_version() != (*model)->schema().model_version) {
        return Error::Invalid("the calibration for '" + signal + "' is for model version '" + cal->model_version() +
                                  "' but the hosted model is '" + (*model)->schema().model_version +
                                  "': refit the calibration (scripts/train_demo_model.py or vigil calibrate)",
                              fm.schema);
      }
    }
    loaded->model = std::move(*model);
  }
  return std::shared_ptr<const Loaded>(std::move(loaded));
}

TransactionAnalysis::TransactionAnalysis(std::shared_ptr<const Loaded> loaded)
    : loaded_(loaded),
      velocity_(loaded->config.velocity.max_entities),
      travel_(loaded->config.travel.max_accounts),
      session_(loaded->config.session.max_sessions),
      probe_(loaded->config.probe.max_entities) {}

void TransactionAnalysis::Run(DecisionRequest& r, std::vector<StageTiming>* timings) {
  const std::shared_ptr<const Loaded> l = loaded_.load();
  const auto& c = l->config;
  const auto t = static_cast<std::int64_t>(r.time_ms);
  std::array<double, analyzers::kOutputCount> out;
  out.fill(std::nan(""));
  StageClock clock(timings);
  if (c.velocity.enabled) {
    velocity_.Observe(c.velocity, r.context, t, out.data(), r.findings);
    clock.Lap("velocity");
  }
  if (c.travel.enabled) {
    travel_.Observe(c.travel, r.context, t, out.data(), r.findings);
    clock.Lap("travel");
  }
  if (c.session.enabled) {
    session_.Observe(c.session, l->chain.get(), r.context, t, out.data(), r.findings);
    clock.Lap("trajectory");
  }
  if (c.probe.enabled) {
    probe_.Observe(c.probe, r.context, t, out.data(), r.findings);
    clock.Lap("probe");
  }
  if (!l->model) return;
  const HostedModel& m = *l->model;
  const std::string& signal = m.schema().signal;
  auto sent = r.signals.end();
  for (auto it = r.signals.begin(); it != r.signals.end(); ++it) {
    if (it->name == signal) sent = it;
  }
  if (sent != r.signals.end()) {
    if (c.fraud_model.client_signal == "client") {
      client_kept_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    r.context.SetNumber("client_" + signal, sent->raw);
    r.signals.erase(sent);
    client_replaced_.fetch_add(1, std::memory_order_relaxed);
  }
  std::array<float, kMaxFeatures> row;
  m.BuildRow(r.context, std::span<const double>(out.data(), out.size()), row.data());
  const float score = m.Score(row.data());
  clock.Lap("fraud_model");
  if (!std::isfinite(score)) {
    score_errors_.fetch_add(1, std::memory_order_relaxed);
    return;  // the signal is missing; the flow's missing-signal handling applies
  }
  scored_.fetch_add(1, std::memory_order_relaxed);
  r.signals.push_back({signal, static_cast<double>(score)});
}

std::string TransactionAnalysis::StatsJson() const {
  const auto l = loaded_.load();
  std::string out;
  JsonWriter w(out);
  auto u = [](const std::atomic<std::uint64_t>& a) { return static_cast<std::int64_t>(a.load()); };
  w.BeginObject();
  w.Key("velocity").BeginObject()
      .Field("enabled", l->config.velocity.enabled)
      .Field("events", u(velocity_.counters().events))
      .Field("findings", u(velocity_.counters().findings))
      .Field("entities", static_cast<std::int64_t>(velocity_.entities()))
      .Field("max_entities", static_cast<std::int64_t>(velocity_.capacity()))
      .Field("evictions", static_cast<std::int64_t>(velocity_.evictions()))
      .EndObject();
  w.Key("travel").BeginObject()
      .Field("enabled", l->config.travel.enabled)
      .Field("events", u(travel_.counters().events))
      .Field("without_geo", u(travel_.counters().without_geo))
      .Field("findings", u(travel_.counters().findings))
      .Field("accounts", static_cast<std::int64_t>(travel_.accounts()))
      .Field("evictions", static_cast<std::int64_t>(travel_.evictions()))
      .EndObject();
  w.Key("trajectory").BeginObject()
      .Field("enabled", l->config.session.enabled)
      .Field("model_version", l->chain ? std::string_view(l->chain->version) : std::string_view())
      .Field("events", u(session_.counters().events))
      .Field("unknown_actions", u(session_.counters().unknown_actions))
      .Field("findings", u(session_.counters().findings))
      .Field("sessions", static_cast<std::int64_t>(session_.sessions()))
      .Field("evictions", static_cast<std::int64_t>(session_.evictions()))
      .EndObject();
  w.Key("probe").BeginObject()
      .Field("enabled", l->config.probe.enabled)
      .Field("probes", u(probe_.counters().probes))
      .Field("findings", u(probe_.counters().findings))
      .EndObject();
  w.Key("fraud_model").BeginObject().Field("enabled", l->model != nullptr);
  if (l->model) {
    w.Field("model_version", l->model->schema().model_version)
        .Field("signal", l->model->schema().signal)
        .Field("evaluator", EvaluatorName(l->model->evaluator()))
        .Field("features", static_cast<std::int64_t>(l->model->num_features()));
    if (const ModelInfo* info = l->model->native_info()) {
      w.Field("trees", static_cast<std::int64_t>(info->num_trees)).Field("max_depth", info->max_depth);
    }
  }
  w.Field("client_signal", l->config.fraud_model.client_signal)
      .Field("scored", u(scored_))
      .Field("client_kept", u(client_kept_))
      .Field("client_replaced", u(client_replaced_))
      .Field("errors", u(score_errors_))
      .EndObject();
  w.EndObject();
  return out;
}

}  // namespace vigil
