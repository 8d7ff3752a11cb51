#include "support/openapi_check.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "api/docs_api.h"

namespace esocore::testing {

namespace {

namespace json = boost::json;

std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        std::size_t slash = path.find('/');
        std::string_view part = path.substr(0, slash);
        if (!part.empty()) {
            out.push_back(part);
        }
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    }
    return out;
}

// How well a path template fits a concrete path: -1 when it does not, else the number of
// literal segments, so that /api/devices/claim wins over /api/devices/{id}.
int fit(std::string_view path_template, const std::vector<std::string_view>& parts) {
    auto pattern = segments(path_template);
    if (pattern.size() != parts.size()) {
        return -1;
    }
    int literal = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (pattern[i].starts_with('{') && pattern[i].ends_with('}')) {
            continue;
        }
        if (pattern[i] != parts[i]) {
            return -1;
        }
        ++literal;
    }
    return literal;
}

// The path template that serves `method` on `path`: among the templates matching the path,
// those documenting the method first, then the one with the most literal segments.
const json::key_value_pair* matchTemplate(const json::object& paths, const std::string& method,
                                          std::string_view path) {
    auto parts = segments(path);
    const json::key_value_pair* best = nullptr;
    int best_score = -1;
    for (const auto& entry : paths) {
        int literal = fit(entry.key(), parts);
        if (literal < 0) {
            continue;
        }
        int score = literal + (entry.value().as_object().contains(method) ? 1000 : 0);
        if (score > best_score) {
            best_score = score;
            best = &entry;
        }
    }
    return best;
}

