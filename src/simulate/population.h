// The simulated population: devices (platform, browser, device class, SDK and app versions),
// places (countries and cities with coordinates) and the transaction customers with tenure,
// amounts and habits. Shares are rough figures for a European-centred consumer app. Stateless
// functions of a SimRng; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "simulate/random.h"

namespace vigil::sim {

struct Device {
  const char* platform;       // ios | android | web
  const char* browser_family; // safari | chrome | firefox | edge | samsung
  const char* device_class;   // high | mid | low
  const char* sdk_version;
  const char* app_version;    // "" on web
  const char* os_version;
};

struct City {
  const char* country;
  const char* name;
  double lat, lon;
  double weight;
};

Device PickDevice(SimRng& rng);
const City& PickCity(SimRng& rng);
// A city on another continent than `home` (account takeover from abroad).
const City& PickFarCity(SimRng& rng, const City& home);

// A transaction customer, the same every time for one (seed, index).
struct Customer {
  std::uint64_t index = 0;
  double tenure_days = 0;     // account age at the start of the run
  double typical_amount = 0;  // median amount
  const char* payment_method = "card";
  const char* currency = "EUR";
  const City* home = nullptr;
  Device device{};
  std::uint64_t device_id = 0;
  std::uint64_t card_id = 0;
};

inline constexpr std::uint64_t kCustomers = 50000;
Customer CustomerAt(std::uint64_t seed, std::uint64_t index);

}  // namespace vigil::sim
