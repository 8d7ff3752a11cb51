#pragma once

#include <string>

#include "http/message.h"

namespace esocore::http {

/// Serves the portal's built files from `root`; paths without a file fall back to the app's
/// index so client-side routes load. When `root` holds no build, a page says how to build it.
SyncHandler staticFiles(std::string root);

}  // namespace esocore::http
