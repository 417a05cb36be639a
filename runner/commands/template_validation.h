#pragma once

#include <map>
#include <string>
#include <vector>

namespace ringfence {

// `ringfence validate --templates FILE...`: checks each experiment's structure with its
// placeholders left unfilled. Only `vars` (--var, --var-file) fill placeholders; the
// environment is not read, so that the answer is the same on every machine. Each unfilled
// placeholder is listed on stdout with its JSON pointer; a value that must be a number, a
// duration or a name is accepted as "template" when a placeholder stands in it. Every other
// problem is an error (stderr). Returns 0 when no file has an error, else 2.
int ValidateTemplates(const std::vector<std::string>& files,
                      const std::map<std::string, std::string>& vars);

}  // namespace ringfence
