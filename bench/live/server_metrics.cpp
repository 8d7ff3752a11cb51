#include "server_metrics.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sstream>
#include <string>

namespace esocore::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kBucket = "esocore_ws_send_wait_seconds_bucket{le=\"";
constexpr std::string_view kCount = "esocore_ws_send_wait_seconds_count ";

std::optional<std::string> getMetrics(std::uint16_t port) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    beast::error_code ec;
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    http::request<http::empty_body> request{http::verb::get, "/metrics", 11};
    request.set(http::field::host, "127.0.0.1");
    if (!ec) {
        http::write(stream, request, ec);
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    if (!ec) {
        http::read(stream, buffer, response, ec);
    }
    if (ec || response.result_int() != 200) {
        return std::nullopt;
    }
    return std::move(response.body());
}

}  // namespace

std::optional<SendWait> readSendWait(std::uint16_t port) {
    auto text = getMetrics(port);
    if (!text) {
        return std::nullopt;
    }
    SendWait wait;
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.starts_with(kCount)) {
            wait.count = std::stoull(line.substr(kCount.size()));
        } else if (line.starts_with(kBucket)) {
            auto quote = line.find('"', kBucket.size());
            std::string bound = line.substr(kBucket.size(), quote - kBucket.size());
            if (bound != "+Inf") {
                wait.at_most[std::stod(bound)] = std::stoull(line.substr(line.rfind(' ') + 1));
            }
        }
    }
    return wait;
}

}  // namespace esocore::bench
