#pragma once

#include <memory>
#include <string>

#include "core/base/status.h"
#include "runner/gameday/game_day.h"

namespace ringfence {

// The control API of a game day (docs/game-days.md): GET / (a page with the status and a big
// abort button), GET /status (GameDay::Status() as JSON), GET /events (server-sent events),
// POST /abort, /hold, /continue, /skip, /note ({"text": "…"}).
//  - With a token file (`name token` a line): POSTs need `Authorization: Bearer TOKEN`; the
//    token's name is recorded as who acted. GETs are open (nothing secret is shown).
//  - Without one: only loopback clients, and only GETs.
// A refused request (401 wrong or missing token, 403 not allowed) is recorded as an operator
// action `refused` and changes nothing. One request per connection; at most 32 at once.
class ControlServer {
 public:
  struct Options {
    std::string listen;      // ADDR:PORT (an IP address; port 0 picks one)
    std::string token_file;  // "" for none
  };
  // Binds and starts serving. kInvalidInput for a bad address or token file (exit 2),
  // kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<ControlServer>> Start(GameDay& game_day, const Options& options);
  // Stops accepting, ends every connection (event streams included) and joins.
  ~ControlServer();

  int port() const;

  class Impl;

 private:
  explicit ControlServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a token file: `name token` a line, `#` comments and blank lines skipped; names and
// tokens of [A-Za-z0-9._-], tokens at least 16 characters, names unique. The file must be a
// regular file owned by us (or root), not readable or writable by group or others, and at most
// 64 KiB. Returns token → name.
Result<std::map<std::string, std::string>> ReadControlTokens(const std::string& path);

}  // namespace ringfence
