#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/base/status.h"

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

// Performs `request` with libcurl (one easy handle per call; thread-safe). Any status code is a
// response; only transport failures are errors:
//   kTimeout      "timed out after 2s" (the timeout as FormatDuration writes it; no timeout is
//                 longer than 24h)
//   kRuntime      "interrupted by SIGTERM" (the stop's reason) when `stop` was requested
//   kUnavailable  "connect to 127.0.0.1:9 failed: Connection refused"
//   kInvalidInput "GET <url> failed: <libcurl's reason>" for a malformed URL or scheme
//   kUnavailable  "GET <url> failed: <libcurl's reason>" for anything else
Result<HttpResponse> HttpFetch(const HttpRequest& request);

Result<HttpResponse> HttpGet(const std::string& url, std::chrono::milliseconds timeout);
Result<HttpResponse> HttpPost(const std::string& url, std::string body,
                              std::chrono::milliseconds timeout,
                              std::string content_type = "text/plain");

}  // namespace ringfence
