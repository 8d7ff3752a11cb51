#include "sign_in.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <stdexcept>

#include "child_process.h"

namespace esocore::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr const char* kEmail = "bench-live@esocore.local";

std::string accessToken(std::uint16_t port, const std::string& password) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> request{http::verb::post, "/api/auth/login", 11};
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::content_type, "application/json");
    request.body() =
        json::serialize(json::object{{"email", kEmail}, {"password", password}, {"mode", "token"}});
    request.prepare_payload();
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    if (response.result_int() != 200) {
        throw std::runtime_error(
            fmt::format("sign-in answered {}: {}", response.result_int(), response.body()));
    }
    json::value body = json::parse(response.body());
    return std::string(body.at("access_token").as_string());
}

}  // namespace

std::string signInAsAdministrator(const ServerSetup& setup, std::uint16_t port) {
    std::string password = "bench-live-password-1";
    std::vector<std::string> argv{setup.esocore.string(), "createsuperuser", "--email", kEmail};
    std::vector<std::string> env = esocoreEnvironment(setup);
    env.push_back("ESOCORE_SUPERUSER_PASSWORD=" + password);
    CommandOutput created = runCommand(argv, env, std::chrono::seconds(60));
    if (!exitedCleanly(created.status)) {
        throw std::runtime_error("esocore createsuperuser failed (" +
                                 describeWaitStatus(created.status) + ")");
    }
    return accessToken(port, password);
}

}  // namespace esocore::bench
