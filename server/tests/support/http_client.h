#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace esocore::testing {

struct HttpResult {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lowercase names

    std::string header(const std::string& name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/// A small blocking HTTP/1.1 client over libcurl, for tests against a real server.
class HttpClient {
public:
    explicit HttpClient(std::string base_url);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    HttpResult request(const std::string& method, const std::string& path,
                       const std::string& body = {}, const Headers& headers = {});
    HttpResult get(const std::string& path, const Headers& headers = {}) {
        return request("GET", path, {}, headers);
    }
    HttpResult post(const std::string& path, const std::string& body, const Headers& headers = {}) {
        return request("POST", path, body, headers);
    }

private:
    std::string base_url_;
    void* curl_;
};

std::string gzip(const std::string& data);
std::string zstd(const std::string& data);

}  // namespace esocore::testing
