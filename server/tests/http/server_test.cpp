// The HTTP server's own answers: unknown routes, wrong methods, body limits, request ids.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/crypto.h"
#include "support/device_test.h"

namespace esocore {
namespace {

using testing::HttpClient;
using testing::HttpResult;

class ServerTest : public testing::DeviceTest {
protected:
    HttpClient http() const { return HttpClient(server_->baseUrl()); }

    // Sends raw bytes on a new connection and reads until the server closes it.
    std::string exchangeRaw(const std::string& bytes) const {
        std::string url = server_->baseUrl();
        int port = std::stoi(url.substr(url.rfind(':') + 1));
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval timeout{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        std::string answer;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) >= 0) {
            char chunk[4096];
            for (ssize_t n; (n = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) {
                answer.append(chunk, static_cast<std::size_t>(n));
            }
        }
        ::close(fd);
        return answer;
    }
};

TEST_P(ServerTest, ABusyPortIsReportedInPlainWords) {
    std::string url = server_->baseUrl();
    http::Router router;
    http::ServerOptions options;
    options.listen = url.substr(url.find("127.0.0.1"));
    http::Server second(options, router);

    try {
        second.bind();
        FAIL() << "bound a port that is in use";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ("cannot listen on " + options.listen + ": Address already in use",
                  std::string(e.what()));
    }
}

TEST_P(ServerTest, MalformedRequestsGetTheJsonErrorShape) {
    for (const char* request : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                                "POST /healthz HTTP/1.1\r\nContent-Length: -1\r\n\r\n"}) {
        std::string answer = exchangeRaw(request);

        EXPECT_EQ(0u, answer.rfind("HTTP/1.1 400", 0)) << request << " -> " << answer;
        EXPECT_NE(std::string::npos, answer.find(R"({"error":{"code":"bad_request")")) << answer;
    }
}

TEST_P(ServerTest, OversizedHeadersAre431WithTheJsonErrorShape) {
    std::string answer =
        exchangeRaw("GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");

    EXPECT_EQ(0u, answer.rfind("HTTP/1.1 431", 0)) << answer;
    EXPECT_NE(std::string::npos, answer.find(R"("code":"header_too_large")")) << answer;
}

TEST_P(ServerTest, UnknownRouteIs404) {
    for (const char* method : {"GET", "POST", "DELETE"}) {
        HttpResult result = http().request(method, "/api/iot/v1/nope");

        EXPECT_EQ(404, result.status) << method;
        EXPECT_EQ("not_found", testing::errorCode(result)) << method;
        EXPECT_EQ("application/json", result.header("content-type")) << method;
    }
}

TEST_P(ServerTest, WrongMethodIs405WithAllow) {
    HttpResult get = http().get("/api/iot/v1/telemetry/batch");
    HttpResult post = http().post("/healthz", "{}");

    EXPECT_EQ(405, get.status) << get.body;
    EXPECT_EQ("method_not_allowed", testing::errorCode(get));
    EXPECT_EQ("POST", get.header("allow"));
    EXPECT_EQ(405, post.status);
    EXPECT_EQ("method_not_allowed", testing::errorCode(post));
    EXPECT_EQ("GET", post.header("allow"));
}

TEST_P(ServerTest, ApiPathsNeverFallBackToThePortal) {
    testing::TempDir portal;
    std::ofstream(portal.path() / "index.html") << "<!doctype html><title>portal</title>";
    start([&portal](Config& c) { c.portal_dir = portal.path().string(); });

    HttpResult page = http().get("/devices/42");
    HttpResult unknown = http().get("/api/iot/v1/nope");
    HttpResult wrong_method = http().get("/api/iot/v1/telemetry/batch");

    EXPECT_EQ(200, page.status);
    EXPECT_NE(std::string::npos, page.body.find("portal"));
    EXPECT_EQ(404, unknown.status);
    EXPECT_EQ("not_found", testing::errorCode(unknown));
    EXPECT_EQ(405, wrong_method.status);
    EXPECT_EQ("method_not_allowed", testing::errorCode(wrong_method));
}

TEST_P(ServerTest, HeadAnswersHeadersWithoutABody) {
    HttpResult result = http().request("HEAD", "/healthz");

    EXPECT_EQ(200, result.status);
    EXPECT_EQ("", result.body);
    EXPECT_NE("", result.header("content-length"));
    EXPECT_NE("0", result.header("content-length"));
}

TEST_P(ServerTest, BodyOverTheRouteLimitIs413) {
    std::string body = R"({"log":")" + std::string(100 * 1024, 'x') + "\"}";

