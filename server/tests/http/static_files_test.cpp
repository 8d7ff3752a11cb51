// The portal's static files: what is served, what falls back to the app, what is refused.
#include "http/static_files.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_server.h"

namespace esocore::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
protected:
    StaticFilesTest() {
        std::ofstream(dir_.path() / "index.html") << "<html>app</html>";
        fs::create_directories(dir_.path() / "_nuxt");
        std::ofstream(dir_.path() / "_nuxt" / "app.js") << "console.log(1)";
        std::ofstream(outside_.path() / "secret.txt") << "secret";
    }

    Response get(const std::string& path) {
        Request request;
        request.method = "GET";
        request.path = path;
        return staticFiles(dir_.path().string())(request);
    }

    testing::TempDir dir_;
    testing::TempDir outside_;
};

TEST_F(StaticFilesTest, ServesBuiltFilesWithTheirTypes) {
    Response response = get("/_nuxt/app.js");

    EXPECT_EQ(200, response.status);
    EXPECT_EQ("console.log(1)", response.body);
    EXPECT_EQ("text/javascript; charset=utf-8", response.header("content-type"));
    EXPECT_EQ("public, max-age=31536000, immutable", response.header("cache-control"));
}

TEST_F(StaticFilesTest, FallsBackToTheAppForClientRoutes) {
    Response response = get("/devices/42");

    EXPECT_EQ(200, response.status);
    EXPECT_EQ("<html>app</html>", response.body);
}

TEST_F(StaticFilesTest, RefusesPathsThatLeaveTheBuild) {
    EXPECT_EQ(404, get("/../../etc/passwd").status);
    EXPECT_EQ(404, get("/_nuxt/missing.js").status);
}

TEST_F(StaticFilesTest, RefusesSymbolicLinksToFilesOutsideTheBuild) {
    fs::create_symlink(outside_.path() / "secret.txt", dir_.path() / "link.txt");

    Response response = get("/link.txt");

    EXPECT_EQ(404, response.status);
    EXPECT_EQ(std::string::npos, response.body.find("secret"));
}

}  // namespace
}  // namespace esocore::http
