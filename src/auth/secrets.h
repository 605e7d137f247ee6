// The server secret: the key for session-token HMACs, the audit head's MAC and subject-id
// pseudonyms. Read from $VIGIL_SECRET (at least 32 characters) or DATA/secret, created there
// on first start (32 random bytes, hex, mode 0600). Never logged.
#pragma once

#include <string>

#include "core/result.h"

namespace vigil {

Result<std::string> LoadOrCreateServerSecret(const std::string& data_dir);

}  // namespace vigil
