// Memory per open session in the in-memory session store (issue 4: at most 512 bytes): the heap
// in use (glibc mallinfo2) before and after opening N sessions, divided by N, so the record, the
// hash map's node and bucket overhead are all counted. Also the cost of opening one.
//   build/bench/session_bench
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstring>

#include "core/crypto.h"
#include "session/session.h"

namespace {

vigil::SessionRecord Record(std::uint64_t i) {
  vigil::SessionRecord r;
  vigil::RandomBytes(r.id.data(), r.id.size());
  std::memcpy(r.id.data(), &i, sizeof(i));  // distinct ids, random shard byte
  std::memcpy(r.key_id.data(), "k1a2b3c4", 8);
  std::memcpy(r.flow_type.data(), "onboarding_liveness", 19);
  vigil::RandomBytes(r.nonce.data(), r.nonce.size());
  r.n_steps = 2;
  r.created_ms = 1796000000000;
  r.expires_ms = r.created_ms + 180000;
  return r;
}

void BM_BytesPerOpenSession(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  double per = 0;
  for (auto _ : state) {
    malloc_trim(0);
    const auto before = mallinfo2().uordblks;
    auto store = vigil::NewMemorySessionStore(2 * n);
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!store->Put(Record(i)).ok()) state.SkipWithError("put refused");
    }
    const auto after = mallinfo2().uordblks;
    per = static_cast<double>(after - before) / static_cast<double>(n);
  }
  state.counters["bytes_per_session"] = per;
  state.counters["sizeof_record"] = static_cast<double>(sizeof(vigil::SessionRecord));
}
BENCHMARK(BM_BytesPerOpenSession)->Arg(100000)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_OpenSession(benchmark::State& state) {
  auto store = vigil::NewMemorySessionStore(1 << 22);
  std::uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(store->Put(Record(i++)));
}
BENCHMARK(BM_OpenSession);

}  // namespace

BENCHMARK_MAIN();
