#include "analyzers/markov.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "core/file.h"
#include "core/json_writer.h"
#include "core/yaml_reader.h"

namespace vigil::analyzers {

std::optional<std::size_t> MarkovModel::Find(std::string_view action) const {
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (actions[i] == action) return i;
  }
  return std::nullopt;
}

std::vector<double> StationaryDistribution(const std::vector<double>& p, std::size_t k, double tol, int max_iter) {
  std::vector<double> pi(k, 1.0 / static_cast<double>(k)), next(k);
  for (int it = 0; it < max_iter; ++it) {
    std::fill(next.begin(), next.end(), 0.0);
    for (std::size_t i = 0; i < k; ++i) {
      for (std::size_t j = 0; j < k; ++j) next[j] += pi[i] * p[i * k + j];
    }
    double total = 0, change = 0;
    for (double v : next) total += v;
    for (std::size_t j = 0; j < k; ++j) {
      next[j] /= total;
      change += std::abs(next[j] - pi[j]);
    }
    pi.swap(next);
    if (change < tol) break;
  }
  return pi;
}

Result<MarkovModel> FitMarkov(std::vector<SessionEvent> events, double alpha, std::string version) {
  if (!(alpha > 0)) return Error::Invalid("alpha must be positive (smoothing keeps every transition possible)");
  if (events.empty()) return Error::Invalid("no sessions to fit");
  std::stable_sort(events.begin(), events.end(), [](const SessionEvent& a, const SessionEvent& b) {
    return a.session != b.session ? a.session < b.session : a.time_ms < b.time_ms;
  });
  MarkovModel m;
  m.version = std::move(version);
  m.alpha = alpha;
  std::map<std::string, std::size_t> index;
  for (const auto& e : events) index.emplace(e.action, 0);
  for (auto& [name, i] : index) {
    i = m.actions.size();
    m.actions.push_back(name);
  }
  const std::size_t k = m.actions.size();
  std::vector<double> counts(k * k, 0.0);
  std::vector<double> rates;
  for (std::size_t i = 0; i < events.size();) {
    std::size_t j = i;
    while (j < events.size() && events[j].session == events[i].session) ++j;
    for (std::size_t t = i + 1; t < j; ++t) counts[index[events[t - 1].action] * k + index[events[t].action]] += 1;
    const double minutes = static_cast<double>(events[j - 1].time_ms - events[i].time_ms) / 60000.0;
    if (j - i >= 2 && minutes > 0) rates.push_back(static_cast<double>(j - i - 1) / minutes);
    ++m.sessions;
    i = j;
  }
  m.events = events.size();
  m.transitions.assign(k * k, 0.0);
  for (std::size_t a = 0; a < k; ++a) {
    double row = 0;
    for (std::size_t b = 0; b < k; ++b) row += counts[a * k + b];
    for (std::size_t b = 0; b < k; ++b) {
      m.transitions[a * k + b] = (counts[a * k + b] + alpha) / (row + alpha * static_cast<double>(k));
    }
  }
  m.stationary = StationaryDistribution(m.transitions, k);
  if (!rates.empty()) {
    double mean = 0;
    for (double r : rates) mean += r;
    mean /= static_cast<double>(rates.size());
    double var = 0;
    for (double r : rates) var += (r - mean) * (r - mean);
    m.rate_mean = mean;
    m.rate_std = rates.size() > 1 ? std::sqrt(var / static_cast<double>(rates.size() - 1)) : 0.0;
  }
  return m;
}

Result<std::vector<SessionEvent>> ReadSessionCsv(std::string_view text, const std::string& source) {
  std::vector<SessionEvent> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::size_t c1 = line.find(','), c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    const std::string where = source + ":" + std::to_string(line_no);
    if (c2 == std::string_view::npos) return Error::Parse("expected session_id,time_ms,action", where);
    SessionEvent e;
    e.session = std::string(line.substr(0, c1));
    std::string_view t = line.substr(c1 + 1, c2 - c1 - 1);
    e.action = std::string(line.substr(c2 + 1));
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), e.time_ms);
    if (ec != std::errc() || ptr != t.data() + t.size()) {
      if (line_no == 1) continue;  // a header
      return Error::Parse("time_ms is not an integer", where);
    }
    if (e.session.empty() || e.action.empty()) return Error::Parse("empty session id or action", where);
    out.push_back(std::move(e));
  }
  return out;
}

