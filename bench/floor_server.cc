// The floor for the HTTP figures: vigil's Beast transport (src/server/http_server) with a handler
// that answers every request with a fixed JSON body the size of a decision response, doing no
// work. vigil's throughput is reported as a share of this one, measured side by side.
//   floor_server PORT_FILE [BODY_BYTES]
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

#include "server/http_server.h"
#include "server/responses.h"

namespace {

class FixedBody : public vigil::HttpHandler {
 public:
  explicit FixedBody(std::size_t n) : body_("{\"pad\":\"" + std::string(n > 12 ? n - 12 : 0, 'x') + "\"}") {}
  void Handle(vigil::HttpRequest&& req, vigil::Responder respond) override {
    respond(vigil::JsonResponse(vigil::http::status::ok, body_, req.version()));
  }
  vigil::HttpResponse Problem(TransportProblem, unsigned version) override {
    return vigil::JsonResponse(vigil::http::status::bad_request, "{}", version);
  }

 private:
  std::string body_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: floor_server PORT_FILE [BODY_BYTES]\n");
    return 2;
  }
  std::size_t bytes = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 1400;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  vigil::IoPool pool(threads);
  FixedBody handler(bytes);
  vigil::HttpLimits limits;
  vigil::HttpServer server(pool, handler, limits);
  auto port = server.Listen("127.0.0.1", 0);
  if (!port.ok()) return 1;
  std::ofstream(argv[1]) << *port << "\n";
  boost::asio::signal_set signals(pool.main(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { pool.Stop(); });
  pool.Run("floor-io");
  return 0;
}
