#include "simulate/driver.h"

#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "client/http_client.h"
#include "core/json_writer.h"
#include "core/log.h"

namespace vigil::sim {
namespace {

using Clock = std::chrono::steady_clock;

struct PendingLabel {
  std::int64_t due_ms;
  std::string body;
  bool operator>(const PendingLabel& o) const { return due_ms > o.due_ms; }
};

struct Answer {
  std::string decision;
  std::string next_token;
  int max_attempts = 0;
};

bool ParseAnswer(const std::string& body, Answer& out) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc)) return false;
  std::string_view s;
  if (doc["decision"].get(s)) return false;
  out.decision = std::string(s);
  if (!doc["next_token"].get(s)) out.next_token = std::string(s);
  int64_t n = 0;
  if (!doc["max_attempts"].get(n)) out.max_attempts = static_cast<int>(n);
  return true;
}

std::string SessionToken(const std::string& body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view s;
  if (parser.parse(body).get(doc) || doc["session_token"].get(s)) return {};
  return std::string(s);
}

// The session's challenge steps (["turn_left", "turn_right"]), empty when absent.
std::vector<std::string> ChallengeSteps(const std::string& body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array steps;
  std::vector<std::string> out;
  if (parser.parse(body).get(doc) || doc["challenge"]["steps"].get(steps)) return out;
  for (auto step : steps) {
    std::string_view v;
    if (!step.get(v)) out.emplace_back(v);
  }
  return out;
}

std::string LabelBody(const SimEvent& e, const std::string& source, std::int64_t time_ms) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("request_id", e.request_id).Field("label", e.truth.label);
  if (!e.truth.attack_type.empty()) w.Field("attack_type", e.truth.attack_type);
  w.Field("source", source).Field("labelled_at", FormatRfc3339Ms(time_ms)).EndObject();
  return out;
}

class Run {
 public:
  Run(TrafficGenerator& traffic, const DriveOptions& opt) : traffic_(traffic), opt_(opt) {}

