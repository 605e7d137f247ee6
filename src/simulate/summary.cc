#include "simulate/summary.h"

#include <cstdio>

namespace vigil::sim {
namespace {

std::string Pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.1f%%", v * 100.0);
  return buf;
}

std::string Ratio(std::uint64_t n, std::uint64_t d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%5.1f%% (%llu/%llu)", d ? 100.0 * static_cast<double>(n) / static_cast<double>(d) : 0.0,
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(d));
  return buf;
}

double SimDay(const Snapshot& s, double start_ms) {
  return s.sim_time_ms > 0 ? (static_cast<double>(s.sim_time_ms) - start_ms) / 86400000.0 : 0.0;
}

}  // namespace

std::string ProgressLine(const Snapshot& s, double start_ms) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "%6.1fs %8llu decisions %7.0f/s  sim day %5.2f  liveness pass %s retry %s fail %s  "
                "txn deny %s  p95 %.2f ms  errors %llu",
                s.elapsed_s, static_cast<unsigned long long>(s.decisions), s.Throughput(), SimDay(s, start_ms),
                Pct(s.Rate("pass", true)).c_str(), Pct(s.Rate("retry", true)).c_str(), Pct(s.Rate("fail", true)).c_str(),
                Pct(s.Rate("deny", false)).c_str(), s.latency.Quantile(0.95), static_cast<unsigned long long>(s.Errors()));
  return buf;
}

std::string SummaryTable(const Snapshot& s, std::int64_t start_ms, const std::vector<std::string>& alerts) {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "decisions   %llu in %.1f s (%.0f/s), simulated day %.2f, %llu events, %llu sessions\n",
                static_cast<unsigned long long>(s.decisions), s.elapsed_s, s.Throughput(),
                SimDay(s, static_cast<double>(start_ms)), static_cast<unsigned long long>(s.events),
                static_cast<unsigned long long>(s.sessions));
  out += buf;
  std::snprintf(buf, sizeof buf, "liveness    %llu: pass %s  retry %s  fail %s  review %s\n",
                static_cast<unsigned long long>(s.liveness_decisions), Pct(s.Rate("pass", true)).c_str(),
                Pct(s.Rate("retry", true)).c_str(), Pct(s.Rate("fail", true)).c_str(), Pct(s.Rate("review", true)).c_str());
  out += buf;
  if (!s.liveness_by_platform.empty()) {
    out += "  by platform";
    for (const auto& [platform, m] : s.liveness_by_platform) {
      auto get = [&m](const char* k) {
        auto it = m.find(k);
        return it == m.end() ? 0.0 : static_cast<double>(it->second);
      };
      const double total = get("");
      std::snprintf(buf, sizeof buf, "  %s pass %.1f%% retry %.1f%% fail %.1f%%", platform.c_str(),
                    100.0 * get("pass") / total, 100.0 * get("retry") / total, 100.0 * get("fail") / total);
      out += buf;
    }
    out += "\n";
  }
  std::snprintf(buf, sizeof buf, "transaction %llu: allow %s  challenge %s  deny %s  review %s\n",
                static_cast<unsigned long long>(s.transaction_decisions), Pct(s.Rate("allow", false)).c_str(),
                Pct(s.Rate("challenge", false)).c_str(), Pct(s.Rate("deny", false)).c_str(),
                Pct(s.Rate("review", false)).c_str());
  out += buf;
  std::snprintf(buf, sizeof buf, "latency     p50 %.2f ms  p95 %.2f ms  p99 %.2f ms (client side, HTTP round trip)\n",
                s.latency.Quantile(0.5), s.latency.Quantile(0.95), s.latency.Quantile(0.99));
  out += buf;
  out += "truth       genuine passed " + Ratio(s.genuine_passed, s.genuine) + "  attacks passed " +
         Ratio(s.attacks_passed, s.attacks) + "\n";
  out += "            legitimate denied " + Ratio(s.legitimate_denied, s.legitimate) + "  challenged " +
         Ratio(s.legitimate_challenged, s.legitimate) + "  fraud allowed " + Ratio(s.fraud_allowed, s.fraud) + "\n";
  std::snprintf(buf, sizeof buf, "labels      %llu posted, %llu refused, %llu due after the run\n",
                static_cast<unsigned long long>(s.labels_posted), static_cast<unsigned long long>(s.labels_rejected),
                static_cast<unsigned long long>(s.labels_pending));
  out += buf;
  out += "errors      ";
  if (s.http_errors.empty()) out += "none";
  for (const auto& [k, v] : s.http_errors) out += k + ": " + std::to_string(v) + "  ";
  out += "\n";
  if (!alerts.empty()) {
    out += "alerts      " + std::to_string(alerts.size()) + " firing or pending\n";
    for (const auto& a : alerts) out += "            " + a + "\n";
  }
  return out;
}

}  // namespace vigil::sim

