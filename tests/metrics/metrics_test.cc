// The metrics library: escaping, label bounding, histogram buckets, concurrency.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <thread>

namespace vigil {
namespace {

TEST(Exposition, EscapesLabelValuesAndHelp) {
  std::string out;
  EscapeLabelValue("a\\b\"c\nd", out);
  EXPECT_EQ(out, "a\\\\b\\\"c\\nd");
  out.clear();
  EscapeHelp("x\\y\"z\nw", out);
  EXPECT_EQ(out, "x\\\\y\"z\\nw");  // quotes are not escaped in HELP
}

TEST(Exposition, FormatsSampleValues) {
  auto fmt = [](double v) {
    std::string s;
    FormatSampleValue(v, s);
    return s;
  };
  EXPECT_EQ(fmt(3), "3");
  EXPECT_EQ(fmt(0.25), "0.25");
  EXPECT_EQ(fmt(-5), "-5");
  EXPECT_EQ(fmt(123456789), "123456789");
  EXPECT_EQ(fmt(-0.0), "-0");
  EXPECT_EQ(fmt(1e300), "1e+300");
  EXPECT_EQ(fmt(2.5e-7), "2.5e-07");
  EXPECT_EQ(fmt(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(fmt(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(fmt(std::nan("")), "NaN");
}

TEST(Exposition, ValidatesNames) {
  EXPECT_TRUE(ValidMetricName("vigil_decisions_total"));
  EXPECT_TRUE(ValidMetricName("job:rate5m"));
  EXPECT_FALSE(ValidMetricName("9lives"));
  EXPECT_FALSE(ValidMetricName("a-b"));
  EXPECT_TRUE(ValidLabelName("flow_type"));
  EXPECT_FALSE(ValidLabelName("__name"));
  EXPECT_FALSE(ValidLabelName("a:b"));
  MetricsRegistry reg;
  EXPECT_FALSE(reg.AddCounter("bad-name", "h").ok());
  EXPECT_FALSE(reg.AddHistogram("h_seconds", "h", {LabelSpec::TopK("le", 3)}, {1}).ok());
  EXPECT_FALSE(reg.AddHistogram("h_seconds", "h", {}, {2, 1}).ok());
  EXPECT_FALSE(reg.AddCounter("c_total", "h", {LabelSpec::TopK("a", 1), LabelSpec::TopK("a", 1)}).ok());
}

// A counter mirroring a total kept elsewhere follows it up, never down.
TEST(Counter, AdvanceToFollowsATotalUpOnly) {
  Counter c;
  c.AdvanceTo(5);
  EXPECT_EQ(c.Value(), 5);
  c.AdvanceTo(3);  // a total that went back (a restart of its source) does not lower a counter
  EXPECT_EQ(c.Value(), 5);
  c.Inc();
  c.AdvanceTo(9.5);
  EXPECT_EQ(c.Value(), 9.5);
}

TEST(Registry, RendersCounterWithEscapedLabels) {
  MetricsRegistry reg;
  auto fam = reg.AddCounter("vigil_test_total", "Help with \\ and\nnewline.",
                            {LabelSpec::TopK("path", 10)});
  ASSERT_TRUE(fam.ok());
  (*fam)->Get({"a\"b\\c\nd"}).Inc(2);
  (*fam)->Get({"plain"}).Inc();
  EXPECT_EQ(reg.Expose(),
            "# HELP vigil_test_total Help with \\\\ and\\nnewline.\n"
            "# TYPE vigil_test_total counter\n"
            "vigil_test_total{path=\"a\\\"b\\\\c\\nd\"} 2\n"
            "vigil_test_total{path=\"plain\"} 1\n");
}

TEST(Registry, SameFamilyTwiceIsSharedDifferentIsRefused) {
  MetricsRegistry reg;
  auto a = reg.AddCounter("x_total", "h", {LabelSpec::TopK("l", 2)});
  auto b = reg.AddCounter("x_total", "h", {LabelSpec::TopK("l", 2)});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_FALSE(reg.AddGauge("x_total", "h", {LabelSpec::TopK("l", 2)}).ok());
  EXPECT_FALSE(reg.AddCounter("x_total", "other help").ok());
}

TEST(Registry, CounterIgnoresNegativeIncrements) {
  MetricsRegistry reg;
  Counter& c = (*reg.AddCounter("c_total", "h"))->Get({});
  c.Inc(3);
  c.Inc(-1);
  EXPECT_EQ(c.Value(), 3);
  EXPECT_EQ(reg.Expose(), "# HELP c_total h\n# TYPE c_total counter\nc_total 3\n");
}

TEST(Registry, GaugeGoesUpAndDown) {
  MetricsRegistry reg;
  Gauge& g = (*reg.AddGauge("g", "h"))->Get({});
  g.Set(5);
  g.Dec(2);
  g.Inc(0.5);
  EXPECT_DOUBLE_EQ(g.Value(), 3.5);
}

TEST(Bounding, AllowListFoldsTheRestIntoOther) {
  MetricsRegistry reg;
  auto* fam = *reg.AddCounter("d_total", "h", {LabelSpec::Allow("platform", {"web", "ios"})});
  fam->Get({"web"}).Inc();
  fam->Get({"ios"}).Inc();
  fam->Get({"symbian"}).Inc();
  fam->Get({"palm"}).Inc();
  EXPECT_EQ(fam->size(), 3u);
  EXPECT_EQ(fam->Get({"other"}).Value(), 2);
  EXPECT_EQ(&fam->Get({"symbian"}), &fam->Get({"other"}));
  EXPECT_EQ(fam->folded(), 3u);  // symbian twice and palm; asking for "other" is no fold
}

TEST(Bounding, TopKKeepsTheFirstKValues) {
  MetricsRegistry reg;
  auto* fam = *reg.AddCounter("v_total", "h", {LabelSpec::TopK("sdk_version", 3)});
  for (int i = 0; i < 100; ++i) fam->Get({"v" + std::to_string(i % 50)}).Inc();
  EXPECT_EQ(fam->size(), 4u);  // v0, v1, v2, other
  EXPECT_EQ(fam->Get({"v0"}).Value(), 2);
  EXPECT_EQ(fam->Get({"other"}).Value(), 94);
}

TEST(Bounding, LongValuesFoldAndMissingValuesAreEmpty) {
  MetricsRegistry reg;
  auto* fam = *reg.AddCounter("w_total", "h", {LabelSpec::TopK("a", 10), LabelSpec::TopK("b", 10)});
  fam->Get({std::string(100, 'x'), "b"}).Inc();
  fam->Get({"only_a"}).Inc();
  std::string text = reg.Expose();
  EXPECT_NE(text.find("w_total{a=\"other\",b=\"b\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("w_total{a=\"only_a\",b=\"\"} 1"), std::string::npos) << text;
}

TEST(Bounding, RawKeysNeverAliasFoldedSeries) {
  MetricsRegistry reg;
  auto* fam = *reg.AddCounter("k_total", "h", {LabelSpec::TopK("a", 2), LabelSpec::TopK("b", 3)});
  fam->Get({"x", "y"}).Inc();
  // "x\xffy" as one value would join to the same bytes as ("x", "y"): it must fold instead.
  fam->Get({std::string("x\xffy"), ""}).Inc();
  EXPECT_EQ(fam->Get({"x", "y"}).Value(), 1);
  EXPECT_EQ(fam->Get({"other", ""}).Value(), 1);
  // Fast-path hits and slow-path misses agree: a folded value finds the "other" series.
  fam->Get({"z", "w"}).Inc();   // a: x, z admitted; b: y, "", w admitted
  fam->Get({"q", "w"}).Inc();   // a folds
  EXPECT_EQ(fam->Get({"other", "w"}).Value(), 1);
  EXPECT_EQ(fam->size(), 4u);
}

TEST(Bounding, SeriesCountStaysWithinTheProductOfBounds) {
  MetricsRegistry reg;
  auto* fam = *reg.AddCounter("s_total", "h",
                              {LabelSpec::Allow("p", {"web", "ios", "android"}),
                               LabelSpec::TopK("sdk", 5), LabelSpec::TopK("app", 4)});
  for (int i = 0; i < 5000; ++i) {
    fam->Get({i % 7 == 0 ? "web" : "junk" + std::to_string(i), "sdk" + std::to_string(i * 31),
              "app" + std::to_string(i * 17)})
        .Inc();
  }
  EXPECT_LE(fam->size(), 4u * 6u * 5u);
  EXPECT_EQ(reg.SeriesCount(), fam->size());
}

TEST(Bounding, MaxSeriesCapsTheFamily) {
  MetricsRegistry reg;
  auto* fam = *reg.AddCounter("m_total", "h", {LabelSpec::TopK("a", 100), LabelSpec::TopK("b", 100)});
  fam->set_max_series(10);
  for (int i = 0; i < 50; ++i) fam->Get({std::to_string(i), std::to_string(i)}).Inc();
  EXPECT_EQ(fam->size(), 11u);  // 10 + the all-"other" series
  EXPECT_EQ(fam->Get({"other", "other"}).Value(), 40);
}

TEST(HistogramTest, BucketsAreCumulativeWithLeSemantics) {
  MetricsRegistry reg;
  auto* fam = *reg.AddHistogram("lat_seconds", "Latency.", {LabelSpec::TopK("stage", 4)},
                                {0.1, 0.5, 1});
  Histogram& h = fam->Get({"quality"});
  for (double v : {0.05, 0.1, 0.3, 0.5, 0.7, 2.0}) h.Observe(v);
  auto snap = h.Collect();
  EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{2, 4, 5, 6}));
  EXPECT_EQ(snap.count, 6u);
  EXPECT_DOUBLE_EQ(snap.sum, 3.65);
  EXPECT_EQ(reg.Expose(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{stage=\"quality\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{stage=\"quality\",le=\"0.5\"} 4\n"
            "lat_seconds_bucket{stage=\"quality\",le=\"1\"} 5\n"
            "lat_seconds_bucket{stage=\"quality\",le=\"+Inf\"} 6\n"
            "lat_seconds_sum{stage=\"quality\"} 3.65\n"
            "lat_seconds_count{stage=\"quality\"} 6\n");
}

TEST(HistogramTest, BucketHelpers) {
  EXPECT_EQ(LinearBuckets(1, 2, 3), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(ExponentialBuckets(1, 10, 3), (std::vector<double>{1, 10, 100}));
  EXPECT_EQ(ScoreBuckets().size(), 20u);
  EXPECT_DOUBLE_EQ(ScoreBuckets().back(), 1.0);
}

// The table lookup finds the same "le" bucket as a scan from the first bound, for every kind of
// bounds (positive, with negatives, duplicates, wide ranges) and every kind of value.
TEST(HistogramTest, BucketFinderAgreesWithAScan) {
  const std::vector<std::vector<double>> sets = {
      LatencyBuckets(), ScoreBuckets(), ExponentialBuckets(1e-9, 10, 19), LinearBuckets(-1, 0.25, 9),
      {0.1, 0.1, 0.2}, {5}, {1e-300, 1e300}, {0.05, 0.0500001, 0.06}, ExponentialBuckets(0.001, 1.01, 64),
      {}, {-3, -2}, {0.0, 1.0}, {-1e-300, 1e-300}};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  for (const auto& bounds : sets) {
    metrics_detail::BucketFinder finder(bounds);
    auto scan = [&](double v) {
      std::size_t b = 0;
      while (b < bounds.size() && !(v <= bounds[b])) ++b;
      return b;
    };
    std::vector<double> values = {0.0, -0.0, -1.0, 1e-320, std::numeric_limits<double>::quiet_NaN(),
                                  std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(),
                                  -std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::max(),
                                  -std::numeric_limits<double>::denorm_min()};
    for (double b : bounds) {
      for (double v : {b, std::nextafter(b, -INFINITY), std::nextafter(b, INFINITY), b * 0.999, b * 1.001}) {
        values.push_back(v);
      }
      // The first and last values of the table cells (top 16 bits) around the bound.
      const auto key = static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(std::fabs(b)) >> 48);
      for (std::int64_t k = key - 2; k <= key + 2; ++k) {
        if (k < 0 || k >= 0x7ff0) continue;
        for (double v : {std::bit_cast<double>(static_cast<std::uint64_t>(k) << 48),
                         std::bit_cast<double>((static_cast<std::uint64_t>(k + 1) << 48) - 1)}) {
          values.push_back(v);
          values.push_back(-v);
        }
      }
    }
    for (int i = 0; i < 2000; ++i) {
      const double lo = bounds.empty() ? 0.0 : bounds.front(), hi = bounds.empty() ? 1.0 : bounds.back();
      values.push_back(lo - 1 + unit(rng) * (hi - lo + 2));
      values.push_back(hi * unit(rng));
      values.push_back(std::exp2(unit(rng) * 80 - 40));
    }
    for (double v : values) ASSERT_EQ(finder.Find(v), scan(v)) << "value " << v << " bounds " << bounds.size();
  }
}

TEST(Concurrency, ParallelUpdatesAndNewSeriesLoseNothing) {
  MetricsRegistry reg;
  auto* counters = *reg.AddCounter("c_total", "h", {LabelSpec::TopK("k", 8)});
  auto* hist = *reg.AddHistogram("h_seconds", "h", {LabelSpec::TopK("k", 8)}, LatencyBuckets());
  constexpr int kThreads = 4;
  constexpr int kIters = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        std::string key = "k" + std::to_string((i + t) % 16);
        counters->Get({key}).Inc();
        hist->Get({key}).Observe(0.001 * (i % 7));
        if (i % 5000 == 0) (void)reg.Expose();  // scrapes race with updates
      }
    });
  }
  for (auto& th : threads) th.join();
  double total = 0;
  std::uint64_t observed = 0;
  std::string text = reg.Expose();
  EXPECT_EQ(counters->size(), 9u);  // the first 8 keys seen (schedule-dependent) + other
  // Sum via the exposition of every series.
  std::size_t pos = 0;
  while ((pos = text.find("\nc_total{", pos)) != std::string::npos) {
    std::size_t sp = text.find(' ', pos + 1);
    std::size_t nl = text.find('\n', sp);
    total += std::stod(text.substr(sp + 1, nl - sp - 1));
    pos = nl;
  }
  pos = 0;
  while ((pos = text.find("\nh_seconds_count{", pos)) != std::string::npos) {
    std::size_t sp = text.find(' ', pos + 1);
    std::size_t nl = text.find('\n', sp);
    observed += std::stoull(text.substr(sp + 1, nl - sp - 1));
    pos = nl;
  }
  EXPECT_EQ(total, double(kThreads) * kIters);
  EXPECT_EQ(observed, std::uint64_t(kThreads) * kIters);
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// The lock-free index grows while other threads resolve: every label set maps to one series
// (same address from every thread), none is lost, and the count is exact.
TEST(Concurrency, IndexGrowsUnderConcurrentLookups) {
  MetricsRegistry reg;
  auto* fam = *reg.AddCounter("grow_total", "h", {LabelSpec::TopK("k", 5000), LabelSpec::TopK("j", 2)});
  constexpr int kThreads = 4;
  constexpr int kKeys = 3000;
  std::vector<std::vector<const Counter*>> seen(kThreads, std::vector<const Counter*>(kKeys));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kKeys; ++i) {
        const int k = (i * 7 + t * 13) % kKeys;
        Counter& c = fam->Get({"key_" + std::to_string(k), "j"});
        c.Inc();
        seen[t][static_cast<std::size_t>(k)] = &c;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(fam->size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(fam->folded(), 0u);
  for (int k = 0; k < kKeys; ++k) {
    const Counter* first = seen[0][static_cast<std::size_t>(k)];
    for (int t = 1; t < kThreads; ++t) ASSERT_EQ(seen[t][static_cast<std::size_t>(k)], first) << k;
    ASSERT_EQ(first->Value(), kThreads) << k;
    ASSERT_EQ(&fam->Get({"key_" + std::to_string(k), "j"}), first);
  }
}

// Series added after a render still come out sorted by label values.
TEST(Registry, RenderStaysSortedAsSeriesArrive) {
  MetricsRegistry reg;
  auto* fam = *reg.AddGauge("g", "h", {LabelSpec::TopK("a", 10)});
  fam->Get({"m"}).Set(1);
  fam->Get({"c"}).Set(2);
  (void)reg.Expose();
  fam->Get({"x"}).Set(3);
  fam->Get({"a"}).Set(4);
  fam->Get({"d"}).Set(5);
  EXPECT_EQ(reg.Expose(),
            "# HELP g h\n# TYPE g gauge\n"
            "g{a=\"a\"} 4\ng{a=\"c\"} 2\ng{a=\"d\"} 5\ng{a=\"m\"} 1\ng{a=\"x\"} 3\n");
}

TEST(Registry, HistogramBucketsAreLimited) {
  MetricsRegistry reg;
  EXPECT_TRUE(reg.AddHistogram("ok_seconds", "h", {}, LinearBuckets(1, 1, 64)).ok());
  EXPECT_FALSE(reg.AddHistogram("big_seconds", "h", {}, LinearBuckets(1, 1, 65)).ok());
}

TEST(Exposition, HashSpreadsShortKeys) {
  std::set<std::uint64_t> hashes;
  for (int i = 0; i < 10000; ++i) hashes.insert(HashBytes("v" + std::to_string(i)));
  EXPECT_EQ(hashes.size(), 10000u);
  EXPECT_NE(HashBytes(std::string_view("a\0", 2)), HashBytes("a"));
  EXPECT_NE(HashBytes("ab"), HashBytes("ba"));
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// Per-thread cells: what a thread added stays after it exits, and a series created where a
// destroyed one was starts from zero.
TEST(Cells, ValuesOutliveThreadsAndReusedCellsStartAtZero) {
  {
    MetricsRegistry reg;
    Counter& c = (*reg.AddCounter("c_total", "h"))->Get({});
    Histogram& h = (*reg.AddHistogram("h_seconds", "h", {}, {1, 2}))->Get({});
    std::thread([&] {
      c.Inc(5);
      h.Observe(1.5);
    }).join();
    c.Inc(2);
    EXPECT_EQ(c.Value(), 7);
    auto snap = h.Collect();
    EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{0, 1, 1}));
    EXPECT_DOUBLE_EQ(snap.sum, 1.5);
  }
  for (int round = 0; round < 3; ++round) {
    MetricsRegistry reg;
    Counter& c = (*reg.AddCounter("c_total", "h"))->Get({});
    Histogram& h = (*reg.AddHistogram("h_seconds", "h", {}, {1, 2}))->Get({});
    EXPECT_EQ(c.Value(), 0) << round;
    EXPECT_EQ(h.Collect().count, 0u) << round;
    EXPECT_EQ(h.Collect().sum, 0.0) << round;
    c.Inc(3);
    h.Observe(0.5);
    std::thread([&] { c.Inc(1); }).join();
    EXPECT_EQ(c.Value(), 4) << round;
  }
}

}  // namespace
}  // namespace vigil
