#include "simulate/population.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace vigil::sim {
namespace {

struct Weighted {
  Device device;
  double weight;
};

// Platform 40% Android, 33% iOS, 27% web; older SDK versions linger on a share of devices.
constexpr std::array<Weighted, 16> kDevices{{
    {{"ios", "safari", "high", "ios-3.1.0", "5.2.0", "ios-18"}, 16},
    {{"ios", "safari", "mid", "ios-3.1.0", "5.2.0", "ios-17"}, 8},
    {{"ios", "safari", "high", "ios-3.0.4", "5.1.3", "ios-17"}, 6},
    {{"ios", "safari", "low", "ios-3.0.4", "5.1.3", "ios-16"}, 3},
    {{"android", "chrome", "high", "android-3.0.2", "5.2.0", "android-15"}, 10},
    {{"android", "chrome", "mid", "android-3.0.2", "5.2.0", "android-14"}, 11},
    {{"android", "chrome", "low", "android-3.0.2", "5.2.0", "android-13"}, 7},
    {{"android", "samsung", "mid", "android-2.9.8", "5.1.3", "android-14"}, 5},
    {{"android", "chrome", "low", "android-2.9.8", "5.1.3", "android-12"}, 7},
    {{"web", "chrome", "high", "web-2.4.1", "", "windows-11"}, 9},
    {{"web", "chrome", "mid", "web-2.4.1", "", "macos-15"}, 5},
    {{"web", "safari", "high", "web-2.4.1", "", "macos-15"}, 5},
    {{"web", "firefox", "mid", "web-2.4.1", "", "windows-11"}, 3},
    {{"web", "edge", "mid", "web-2.4.1", "", "windows-11"}, 3},
    {{"web", "chrome", "low", "web-2.3.0", "", "windows-10"}, 1.5},
    {{"web", "firefox", "low", "web-2.3.0", "", "linux"}, 0.5},
}};

constexpr std::array<City, 16> kCities{{
    {"DE", "Berlin", 52.52, 13.40, 10}, {"DE", "Munich", 48.14, 11.58, 6},
    {"FR", "Paris", 48.86, 2.35, 10},   {"FR", "Lyon", 45.76, 4.84, 3},
    {"NL", "Amsterdam", 52.37, 4.90, 6}, {"ES", "Madrid", 40.42, -3.70, 6},
    {"IT", "Milan", 45.46, 9.19, 5},    {"GB", "London", 51.51, -0.13, 10},
    {"PL", "Warsaw", 52.23, 21.01, 4},  {"SE", "Stockholm", 59.33, 18.07, 3},
    {"US", "New York", 40.71, -74.01, 6}, {"US", "San Francisco", 37.77, -122.42, 3},
    {"BR", "Sao Paulo", -23.55, -46.63, 5}, {"IN", "Bengaluru", 12.97, 77.59, 4},
    {"NG", "Lagos", 6.52, 3.38, 3},     {"SG", "Singapore", 1.35, 103.82, 2},
}};

template <std::size_t N, typename T, typename F>
std::size_t PickWeighted(SimRng& rng, const std::array<T, N>& items, F weight) {
  std::array<double, N> w{};
  for (std::size_t i = 0; i < N; ++i) w[i] = weight(items[i]);
  return rng.Pick(w);
}

bool SameContinent(const City& a, const City& b) {
  auto region = [](const City& c) { return c.lon < -30 ? 0 : (c.lon > 60 ? 2 : 1); };
  return region(a) == region(b);
}

}  // namespace

Device PickDevice(SimRng& rng) {
  return kDevices[PickWeighted(rng, kDevices, [](const Weighted& d) { return d.weight; })].device;
}

const City& PickCity(SimRng& rng) {
  return kCities[PickWeighted(rng, kCities, [](const City& c) { return c.weight; })];
}

const City& PickFarCity(SimRng& rng, const City& home) {
  for (int i = 0; i < 64; ++i) {
    const City& c = kCities[rng.Below(kCities.size())];
    if (!SameContinent(c, home)) return c;
  }
  return home.lon < -30 ? kCities[0] : kCities[10];
}

Customer CustomerAt(std::uint64_t seed, std::uint64_t index) {
  SimRng rng = SimRng::Derive(seed ^ 0xC0570E5ull, index);
  Customer c;
  c.index = index;
  // Tenure: 8% opened this month, the rest spread over years (median about 1.5 years).
  c.tenure_days = rng.Bernoulli(0.08) ? rng.Uniform(0, 30) : std::min(4000.0, rng.LogNormal(550, 0.9));
  c.typical_amount = std::clamp(rng.LogNormal(45, 0.8), 2.0, 2500.0);
  double pm = rng.Uniform();
  c.payment_method = pm < 0.82 ? "card" : (pm < 0.94 ? "wallet" : "bank_transfer");
  c.home = &PickCity(rng);
  std::string_view country = c.home->country;
  // Amounts are EUR-equivalent everywhere; the currency only labels them.
  c.currency = country == "US" ? "USD" : (country == "GB" ? "GBP" : "EUR");
  c.device = PickDevice(rng);
  c.device_id = rng.Next();
  c.card_id = rng.Next();
  return c;
}

}  // namespace vigil::sim
