#include "Server.h"

#include "ClientConnection.h"

#include "fathom/runtime/Error.h"

#include <httplib.h>

#include <chrono>

namespace fathom::serve {
namespace {
using nlohmann::json;

void sendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

bool sendEvent(httplib::DataSink& sink, const json& body) {
  const std::string event = "data: " + body.dump() + "\n\n";
  return sink.write(event.data(), event.size());
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

Server::Server(const Api& api, Scheduler& scheduler, Metrics& metrics, ServerOptions options)
    : api_(api), scheduler_(scheduler), metrics_(metrics), options_(options),
      http_(std::make_unique<httplib::Server>()) {
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  http_->set_payload_max_length(options_.maxBodyBytes);
  routes();
}

Server::~Server() = default;

int Server::bind(const std::string& host, int port) {
  const int bound =
      port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (bound < 0)
    throw Error("cannot listen on " + host + ":" + std::to_string(port) +
                " (in use, or not an address of this machine)");
  return bound;
}

void Server::listen() {
  http_->listen_after_bind();
}

void Server::stop() {
  http_->stop();
}

void Server::routes() {
  auto generation = [this](Endpoint endpoint) {
    return [this, endpoint](const httplib::Request& req, httplib::Response& res) {
      ParsedRequest parsed;
      try {
        parsed = api_.parse(endpoint, req.body);
      } catch (const ApiError& error) {
        metrics_.countRequest("rejected");
        sendJson(res, error.status, error.body());
        return;
      } catch (const std::exception& error) {
        metrics_.countRequest("rejected");
        sendJson(res, 400, ApiError{400, error.what()}.body());
        return;
      }
      std::shared_ptr<Stream> stream = scheduler_.submit(parsed.generation);
      if (!stream) {
        metrics_.countRequest("rejected");
        sendJson(res, 429,
                 ApiError{429,
                          "the server is busy: its queue of waiting requests is full; retry "
                          "later",
                          "", "server_busy"}
                     .body());
        return;
      }
      const std::string id = (endpoint == Endpoint::Chat ? "chatcmpl-" : "cmpl-") +
                             std::to_string(nextId_.fetch_add(1));
      const int64_t created = unixNow();
      auto failure = [](const Completion& completion) {
        return ApiError{completion.overloaded ? 503 : 500, completion.error, "",
                        completion.overloaded ? "server_overloaded" : "server_error"};
      };
      if (!parsed.stream) {
        // Nothing is written until the end, so the socket itself says whether the client left.
        const std::optional<ClientConnection> client =
            ClientConnection::find(req.remote_addr, req.remote_port);
        std::vector<Piece> pieces;
        std::string text;
        Piece piece;
        auto checked = std::chrono::steady_clock::now();
        while (true) {
          const std::optional<bool> got = stream->next(piece, std::chrono::milliseconds(50));
          if (got && !*got)
            break;
          if (got) {
            text += piece.text;
            pieces.push_back(std::move(piece));
          }
          // Every 50 ms, whether pieces come or not.
          if (std::chrono::steady_clock::now() - checked >= std::chrono::milliseconds(50)) {
            checked = std::chrono::steady_clock::now();
            if (client && client->closed()) {
              stream->cancel(); // its blocks are freed at the scheduler's next turn
              return;
            }
          }
        }
        const Completion& completion = stream->completion();
        if (!completion.error.empty()) {
          ApiError error = failure(completion);
          sendJson(res, error.status, error.body());
          return;
        }
        sendJson(res, 200, api_.response(parsed, id, created, text, pieces, completion));
        return;
      }
      res.set_header("Cache-Control", "no-cache");
      auto started = std::make_shared<bool>(false);
      res.set_chunked_content_provider(
          "text/event-stream",
          [this, parsed, id, created, stream, started, failure](size_t, httplib::DataSink& sink) {
            auto send = [&](const json& body) {
              if (sendEvent(sink, body))
                return true;
              stream->cancel(); // the client went away
              return false;
            };
            if (!*started && parsed.endpoint == Endpoint::Chat) {
              *started = true;
              return send(api_.chunk(parsed, id, created, nullptr, nullptr, true));
            }
            *started = true;
            Piece piece;
            if (stream->next(piece)) {
              if (piece.text.empty() && !(parsed.logprobs && piece.token >= 0))
                return true;
              return send(api_.chunk(parsed, id, created, &piece, nullptr, false));
            }
            const Completion& completion = stream->completion();
            if (!completion.error.empty()) {
              if (!send(failure(completion).body()))
                return false;
            } else {
              if (!send(api_.chunk(parsed, id, created, nullptr, &completion.finishReason, false)))
                return false;
              if (parsed.includeUsage && !send(api_.usageChunk(parsed, id, created, completion)))
                return false;
            }
            static const std::string done = "data: [DONE]\n\n";
            if (!sink.write(done.data(), done.size())) {
              stream->cancel();
              return false;
            }
            sink.done();
            return true;
          },
          [stream](bool success) {
            if (!success)
              stream->cancel();
          });
    };
  };
  http_->Post("/v1/chat/completions", generation(Endpoint::Chat));
  http_->Post("/v1/completions", generation(Endpoint::Completions));
  http_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    sendJson(res, 200, api_.models());
  });
  http_->Get("/health", [](const httplib::Request&, httplib::Response& res) {
    sendJson(res, 200, {{"status", "ok"}});
  });
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });
  // httplib's own refusals (unknown routes, bodies over the limit) get an OpenAI error body.
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty())
      return;
    std::string message = res.status == 404   ? "no route " + req.method + " " + req.path
                          : res.status == 413 ? "the request body is larger than the server takes"
                                              : "the request was refused";
    sendJson(res, res.status, ApiError{res.status, message}.body());
  });
  http_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
        std::string message = "internal error";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          message = e.what();
        } catch (...) {
        }
        sendJson(res, 500, ApiError{500, message, "", "server_error"}.body());
      });
}

} // namespace fathom::serve
