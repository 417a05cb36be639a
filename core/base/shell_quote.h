#pragma once

#include <string>
#include <vector>

namespace ringfence {

// ringfence's one shell quoter, for the command lines it hands to a shell (remote commands over
// ssh) or to a person (an undo record's manual_undo).

// `s` as one shell word: single-quoted, with each embedded ' closed, escaped and reopened
// ('it'\''s'). Always quotes, even a plain word.
std::string ShellQuote(const std::string& s);

// argv as one line for a shell, space-separated, each argument quoted (ShellQuote) only when it
// needs it: an empty argument or one with a character outside [A-Za-z0-9-_./=:,@%+].
std::string ShellJoin(const std::vector<std::string>& argv);

}  // namespace ringfence
