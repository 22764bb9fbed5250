#pragma once
// Whether the client of a request is still there, for requests that send nothing until they are
// done (non-streaming completions): cpp-httplib 0.11.4 (Debian 12's) gives a handler no way to
// see its connection close, so the socket is found among the process's descriptors by the
// client's address and port (the server makes no connections of its own; 0.11.4 leaves the
// request's local address unset) and watched for the peer's hang-up. Linux only (POLLRDHUP).
#include <optional>
#include <string>

namespace fathom::serve {

class ClientConnection {
public:
  // The connected socket whose peer is this address and port; nullopt when none is.
  static std::optional<ClientConnection> find(const std::string& peerAddress, int peerPort);
  // True once the peer has closed its side or the connection failed; never blocks.
  bool closed() const;

private:
  explicit ClientConnection(int fd) : fd_(fd) {}
  int fd_;
};

} // namespace fathom::serve
