// Transactions: customers with tenure and habits, and three fraud patterns that the analyzers
// of the transaction flow look for (seed 002): card testing (bursts of small amounts on a fresh
// card), account takeover (a payment from another continent minutes after the owner paid at
// home: impossible travel), and bots (events at machine-regular intervals with automation
// signatures). fraud_model and device_risk are raw external scores, drawn in logit space.
#include <cmath>
#include <cstdio>
#include <string>

#include "simulate/event_fields.h"
#include "simulate/population.h"
#include "simulate/traffic.h"

namespace vigil::sim {
namespace {

std::string Hex(const char* prefix, std::uint64_t v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%012llx", prefix, static_cast<unsigned long long>(v & 0xFFFFFFFFFFFFull));
  return buf;
}

std::string Ip(std::uint64_t v) {
  // 198.18.0.0/15: the benchmarking range, never a real address.
  return "198." + std::to_string(18 + (v & 1)) + "." + std::to_string((v >> 8) & 0xFF) + "." +
         std::to_string((v >> 16) & 0xFF);
}

struct TxnShape {
  double amount = 0;
  double account_age_days = 0;
  const char* payment_method = "card";
  std::string account_id, card_id, device_id, ip;
  double lat = 0, lon = 0;
  const char* country = "";
  Device device{};
};

void Fill(SimEvent& e, const TxnShape& t, const char* currency) {
  e.kind = EventKind::kTransaction;
  e.flow_type = "transaction_approval";
  SetString(e, "platform", t.device.platform);
  SetString(e, "browser_family", t.device.browser_family);
  SetString(e, "device_class", t.device.device_class);
  SetString(e, "sdk_version", t.device.sdk_version);
  if (*t.device.app_version) SetString(e, "app_version", t.device.app_version);
  SetString(e, "country", t.country);
  SetString(e, "account_id", t.account_id);
  SetString(e, "card_id", t.card_id);
  SetString(e, "device_id", t.device_id);
  SetString(e, "ip", t.ip);
  SetGeo(e, Round(t.lat, 4), Round(t.lon, 4));
  SetNumber(e, "amount", Round(t.amount, 2));
  SetString(e, "currency", currency);
  SetNumber(e, "account_age_days", Round(t.account_age_days, 1));
  SetString(e, "action", "checkout");
  SetString(e, "payment_method", t.payment_method);
}

void Scores(SimEvent& e, SimRng& rng, double fraud_mu, double fraud_sd, double device_mu, double device_sd) {
  e.signals.clear();
  e.signals.emplace_back("fraud_model", Round(Sigmoid(rng.Normal(fraud_mu, fraud_sd)), 4));
  e.signals.emplace_back("device_risk", Round(Sigmoid(rng.Normal(device_mu, device_sd)), 4));
}

}  // namespace

void TrafficGenerator::MakeTransaction(SimEvent& e, SimRng& rng) {
  const Customer c = CustomerAt(options_.seed, rng.Below(kCustomers));
  const double day = Day(e.time_ms);
  TxnShape t;
  t.device = c.device;
  t.country = c.home->country;
  t.account_id = Hex("acct_", c.index * 7919 + 17);
  t.card_id = Hex("card_", c.card_id);
  t.device_id = Hex("dev_", c.device_id);
  t.ip = Ip(c.device_id);
  t.lat = c.home->lat + rng.Normal(0, 0.03);
  t.lon = c.home->lon + rng.Normal(0, 0.03);
  t.account_age_days = c.tenure_days + day;
  t.payment_method = c.payment_method;
  Fill(e, t, c.currency);  // the customer's context, for incident selectors

  const auto incidents = Affecting(e, rng);
  double surge = 1.0, amount_factor = 1.0, legit_shift = 0.0;
  std::string surge_type;
  for (const Incident* inc : incidents) {
    const double s = inc->Strength(day);
    switch (inc->kind) {
      case IncidentKind::kAttackSurge:
        surge *= inc->multiplier;
        if (!inc->attack_type.empty()) surge_type = inc->attack_type;
        break;
      case IncidentKind::kScoreShift: legit_shift += inc->legit_fraud_shift; break;
      case IncidentKind::kAmountDrift: {
        amount_factor *= 1.0 + (inc->amount_factor - 1.0) * s;
        legit_shift += inc->legit_fraud_shift * s;
        double u = rng.Uniform();
        for (const auto& [method, share] : inc->payment_methods) {
          if (u < share * s) {
            t.payment_method = method == "wallet" ? "wallet" : (method == "bnpl" ? "bnpl" : "crypto");
            break;
          }
          u -= share * s;
        }
        break;
      }
      case IncidentKind::kLoadSurge: e.pad.assign(static_cast<std::size_t>(inc->payload_pad_bytes), 'x'); break;
      default: break;
    }
  }

  // Legitimate: near the customer's habit; new accounts and unusual amounts score higher.
  t.amount = std::max(0.5, c.typical_amount * rng.LogNormal(1.0, 0.6) * amount_factor);
  double novelty = 0.35 * std::log(t.amount / c.typical_amount) - 0.3 * std::log1p(t.account_age_days / 365.0) +
                   (std::string_view(t.payment_method) == "card" ? 0.0 : 0.4);
  double device_mu = -2.8;
  // 6% of good customers look unusual: a new phone, or paying while travelling. They are the
  // false positives a fraud team lives with (seed 004).
  if (rng.Bernoulli(0.06)) {
    novelty += 2.8;
    if (rng.Bernoulli(0.5)) {
      t.device = PickDevice(rng);
      t.device_id = Hex("dev_", rng.Next());
      device_mu += 1.5;
    } else {
      const City& away = PickCity(rng);
      t.country = away.country;
      t.lat = away.lat + rng.Normal(0, 0.03);
      t.lon = away.lon + rng.Normal(0, 0.03);
      t.ip = Ip(rng.Next());
    }
  }
  Fill(e, t, c.currency);
  Scores(e, rng, -2.6 + novelty + legit_shift, 0.8, device_mu, 0.7);
  e.truth.label = "legitimate";

  if (!rng.Bernoulli(std::min(0.9, scenario_.fraud_share * surge))) return;
  std::string type;
  if (!surge_type.empty() && rng.Bernoulli(1.0 - 1.0 / surge)) {
    type = surge_type;
  } else {
    double u = rng.Uniform();
    type = u < 0.4 ? "card_testing" : (u < 0.75 ? "account_takeover" : "bot");
  }

  if (type == "account_takeover") {
    // This event is the owner paying at home; the takeover follows from far away.
    const City& far = PickFarCity(rng, *c.home);
    SimEvent ato = Scripted(e.time_ms + static_cast<std::int64_t>(rng.Uniform(5, 40) * 60000.0));
    TxnShape a = t;
    a.device = PickDevice(rng);
    a.device_id = Hex("dev_", rng.Next());
    a.ip = Ip(rng.Next());
    a.country = far.country;
    a.lat = far.lat + rng.Normal(0, 0.03);
    a.lon = far.lon + rng.Normal(0, 0.03);
    a.amount = std::max(300.0, c.typical_amount * rng.Uniform(3, 10));
    a.account_age_days = t.account_age_days;
    Fill(ato, a, c.currency);
    Scores(ato, rng, 0.7, 1.0, 1.2, 0.8);
    ato.truth.label = "fraud";
    ato.truth.attack_type = type;
    Label(ato, rng);
    scripted_.push(std::move(ato));
    return;
  }

  // Card testing and bots: a burst from one fresh device on new accounts; this event is the first.
  const bool bot = type == "bot";
  const int n = bot ? 6 + static_cast<int>(rng.Below(7)) : 5 + static_cast<int>(rng.Below(11));
  TxnShape b = t;
  b.device = bot ? Device{"web", "chrome", "high", "web-2.4.1", "", "linux"} : PickDevice(rng);
  b.device_id = Hex("dev_", rng.Next());
  b.ip = Ip(rng.Next());
  b.account_age_days = rng.Uniform(0, bot ? 10 : 3);
  b.account_id = Hex("acct_", rng.Next());
  b.card_id = Hex("card_", rng.Next());
  std::int64_t at = e.time_ms;
  for (int i = 0; i < n; ++i) {
    SimEvent f = i == 0 ? std::move(e) : Scripted(at);
    if (i == 0) f.context.clear();
    b.amount = bot ? rng.Uniform(50, 250) : rng.Uniform(0.5, 3.0);
    if (bot && i > 0) b.account_id = Hex("acct_", rng.Next());  // bots register and pay in a loop
    Fill(f, b, c.currency);
    if (bot) {
      SetString(f, "user_agent_family", "headless_chrome");
      SetBool(f, "webdriver", true);
      Scores(f, rng, 0.0, 1.0, 1.8, 0.7);
    } else {
      Scores(f, rng, 0.2, 1.0, 0.8, 0.8);
    }
    f.truth.label = "fraud";
    f.truth.attack_type = type;
    if (i == 0) {
      e = std::move(f);
    } else {
      Label(f, rng);
      scripted_.push(std::move(f));
    }
    // Bots are machine-regular (3 s +- 2 ms); card testers are fast but human-irregular.
    at += bot ? 3000 + static_cast<std::int64_t>(rng.Below(5)) - 2 : static_cast<std::int64_t>(rng.LogNormal(6000, 0.5));
  }
}

}  // namespace vigil::sim