std::string pointerToken(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '~') {
            out.append("~0");
        } else if (c == '/') {
            out.append("~1");
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// `text/plain; charset=utf-8` → `text/plain`.
std::string mediaType(std::string_view content_type) {
    std::string_view type = content_type.substr(0, content_type.find(';'));
    while (!type.empty() && type.back() == ' ') {
        type.remove_suffix(1);
    }
    return lowercase(type);
}

bool isJson(std::string_view media_type) {
    return media_type == "application/json" || media_type.ends_with("+json");
}

// valijson reads null as "" for `format`, so `type: [string, "null"], format: date-time`
// would refuse null: the format moves into an anyOf branch that only strings take.
void rewriteNullableFormats(json::value& node) {
    if (node.is_array()) {
        for (auto& item : node.as_array()) {
            rewriteNullableFormats(item);
        }
        return;
    }
    if (!node.is_object()) {
        return;
    }
    json::object& object = node.as_object();
    for (auto& member : object) {
        rewriteNullableFormats(member.value());
    }
    const json::value* type = object.if_contains("type");
    const json::value* format = object.if_contains("format");
    if (type == nullptr || format == nullptr || !type->is_array() || !format->is_string()) {
        return;
    }
    const json::array& types = type->as_array();
    if (std::find(types.begin(), types.end(), json::value("null")) == types.end()) {
        return;
    }
    json::object branch{
        {"anyOf", json::array{json::object{{"type", "null"}}, json::object{{"format", *format}}}}};
    object.erase("format");
    json::value& all_of = object["allOf"];
    if (!all_of.is_array()) {
        all_of.emplace_array();
    }
    all_of.as_array().push_back(std::move(branch));
}

std::string describe(valijson::ValidationResults& results) {
    std::string text;
    valijson::ValidationResults::Error error;
    int shown = 0;
    while (results.popError(error) && shown++ < 8) {
        std::string where;
        for (const auto& part : error.context) {
            where.append(part);
        }
        text.append(where).append(": ").append(error.description).append("\n");
    }
    return text;
}

/// The document, parsed once, and the response schemas compiled from it on first use.
class DocumentChecker {
public:
    DocumentChecker() : document_(json::parse(api::openApiDocument())), schema_root_(document_) {
        rewriteNullableFormats(schema_root_);
    }

    std::string check(const std::string& method, const std::string& target, long status,
                      const std::string& content_type, const std::string& body);

private:
    struct Found {
        std::string pointer;  // JSON pointer of the response object, after its $ref
        const json::object* response = nullptr;
        std::string problem;
    };

    Found findResponse(const std::string& method, std::string_view path, long status) const;
    std::string checkBody(const Found& found, std::string_view media_type, const std::string& body);
    std::string validate(const std::string& schema_pointer, const json::value& instance);

    json::value document_;
    json::value schema_root_;  // the document, adjusted for valijson; gets a $ref per schema
    std::map<std::string, std::unique_ptr<valijson::Schema>> schemas_;
    std::mutex mutex_;
};

DocumentChecker::Found DocumentChecker::findResponse(const std::string& method,
                                                     std::string_view path, long status) const {
    const json::key_value_pair* best =
        matchTemplate(document_.at("paths").as_object(), lowercase(method), path);
    if (best == nullptr) {
        return {{}, nullptr, "no path of the document matches " + std::string(path)};
    }
    std::string route = best->key();
    const json::value* operation = best->value().as_object().if_contains(lowercase(method));
    if (operation == nullptr) {
        return {{}, nullptr, method + " " + route + " is not in the document"};
    }
    const json::object& responses = operation->at("responses").as_object();
    std::string code = std::to_string(status);
    for (std::string key : {code, code.substr(0, 1) + "XX", std::string("default")}) {
        const json::value* response = responses.if_contains(key);
        if (response == nullptr) {
            continue;
        }
        std::string pointer =
            "/paths/" + pointerToken(route) + "/" + lowercase(method) + "/responses/" + key;
        // A response may be a $ref to #/components/responses/...
        while (response->is_object() && response->as_object().contains("$ref")) {
            pointer = std::string(response->at("$ref").as_string()).substr(1);
            json::error_code ec;
            response = document_.find_pointer(pointer, ec);
            if (response == nullptr) {
                return {{}, nullptr, "unresolved $ref #" + pointer};
            }
        }
        return {pointer, &response->as_object(), {}};
    }
    std::string documented;
    for (const auto& entry : responses) {
        documented.append(" ").append(entry.key());
    }
    return {{},
            nullptr,
            method + " " + route + " answered " + code +
                ", which is not documented (documented:" + documented + ")"};
}

std::string DocumentChecker::checkBody(const Found& found, std::string_view media_type,
                                       const std::string& body) {
    const json::value* content = found.response->if_contains("content");
    if (content == nullptr || content->as_object().empty()) {
        return body.empty() ? std::string()
                            : "documented without a body, but the answer has " +
                                  std::to_string(body.size()) + " bytes";
    }
    const json::object& types = content->as_object();
    std::string key;
    for (const auto& entry : types) {
        if (mediaType(entry.key()) == media_type || entry.key() == "*/*") {
            key = entry.key();
            break;
        }
    }
    if (key.empty()) {
        std::string documented;
        for (const auto& entry : types) {
            documented.append(" ").append(entry.key());
        }
        return "content type '" + std::string(media_type) +
               "' is not documented (documented:" + documented + ")";
    }
    if (!isJson(media_type) || !types.at(key).as_object().contains("schema")) {
        return {};
    }
    json::error_code ec;
    json::value instance = json::parse(body, ec);
    if (ec) {
        return "the body is not JSON: " + ec.message();
    }
    return validate(found.pointer + "/content/" + pointerToken(key) + "/schema", instance);
}

std::string DocumentChecker::validate(const std::string& schema_pointer,
                                      const json::value& instance) {
    auto& schema = schemas_[schema_pointer];
    if (!schema) {
        // The whole document is the root, so that $refs to #/components/... resolve; its
        // own $ref selects the response schema.
        schema = std::make_unique<valijson::Schema>();
        schema_root_.as_object()["$ref"] = "#" + schema_pointer;
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        try {
            parser.populateSchema(valijson::adapters::BoostJsonAdapter(schema_root_), *schema);
        } catch (const std::exception& e) {
            schema.reset();
            return "the schema at #" + schema_pointer + " cannot be read: " + e.what();
        }
    }
    valijson::Validator validator;
    valijson::ValidationResults results;
    try {
        if (validator.validate(*schema, valijson::adapters::BoostJsonAdapter(instance), &results)) {
            return {};
        }
    } catch (const std::exception& e) {
        return "validation against #" + schema_pointer + " failed: " + e.what();
    }
    return "the body does not match #" + schema_pointer + ":\n" + describe(results);
}

std::string DocumentChecker::check(const std::string& method, const std::string& target,
                                   long status, const std::string& content_type,
                                   const std::string& body) {
    std::lock_guard lock(mutex_);
    std::string_view path = std::string_view(target).substr(0, target.find('?'));
    Found found = findResponse(method, path, status);
    if (!found.problem.empty()) {
        return found.problem;
    }
    return checkBody(found, mediaType(content_type), body);
}

}  // namespace

std::string checkAgainstDocument(const std::string& method, const std::string& path, long status,
                                 const std::string& content_type, const std::string& body) {
    static DocumentChecker checker;
    return checker.check(method, path, status, content_type, body);
}

}  // namespace esocore::testing
