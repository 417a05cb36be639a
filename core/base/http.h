#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace ringfence {

class StopSource;

// One HTTP request. Never goes through a proxy; redirects are not followed.
struct HttpRequest {
  std::string method = "GET";               // GET, HEAD or POST
  std::string url;                          // http:// or https://
  std::string body;                         // sent with POST
  std::string content_type = "text/plain";  // of a POST body
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
