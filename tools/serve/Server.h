#pragma once
// fathom-serve's HTTP side (cpp-httplib): the OpenAI routes, /health and /metrics. Handlers
// parse and validate, hand generation to the Scheduler and stream its pieces back as
// server-sent events; bad requests get 4xx with an OpenAI error object, overload 429 / 503.
#include "Api.h"
#include "Metrics.h"
#include "Scheduler.h"

#include <atomic>
#include <memory>
#include <string>

namespace httplib {
class Server;
}

namespace fathom::serve {

struct ServerOptions {
  size_t maxBodyBytes = 1 << 20;
  int threads = 64; // connections served at once
};

class Server {
public:
  Server(const Api& api, Scheduler& scheduler, Metrics& metrics, ServerOptions options);
  ~Server();
  // Binds host:port (0: a free port) and returns the port; throws fathom::Error.
  int bind(const std::string& host, int port);
  // Serves until stop().
  void listen();
  void stop();

private:
  void routes();

  const Api& api_;
  Scheduler& scheduler_;
  Metrics& metrics_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<uint64_t> nextId_{1};
};

} // namespace fathom::serve
