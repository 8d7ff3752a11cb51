#include "http/router.h"

#include <gtest/gtest.h>

#include <string>

namespace esocore::http {
namespace {

class RouterTest : public ::testing::Test {
protected:
    RouterTest() {
        add("GET", "/healthz");
        add("POST", "/api/iot/v1/telemetry/batch");
        add("GET", "/api/iot/v1/ota/download/{token}");
        add("GET", "/api/sites/{site}/devices/{device}");
        add("GET", "/api/items/{id}");
        add("PUT", "/api/items/{id}");
        add("GET", "/api/items/latest");
    }

    void add(const std::string& method, const std::string& pattern) {
        router_.add(method, pattern, SyncHandler([pattern](const Request&) {
                        Response response;
                        response.body = pattern;
                        return response;
                    }));
    }

    // The pattern of the route that answers, or empty.
    std::string patternFor(std::string_view method, std::string_view path) const {
        RouteMatch match = router_.find(method, path);
        return match.route != nullptr ? match.route->pattern : std::string();
    }

    Router router_;
};

TEST_F(RouterTest, FindsLiteralRoutes) {
    EXPECT_EQ("/healthz", patternFor("GET", "/healthz"));
    EXPECT_EQ("/api/iot/v1/telemetry/batch", patternFor("POST", "/api/iot/v1/telemetry/batch"));
}

TEST_F(RouterTest, CapturesParameters) {
    RouteMatch match = router_.find("GET", "/api/sites/s1/devices/d-2");

    ASSERT_NE(nullptr, match.route);
    ASSERT_EQ(2u, match.params.size());
    EXPECT_EQ((std::pair<std::string, std::string>{"site", "s1"}), match.params[0]);
    EXPECT_EQ((std::pair<std::string, std::string>{"device", "d-2"}), match.params[1]);
}

TEST_F(RouterTest, ParameterMatchesExactlyOneNonEmptySegment) {
    EXPECT_EQ("/api/iot/v1/ota/download/{token}",
              patternFor("GET", "/api/iot/v1/ota/download/t.k"));
    EXPECT_EQ("", patternFor("GET", "/api/iot/v1/ota/download/"));
    EXPECT_EQ("", patternFor("GET", "/api/iot/v1/ota/download"));
    EXPECT_EQ("", patternFor("GET", "/api/iot/v1/ota/download/a/b"));
}

TEST_F(RouterTest, IgnoresEmptySegments) {
    EXPECT_EQ("/healthz", patternFor("GET", "/healthz/"));
    EXPECT_EQ("/healthz", patternFor("GET", "//healthz"));
}

TEST_F(RouterTest, ComparesSegmentsExactly) {
    EXPECT_EQ("", patternFor("GET", "/Healthz"));
    EXPECT_EQ("", patternFor("GET", "/healthz2"));
    EXPECT_EQ("", patternFor("GET", "/health"));
}

TEST_F(RouterTest, TellsAWrongMethodFromAnUnknownPath) {
    RouteMatch wrong_method = router_.find("GET", "/api/iot/v1/telemetry/batch");
    RouteMatch unknown = router_.find("GET", "/api/iot/v1/nope");

    EXPECT_EQ(nullptr, wrong_method.route);
    EXPECT_TRUE(wrong_method.path_known);
    EXPECT_EQ((std::vector<std::string>{"POST"}), wrong_method.allowed);
    EXPECT_EQ(nullptr, unknown.route);
    EXPECT_FALSE(unknown.path_known);
}

TEST_F(RouterTest, ListsEveryMethodAllowedOnAPath) {
    RouteMatch match = router_.find("DELETE", "/api/items/7");

    EXPECT_EQ(nullptr, match.route);
    EXPECT_EQ((std::vector<std::string>{"GET", "PUT"}), match.allowed);
}

TEST_F(RouterTest, FindsTheRouteForTheMethodAmongSeveral) {
    EXPECT_EQ("/api/items/{id}", patternFor("PUT", "/api/items/7"));
    EXPECT_EQ("/api/items/{id}", patternFor("GET", "/api/items/7"));
}

TEST_F(RouterTest, AnswersHeadWithTheGetRoute) {
    EXPECT_EQ("/healthz", patternFor("HEAD", "/healthz"));
    EXPECT_EQ("", patternFor("HEAD", "/api/iot/v1/telemetry/batch"));
}

TEST_F(RouterTest, FirstRouteAddedWinsWhenPatternsOverlap) {
    EXPECT_EQ("/api/items/{id}", patternFor("GET", "/api/items/latest"));
}

TEST_F(RouterTest, MethodsAreCaseSensitive) {
    EXPECT_EQ("", patternFor("get", "/healthz"));
}

TEST_F(RouterTest, RunsSyncHandlersThroughRespond) {
    RouteMatch match = router_.find("GET", "/healthz");
    ASSERT_NE(nullptr, match.route);
    std::string answered;

    match.route->handler(std::make_shared<Request>(),
                         [&answered](Response response) { answered = response.body; });

    EXPECT_EQ("/healthz", answered);
}

TEST_F(RouterTest, KeepsRouteOptions) {
    router_.add("POST", "/upload", SyncHandler([](const Request&) { return Response{}; }),
                RouteOptions{42});

    RouteMatch match = router_.find("POST", "/upload");

    ASSERT_NE(nullptr, match.route);
    EXPECT_EQ(42, match.route->options.max_body);
    EXPECT_EQ(1024 * 1024, router_.find("GET", "/healthz").route->options.max_body);
}

}  // namespace
}  // namespace esocore::http
