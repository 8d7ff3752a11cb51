#pragma once

namespace esocore {

/// The server's version, from the build.
inline constexpr const char* kVersion = ESOCORE_VERSION;

}  // namespace esocore