    HttpResult result = device_->post("heartbeat", body, {{"Expect", "100-continue"}});

    EXPECT_EQ(413, result.status);
    EXPECT_EQ("body_too_large", testing::errorCode(result));
}

TEST_P(ServerTest, BodyOverTheRouteLimitSentWithoutWaitingIs413) {
    std::string body = R"({"log":")" + std::string(100 * 1024, 'x') + "\"}";

    HttpResult result = device_->post("heartbeat", body);

    EXPECT_EQ(413, result.status);
    EXPECT_EQ("body_too_large", testing::errorCode(result));
}

TEST_P(ServerTest, ClientStillSendingARefusedBodyGetsThe413) {
    // A device that does not wait for 100-continue is still uploading when the answer comes;
    // it must read a 413, not a reset connection.
    std::string body(12 * 1024 * 1024, 'x');

    for (int i = 0; i < 3; ++i) {
        HttpResult result =
            device_->post("telemetry/batch", body, {{"Idempotency-Key", newUuid()}});

        EXPECT_EQ(413, result.status) << "attempt " << i;
        EXPECT_EQ("body_too_large", testing::errorCode(result));
    }
}

TEST_P(ServerTest, BatchOverTheCompressedLimitIs413AndStoresNothing) {
    start([](Config& c) { c.max_body_bytes = 1024; });
    testing::BatchOptions options;
    options.encoding = "identity";

    expectRefused(device_->batch(testing::makePoints(50), options), 413, "body_too_large");
}

TEST_P(ServerTest, ChunkedBodyOverTheRouteLimitIs413) {
    std::string body = R"({"log":")" + std::string(100 * 1024, 'x') + "\"}";

    HttpResult result = device_->post("heartbeat", body, {{"Transfer-Encoding", "chunked"}});

    EXPECT_EQ(413, result.status);
    EXPECT_EQ("body_too_large", testing::errorCode(result));
}

TEST_P(ServerTest, EchoesTheRequestIdOrMakesOne) {
    HttpResult given = http().get("/healthz", {{"X-Request-Id", "req-123_abc"}});
    HttpResult unsafe = http().get("/healthz", {{"X-Request-Id", "bad id\twith spaces"}});
    HttpResult none = http().get("/healthz");

    EXPECT_EQ("req-123_abc", given.header("x-request-id"));
    EXPECT_NE("", unsafe.header("x-request-id"));
    EXPECT_EQ(std::string::npos, unsafe.header("x-request-id").find(' '));
    EXPECT_NE("", none.header("x-request-id"));
}

TEST_P(ServerTest, ServesManyRequestsOnOneConnection) {
    HttpClient client = http();

    for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(200, client.get("/healthz").status) << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Stores, ServerTest, ::testing::ValuesIn(testing::storeKinds()));

// Answers whose body a producer streams (http::Response::producer), on a server of their own.
class StreamedBodyTest : public ::testing::Test {
protected:
    void SetUp() override {
        router_.add("GET", "/pieces", http::SyncHandler([this](const http::Request&) {
                        return streamed({"alpha", "beta"}, false);
                    }));
        router_.add("GET", "/broken", http::SyncHandler([this](const http::Request&) {
                        return streamed({"partial"}, true);
                    }));
        http::ServerOptions options;
        options.listen = "127.0.0.1:0";
        options.threads = 1;
        server_ = std::make_unique<http::Server>(options, router_);
        port_ = server_->bind();
        thread_ = std::thread([this] { server_->run(false); });
    }

