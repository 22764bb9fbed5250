#include "ClientConnection.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

namespace fathom::serve {
namespace {

// Address and port of a socket address, as cpp-httplib writes them (inet_ntop).
bool matches(const sockaddr_storage& address, const std::string& host, int port) {
  char text[INET6_ADDRSTRLEN] = {};
  int actualPort = -1;
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    actualPort = ntohs(in.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    actualPort = ntohs(in6.sin6_port);
  } else {
    return false;
  }
  return actualPort == port && host == text;
}

} // namespace

std::optional<ClientConnection> ClientConnection::find(const std::string& peerAddress,
                                                       int peerPort) {
  DIR* descriptors = opendir("/proc/self/fd");
  if (!descriptors)
    return std::nullopt;
  std::optional<ClientConnection> found;
  while (dirent* entry = readdir(descriptors)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (*end || end == entry->d_name)
      continue;
    struct stat info {};
    if (fstat(int(fd), &info) != 0 || !S_ISSOCK(info.st_mode))
      continue;
    sockaddr_storage peer{};
    socklen_t peerLength = sizeof(peer);
    if (getpeername(int(fd), reinterpret_cast<sockaddr*>(&peer), &peerLength) == 0 &&
        matches(peer, peerAddress, peerPort)) {
      found = ClientConnection(int(fd));
      break;
    }
  }
  closedir(descriptors);
  return found;
}

bool ClientConnection::closed() const {
  pollfd watch{fd_, POLLRDHUP, 0};
  if (poll(&watch, 1, 0) <= 0)
    return false;
  return (watch.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

} // namespace fathom::serve
