// Session trajectories (Markov fit, stationary distribution against NumPy, transitions, spikes,
// fingerprint drift, automation) and probe patterns, on hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analyzers/features.h"
#include "analyzers/markov.h"
#include "analyzers/probe.h"
#include "analyzers/session.h"
#include "test_util.h"

namespace vigil::analyzers {
namespace {

using testing::Python;

std::vector<SessionEvent> Hand() {
  // s1: a b c ; s2: a b ; s3: a c (given out of order: the fit sorts by session and time)
  return {{"s1", 120000, "c"}, {"s1", 0, "a"}, {"s1", 60000, "b"}, {"s2", 0, "a"},
          {"s2", 30000, "b"}, {"s3", 0, "a"}, {"s3", 60000, "c"}};
}

TEST(Markov, FitCountsSmoothsAndFindsTheStationaryDistribution) {
  auto m = FitMarkov(Hand(), 0.5, "t1");
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  ASSERT_EQ(m->actions, (std::vector<std::string>{"a", "b", "c"}));
  // a->b 2, a->c 1: row a = (0.5, 2.5, 1.5) / 4.5; b->c 1: row b = (0.5, 0.5, 1.5) / 2.5; c: uniform.
  EXPECT_NEAR(m->P(0, 0), 0.5 / 4.5, 1e-15);
  EXPECT_NEAR(m->P(0, 1), 2.5 / 4.5, 1e-15);
  EXPECT_NEAR(m->P(0, 2), 1.5 / 4.5, 1e-15);
  EXPECT_NEAR(m->P(1, 2), 1.5 / 2.5, 1e-15);
  EXPECT_NEAR(m->P(2, 1), 1.0 / 3, 1e-15);
  // Rates: s1 2 transitions in 2 min = 1/min; s2 1 in 0.5 min = 2/min; s3 1 in 1 min = 1/min.
  EXPECT_NEAR(m->rate_mean, 4.0 / 3, 1e-12);
  EXPECT_NEAR(m->rate_std, std::sqrt((1.0 / 9 + 4.0 / 9 + 1.0 / 9) / 2), 1e-12);
  EXPECT_EQ(m->sessions, 3u);
  // pi = pi P, sums to 1, equal to NumPy's left eigenvector for eigenvalue 1.
  double sum = 0;
  for (std::size_t j = 0; j < 3; ++j) {
    double pj = 0;
    for (std::size_t i = 0; i < 3; ++i) pj += m->stationary[i] * m->P(i, j);
    EXPECT_NEAR(pj, m->stationary[j], 1e-12);
    sum += m->stationary[j];
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
  std::ostringstream py;
  py << Python() << " -c \"import numpy as np; P=np.array([";
  for (std::size_t i = 0; i < 3; ++i) {
    py << "[" << m->P(i, 0) << "," << m->P(i, 1) << "," << m->P(i, 2) << "],";
  }
  py << "]); w,v=np.linalg.eig(P.T); x=np.real(v[:,np.argmin(abs(w-1))]); x=x/x.sum(); print(*x)\"";
  auto [code, out] = vigil::testing::Run(py.str());
  ASSERT_EQ(code, 0);
  std::istringstream in(out);
  for (std::size_t j = 0; j < 3; ++j) {
    double ref = 0;
    in >> ref;
    EXPECT_NEAR(m->stationary[j], ref, 1e-5) << j;  // the printed P has 6 significant digits
  }
}

TEST(Markov, RoundTripsThroughItsFileAndRefusesBadOnes) {
  auto m = FitMarkov(Hand(), 0.1, "t2");
  ASSERT_TRUE(m.ok());
  auto back = ParseMarkov(SerializeMarkov(*m), "t.json");
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->actions, m->actions);
  EXPECT_EQ(back->transitions, m->transitions);
  EXPECT_EQ(back->stationary, m->stationary);
  EXPECT_FALSE(ParseMarkov(R"({"version": "x", "actions": ["a"], "transitions": [[0.5]], "rate_mean": 1, "rate_std": 0})",
                           "t.json").ok());  // a row not summing to 1
  EXPECT_FALSE(ParseMarkov(R"({"version": "x", "actions": ["a", "b"], "transitions": [[1, 0]], "rate_mean": 1, "rate_std": 0})",
                           "t.json").ok());
  EXPECT_FALSE(FitMarkov({}, 0.1, "x").ok());
  EXPECT_FALSE(FitMarkov(Hand(), 0, "x").ok());
  auto csv = ReadSessionCsv("session_id,time_ms,action\ns1,5,login\ns1,9,browse\n", "x.csv");
  ASSERT_TRUE(csv.ok());
  EXPECT_EQ(csv->size(), 2u);
  auto bad = ReadSessionCsv("s1,5,login\ns1,x,browse\n", "x.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().where, "x.csv:2");
}

// checkout -> registration never happens among legitimate sessions.
MarkovModel Shop() {
  std::vector<SessionEvent> ev;
  for (int s = 0; s < 200; ++s) {
    std::string id = "s" + std::to_string(s);
    std::int64_t t = 0;
    for (const char* a : {"registration", "login", "browse", "checkout", "payment"}) {
      ev.push_back({id, t, a});
      t += 20000 + (s % 7) * 3000;  // about 2-3 events a minute
    }
  }
  return *FitMarkov(ev, 0.1, "shop-1");
}

struct Session {
  SessionAnalyzer a{1024};
  SessionConfig cfg;
  MarkovModel model = Shop();
  std::vector<Finding> f;
  std::array<double, kOutputCount> out{};
  void Event(const char* session, const char* action, std::int64_t t, const char* fp = "dev1") {
    f.clear();
    out.fill(std::nan(""));
    AttributeMap c;
    c.SetString("session_id", session);
    c.SetString("action", action);
    if (fp) c.SetString("device_id", fp);
    a.Observe(cfg, &model, c, t, out.data(), f);
  }
  bool Has(ReasonCode code) const {
    for (const auto& x : f) {
      if (x.code == code) return true;
    }
    return false;
  }
  const Finding* Get(ReasonCode code) const {
    for (const auto& x : f) {
      if (x.code == code) return &x;
    }
    return nullptr;
  }
};

TEST(SessionTrajectory, ImpossibleTransitionCheckoutToRegistration) {
  Session s;
  s.Event("x", "login", 0);
  EXPECT_TRUE(s.f.empty());  // one-event session: nothing to judge
  EXPECT_EQ(s.out[kTrajectoryEvents], 1);
  EXPECT_TRUE(std::isnan(s.out[kTrajectoryTransitionLogp]));
  EXPECT_TRUE(std::isnan(s.out[kTrajectoryRatePerMin]));
  s.Event("x", "browse", 30000);
  EXPECT_FALSE(s.Has(ReasonCode::kImpossibleTransition));
  EXPECT_NEAR(s.out[kTrajectoryTransitionLogp], std::log(s.model.P(*s.model.Find("login"), *s.model.Find("browse"))), 1e-12);
  s.Event("x", "checkout", 60000);
  s.Event("x", "registration", 90000);
  const Finding* f = s.Get(ReasonCode::kImpossibleTransition);
  ASSERT_NE(f, nullptr);
  auto ev = nlohmann::json::parse(f->evidence);
  EXPECT_EQ(ev["from"], "checkout");
  EXPECT_EQ(ev["to"], "registration");
  // 0.1 / (200 + 0.1 * 5)
  EXPECT_NEAR(ev["probability"].get<double>(), 0.1 / 200.5, 1e-12);
  EXPECT_EQ(ev["model_version"], "shop-1");
}

TEST(SessionTrajectory, UnseenActionsAreNotJudged) {
  Session s;
  s.Event("u", "checkout", 0);
  s.Event("u", "teleport", 20000);
  EXPECT_FALSE(s.Has(ReasonCode::kImpossibleTransition));
  EXPECT_TRUE(std::isnan(s.out[kTrajectoryTransitionLogp]));
  s.Event("u", "registration", 40000);  // after an unknown action there is no known previous
  EXPECT_FALSE(s.Has(ReasonCode::kImpossibleTransition));
  EXPECT_EQ(s.a.counters().unknown_actions.load(), 1u);
}

TEST(SessionTrajectory, RateSpikeAboveMeanPlusThreeSigma) {
  Session s;
  const double threshold = s.model.rate_mean + 3 * s.model.rate_std;
  ASSERT_GT(threshold, 2.0);
  ASSERT_LT(threshold, 4.0);
  // Human pace: one event every 25 s (2.4 per minute): no spike.
  const char* cycle[] = {"login", "browse", "checkout", "payment"};
  for (int i = 0; i < 6; ++i) s.Event("h", cycle[i % 4], i * 25000 + (i % 2) * 4000);
  EXPECT_FALSE(s.Has(ReasonCode::kBehaviorSpike));
  // A burst: 8 events within 7 seconds.
  for (int i = 0; i < 8; ++i) s.Event("b", cycle[i % 4], i * 1000 + (i % 3) * 137);
  const Finding* f = s.Get(ReasonCode::kBehaviorSpike);
  ASSERT_NE(f, nullptr);
  auto ev = nlohmann::json::parse(f->evidence);
  EXPECT_GT(ev["rate_per_min"].get<double>(), threshold);
  EXPECT_NEAR(ev["threshold"].get<double>(), threshold, 1e-12);
}

TEST(SessionTrajectory, OneActionFarAboveItsStationaryShare) {
  Session s;
  s.cfg.min_events_for_rate = 1000;  // judge the mix only
  for (int i = 0; i < 12; ++i) s.Event("m", i == 0 ? "login" : "browse", i * 20000 + (i % 3) * 5000);
  const Finding* f = s.Get(ReasonCode::kBehaviorSpike);
  ASSERT_NE(f, nullptr);
  auto ev = nlohmann::json::parse(f->evidence);
  EXPECT_EQ(ev["action_share"]["action"], "browse");
  EXPECT_EQ(ev["action_share"]["count"], 11);
}

TEST(SessionTrajectory, FingerprintDriftInsideASession) {
  Session s;
  s.Event("f", "login", 0, "dev1");
  s.Event("f", "browse", 20000, nullptr);  // no fingerprint: nothing to compare
  EXPECT_FALSE(s.Has(ReasonCode::kFingerprintDrift));
  s.Event("f", "checkout", 45000, "dev1");
  EXPECT_FALSE(s.Has(ReasonCode::kFingerprintDrift));
  s.Event("f", "payment", 70000, "dev2");
  const Finding* f = s.Get(ReasonCode::kFingerprintDrift);
  ASSERT_NE(f, nullptr);
  auto ev = nlohmann::json::parse(f->evidence);
  EXPECT_EQ(ev["changes"], 1);
  EXPECT_NE(ev["previous"], ev["current"]);
  EXPECT_EQ(ev["previous"].get<std::string>().size(), 8u);  // a hash prefix, never the raw id
  EXPECT_EQ(s.out[kTrajectoryFingerprintChanges], 1);
  // Another session with dev2 is not drift.
  s.Event("g", "login", 0, "dev2");
  EXPECT_FALSE(s.Has(ReasonCode::kFingerprintDrift));
}

TEST(SessionTrajectory, AutomationSignatureForTooRegularTiming) {
  Session s;
  s.cfg.min_events_for_rate = 1000;
  s.cfg.min_events_for_mix = 1000;
  const char* cycle[] = {"login", "browse", "checkout", "payment"};
  for (int i = 0; i < 7; ++i) s.Event("bot", cycle[i % 4], i * 15000);  // every 15.000 s
  const Finding* f = s.Get(ReasonCode::kAutomationSignature);
  ASSERT_NE(f, nullptr);
  auto ev = nlohmann::json::parse(f->evidence);
  EXPECT_EQ(ev["intervals"], 6);
  EXPECT_EQ(ev["cv"], 0.0);
  EXPECT_EQ(ev["mean_interval_ms"], 15000.0);
  // A person: intervals 10..40 s.
  const int gaps[] = {12000, 31000, 17000, 40000, 9000, 26000, 15000};
  std::int64_t t = 0;
  for (int i = 0; i < 7; ++i) s.Event("human", cycle[i % 4], t += gaps[i]);
  EXPECT_FALSE(s.Has(ReasonCode::kAutomationSignature));
  EXPECT_GT(s.out[kTrajectoryIntervalCv], 0.3);
}

TEST(SessionTrajectory, IdleSessionsStartAfreshAndNoModelStillChecksDrift) {
  Session s;
  s.Event("t", "checkout", 0);
  s.Event("t", "registration", 2LL * 3600 * 1000);  // 2 h later: a new session
  EXPECT_FALSE(s.Has(ReasonCode::kImpossibleTransition));
  EXPECT_EQ(s.out[kTrajectoryEvents], 1);
  SessionAnalyzer a(1024);
  std::vector<Finding> f;
  std::array<double, kOutputCount> out{};
  AttributeMap c1, c2;
  c1.SetString("session_id", "n");
  c1.SetString("device_fingerprint", "fpA");
  c2.SetString("session_id", "n");
  c2.SetString("device_fingerprint", "fpB");
  a.Observe(s.cfg, nullptr, c1, 0, out.data(), f);
  a.Observe(s.cfg, nullptr, c2, 1000, out.data(), f);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, ReasonCode::kFingerprintDrift);
}

TEST(Probe, BurstOfSmallAmountsOnOneCard) {
  ProbeAnalyzer p(1024);
  ProbeConfig cfg;
  std::vector<Finding> f;
  std::array<double, kOutputCount> out{};
  auto event = [&](const char* card, double amount, std::int64_t t, bool declined = false) {
    f.clear();
    AttributeMap c;
    c.SetString("card_id", card);
    c.SetNumber("amount", amount);
    if (declined) c.SetBool("declined", true);
    p.Observe(cfg, c, t, out.data(), f);
  };
  for (int i = 0; i < 4; ++i) event("c1", 1.0, i * 30000);
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(out[kProbeCount], 4);
  event("c1", 250.0, 130000);  // not a probe
  EXPECT_TRUE(f.empty());
  event("c1", 80.0, 140000, true);  // a decline is: the fifth probe
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, ReasonCode::kProbePattern);
  auto ev = nlohmann::json::parse(f[0].evidence);
  EXPECT_EQ(ev["probes"], 5);
  EXPECT_EQ(ev["this_event"], "declined");
  // Window edge: minute buckets 0..9 form the window at minute 9; at minute 10 minute 0 leaves.
  event("c2", 0.5, 0);
  for (int i = 0; i < 3; ++i) event("c2", 0.5, 9 * 60000 + i);
  EXPECT_EQ(out[kProbeCount], 4);
  event("c2", 0.5, 10 * 60000);
  EXPECT_EQ(out[kProbeCount], 4);  // the minute-0 probe left as this one came in
  EXPECT_TRUE(f.empty());
  event("c2", 0.5, 10 * 60000 + 1);
  EXPECT_EQ(f.size(), 1u);
}

}  // namespace
}  // namespace vigil::analyzers
