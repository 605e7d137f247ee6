// What the disk under the audit log does when asked to flush: appends of CHUNK bytes to a
// preallocated file in DIR, each followed by fdatasync, from THREADS threads at once; prints the
// flush latency's quantiles and the flushes per second. With `audit.synchronous: full` each
// decision waits for about two of these (bench/RESULTS.md, README "Durability").
//   build/bench/fsync_probe DIR [COUNT per thread] [CHUNK bytes] [THREADS]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [COUNT per thread] [CHUNK bytes] [THREADS]\n", argv[0]);
    return 2;
  }
  const std::string path = std::string(argv[1]) + "/vigil-fsync-probe.bin";
  const int count = argc > 2 ? std::atoi(argv[2]) : 2000;
  const long chunk = argc > 3 ? std::atol(argv[3]) : 32768;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 1;
  constexpr long kFileBytes = 64L << 20;  // rewritten in place, as SQLite rewrites its WAL
  if (count <= 0 || chunk <= 0 || chunk > kFileBytes || threads <= 0 || threads > 64) {
    std::fprintf(stderr, "COUNT, CHUNK (at most 64 MB) and THREADS (at most 64) must be positive\n");
    return 2;
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::fprintf(stderr, "cannot create %s: %s\n", path.c_str(), std::strerror(errno));
    return 1;
  }
  {
    const std::vector<char> fill(1 << 20, 'f');
    for (long off = 0; off < kFileBytes; off += static_cast<long>(fill.size())) {
      if (::pwrite(fd, fill.data(), fill.size(), off) != static_cast<ssize_t>(fill.size())) {
        std::fprintf(stderr, "cannot write %s: %s\n", path.c_str(), std::strerror(errno));
        ::unlink(path.c_str());
        return 1;
      }
    }
    ::fsync(fd);
  }
  std::atomic<long> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::vector<double> us;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      const std::vector<char> buf(static_cast<std::size_t>(chunk), 'x');
      std::vector<double> mine;
      mine.reserve(static_cast<std::size_t>(count));
      for (int i = 0; i < count && !failed; ++i) {
        const long off = next.fetch_add(chunk) % (kFileBytes - chunk + 1);
        if (::pwrite(fd, buf.data(), buf.size(), off) != static_cast<ssize_t>(buf.size())) failed = true;
        const auto a = std::chrono::steady_clock::now();
        if (::fdatasync(fd) != 0) failed = true;
        mine.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
      }
      std::lock_guard lk(mu);
      us.insert(us.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : pool) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  ::unlink(path.c_str());
  if (failed || us.empty()) {
    std::fprintf(stderr, "a write or fdatasync failed: %s\n", std::strerror(errno));
    return 1;
  }
  std::sort(us.begin(), us.end());
  auto q = [&](double p) { return us[static_cast<std::size_t>(p * static_cast<double>(us.size() - 1))]; };
  std::printf("%d thread(s), %ld-byte appends: %zu fdatasyncs, %.0f a second; p50 %.0f us, p90 %.0f, p99 %.0f, "
              "p99.9 %.0f, max %.0f\n",
              threads, chunk, us.size(), static_cast<double>(us.size()) / secs, q(0.5), q(0.9), q(0.99), q(0.999),
              us.back());
  return 0;
}
