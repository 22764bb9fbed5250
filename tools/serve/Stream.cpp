#include "Stream.h"

namespace fathom::serve {

bool Stream::next(Piece& piece) {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return !pieces_.empty() || done_; });
  if (pieces_.empty())
    return false;
  piece = std::move(pieces_.front());
  pieces_.pop_front();
  return true;
}

std::optional<bool> Stream::next(Piece& piece, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !pieces_.empty() || done_; }))
    return std::nullopt;
  if (pieces_.empty())
    return false;
  piece = std::move(pieces_.front());
  pieces_.pop_front();
  return true;
}

void Stream::push(Piece piece) {
  {
    std::lock_guard lock(mutex_);
    pieces_.push_back(std::move(piece));
  }
  ready_.notify_all();
}

void Stream::finish(Completion completion) {
  {
    std::lock_guard lock(mutex_);
    completion_ = std::move(completion);
    done_ = true;
  }
  ready_.notify_all();
}

} // namespace fathom::serve