  Result<DriveReport> Go() {
    HttpClient probe(opt_.host, opt_.port);
    auto ready = probe.Get("/readyz");
    if (!ready.ok()) return Error::Io("cannot reach the server at " + opt_.host + ":" + std::to_string(opt_.port) + ": " +
                                      ready.error().ToString());
    // A route the server lacks answers 404; one it has answers an empty body with 400/422.
    if (opt_.sessions) sessions_ = RouteExists(probe, "/v1/sessions");
    if (opt_.labels) labels_ = RouteExists(probe, "/v1/labels");
    start_ = Clock::now();
    next_send_s_ = 0;
    const int n = std::max(1, opt_.concurrency);
    std::vector<std::thread> workers;
    for (int i = 0; i < n; ++i) workers.emplace_back([this] { Work(); });
    auto next_progress = start_ + std::chrono::duration<double>(opt_.progress_interval_s);
    while (finished_workers_.load() < n) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (opt_.on_progress && Clock::now() >= next_progress) {
        next_progress += std::chrono::duration<double>(opt_.progress_interval_s);
        opt_.on_progress(Take());
      }
    }
    for (auto& t : workers) t.join();
    // Labels due inside the simulated window go out; later ones would arrive after it.
    HttpClient client(opt_.host, opt_.port);
    PostDueLabels(client, sim_now_.load());
    {
      std::lock_guard lock(labels_mu_);
      stats_.SetLabelsPending(labels_pending_.size());
    }
    if (key_refused_ != 0) {
      return Error::Invalid("the server refused the API key (HTTP " + std::to_string(key_refused_) +
                            "): pass a key with scopes decide and label (--key or $VIGIL_API_KEY)");
    }
    DriveReport report;
    report.final = Take();
    report.sessions_used = sessions_;
    report.labels_used = labels_;
    return report;
  }

 private:
  bool RouteExists(HttpClient& c, const char* path) {
    auto r = c.PostJson(path, "{}", opt_.api_key);
    return r.ok() && r->status != 404 && r->status != 405;
  }

  Snapshot Take() const {
    return stats_.Take(std::chrono::duration<double>(Clock::now() - start_).count());
  }

  // The next event and when to send it; false when the run is over.
  bool NextEvent(SimEvent& e, Clock::time_point& send_at) {
    std::lock_guard lock(gen_mu_);
    if (done_) return false;
    if ((opt_.stop && opt_.stop->load()) || (opt_.count > 0 && issued_ >= opt_.count) ||
        (opt_.duration_s > 0 && Clock::now() - start_ >= std::chrono::duration<double>(opt_.duration_s))) {
      done_ = true;
      return false;
    }
    e = traffic_.Next();
    if (opt_.days > 0 && traffic_.Day(e.time_ms) >= opt_.days) {
      done_ = true;
      return false;
    }
    ++issued_;
    send_at = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(next_send_s_));
    if (opt_.rate > 0) next_send_s_ += 1.0 / (opt_.rate * traffic_.LoadFactor(e.time_ms));
    return true;
  }

  void Work() {
    HttpClient client(opt_.host, opt_.port);
    SimEvent e;
    Clock::time_point send_at;
    while (NextEvent(e, send_at)) {
      if (opt_.rate > 0) std::this_thread::sleep_until(send_at);
      stats_.Event(e.time_ms);
      std::int64_t prev = sim_now_.load();
      while (prev < e.time_ms && !sim_now_.compare_exchange_weak(prev, e.time_ms)) {
      }
      if (e.kind == EventKind::kLiveness) {
        Liveness(client, std::move(e));
      } else {
        Transaction(client, e);
      }
      PostDueLabels(client, sim_now_.load());
    }
    finished_workers_++;
  }

  // One POST; returns the parsed answer or records the error.
  bool Decide(HttpClient& client, const SimEvent& e, const std::string& token, Answer& answer,
              const std::vector<std::string>& steps = {}) {
    const std::string body = e.RequestBody(token, opt_.media, steps);
    const auto t0 = Clock::now();
    auto r = client.PostJson("/v1/decisions", body, opt_.api_key);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!r.ok()) {
      stats_.Error("transport");
      return false;
    }
    if (r->status != 200 || !ParseAnswer(r->body, answer)) {
      stats_.Error(std::to_string(r->status));
      if (r->status == 401 || r->status == 403) RefusedKey(r->status);
      if (r->status != 429 && r->status != 503) LogOnce(r->status, r->body);
      return false;
    }
    stats_.Decision(e.kind == EventKind::kLiveness, answer.decision, ms, e.ContextString("platform"));
    return true;
  }

  void Liveness(HttpClient& client, SimEvent e) {
    std::string token;
    std::vector<std::string> steps;  // the session's challenge, followed in the frames (--media)
    if (sessions_) {
      auto r = client.PostJson("/v1/sessions", e.SessionBody(), opt_.api_key);
      if (!r.ok() || (r->status != 200 && r->status != 201) || (token = SessionToken(r->body)).empty()) {
        stats_.Error(r.ok() ? std::to_string(r->status) + " session" : "transport");
        if (r.ok() && (r->status == 401 || r->status == 403)) RefusedKey(r->status);
        if (r.ok()) LogOnce(r->status, r->body);
        return;
      }
      if (opt_.media) steps = ChallengeSteps(r->body);
      stats_.Session();
    }
    Answer answer;
    for (;;) {
      answer = Answer{};
      if (!Decide(client, e, token, answer, steps)) return;
      const int max_attempts = answer.max_attempts > 0 ? answer.max_attempts : 3;
      if (answer.decision != "retry" || e.attempt >= max_attempts) break;
      if (sessions_ && answer.next_token.empty()) break;  // the server ended the session
      token = answer.next_token;
      e = traffic_.NextAttempt(e);
    }
    Finish(e, answer.decision);
  }

  void Transaction(HttpClient& client, const SimEvent& e) {
    Answer answer;
    if (Decide(client, e, {}, answer)) Finish(e, answer.decision);
  }

  void Finish(const SimEvent& e, const std::string& outcome) {
    stats_.Journey(e.truth.label, outcome);
    if (!labels_ || !e.truth.labelled) return;
    // A fraud that went through comes back as a chargeback days later; the rest is reviewed.
    const bool chargeback = e.truth.label == "fraud" && outcome == "allow";
    const std::int64_t due = e.time_ms + static_cast<std::int64_t>(chargeback ? e.truth.chargeback_delay_ms
                                                                              : e.truth.review_delay_ms);
    std::lock_guard lock(labels_mu_);
    labels_pending_.push({due, LabelBody(e, chargeback ? "chargeback" : "manual_review", due)});
  }

  void PostDueLabels(HttpClient& client, std::int64_t now_ms) {
    if (!labels_) return;
    for (;;) {
      PendingLabel l;
      {
        std::lock_guard lock(labels_mu_);
        if (labels_pending_.empty() || labels_pending_.top().due_ms > now_ms) return;
        l = labels_pending_.top();
        labels_pending_.pop();
      }
      auto r = client.PostJson("/v1/labels", l.body, opt_.api_key);
      const bool ok = r.ok() && r->status >= 200 && r->status < 300;
      stats_.Label(ok);
      if (!ok && r.ok()) LogOnce(r->status, r->body);
    }
  }

  // A refused key refuses everything: stop at once instead of sending the whole run.
  void RefusedKey(int status) {
    std::lock_guard lock(gen_mu_);
    done_ = true;
    key_refused_ = status;
  }

  void LogOnce(int status, const std::string& body) {
    std::lock_guard lock(log_mu_);
    if (logged_statuses_++ >= 5) return;
    Log(LogLevel::kWarn, "simulate_request_refused").Int("status", status).Str("body", body.substr(0, 300));
  }

  TrafficGenerator& traffic_;
  const DriveOptions& opt_;
  RunStats stats_;
  bool sessions_ = false, labels_ = false;
  Clock::time_point start_;
  std::mutex gen_mu_;
  bool done_ = false;
  int key_refused_ = 0;
  std::uint64_t issued_ = 0;
  double next_send_s_ = 0;
  std::atomic<int> finished_workers_{0};
  std::atomic<std::int64_t> sim_now_{0};
  std::mutex labels_mu_;
  std::priority_queue<PendingLabel, std::vector<PendingLabel>, std::greater<>> labels_pending_;
  std::mutex log_mu_;
  int logged_statuses_ = 0;
};

}  // namespace