#include "core/json_writer.h"

namespace vigil::sim {

std::string SnapshotJson(const Snapshot& s) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("elapsed_s", s.elapsed_s).Field("events", static_cast<std::int64_t>(s.events))
      .Field("decisions", static_cast<std::int64_t>(s.decisions))
      .Field("liveness_decisions", static_cast<std::int64_t>(s.liveness_decisions))
      .Field("transaction_decisions", static_cast<std::int64_t>(s.transaction_decisions))
      .Field("sessions", static_cast<std::int64_t>(s.sessions)).Field("throughput", s.Throughput());
  w.Key("outcomes").BeginObject();
  for (const auto& [k, v] : s.outcomes) w.Field(k, static_cast<std::int64_t>(v));
  w.EndObject().Key("errors").BeginObject();
  for (const auto& [k, v] : s.http_errors) w.Field(k, static_cast<std::int64_t>(v));
  w.EndObject();
  w.Key("latency_ms").BeginObject().Field("p50", s.latency.Quantile(0.5)).Field("p95", s.latency.Quantile(0.95))
      .Field("p99", s.latency.Quantile(0.99)).Field("mean", s.latency.mean()).EndObject();
  w.Key("truth").BeginObject().Field("genuine", static_cast<std::int64_t>(s.genuine))
      .Field("genuine_passed", static_cast<std::int64_t>(s.genuine_passed))
      .Field("attacks", static_cast<std::int64_t>(s.attacks)).Field("attacks_passed", static_cast<std::int64_t>(s.attacks_passed))
      .Field("legitimate", static_cast<std::int64_t>(s.legitimate))
      .Field("legitimate_denied", static_cast<std::int64_t>(s.legitimate_denied))
      .Field("fraud", static_cast<std::int64_t>(s.fraud)).Field("fraud_allowed", static_cast<std::int64_t>(s.fraud_allowed))
      .EndObject();
  w.Key("labels").BeginObject().Field("posted", static_cast<std::int64_t>(s.labels_posted))
      .Field("refused", static_cast<std::int64_t>(s.labels_rejected))
      .Field("pending", static_cast<std::int64_t>(s.labels_pending)).EndObject();
  w.Field("sim_time_ms", s.sim_time_ms).EndObject();
  return out;
}

TimePlan PlanTime(double events_per_day, double days, std::uint64_t count, double duration_s, double rate,
                  double speed) {
  TimePlan p;
  p.rate = rate;
  p.ms_per_event = 86400000.0 / events_per_day;
  if (days > 0 && count > 0) {
    p.ms_per_event = days * 86400000.0 / static_cast<double>(count);
  } else if (days > 0 && duration_s > 0 && rate > 0) {
    p.ms_per_event = days * 86400000.0 / (rate * duration_s);
  }
  if (p.rate <= 0 && speed > 0) p.rate = speed * 1000.0 / p.ms_per_event;
  return p;
}

}  // namespace vigil::sim
