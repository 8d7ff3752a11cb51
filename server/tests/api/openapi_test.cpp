// The OpenAPI document against the server: the checker every API test relies on, the router
// against the document (each route documented, each documented operation routed), and the
// documentation endpoints over real HTTP.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <regex>
#include <set>

#include "api/docs_api.h"
#include "core/crypto.h"
#include "support/api_fixture.h"
#include "support/openapi_check.h"
#include "support/test_server.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::checkAgainstDocument;

constexpr const char* kJson = "application/json";
constexpr const char* kTokenId = "4b7c1c1e-8a61-4f3e-9a55-0d7c2b1f9e10";

const json::object& document() {
    static const json::value parsed = json::parse(api::openApiDocument());
    return parsed.as_object();
}

// Whether `part` occurs in `text`, saying where it was looked for when not.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "'" << part << "' is not in: " << text;
}

std::string lowercase(std::string text) {
    for (char& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
}

std::string errorCode(const testing::HttpResult& result) {
    json::error_code ec;
    json::value body = json::parse(result.body, ec);
    const json::value* code = ec ? nullptr : body.find_pointer("/error/code", ec);
    return code != nullptr && code->is_string() ? std::string(code->as_string()) : "";
}

// ---- The checker -------------------------------------------------------------------------

json::object meBody() {
    json::object user{{"id", "0b5c6f38-7d55-4d1c-8d8e-9e0f4c3b2a11"},
                      {"email", "owner@example.com"},
                      {"name", "Owner"},
                      {"is_staff", false},
                      {"time_zone", "Europe/Paris"},
                      {"totp_enabled", false}};
    json::object membership{{"id", "3f1e2d4c-5b6a-4798-8a1b-2c3d4e5f6a7b"},
                            {"organization_id", "9a8b7c6d-5e4f-4321-8fed-cba987654321"},
                            {"role", "owner"},
                            {"scope", "organization"},
                            {"site_id", nullptr},
                            {"device_id", nullptr}};
    return json::object{{"user", user}, {"memberships", json::array{membership}}};
}

std::string check(const std::string& method, const std::string& path, long status,
                  const json::value& body) {
    return checkAgainstDocument(method, path, status, kJson, json::serialize(body));
}

TEST(OpenApiCheckTest, PassesACorrectBody) {
    EXPECT_EQ("", check("GET", "/healthz", 200, json::object{{"status", "ok"}, {"version", "1"}}));
}

TEST(OpenApiCheckTest, FailsOnAnUndocumentedStatus) {
    std::string mismatch =
        check("GET", "/healthz", 418, json::object{{"status", "ok"}, {"version", "1"}});
    EXPECT_TRUE(contains(mismatch, "418, which is not documented"));
}

TEST(OpenApiCheckTest, FailsOnAMissingRequiredProperty) {
    std::string mismatch = check("GET", "/healthz", 200, json::object{{"status", "ok"}});
    EXPECT_TRUE(contains(mismatch, "version"));
}

TEST(OpenApiCheckTest, FailsOnAnExtraProperty) {
    std::string mismatch = check("GET", "/healthz", 200,
                                 json::object{{"status", "ok"}, {"version", "1"}, {"uptime", 3}});
    EXPECT_TRUE(contains(mismatch, "uptime"));
}

TEST(OpenApiCheckTest, FailsOnAWrongType) {
    std::string mismatch =
        check("GET", "/healthz", 200, json::object{{"status", "ok"}, {"version", 1}});
    EXPECT_TRUE(contains(mismatch, "version"));
}

TEST(OpenApiCheckTest, FailsOnAQueryOfAnUndocumentedPathOrMethod) {
    EXPECT_TRUE(contains(check("GET", "/api/nowhere?x=1", 200, json::object{}), "no path"));
    EXPECT_TRUE(contains(check("PUT", "/healthz", 200, json::object{}), "not in the document"));
}

TEST(OpenApiCheckTest, ResolvesReferencesToComponents) {
    EXPECT_EQ("", check("GET", "/api/auth/me", 200, meBody()));

    json::object wrong_role = meBody();
    wrong_role["memberships"].as_array()[0].as_object()["role"] = "king";
    EXPECT_TRUE(contains(check("GET", "/api/auth/me", 200, wrong_role), "role"));

    json::object no_email = meBody();
    no_email["user"].as_object().erase("email");
    EXPECT_TRUE(contains(check("GET", "/api/auth/me", 200, no_email), "email"));
}

TEST(OpenApiCheckTest, ChecksErrorsAgainstTheSharedResponses) {
    json::object error{{"error", json::object{{"code", "not_authenticated"}, {"message", "no"}}}};
    EXPECT_EQ("", check("GET", "/api/auth/me", 401, error));

    json::object numeric{{"error", json::object{{"code", 401}, {"message", "no"}}}};
    EXPECT_TRUE(contains(check("GET", "/api/auth/me", 401, numeric), "code"));
}

TEST(OpenApiCheckTest, AcceptsNullButNotGarbageForANullableTime) {
    json::object token{{"id", kTokenId},
                       {"name", "ci"},
                       {"prefix", "abc"},
                       {"scopes", json::array{}},
                       {"created_at", "2025-01-02T03:04:05.678Z"},
                       {"last_used_at", nullptr},
                       {"expires_at", "2026-01-02T03:04:05.678Z"}};
    json::object list{{"results", json::array{token}}, {"next", nullptr}};
    EXPECT_EQ("", check("GET", "/api/auth/tokens", 200, list));

    list["results"].as_array()[0].as_object()["last_used_at"] = "yesterday";
    EXPECT_TRUE(contains(check("GET", "/api/auth/tokens", 200, list), "last_used_at"));
}

TEST(OpenApiCheckTest, MatchesConcretePathsToTemplates) {
    std::string path = std::string("/api/auth/tokens/") + kTokenId;
    EXPECT_EQ("", checkAgainstDocument("DELETE", path, 204, "", ""));
    EXPECT_TRUE(contains(checkAgainstDocument("DELETE", path, 204, kJson, "{}"), "without a body"));
}

TEST(OpenApiCheckTest, ChecksTheContentTypeOfOtherBodies) {
    EXPECT_EQ("", checkAgainstDocument("GET", "/metrics", 200,
                                       "text/plain; version=0.0.4; charset=utf-8", "up 1\n"));
    EXPECT_TRUE(contains(checkAgainstDocument("GET", "/metrics", 200, kJson, "{}"),
                         "'application/json' is not documented"));
}

// ---- The router against the document -----------------------------------------------------

std::set<std::string> documentedOperations() {
    static const std::set<std::string> methods = {"get",   "put",     "post", "delete",
                                                  "patch", "options", "head", "trace"};
    std::set<std::string> out;
    for (const auto& path : document().at("paths").as_object()) {
        for (const auto& operation : path.value().as_object()) {
            if (methods.contains(std::string(operation.key()))) {
                std::string method(operation.key());
                std::transform(method.begin(), method.end(), method.begin(), ::toupper);
                out.insert(method + " " + std::string(path.key()));
            }
        }
    }
    return out;
}

std::string listed(const std::set<std::string>& operations) {
    std::string out;
    for (const auto& operation : operations) {
        out.append("\n  ").append(operation);
    }
    return out;
}

// Routing does not depend on the store: one SQLite server serves these tests.
class OpenApiRoutesTest : public ::testing::Test {
protected:
    std::set<std::string> routed() {
        std::set<std::string> out;
        for (const auto& route : server_.app().router().routes()) {
            out.insert(route.method + " " + route.pattern);
        }
        return out;
    }

    testing::TestServer server_;
};

TEST_F(OpenApiRoutesTest, EveryRouteIsDocumented) {
    std::set<std::string> documented = documentedOperations();
    std::set<std::string> missing;
    for (const auto& route : routed()) {
        if (!documented.contains(route)) {
            missing.insert(route);
        }
    }
    EXPECT_TRUE(missing.empty()) << "routes without an entry in the OpenAPI document:"
                                 << listed(missing);
}

TEST_F(OpenApiRoutesTest, EveryDocumentedOperationIsRouted) {
    std::set<std::string> routes = routed();
    std::set<std::string> missing;
    for (const auto& operation : documentedOperations()) {
        if (!routes.contains(operation)) {
            missing.insert(operation);
        }
    }
    EXPECT_TRUE(missing.empty()) << "OpenAPI operations that no route serves:" << listed(missing);
}

TEST(OpenApiDocumentTest, EveryOperationHasAnIdTagsSummaryAndResponses) {
    std::set<std::string> ids;
    for (const auto& operation : documentedOperations()) {
        auto space = operation.find(' ');
        const json::object& entry = document()
                                        .at("paths")
                                        .at(operation.substr(space + 1))
                                        .at(lowercase(operation.substr(0, space)))
                                        .as_object();
        const json::value* id = entry.if_contains("operationId");
        const json::value* tags = entry.if_contains("tags");
        const json::value* summary = entry.if_contains("summary");
        const json::value* responses = entry.if_contains("responses");
        EXPECT_TRUE(id != nullptr && id->is_string()) << operation << ": no operationId";
        EXPECT_TRUE(id == nullptr || ids.insert(std::string(id->as_string())).second)
            << operation << ": operationId " << json::serialize(*id) << " is not unique";
        EXPECT_TRUE(tags != nullptr && tags->is_array() && !tags->as_array().empty())
            << operation << ": no tags";
        EXPECT_TRUE(summary != nullptr && summary->is_string()) << operation << ": no summary";
        EXPECT_TRUE(responses != nullptr && !responses->as_object().empty())
            << operation << ": no responses";
    }
}

// ---- The documentation endpoints ---------------------------------------------------------

constexpr const char* kAssetNames[] = {"swagger-ui.css", "swagger-ui-bundle.js",
                                       "swagger-initializer.js", "redoc.standalone.js",
                                       "favicon-32x32.png"};

// A server whose docs_dir holds stand-ins for the npm files (or nothing, when `built` is
// false): the pages and routes are tested without npm; scripts/docs-browser-check.mjs runs
// the real ones in a browser.
class DocsApiTest : public ::testing::Test {
protected:
    void build() {
        for (const char* name : kAssetNames) {
            std::ofstream(assets_.path() / name) << "/* " << name << " */\n";
        }
    }

    testing::HttpResult get(const std::string& path, const testing::Headers& headers = {}) {
        testing::HttpResult result = server_.client().get(path, headers);
        EXPECT_EQ("", checkAgainstDocument("GET", path, result.status,
                                           result.header("content-type"), result.body))
            << "GET " << path << " answered " << result.status;
        return result;
    }

    testing::TempDir assets_;
    testing::TestServer server_{
        "sqlite", [this](Config& config) { config.docs_dir = assets_.path().string(); }};
};

std::vector<std::string> assetLinks(const std::string& html) {
    std::vector<std::string> links;
    std::regex link(R"((?:src|href)="(/api/docs/assets/[^"]+)\")");
    for (std::sregex_iterator it(html.begin(), html.end(), link), end; it != end; ++it) {
        links.push_back((*it)[1]);
    }
    return links;
}

std::string expectedType(const std::string& path) {
    if (path.ends_with(".js")) {
        return "text/javascript; charset=utf-8";
    }
    return path.ends_with(".css") ? "text/css; charset=utf-8" : "image/png";
}

TEST_F(DocsApiTest, SchemaServesTheEmbeddedDocument) {
    testing::HttpResult result = get("/api/schema/");
    EXPECT_EQ(200, result.status);
    EXPECT_EQ("application/json", result.header("content-type"));
    EXPECT_EQ(api::openApiDocument(), result.body);
}

TEST_F(DocsApiTest, PagesAreHtmlWithAStrictPolicyAndTheirAssetsLoad) {
    build();
    for (std::string page : {"/api/docs/", "/api/redoc/"}) {
        testing::HttpResult result = get(page);
        ASSERT_EQ(200, result.status) << page;
        EXPECT_EQ("text/html; charset=utf-8", result.header("content-type"));
        std::string policy = result.header("content-security-policy");
        EXPECT_TRUE(contains(policy, "default-src 'none'"));
        EXPECT_TRUE(contains(policy, "script-src 'self';"));
        EXPECT_TRUE(contains(policy, "connect-src 'self'"));
        EXPECT_EQ(std::string::npos, result.body.find("<script>")) << page << ": inline script";
        std::vector<std::string> links = assetLinks(result.body);
        EXPECT_GE(links.size(), 2u) << page;
        for (const auto& link : links) {
            testing::HttpResult asset = get(link);
            EXPECT_EQ(200, asset.status) << link;
            EXPECT_EQ(expectedType(link), asset.header("content-type")) << link;
        }
    }
}

TEST_F(DocsApiTest, SwaggerUiStartsOnTheSchemaUrl) {
    build();
    testing::HttpResult page = get("/api/docs/");
    EXPECT_TRUE(contains(page.body, "/api/docs/assets/swagger-initializer.js"));
    testing::HttpResult redoc = get("/api/redoc/");
    EXPECT_TRUE(contains(redoc.body, "spec-url=\"/api/schema/\""));
}

TEST_F(DocsApiTest, WithoutTheAssetsThePagesSayToRunMakeDocs) {
    for (std::string path : {"/api/docs/", "/api/redoc/", "/api/docs/assets/swagger-ui.css"}) {
        testing::HttpResult result = get(path);
        EXPECT_EQ(503, result.status) << path;
        EXPECT_EQ("docs_not_built", errorCode(result)) << path;
        EXPECT_TRUE(contains(result.body, "make docs")) << path;
    }
}

TEST_F(DocsApiTest, OnlyThePagesFilesAreServed) {
    build();
    std::ofstream(assets_.path() / "secret.txt") << "not for the web";
    for (std::string path : {"/api/docs/assets/secret.txt", "/api/docs/assets/..%2Fsecret.txt"}) {
        testing::HttpResult result = get(path);
        EXPECT_EQ(404, result.status) << path;
        EXPECT_EQ("not_found", errorCode(result)) << path;
    }
}

TEST_F(DocsApiTest, AnUnchangedAssetAnswersNotModified) {
    build();
    testing::HttpResult first = get("/api/docs/assets/swagger-ui.css");
    ASSERT_EQ(200, first.status);
    std::string etag = first.header("etag");
    ASSERT_FALSE(etag.empty());
    testing::HttpResult again = get("/api/docs/assets/swagger-ui.css", {{"If-None-Match", etag}});
    EXPECT_EQ(304, again.status);
    EXPECT_EQ("", again.body);
}

// ---- Answers of the routes outside the management areas ----------------------------------

// Real answers of /api/auth/, the device API and the operations routes, each checked against
// the document by ApiTest::call: what auth.yaml, device-api.yaml and operations.yaml say is
// what the server does.
class DocumentedAnswersTest : public testing::ApiTest {
protected:
    static constexpr const char* kPassword = "a long enough password";

    void SetUp() override {
        testing::ApiTest::SetUp();
        auto set =
            server_->store().sql().execute("UPDATE users SET password_hash = $1 WHERE id = $2",
                                           {hashPassword(kPassword), owner_.id});
        ASSERT_TRUE(set.ok());
    }

    testing::ApiResult login(const std::string& mode, const std::string& password = kPassword) {
        json::object body{{"email", owner_.email}, {"password", password}};
        if (!mode.empty()) {
            body["mode"] = mode;
        }
        return call("POST", "/api/auth/login", anonymous_, body);
    }

    testing::Headers deviceHeaders(const testing::TestDevice& device) {
        return {{"X-Device-Id", device.id}, {"X-Auth-Key", device.key}};
    }

    testing::ApiUser anonymous_;
};

TEST_P(DocumentedAnswersTest, SignInAndTokens) {
    EXPECT_EQ(200, login("").status);
    testing::ApiResult tokens = login("token");
    ASSERT_EQ(200, tokens.status);
    EXPECT_EQ("invalid_credentials", login("token", "wrong password").errorCode());
    EXPECT_EQ(400, call("POST", "/api/auth/login", anonymous_, json::object{}).status);

    json::object refresh{{"refresh_token", tokens["refresh_token"]}};
    EXPECT_EQ(200, call("POST", "/api/auth/refresh", anonymous_, refresh).status);
    EXPECT_EQ("refresh_token_reused",
              call("POST", "/api/auth/refresh", anonymous_, refresh).errorCode());

    EXPECT_EQ(200, get("/api/auth/me", owner_).status);
    EXPECT_EQ(401, get("/api/auth/me", anonymous_).status);

    testing::ApiResult made =
        call("POST", "/api/auth/tokens", owner_, json::object{{"name", "ci"}});
    ASSERT_EQ(201, made.status);
    EXPECT_EQ(400, call("POST", "/api/auth/tokens", owner_, json::object{{"name", ""}}).status);
    EXPECT_EQ(200, get("/api/auth/tokens", owner_).status);
    std::string path = "/api/auth/tokens/" + std::string(made["id"].as_string());
    EXPECT_EQ(204, call("DELETE", path, owner_).status);
    EXPECT_EQ(404, call("DELETE", path, owner_).status);
}

TEST_P(DocumentedAnswersTest, AccountChanges) {
    EXPECT_EQ(200, call("POST", "/api/auth/totp/setup", owner_).status);
    EXPECT_EQ("invalid_totp_code",
              call("POST", "/api/auth/totp/verify", owner_, json::object{{"code", "000000"}})
                  .errorCode());
    json::object wrong{{"current_password", "nope"}, {"new_password", "another long password"}};
    EXPECT_EQ(400, call("POST", "/api/auth/password", owner_, wrong).status);
    json::object change{{"current_password", kPassword}, {"new_password", "another long password"}};
    EXPECT_EQ(204, call("POST", "/api/auth/password", owner_, change).status);
    EXPECT_EQ(204, call("POST", "/api/auth/logout", owner_).status);
}

TEST_P(DocumentedAnswersTest, DeviceApi) {
    testing::TestDevice device = addDevice(org_);
    testing::Headers headers = deviceHeaders(device);
    EXPECT_EQ(200, call("POST", "/api/iot/v1/auth/handshake", anonymous_).status);
    EXPECT_EQ(200, call("POST", "/api/iot/v1/auth/handshake", anonymous_, nullptr, headers).status);
    testing::Headers wrong = {{"X-Device-Id", device.id}, {"X-Auth-Key", "esok_wrong_key"}};
    EXPECT_EQ(401, call("GET", "/api/iot/v1/config", anonymous_, nullptr, wrong).status);

    testing::ApiResult config = call("GET", "/api/iot/v1/config", anonymous_, nullptr, headers);
    ASSERT_EQ(200, config.status);
    testing::Headers cached = headers;
    cached.emplace_back("If-None-Match", config.raw.header("etag"));
    EXPECT_EQ(304, call("GET", "/api/iot/v1/config", anonymous_, nullptr, cached).status);
    json::object health{{"firmware_version", "1.0.0"}, {"battery", 97}};
    EXPECT_EQ(200, call("POST", "/api/iot/v1/heartbeat", anonymous_, health, headers).status);

    testing::Headers batch_headers = headers;
    batch_headers.emplace_back("Idempotency-Key", newUuid());
    json::array batch{json::object{{"series", "temp_ambient"}, {"val", 21.5}, {"unit", "C"}},
                      json::object{{"series", "rh"}, {"val", "wet"}}};
    testing::ApiResult stored =
        call("POST", "/api/iot/v1/telemetry/batch", anonymous_, batch, batch_headers);
    EXPECT_EQ(200, stored.status);
    EXPECT_EQ(1, stored["rejected"].to_number<int>());
    EXPECT_EQ(
        "duplicate_batch",
        call("POST", "/api/iot/v1/telemetry/batch", anonymous_, batch, batch_headers).errorCode());
}

TEST_P(DocumentedAnswersTest, FirmwareUpdates) {
    testing::TestDevice device = addDevice(org_);
    testing::Headers headers = deviceHeaders(device);
    EXPECT_EQ(
        200,
        call("GET", "/api/iot/v1/ota/check?version=1.0.0", anonymous_, nullptr, headers).status);
    json::object report{{"status", "completed"}, {"version", "2.0.0"}};
    EXPECT_EQ("no_update_in_progress",
              call("POST", "/api/iot/v1/ota/report", anonymous_, report, headers).errorCode());
    EXPECT_EQ("invalid_status", call("POST", "/api/iot/v1/ota/report", anonymous_,
                                     json::object{{"status", "done"}}, headers)
                                    .errorCode());
    EXPECT_EQ("invalid_link",
              get("/api/iot/v1/ota/download/not.a.valid.link", anonymous_).errorCode());
}

TEST_P(DocumentedAnswersTest, Operations) {
    EXPECT_EQ(200, get("/healthz", anonymous_).status);
    EXPECT_EQ(200, get("/readyz", anonymous_).status);
    EXPECT_EQ(200, get("/metrics", anonymous_).status);
}

INSTANTIATE_TEST_SUITE_P(Stores, DocumentedAnswersTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
