#include "alerts/notifier.h"

#include <charconv>

#include "client/http_client.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace vigil::alerts {
namespace {

struct Url {
  std::string host, target = "/";
  int port = 80;
};

bool ParseUrl(std::string_view url, Url* out) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  url.remove_prefix(kScheme.size());
  auto slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  if (slash != std::string_view::npos) out->target = std::string(url.substr(slash));
  auto colon = hostport.rfind(':');
  out->host = std::string(hostport.substr(0, colon));
  if (colon != std::string_view::npos) {
    auto p = hostport.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), out->port);
    if (ec != std::errc() || ptr != p.data() + p.size()) return false;
  }
  return !out->host.empty();
}

}  // namespace

struct Notifier::Route {
  RouteConfig cfg;
  Url url;
  mutable std::mutex mu;
  std::condition_variable cv, idle_cv;
  std::deque<std::string> queue;  // rendered bodies
  bool stop = false, busy = false;
  RouteStats stats;
  std::thread thread;
};

Notifier::Notifier(std::vector<RouteConfig> routes) {
  for (auto& rc : routes) {
    auto r = std::make_unique<Route>();
    r->cfg = std::move(rc);
    r->stats.name = r->cfg.name;
    if (r->cfg.kind == RouteConfig::Kind::kWebhook && !ParseUrl(r->cfg.url, &r->url)) {
      Log(LogLevel::kError, "alert_route_bad_url").Str("route", r->cfg.name);
      continue;
    }
    routes_.push_back(std::move(r));
  }
  for (auto& r : routes_) {
    if (r->cfg.kind == RouteConfig::Kind::kWebhook) r->thread = std::thread([this, p = r.get()] {
      NameThisThread("alert-webhook");
      Run(*p);
    });
  }
}

Notifier::~Notifier() { Stop(); }

void Notifier::Send(const Notification& n) {
  const Alert& a = n.alert;
  std::string body;
  for (auto& r : routes_) {
    if (!a.routes.empty() && std::find(a.routes.begin(), a.routes.end(), r->cfg.name) == a.routes.end()) continue;
    if (r->cfg.kind == RouteConfig::Kind::kLog) {
      Log(a.severity == "critical" ? LogLevel::kError : LogLevel::kWarn, "alert")
          .Str("state", AlertStateName(a.state)).Str("rule", a.rule).Str("slice", a.slice)
          .Str("severity", a.severity).Str("metric", a.metric).Num("value", a.value).Num("baseline", a.baseline)
          .Str("first_action", a.action).Str("evidence_id", a.evidence_ids.empty() ? "" : a.evidence_ids.front());
      std::lock_guard<std::mutex> lock(r->mu);
      ++r->stats.delivered;
      continue;
    }
    if (body.empty()) body = RenderNotification(n);
    std::lock_guard<std::mutex> lock(r->mu);
    if (r->stop) continue;
    if (r->queue.size() >= r->cfg.queue_limit) {
      r->queue.pop_front();
      ++r->stats.dropped;
    }
    r->queue.push_back(body);
    r->cv.notify_one();
  }
}

void Notifier::Run(Route& r) {
  std::unique_ptr<HttpClient> client;
  for (;;) {
    std::string body;
    {
      std::unique_lock<std::mutex> lock(r.mu);
      r.busy = false;
      r.idle_cv.notify_all();
      r.cv.wait(lock, [&] { return r.stop || !r.queue.empty(); });
      if (r.stop) return;
      body = std::move(r.queue.front());
      r.queue.pop_front();
      r.busy = true;
    }
    int backoff = r.cfg.backoff_ms;
    for (int attempt = 1; attempt <= r.cfg.max_attempts; ++attempt) {
      if (!client) client = std::make_unique<HttpClient>(r.url.host, r.url.port, std::chrono::milliseconds(r.cfg.timeout_ms));
      auto res = client->Request("POST", r.url.target, body, {{"Content-Type", "application/json"}, {"User-Agent", "vigil-alerts"}});
      const bool ok = res.ok() && res->status >= 200 && res->status < 300;
      if (ok) {
        std::lock_guard<std::mutex> lock(r.mu);
        ++r.stats.delivered;
        break;
      }
      client.reset();  // a fresh connection for the next attempt
      if (attempt == r.cfg.max_attempts) {
        Log(LogLevel::kError, "alert_delivery_failed").Str("route", r.cfg.name).Int("attempts", attempt)
            .Str("error", res.ok() ? "status " + std::to_string(res->status) : res.error().ToString());
        std::lock_guard<std::mutex> lock(r.mu);
        ++r.stats.failed;
        break;
      }
      std::unique_lock<std::mutex> lock(r.mu);
      ++r.stats.retries;
      if (r.cv.wait_for(lock, std::chrono::milliseconds(backoff), [&] { return r.stop; })) return;
      backoff *= 2;
    }
  }
}

bool Notifier::Drain(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& r : routes_) {
    std::unique_lock<std::mutex> lock(r->mu);
    if (!r->idle_cv.wait_until(lock, deadline, [&] { return r->stop || (r->queue.empty() && !r->busy); })) return false;
  }
  return true;
}

void Notifier::Stop() {
  for (auto& r : routes_) {
    {
      std::lock_guard<std::mutex> lock(r->mu);
      r->stop = true;
    }
    r->cv.notify_all();
    r->idle_cv.notify_all();
  }
  for (auto& r : routes_) {
    if (r->thread.joinable()) r->thread.join();
  }
}

std::vector<RouteStats> Notifier::stats() const {
  std::vector<RouteStats> out;
  for (const auto& r : routes_) {
    std::lock_guard<std::mutex> lock(r->mu);
    out.push_back(r->stats);
  }
  return out;
}

}  // namespace vigil::alerts
