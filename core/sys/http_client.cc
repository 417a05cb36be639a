#include "core/sys/http_client.h"

#include <strings.h>

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "core/base/clock.h"
#include "core/base/duration.h"

namespace ringfence {
namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct BodySink {
  std::string* body;
  size_t limit;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  size_t n = size * count;
  if (sink->body->size() < sink->limit) {
    sink->body->append(data, std::min(n, sink->limit - sink->body->size()));
  }
  return n;  // keep reading what is beyond the limit, so that the exchange completes
}

// "host:port" of `url` (the scheme's default port when none is given), or `url` itself.
std::string HostPortOf(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return url;
  char* host = nullptr;
  char* port = nullptr;
  std::string out = url;
  if (curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get(parsed.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
    out = std::string(host) + ":" + port;
  }
  curl_free(host);
  curl_free(port);
  return out;
}

// How long one wait of the transfer loop may last: how late a stop request is seen.
constexpr int kPollMs = 50;
constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(24);

// curl_easy_perform, through a multi handle so that the wait can be cut short by `stop`.
// CURLE_ABORTED_BY_CALLBACK when it was.
CURLcode Perform(CURL* h, const StopSource* stop) {
  if (stop == nullptr) return curl_easy_perform(h);
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(curl_multi_init(),
                                                              curl_multi_cleanup);
  if (!multi || curl_multi_add_handle(multi.get(), h) != CURLM_OK) return CURLE_OUT_OF_MEMORY;
  CURLcode result = CURLE_OK;
  bool done = false;
  while (!done) {
    if (stop->stop_requested()) {
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    int running = 0;
    if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
      result = CURLE_RECV_ERROR;
      break;
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) {
        result = msg->data.result;
        done = true;
      }
    }
    if (done || running == 0) break;
    if (curl_multi_poll(multi.get(), nullptr, 0, kPollMs, nullptr) != CURLM_OK) {
      result = CURLE_RECV_ERROR;
      break;
    }
  }
  curl_multi_remove_handle(multi.get(), h);
  return result;
}

}  // namespace

Result<HttpResponse> HttpFetch(const HttpRequest& request) {
  InitCurlOnce();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Status::Runtime("curl_easy_init failed");
  CURL* h = curl.get();

  HttpResponse response;
  BodySink sink{&response.body, request.max_body_bytes};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  const auto timeout = std::clamp(request.timeout, std::chrono::milliseconds(1), kMaxTimeout);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  // Extra headers first; a body's Content-Type is added unless one was given.
  bool has_content_type = false;
  auto add_header = [&headers](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown != nullptr) {
      (void)headers.release();
      headers.reset(grown);
    }
  };
  for (const auto& [name, value] : request.headers) {
    if (strcasecmp(name.c_str(), "Content-Type") == 0) has_content_type = true;
    add_header(name + ": " + value);
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    if (request.method != "POST")
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (!has_content_type) add_header("Content-Type: " + request.content_type);
  } else if (request.method == "DELETE") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else if (request.method != "GET") {
    return Status::InvalidInput("unsupported HTTP method: " + request.method);
  }
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (!request.verify_tls) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  CURLcode rc = Perform(h, request.stop);
  if (rc == CURLE_ABORTED_BY_CALLBACK && request.stop != nullptr) {
    return Status::Runtime("interrupted by " + request.stop->reason());
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return Status::Timeout("timed out after " + FormatDuration(timeout));
  }
  if (rc == CURLE_COULDNT_CONNECT) {
    long os_errno = 0;
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    std::string reason =
        os_errno != 0 ? std::strerror(static_cast<int>(os_errno)) : curl_easy_strerror(rc);
    return Status::Unavailable("connect to " + HostPortOf(request.url) + " failed: " + reason);
  }
  if (rc != CURLE_OK) {
    std::string reason = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    std::string what = request.method + " " + request.url + " failed: " + reason;
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return Status::InvalidInput(what);
    }
    return Status::Unavailable(what);
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

Result<HttpResponse> HttpGet(const std::string& url, std::chrono::milliseconds timeout) {
  HttpRequest request;
  request.url = url;
  request.timeout = timeout;
  return HttpFetch(request);
}

Result<HttpResponse> HttpPost(const std::string& url, std::string body,
                              std::chrono::milliseconds timeout, std::string content_type) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.body = std::move(body);
  request.content_type = std::move(content_type);
  request.timeout = timeout;
  return HttpFetch(request);
}

}  // namespace ringfence