    void TearDown() override {
        server_->stop();
        thread_.join();
    }

    // An answer whose body is `pieces`, then its end, or a failure when `fail` is set.
    http::Response streamed(std::vector<std::string> pieces, bool fail) {
        auto next = std::make_shared<std::size_t>(0);
        http::Response response;
        response.setHeader("content-type", "text/plain");
        response.producer = [this, pieces, fail, next]() -> Result<std::string> {
            ++produced_;
            if (*next < pieces.size()) {
                return pieces[(*next)++];
            }
            if (fail) {
                return internalError("the store went away");
            }
            return std::string();
        };
        return response;
    }

    // Sends raw bytes on a new connection and reads until the server closes it.
    std::string exchangeRaw(const std::string& bytes) const {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port_);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval timeout{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        std::string answer;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) >= 0) {
            char chunk[4096];
            for (ssize_t n; (n = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) {
                answer.append(chunk, static_cast<std::size_t>(n));
            }
        }
        ::close(fd);
        return answer;
    }

    static std::string bodyOf(const std::string& answer) {
        auto end = answer.find("\r\n\r\n");
        return end == std::string::npos ? "" : answer.substr(end + 4);
    }

    http::Router router_;
    std::unique_ptr<http::Server> server_;
    std::thread thread_;
    unsigned short port_ = 0;
    std::atomic<int> produced_{0};
};

TEST_F(StreamedBodyTest, PiecesArriveAsChunksEndedByTheLastChunk) {
    HttpResult result = HttpClient("http://127.0.0.1:" + std::to_string(port_)).get("/pieces");

    EXPECT_EQ(200, result.status);
    EXPECT_EQ("alphabeta", result.body);
    EXPECT_EQ("chunked", result.header("transfer-encoding"));
    EXPECT_EQ("", result.header("content-length"));
}

