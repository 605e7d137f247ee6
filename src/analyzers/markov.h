// Session trajectories as a discrete-time Markov chain over action types ("login", "browse",
// "checkout", ...), fitted from legitimate sessions by `vigil trajectory fit`.
//
// Fit: transition counts c[i][j] between consecutive actions of each session; the smoothed
// (additive, Laplace/Lidstone) transition matrix P[i][j] = (c[i][j] + alpha) / (sum_j c[i][j] +
// alpha * K); the stationary distribution pi = pi P by power iteration from the uniform vector
// (exists and is unique because smoothing makes P strictly positive, hence ergodic); and the
// baseline action rate (events per minute of each session with at least two events and a
// positive duration), its mean and standard deviation.
//
// File (JSON): {"version", "alpha", "actions": [K names], "transitions": [[K x K]],
//               "stationary": [K], "rate_mean", "rate_std", "sessions", "events"}
// Thread-safety: immutable values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vigil::analyzers {

struct SessionEvent {
  std::string session;
  std::int64_t time_ms = 0;
  std::string action;
};

struct MarkovModel {
  std::string version;
  double alpha = 0.1;
  std::vector<std::string> actions;
  std::vector<double> transitions;  // K x K, row-major: P[from * K + to]
  std::vector<double> stationary;   // K
  double rate_mean = 0.0;           // events per minute
  double rate_std = 0.0;
  std::uint64_t sessions = 0;
  std::uint64_t events = 0;

  std::size_t size() const { return actions.size(); }
  // The index of an action, or nullopt for one the model never saw.
  std::optional<std::size_t> Find(std::string_view action) const;
  double P(std::size_t from, std::size_t to) const { return transitions[from * actions.size() + to]; }
};

// Power iteration pi <- pi P from the uniform vector until the L1 change is below `tol`.
std::vector<double> StationaryDistribution(const std::vector<double>& p, std::size_t k, double tol = 1e-12,
                                           int max_iter = 10000);

// Fits a model from events (any order; grouped by session and sorted by time here).
Result<MarkovModel> FitMarkov(std::vector<SessionEvent> events, double alpha, std::string version);

// Reads "session_id,time_ms,action" lines (a header line is skipped) into events.
Result<std::vector<SessionEvent>> ReadSessionCsv(std::string_view text, const std::string& source);

std::string SerializeMarkov(const MarkovModel& m);
Result<MarkovModel> ParseMarkov(std::string_view text, const std::string& source);
Result<MarkovModel> LoadMarkovFile(const std::string& path);

}  // namespace vigil::analyzers
