#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/base/http.h"
#include "core/base/status.h"

namespace ringfence {

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
