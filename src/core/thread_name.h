// Names the calling thread (at most 15 characters show), so that `top -H`, `perf report --sort
// comm` and a debugger tell the server's threads apart: vigil-io, audit-writer, audit-done, ...
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace vigil {

inline void NameThisThread(std::string_view name) {
  std::string n(name.substr(0, 15));
  pthread_setname_np(pthread_self(), n.c_str());
}

}  // namespace vigil