TEST_F(StreamedBodyTest, TheConnectionServesTheNextRequestAfterAStreamedAnswer) {
    std::string answer = exchangeRaw(
        "GET /pieces HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /pieces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

    std::string once = "5\r\nalpha\r\n4\r\nbeta\r\n0\r\n\r\n";
    auto first = answer.find(once);
    ASSERT_NE(std::string::npos, first) << answer;
    EXPECT_NE(std::string::npos, answer.find("HTTP/1.1 200", first)) << answer;
    EXPECT_NE(std::string::npos, answer.find(once, first + once.size())) << answer;
}

TEST_F(StreamedBodyTest, AFailureMidwayClosesWithoutTheLastChunk) {
    std::string answer = exchangeRaw("GET /broken HTTP/1.1\r\nHost: x\r\n\r\n");

    EXPECT_EQ(0u, answer.rfind("HTTP/1.1 200", 0)) << answer;
    EXPECT_EQ("7\r\npartial\r\n", bodyOf(answer));
}

TEST_F(StreamedBodyTest, AnHttp10ClientGetsTheBodyUntilTheConnectionCloses) {
    std::string answer = exchangeRaw("GET /pieces HTTP/1.0\r\n\r\n");

    EXPECT_EQ(std::string::npos, answer.find("Transfer-Encoding")) << answer;
    EXPECT_EQ("alphabeta", bodyOf(answer));
}

TEST_F(StreamedBodyTest, HeadSendsTheHeadersWithoutProducingTheBody) {
    std::string answer =
        exchangeRaw("HEAD /pieces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

    EXPECT_EQ(0u, answer.rfind("HTTP/1.1 200", 0)) << answer;
    EXPECT_EQ("", bodyOf(answer));
    EXPECT_EQ(0, produced_.load());
}

// Routes that spool their body to disk (RouteOptions::spool_directory), on a server of their own.
class SpooledBodyTest : public ::testing::Test {
protected:
    void SetUp() override {
        http::RouteOptions options{.max_body = 64 * 1024,
                                   .spool_directory = (dir_.path() / "incoming").string()};
        router_.add("POST", "/upload", http::SyncHandler([this](const http::Request& request) {
                        std::ifstream in(request.body_file, std::ios::binary);
                        std::string content((std::istreambuf_iterator<char>(in)),
                                            std::istreambuf_iterator<char>());
                        if (request.header("x-keep") == "1") {
                            std::filesystem::rename(request.body_file, dir_.path() / "kept.bin");
                        }
                        http::Response response;
                        response.body = std::to_string(request.body.size()) + ":" + content;
                        return response;
                    }),
                    options);
        http::ServerOptions server_options;
        server_options.listen = "127.0.0.1:0";
        server_options.threads = 1;
        server_ = std::make_unique<http::Server>(server_options, router_);
        port_ = server_->bind();
        thread_ = std::thread([this] { server_->run(false); });
    }

    void TearDown() override {
        server_->stop();
        thread_.join();
    }

    std::string exchangeRaw(const std::string& bytes) const {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port_);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval timeout{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        std::string answer;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) >= 0) {
            char chunk[4096];
            for (ssize_t n; (n = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) {
                answer.append(chunk, static_cast<std::size_t>(n));
            }
        }
        ::close(fd);
        return answer;
    }

    // A chunked upload of `pieces`, each sent as one chunk.
    static std::string chunkedUpload(const std::vector<std::string>& pieces,
                                     const std::string& extra_header = {}) {
        std::string request = "POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                              extra_header + "Transfer-Encoding: chunked\r\n\r\n";
        for (const auto& piece : pieces) {
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
            request.append(size).append(piece).append("\r\n");
        }
        return request.append("0\r\n\r\n");
    }

    std::size_t spooled() const {
        std::error_code ec;
        auto entries = std::filesystem::directory_iterator(dir_.path() / "incoming", ec);
        return ec ? 0 : static_cast<std::size_t>(std::distance(entries, {}));
    }

    testing::TempDir dir_;
    http::Router router_;
    std::unique_ptr<http::Server> server_;
    std::thread thread_;
    unsigned short port_ = 0;
};

TEST_F(SpooledBodyTest, HandlerGetsTheBodyAsAFileAndNotInMemory) {
    std::string answer = exchangeRaw(chunkedUpload({std::string(30'000, 'a'), "tail"}));

    EXPECT_EQ(0u, answer.rfind("HTTP/1.1 200", 0)) << answer.substr(0, 200);
    EXPECT_NE(std::string::npos, answer.find("\r\n\r\n0:" + std::string(30'000, 'a') + "tail"));
    EXPECT_EQ(0u, spooled()) << "the file goes once the answer is sent";
}

TEST_F(SpooledBodyTest, HandlerMayKeepTheFile) {
    std::string answer = exchangeRaw(chunkedUpload({"firmware"}, "X-Keep: 1\r\n"));

    EXPECT_EQ(0u, answer.rfind("HTTP/1.1 200", 0)) << answer;
    std::ifstream kept(dir_.path() / "kept.bin");
    std::string content;
    std::getline(kept, content);
    EXPECT_EQ("firmware", content);
}

TEST_F(SpooledBodyTest, ChunkedBodyOverTheLimitIs413AndLeavesNoFile) {
    std::string answer =
        exchangeRaw(chunkedUpload({std::string(40'000, 'a'), std::string(40'000, 'b')}));

    EXPECT_EQ(0u, answer.rfind("HTTP/1.1 413", 0)) << answer.substr(0, 200);
    EXPECT_NE(std::string::npos, answer.find("body_too_large"));
    EXPECT_EQ(0u, spooled());
}

}  // namespace
}  // namespace esocore
