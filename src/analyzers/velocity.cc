#include "analyzers/velocity.h"

#include <algorithm>
#include <cmath>

#include "core/json_writer.h"

namespace vigil::analyzers {
namespace {

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int Slot(std::int64_t bucket, int n) { return static_cast<int>(((bucket % n) + n) % n); }

// The id of an entity as the context gives it: a string, or a number written as an integer.
std::string_view EntityId(const AttributeMap& ctx, std::string_view field, std::string& buf) {
  Value v = ctx.Get(field);
  if (v.kind == Value::Kind::kString) return v.text;
  if (v.kind == Value::Kind::kNumber && std::isfinite(v.number)) {
    buf = std::to_string(static_cast<long long>(v.number));
    return buf;
  }
  return {};
}

}  // namespace

void VelocityAnalyzer::Add(State& s, std::int64_t time_ms, double amount) {
  for (std::size_t w = 0; w < kWindowCount; ++w) {
    const Window& win = kWindows[w];
    const std::int64_t b = FloorDiv(time_ms, win.width_ms);
    std::uint32_t* count = s.count.data() + win.offset;
    double* sum = s.sum.data() + win.offset;
    if (!s.used) {
      s.head[w] = b;
    } else if (b > s.head[w]) {
      const std::int64_t steps = std::min<std::int64_t>(b - s.head[w], win.buckets);
      for (std::int64_t k = 1; k <= steps; ++k) {
        const int i = Slot(s.head[w] + k, win.buckets);
        count[i] = 0;
        sum[i] = 0.0;
      }
      s.head[w] = b;
    } else if (b <= s.head[w] - win.buckets) {
      continue;  // older than the window
    }
    const int i = Slot(b, win.buckets);
    count[i] += 1;
    sum[i] += amount;
  }
  s.used = true;
}

void VelocityAnalyzer::Totals(const State& s, std::array<double, kWindowCount>& count,
                              std::array<double, kWindowCount>& sum) {
  for (std::size_t w = 0; w < kWindowCount; ++w) {
    const Window& win = kWindows[w];
    double c = 0, a = 0;
    for (int i = 0; i < win.buckets; ++i) {
      c += s.count[static_cast<std::size_t>(win.offset + i)];
      a += s.sum[static_cast<std::size_t>(win.offset + i)];
    }
    count[w] = c;
    sum[w] = a;
  }
}

void VelocityAnalyzer::Observe(const VelocityConfig& cfg, const AttributeMap& context, std::int64_t time_ms,
                               double* outputs, std::vector<Finding>& findings) {
  counters_.events.fetch_add(1, std::memory_order_relaxed);
  double amount = context.GetNumber("amount");
  if (!std::isfinite(amount)) amount = 0.0;
  std::string evidence;
  JsonWriter w(evidence);
  double worst = 0.0;
  std::string buf;
  for (std::size_t e = 0; e < kEntityCount; ++e) {
    std::string_view id = EntityId(context, kEntityFields[e], buf);
    if (id.empty()) continue;
    std::array<double, kWindowCount> count{}, sum{};
    store_.Update(KeyOf(e + 1, id), [&](State& s, bool) {
      Add(s, time_ms, amount);
      Totals(s, count, sum);
    });
    const VelocityLimits& lim = cfg.limits[e];
    for (std::size_t win = 0; win < kWindowCount; ++win) {
      outputs[VelocityOutput(static_cast<Entity>(e), win, false)] = count[win];
      outputs[VelocityOutput(static_cast<Entity>(e), win, true)] = sum[win];
      for (int a = 0; a < 2; ++a) {
        const double limit = a ? lim.amount[win] : lim.count[win];
        const double value = a ? sum[win] : count[win];
        if (limit <= 0 || value <= limit) continue;
        if (evidence.empty()) w.BeginObject().Key("exceeded").BeginArray();
        w.BeginObject()
            .Field("entity", kEntityNames[e])
            .Field("window", kWindowNames[win])
            .Field("measure", a ? "amount" : "count")
            .Field("value", value)
            .Field("limit", limit)
            .Field("count", count[win])
            .Field("amount", sum[win])
            .EndObject();
        worst = std::max(worst, value / limit);
      }
    }
  }
  if (evidence.empty()) return;
  w.EndArray().Field("ratio", worst).EndObject();
  counters_.findings.fetch_add(1, std::memory_order_relaxed);
  // Just over a limit speaks softly; twice the limit or more speaks fully.
  findings.push_back({ReasonCode::kVelocityAnomaly, std::min(1.0, 0.5 * worst), "velocity", std::move(evidence)});
}

}  // namespace vigil::analyzers
