#include "metrics/monitoring_events.h"

#include <filesystem>

#include "audit/audit.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace vigil {
namespace {

// The slice fields copied from the request context (never the subject fields).
constexpr std::string_view kSliceFields[] = {"platform", "device_class", "browser_family",
                                             "sdk_version", "app_version", "country"};

void WriteAttributes(JsonWriter& w, const AttributeMap& attrs, bool bools_only) {
  w.BeginObject();
  for (const auto& a : attrs.items()) {
    if (IsSubjectField(a.name)) continue;
    switch (a.kind) {
      case Value::Kind::kBool: w.Field(a.name, a.boolean); break;
      case Value::Kind::kNumber:
        if (!bools_only) w.Field(a.name, a.number);
        break;
      case Value::Kind::kString:
        if (!bools_only) w.Field(a.name, std::string_view(a.text));
        break;
      case Value::Kind::kMissing: break;
    }
  }
  w.EndObject();
}

}  // namespace

std::string BuildMonitoringEvent(const DecisionEvent& ev, const ReasonCatalogue* catalogue) {
  const DecisionRequest& req = ev.request;
  const Decision& d = ev.decision;
  std::string out;
  out.reserve(768);
  JsonWriter w(out);
  w.BeginObject();
  w.Field("request_id", std::string_view(req.request_id));
  w.Field("timestamp", FormatRfc3339Ms(ev.time_ms));
  w.Field("flow_type", std::string_view(req.flow_type));
  for (std::string_view f : kSliceFields) {
    std::string_view v = req.context.GetString(f);
    if (!v.empty()) w.Field(f, v);
  }
  w.Field("model_version", std::string_view(d.model_version));
  w.Field("policy_version", std::string_view(d.policy_version));
  w.Field("decision", std::string_view(d.outcome_name));
  w.Field("decision_band", std::string_view(d.band_name));
  w.Field("latency_ms", ev.latency_ms);
  w.Field("attempt", d.attempt);
  if (d.max_attempts > 0) w.Field("max_attempts", d.max_attempts);
  w.Key("quality");
  WriteAttributes(w, req.quality, false);
  w.Key("scores").BeginObject();
  for (const auto& s : d.fusion.signals) {
    if (s.present) w.Field(s.name, s.calibrated);
  }
  if (d.fusion.has_score) w.Field("fusion", d.fusion.score);
  w.EndObject();
  if (d.fusion.signals.size() >= 2) w.Field("disagreement", d.fusion.disagreement);
  w.Key("security");
  WriteAttributes(w, req.security, true);
  w.Key("reasons").BeginArray();
  for (const auto& r : d.reasons) {
    std::string_view name = BuiltinReasonName(r.code);
    if (name.empty() && catalogue != nullptr) name = catalogue->Info(r.code).name;
    w.String(name);
  }
  w.EndArray();
  w.Key("stages_ms").BeginObject();
  for (const auto& t : ev.timings) w.Field(t.stage, t.ms);
  w.EndObject();
  w.Field("evidence_id", ev.evidence_id);
  w.EndObject();
  out.push_back('\n');
  return out;
}

EventWriter::EventWriter(EventSinkConfig cfg, std::string path, Counter* written, Counter* dropped)
    : cfg_(std::move(cfg)), path_(std::move(path)), written_(written), dropped_(dropped) {
  if (cfg_.sink == EventSink::kFile && !OpenFile()) cfg_.sink = EventSink::kOff;
  if (cfg_.sink != EventSink::kOff) thread_ = std::thread([this] {
    NameThisThread("events-writer");
    Run();
  });
}

EventWriter::~EventWriter() { Stop(); }

bool EventWriter::OpenFile() {
  std::error_code ec;
  std::filesystem::path p(path_);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  file_ = std::fopen(path_.c_str(), "ab");
  if (file_ == nullptr) {
    Log(LogLevel::kError, "monitoring_events_open_failed").Str("path", path_);
    return false;
  }
  file_bytes_ = std::filesystem::file_size(p, ec);
  if (ec) file_bytes_ = 0;
  return true;
}

bool EventWriter::Push(std::string line) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || cfg_.sink == EventSink::kOff || queue_.size() >= cfg_.queue) {
      if (dropped_ != nullptr) dropped_->Inc();
      return false;
    }
    queue_.push_back(std::move(line));
    ++pushed_;
  }
  cv_.notify_one();
  return true;
}

void EventWriter::Rotate() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  for (int i = cfg_.max_files - 1; i >= 1; --i) {
    std::filesystem::rename(path_ + "." + std::to_string(i), path_ + "." + std::to_string(i + 1), ec);
  }
  std::filesystem::rename(path_, path_ + ".1", ec);
  std::filesystem::remove(path_ + "." + std::to_string(cfg_.max_files + 1), ec);
  file_ = std::fopen(path_.c_str(), "ab");
  file_bytes_ = 0;
}

void EventWriter::WriteLine(const std::string& line) {
  if (cfg_.sink == EventSink::kStdout) {
    std::fwrite(line.data(), 1, line.size(), stdout);
  } else {
    if (file_bytes_ > 0 && file_bytes_ + line.size() > cfg_.max_bytes) Rotate();
    if (file_ == nullptr) return;
    std::fwrite(line.data(), 1, line.size(), file_);
    file_bytes_ += line.size();
  }
  if (written_ != nullptr) written_->Inc();
}

void EventWriter::Run() {
  std::deque<std::string> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) {
      finished_ = true;
      drained_.notify_all();
      break;
    }
    batch.swap(queue_);
    lock.unlock();
    for (const auto& line : batch) WriteLine(line);
    std::FILE* f = cfg_.sink == EventSink::kStdout ? stdout : file_;
    if (f != nullptr) std::fflush(f);
    std::size_t n = batch.size();
    batch.clear();
    lock.lock();
    done_ += n;
    drained_.notify_all();
  }
}

void EventWriter::Flush() {
  std::unique_lock lock(mu_);
  std::uint64_t target = pushed_;
  drained_.wait(lock, [&] { return done_ >= target || finished_ || cfg_.sink == EventSink::kOff; });
}

void EventWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

}  // namespace vigil
