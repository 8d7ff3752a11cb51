#pragma once

#include <cstdint>
#include <string>

#include "esocore_server.h"

namespace esocore::bench {

/// Creates a platform administrator with `esocore createsuperuser` and signs in as it over
/// HTTP ("mode": "token"); returns the JWT access token. Throws when either step fails.
std::string signInAsAdministrator(const ServerSetup& setup, std::uint16_t port);

}  // namespace esocore::bench
