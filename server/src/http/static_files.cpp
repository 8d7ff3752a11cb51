#include "http/static_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "http/response.h"

namespace esocore::http {

namespace fs = std::filesystem;

namespace {

std::string contentType(const fs::path& path) {
    static const std::pair<const char*, const char*> types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
    };
    std::string ext = path.extension().string();
    for (const auto& [known, type] : types) {
        if (ext == known) {
            return type;
        }
    }
    return "application/octet-stream";
}

std::optional<std::string> readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

Response notBuilt() {
    Response response;
    response.body =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>EsoCore Cloud"
        "</title></head><body><h1>EsoCore Cloud</h1><p>The server is running, but the portal "
        "has not been built. Run <code>make portal</code> (or <code>make run</code>) and "
        "reload.</p><p>The device API is at <code>/api/iot/v1/</code>; health at "
        "<a href=\"/healthz\">/healthz</a>, metrics at <a href=\"/metrics\">/metrics</a>.</p>"
        "</body></html>";
    response.setHeader("content-type", "text/html; charset=utf-8");
    return response;
}

}  // namespace

SyncHandler staticFiles(std::string root) {
    return [root = fs::path(root)](const Request& request) -> Response {
        if (root.empty() || !fs::exists(root / "index.html")) {
            return request.path == "/" ? notBuilt()
                                       : errorResponse(404, "not_found", "no such page");
        }
        fs::path relative = fs::path(request.path).relative_path().lexically_normal();
        if (!relative.empty() && *relative.begin() == "..") {
            return errorResponse(404, "not_found", "no such page");
        }
        fs::path file = root / relative;
        if (fs::is_directory(file)) {
            file /= "index.html";
        }
        bool fallback = !fs::is_regular_file(file);
        if (fallback) {
            if (relative.has_extension()) {
                return errorResponse(404, "not_found", "no such file");
            }
            file = fs::exists(root / "200.html") ? root / "200.html" : root / "index.html";
        }
        // A symbolic link inside the build must not serve a file from outside it.
        std::error_code ec;
        fs::path real = fs::weakly_canonical(file, ec);
        fs::path real_root = fs::weakly_canonical(root, ec);
        auto [root_end, real_it] =
            std::mismatch(real_root.begin(), real_root.end(), real.begin(), real.end());
        if (ec || root_end != real_root.end()) {
            return errorResponse(404, "not_found", "no such file");
        }
        auto body = readFile(file);
        if (!body) {
            return errorResponse(404, "not_found", "no such file");
        }
        Response response;
        response.body = std::move(*body);
        response.setHeader("content-type", contentType(file));
        bool hashed = request.path.rfind("/_nuxt/", 0) == 0;
        response.setHeader("cache-control",
                           hashed ? "public, max-age=31536000, immutable" : "no-cache");
        return response;
    };
}

}  // namespace esocore::http
