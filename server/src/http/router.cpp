#include "http/router.h"

#include <algorithm>

namespace esocore::http {

namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) {
            slash = path.size();
        }
        if (slash > start) {
            out.push_back(path.substr(start, slash - start));
        }
        start = slash + 1;
    }
    return out;
}

bool isParameter(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool matches(const Route& route, const std::vector<std::string_view>& parts,
             std::vector<std::pair<std::string, std::string>>& params) {
    if (route.segments.size() != parts.size()) {
        return false;
    }
    params.clear();
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string& segment = route.segments[i];
        if (isParameter(segment)) {
            params.emplace_back(segment.substr(1, segment.size() - 2), std::string(parts[i]));
        } else if (segment != parts[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
    Route route{std::move(method), std::move(pattern), std::move(handler), options, {}};
    for (auto part : splitPath(route.pattern)) {
        route.segments.emplace_back(part);
    }
    routes_.push_back(std::move(route));
}

void Router::add(std::string method, std::string pattern, SyncHandler handler,
                 RouteOptions options) {
    add(std::move(method), std::move(pattern),
        Handler([handler = std::move(handler)](const RequestPtr& request, Respond respond) {
            respond(handler(*request));
        }),
        options);
}

RouteMatch Router::find(std::string_view method, std::string_view path) const {
    RouteMatch match;
    auto parts = splitPath(path);
    std::vector<std::pair<std::string, std::string>> params;
    for (const auto& route : routes_) {
        if (!matches(route, parts, params)) {
            continue;
        }
        match.path_known = true;
        if (route.method == method || (method == "HEAD" && route.method == "GET")) {
            match.route = &route;
            match.params = std::move(params);
            match.allowed.clear();
            return match;
        }
        if (std::find(match.allowed.begin(), match.allowed.end(), route.method) ==
            match.allowed.end()) {
            match.allowed.push_back(route.method);
        }
    }
    return match;
}

}  // namespace esocore::http
