#include "api/docs_api.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/response.h"

namespace esocore::api {

namespace fs = std::filesystem;
using http::Request;
using http::Response;

namespace {

struct DocsAsset {
    std::string_view name;
    std::string_view content_type;
};

// Exactly the files scripts/docs-assets.sh copies; any other name is not served.
constexpr std::array<DocsAsset, 5> kAssets = {{
    {"swagger-ui.css", "text/css; charset=utf-8"},
    {"swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
    {"swagger-initializer.js", "text/javascript; charset=utf-8"},
    {"redoc.standalone.js", "text/javascript; charset=utf-8"},
    {"favicon-32x32.png", "image/png"},
}};

// Only this server's own files run. Swagger UI draws some icons from data: URLs.
constexpr std::string_view kSwaggerPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

// ReDoc injects its styles as <style> elements (styled-components) and runs its search
// index in a worker made from a blob: URL.
constexpr std::string_view kRedocPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; worker-src blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string escapeHtml(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out.append("&amp;");
                break;
            case '<':
                out.append("&lt;");
                break;
            case '>':
                out.append("&gt;");
                break;
            case '"':
                out.append("&quot;");
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

const DocsAsset* findAsset(std::string_view name) {
    for (const auto& asset : kAssets) {
        if (asset.name == name) {
            return &asset;
        }
    }
    return nullptr;
}

bool assetsBuilt(const fs::path& dir) {
    std::error_code ec;
    for (const auto& asset : kAssets) {
        if (!fs::is_regular_file(dir / asset.name, ec)) {
            return false;
        }
    }
    return true;
}

Response docsNotBuilt() {
    return http::errorResponse(503, "docs_not_built",
                               "the API documentation pages are not built: run `make docs`");
}

Response htmlPage(std::string body, std::string_view policy) {
    Response response;
    response.body = std::move(body);
    response.setHeader("content-type", "text/html; charset=utf-8");
    response.setHeader("content-security-policy", std::string(policy));
    response.setHeader("x-content-type-options", "nosniff");
    response.setHeader("referrer-policy", "same-origin");
    response.setHeader("cache-control", "no-cache");
    return response;
}

std::string pageHead(const Config& config, std::string_view what) {
    std::string head =
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
    head.append(escapeHtml(config.product_name)).append(" API · ").append(what);
    head.append(
        "</title>\n"
        "<link rel=\"icon\" type=\"image/png\" href=\"/api/docs/assets/favicon-32x32.png\">\n");
    return head;
}

std::string swaggerPage(const Config& config) {
    std::string html = pageHead(config, "Swagger UI");
    html.append(
        "<link rel=\"stylesheet\" href=\"/api/docs/assets/swagger-ui.css\">\n"
        "</head>\n<body>\n<div id=\"swagger-ui\"></div>\n"
        "<script src=\"/api/docs/assets/swagger-ui-bundle.js\"></script>\n"
        "<script src=\"/api/docs/assets/swagger-initializer.js\"></script>\n"
        "</body>\n</html>\n");
    return html;
}

std::string redocPage(const Config& config) {
    // The standalone bundle starts itself on the <redoc> element: no inline script.
    std::string html = pageHead(config, "ReDoc");
    html.append(
        "<style>body { margin: 0; padding: 0; }</style>\n"
        "</head>\n<body>\n<redoc spec-url=\"/api/schema/\"></redoc>\n"
        "<script src=\"/api/docs/assets/redoc.standalone.js\"></script>\n"
        "</body>\n</html>\n");
    return html;
}

// A validator that changes whenever make docs replaces the file.
std::string entityTag(const fs::path& file, std::error_code& ec) {
    auto size = fs::file_size(file, ec);
    auto modified = fs::last_write_time(file, ec).time_since_epoch().count();
    std::ostringstream tag;
    tag << '"' << std::hex << size << '-' << modified << '"';
    return tag.str();
}

Response assetAnswer(const fs::path& dir, const Request& request) {
    const DocsAsset* asset = findAsset(request.param("file"));
    if (asset == nullptr) {
        return http::errorResponse(404, "not_found", "no such documentation file");
    }
    fs::path file = dir / asset->name;
    std::error_code ec;
    std::string etag = entityTag(file, ec);
    std::ifstream in(file, std::ios::binary);
    if (ec || !in) {
        return docsNotBuilt();
    }
    Response response;
    response.setHeader("etag", etag);
    response.setHeader("cache-control", "no-cache");
    response.setHeader("x-content-type-options", "nosniff");
    if (request.header("if-none-match") == etag) {
        response.status = 304;
        return response;
    }
    std::ostringstream content;
    content << in.rdbuf();
    response.body = std::move(content).str();
    response.setHeader("content-type", std::string(asset->content_type));
    return response;
}

}  // namespace

void addDocsRoutes(http::Router& router, const ApiContext& context) {
    const Config& config = context.config;
    router.add("GET", "/api/schema/", http::SyncHandler([](const Request&) {
                   Response response;
                   response.body = std::string(openApiDocument());
                   response.setHeader("content-type", "application/json");
                   response.setHeader("cache-control", "no-cache");
                   return response;
               }));
    router.add("GET", "/api/docs/", http::SyncHandler([&config](const Request&) {
                   return assetsBuilt(config.docs_dir)
                              ? htmlPage(swaggerPage(config), kSwaggerPolicy)
                              : docsNotBuilt();
               }));
    router.add("GET", "/api/redoc/", http::SyncHandler([&config](const Request&) {
                   return assetsBuilt(config.docs_dir) ? htmlPage(redocPage(config), kRedocPolicy)
                                                       : docsNotBuilt();
               }));
    router.add("GET", "/api/docs/assets/{file}", http::SyncHandler([&config](const Request& r) {
                   return assetAnswer(config.docs_dir, r);
               }));
}

}  // namespace esocore::api
