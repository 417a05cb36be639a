#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace ringfence {

class StopSource;

// One HTTP request. Never goes through a proxy; redirects are not followed.
struct HttpRequest {
  std::string method = "GET";               // GET, HEAD, POST, PUT, PATCH or DELETE
  std::string url;                          // http:// or https://
  std::string body;                         // sent with POST, PUT and PATCH
  std::string content_type = "text/plain";  // of that body
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  bool verify_tls = true;  // false: an https server's certificate and name are not checked
  std::chrono::milliseconds timeout{2000};  // for the whole exchange
  size_t max_body_bytes = 1 << 20;          // the body beyond this is read and discarded
  // When set, the exchange ends at once (within about 50 ms) once it is requested.
  const StopSource* stop = nullptr;
};

struct HttpResponse {
  int status = 0;
  std::string body;  // at most max_body_bytes
};

}  // namespace ringfence
