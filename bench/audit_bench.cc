// The audit store alone: C clients each keep one decision record in flight (the next append is
// made from the previous one's `done`, as a keep-alive HTTP client waits for its answer), records
// the size of a transaction decision's (payload 1.8 KB, response 1.3 KB). Reports records per
// second and the process's CPU time per record (all threads: writer, completer, checkpointer,
// kernel time of their writes and syncs), which stays meaningful on a loaded machine.
//   build/bench/audit_bench --benchmark_filter=Append/32
// Arguments: clients, synchronous (0 off, 1 normal, 2 full).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/sqlite_audit_store.h"

namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

std::string Filler(std::size_t n, char seed) {
  std::string s;
  s.reserve(n);
  for (std::size_t i = 0; s.size() < n; ++i) s += "{\"k" + std::to_string(i) + "\":" + std::to_string((i * 7919 + static_cast<std::size_t>(seed)) % 100003) + "},";
  s.resize(n);
  return s;
}

struct Load {
  vigil::AuditStore* store = nullptr;
  std::string payload, response;
  std::atomic<std::int64_t> next{0};
  std::int64_t total = 0;
  std::string run;
  std::mutex mu;
  std::condition_variable cv;
  std::int64_t finished = 0;

  void Send() {
    std::int64_t n = next.fetch_add(1);
    if (n >= total) return;
    vigil::AppendRequest r;
    // Random-looking ids, as clients make them (UUIDs), then the number to keep them unique.
    std::uint64_t h = static_cast<std::uint64_t>(n) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 31;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h * 0xbf58476d1ce4e5b9ull));
    r.request_id = std::string(hex) + run + std::to_string(n);
    r.body_sha256 = std::string(64, 'a');
    r.time_ms = 1796000000000 + n;
    r.payload = payload;
    r.response = response;
    r.evidence_offset = 20;
    store->Append(std::move(r), [this](vigil::AppendResult res) {
      if (res.status != vigil::AppendResult::Status::kOk) std::abort();
      {
        std::lock_guard lk(mu);
        ++finished;
      }
      cv.notify_one();
      Send();
    });
  }
};

void BM_Append(benchmark::State& state) {
  const int clients = static_cast<int>(state.range(0));
  const char* sync[] = {"off", "normal", "full"};
  auto dir = std::filesystem::temp_directory_path() / ("vigil-audit-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  vigil::SqliteAuditOptions opt;
  opt.head_secret = "bench";
  const char* scale = std::getenv("AUDIT_BENCH_SIZE_PCT");
  const std::size_t pct = scale ? static_cast<std::size_t>(std::atoi(scale)) : 100;
  // A log that already holds records, as in production (AUDIT_BENCH_PREFILL, default 100,000):
  // an index on random request ids costs more as it grows, so an empty log flatters it.
  const char* prefill_env = std::getenv("AUDIT_BENCH_PREFILL");
  const std::int64_t prefill = prefill_env ? std::atoll(prefill_env) : 100000;
  if (prefill > 0) {
    opt.synchronous = "off";
    auto pre = vigil::OpenSqliteAuditStore(dir.string(), opt);
    if (!pre.ok()) {
      state.SkipWithError("cannot open the store");
      return;
    }
    Load fill;
    fill.store = pre->get();
    fill.payload = Filler(1800 * pct / 100, 'p');
    fill.response = Filler(1300 * pct / 100, 'r');
    fill.total = prefill;
    fill.run = "pre_";
    for (int i = 0; i < 64; ++i) fill.Send();
    std::unique_lock lk(fill.mu);
    fill.cv.wait(lk, [&] { return fill.finished == fill.total; });
  }
  opt.synchronous = sync[state.range(1)];
  auto store = vigil::OpenSqliteAuditStore(dir.string(), opt);
  if (!store.ok()) {
    state.SkipWithError("cannot open the store");
    return;
  }
  Load load;
  load.store = store->get();
  load.payload = Filler(1800 * pct / 100, 'p');
  load.response = Filler(1300 * pct / 100, 'r');
  std::int64_t records = 0;
  double cpu = 0;
  const vigil::AuditStoreStats before = store->get()->stats();
  int round = 0;
  for (auto _ : state) {
    load.total = 4000;
    load.next = 0;
    load.finished = 0;
    load.run = "r" + std::to_string(round++) + "_";
    const double c0 = CpuSeconds();
    for (int i = 0; i < clients; ++i) load.Send();
    std::unique_lock lk(load.mu);
    load.cv.wait(lk, [&] { return load.finished == load.total; });
    lk.unlock();
    cpu += CpuSeconds() - c0;
    records += load.total;
  }
  store->get()->Flush();
  const vigil::AuditStoreStats after = store->get()->stats();
  state.counters["wal_kb_per_record"] = static_cast<double>(after.wal_bytes - before.wal_bytes) / 1024.0 / static_cast<double>(records);
  state.counters["records_per_group"] = static_cast<double>(after.records - before.records) / static_cast<double>(after.groups - before.groups);
  state.counters["records_per_s"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.counters["cpu_us_per_record"] = cpu * 1e6 / static_cast<double>(records);
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Append)->Args({32, 2})->Args({32, 1})->Args({1, 2})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
