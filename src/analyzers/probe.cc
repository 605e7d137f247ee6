#include "analyzers/probe.h"

#include <algorithm>
#include <cmath>

#include "analyzers/features.h"
#include "core/json_writer.h"

namespace vigil::analyzers {

void ProbeAnalyzer::Observe(const ProbeConfig& cfg, const AttributeMap& context, std::int64_t time_ms,
                            double* outputs, std::vector<Finding>& findings) {
  std::string_view entity = "card";
  std::string_view id = context.GetString("card_id");
  if (id.empty()) {
    entity = "account";
    id = context.GetString("account_id");
  }
  if (id.empty()) return;
  const double amount = context.GetNumber("amount");
  const bool small = std::isfinite(amount) && amount <= cfg.small_amount_max;
  const bool declined = context.GetBool("declined") || context.GetString("action") == "payment_declined";
  const bool probe = small || declined;
  const int n = std::clamp(cfg.window_minutes, 1, kMaxWindow);
  const std::int64_t minute = time_ms >= 0 ? time_ms / 60000 : (time_ms - 59999) / 60000;
  int total = 0;
  store_.Update(KeyOf(entity == "card" ? 400 : 401, id), [&](State& s, bool) {
    if (!s.used) {
      s.head = minute;
      s.used = true;
    } else if (minute > s.head) {
      const std::int64_t steps = std::min<std::int64_t>(minute - s.head, kMaxWindow);
      for (std::int64_t k = 1; k <= steps; ++k) s.count[static_cast<std::size_t>((s.head + k) % kMaxWindow)] = 0;
      s.head = minute;
    }
    if (probe && minute > s.head - kMaxWindow) {
      auto& c = s.count[static_cast<std::size_t>(((minute % kMaxWindow) + kMaxWindow) % kMaxWindow)];
      if (c < 0xffff) ++c;
    }
    for (int k = 0; k < n; ++k) {
      total += s.count[static_cast<std::size_t>((((s.head - k) % kMaxWindow) + kMaxWindow) % kMaxWindow)];
    }
  });
  outputs[kProbeCount] = total;
  if (!probe) return;
  counters_.probes.fetch_add(1, std::memory_order_relaxed);
  if (total < cfg.min_events) return;
  std::string ev;
  JsonWriter(ev)
      .BeginObject()
      .Field("entity", entity)
      .Field("probes", total)
      .Field("window_minutes", n)
      .Field("min_events", cfg.min_events)
      .Field("small_amount_max", cfg.small_amount_max)
      .Field("this_event", small ? "small_amount" : "declined")
      .EndObject();
  counters_.findings.fetch_add(1, std::memory_order_relaxed);
  findings.push_back({ReasonCode::kProbePattern, 0.9, "probe", std::move(ev)});
}

}  // namespace vigil::analyzers
