#pragma once

#include <string>

namespace ringfence {

// The control API's page (GET /): self-contained HTML (no network beyond the API itself) that
// polls /status every second and shows the run, with a big abort button (a second click
// confirms) and hold / continue / note. The bearer token is typed in, or given in the URL's
// fragment (`#token=…`, never sent to the server); it stays in the tab's sessionStorage.
const std::string& ControlPage();

}  // namespace ringfence