std::string SerializeMarkov(const MarkovModel& m) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("version", m.version).Field("alpha", m.alpha).Key("actions").BeginArray();
  for (const auto& a : m.actions) w.String(a);
  w.EndArray().Key("transitions").BeginArray();
  const std::size_t k = m.size();
  for (std::size_t i = 0; i < k; ++i) {
    w.BeginArray();
    for (std::size_t j = 0; j < k; ++j) w.Number(m.P(i, j));
    w.EndArray();
  }
  w.EndArray().Key("stationary").BeginArray();
  for (double v : m.stationary) w.Number(v);
  w.EndArray()
      .Field("rate_mean", m.rate_mean)
      .Field("rate_std", m.rate_std)
      .Field("sessions", static_cast<std::int64_t>(m.sessions))
      .Field("events", static_cast<std::int64_t>(m.events))
      .EndObject();
  out += '\n';
  return out;
}

Result<MarkovModel> ParseMarkov(std::string_view text, const std::string& source) {
  YamlReader r(text, source);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (!root.IsMap()) return Error::Invalid("a trajectory model is an object", source);
  r.OnlyKeys(root, "", {"version", "alpha", "actions", "transitions", "stationary", "rate_mean", "rate_std",
                        "sessions", "events"});
  MarkovModel m;
  auto version = r.String(root, "version", "", true);
  auto alpha = r.Number(root, "alpha", "", false);
  auto actions = r.StringList(root, "actions", "", true);
  auto stationary = r.NumberList(root, "stationary", "", false);
  auto mean = r.Number(root, "rate_mean", "", true);
  auto sd = r.Number(root, "rate_std", "", true);
  auto sessions = r.Number(root, "sessions", "", false);
  auto nevents = r.Number(root, "events", "", false);
  if (!r.ok()) return r.first_error();
  m.version = *version;
  m.alpha = alpha.value_or(0.0);
  m.actions = *actions;
  m.rate_mean = *mean;
  m.rate_std = *sd;
  m.sessions = static_cast<std::uint64_t>(sessions.value_or(0));
  m.events = static_cast<std::uint64_t>(nevents.value_or(0));
  const std::size_t k = m.actions.size();
  if (k == 0) return Error::Invalid("actions must not be empty", r.Where(root["actions"]));
  const YAML::Node rows = root["transitions"];
  if (!rows || !rows.IsSequence() || rows.size() != k) {
    return Error::Invalid("transitions must be " + std::to_string(k) + " rows", r.Where(rows ? rows : root));
  }
  for (std::size_t i = 0; i < k; ++i) {
    const YAML::Node row = rows[i];
    if (!row.IsSequence() || row.size() != k) {
      return Error::Invalid("transitions row " + std::to_string(i) + " must have " + std::to_string(k) + " entries",
                            r.Where(row));
    }
    double total = 0;
    for (std::size_t j = 0; j < k; ++j) {
      double v = -1;
      try {
        v = row[j].as<double>();
      } catch (const YAML::Exception&) {
      }
      if (!(v >= 0 && v <= 1)) return Error::Invalid("transition probabilities lie in [0, 1]", r.Where(row[j]));
      m.transitions.push_back(v);
      total += v;
    }
    if (std::abs(total - 1.0) > 1e-6) {
      return Error::Invalid("transitions row " + std::to_string(i) + " sums to " + std::to_string(total) + ", not 1",
                            r.Where(row));
    }
  }
  m.stationary = stationary && stationary->size() == k ? *stationary : StationaryDistribution(m.transitions, k);
  return m;
}

Result<MarkovModel> LoadMarkovFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  return ParseMarkov(*text, path);
}

}  // namespace vigil::analyzers