Result<DriveReport> Drive(TrafficGenerator& traffic, const DriveOptions& options) {
  Run run(traffic, options);
  return run.Go();
}

Result<std::uint64_t> WriteJsonl(TrafficGenerator& traffic, const std::string& path, std::uint64_t count, double days,
                                 const MediaLibrary* media) {
  if (count == 0 && days <= 0) return Error::Invalid("writing to a file needs --count or --days");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error::Io("cannot write " + path);
  std::uint64_t n = 0;
  std::string line;
  while (count == 0 || n < count) {
    SimEvent e = traffic.Next();
    if (days > 0 && traffic.Day(e.time_ms) >= days) break;
    line.clear();
    JsonWriter w(line);
    w.BeginObject().Key("request").Raw(e.RequestBody({}, media)).Key("truth").BeginObject()
        .Field("label", e.truth.label).Field("attack_type", e.truth.attack_type).Field("quality", e.truth.quality)
        .Field("labelled", e.truth.labelled).Field("review_delay_ms", std::round(e.truth.review_delay_ms))
        .Field("chargeback_delay_ms", std::round(e.truth.chargeback_delay_ms)).EndObject().EndObject();
    line += '\n';
    out << line;
    ++n;
  }
  out.flush();
  if (!out) return Error::Io("write failed: " + path);
  return n;
}

}  // namespace vigil::sim
