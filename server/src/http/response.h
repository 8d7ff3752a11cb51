#pragma once

#include <boost/json/value.hpp>

#include "core/result.h"
#include "http/message.h"

namespace esocore::http {

/// A JSON answer with the given status.
Response jsonResponse(int status, const boost::json::value& body);

/// The one builder of error answers: {"error": {"code", "message", "fields"}}.
Response errorResponse(const Error& error);
Response errorResponse(int status, std::string code, std::string message);

/// The error body as a JSON object, for answers that add fields beside "error".
boost::json::object errorBody(const Error& error);

}  // namespace esocore::http
