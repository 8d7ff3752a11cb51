#include "http/response.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace esocore::http {

Response jsonResponse(int status, const boost::json::value& body) {
    Response response;
    response.status = status;
    response.body = boost::json::serialize(body);
    response.setHeader("content-type", "application/json");
    return response;
}

boost::json::object errorBody(const Error& error) {
    boost::json::object detail;
    detail["code"] = error.code;
    detail["message"] = error.message;
    if (!error.fields.empty()) {
        boost::json::object fields;
        for (const auto& [name, text] : error.fields) {
            fields[name] = text;
        }
        detail["fields"] = std::move(fields);
    }
    boost::json::object body;
    body["error"] = std::move(detail);
    return body;
}

Response errorResponse(const Error& error) {
    return jsonResponse(error.status, errorBody(error));
}

Response errorResponse(int status, std::string code, std::string message) {
    return errorResponse(Error{status, std::move(code), std::move(message), {}});
}

}  // namespace esocore::http
