#pragma once

#include "api/management.h"

namespace esocore::api {

/// A management handler of an area that needs only the shared context.
using AreaHandler = http::Response (*)(const ApiContext&, const http::Request&, const Principal&);

/// addManaged for an AreaHandler: the context outlives the router.
inline void addAreaRoute(http::Router& router, const ApiContext& context, const char* method,
                         const char* pattern, AreaHandler handler) {
    addManaged(router, context.authenticator, method, pattern,
               [&context, handler](const http::Request& request, const Principal& principal) {
                   return handler(context, request, principal);
               });
}

}  // namespace esocore::api
