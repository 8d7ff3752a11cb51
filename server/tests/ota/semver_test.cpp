#include "ota/semver.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace esocore::ota {
namespace {

class SemverTest : public ::testing::Test {
protected:
    static int compare(const std::string& a, const std::string& b) {
        auto left = parseVersion(a);
        auto right = parseVersion(b);
        EXPECT_TRUE(left.has_value()) << a;
        EXPECT_TRUE(right.has_value()) << b;
        if (!left || !right) {
            return 0;
        }
        int c = compareVersions(*left, *right);
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }

    // Every version orders below every later one, and equal to itself.
    static void expectAscending(const std::vector<std::string>& versions) {
        for (std::size_t i = 0; i < versions.size(); ++i) {
            EXPECT_EQ(0, compare(versions[i], versions[i])) << versions[i];
            for (std::size_t j = i + 1; j < versions.size(); ++j) {
                EXPECT_EQ(-1, compare(versions[i], versions[j]))
                    << versions[i] << " < " << versions[j];
                EXPECT_EQ(1, compare(versions[j], versions[i]))
                    << versions[j] << " > " << versions[i];
            }
        }
    }
};

TEST_F(SemverTest, ParsesTheParts) {
    auto v = parseVersion("1.10.3-rc.1+build.5");

    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(1u, v->major);
    EXPECT_EQ(10u, v->minor);
    EXPECT_EQ(3u, v->patch);
    EXPECT_EQ((std::vector<std::string>{"rc", "1"}), v->prerelease);
    EXPECT_EQ("build.5", v->build);
}

TEST_F(SemverTest, AcceptsValidVersions) {
    for (const char* text :
         {"0.0.0", "1.10.0", "v1.2.3", "V1.2.3", "2.0.0-rc.1", "1.0.0+build.5", "1.0.0-alpha+001",
          "1.0.0+20130313144700", "1.0.0-x-y-z.--", "1.0.0-0.3.7", "18446744073709551615.0.0"}) {
        EXPECT_TRUE(parseVersion(text).has_value()) << text;
    }
}

TEST_F(SemverTest, RefusesInvalidVersions) {
    for (const char* text : {"",
                             "1",
                             "1.2",
                             "1.2.3.4",
                             "01.2.3",
                             "1.02.3",
                             "1.2.03",
                             "1.2.3-",
                             "1.2.3+",
                             "1.2.3-01",
                             "1.2.3-alpha..1",
                             "1.2.3-al$pha",
                             "1.2.3+build..1",
                             "a.b.c",
                             " 1.2.3",
                             "1.2.3 ",
                             "-1.2.3",
                             "1.-2.3",
                             "18446744073709551616.0.0",
                             "vv1.2.3"}) {
        EXPECT_FALSE(parseVersion(text).has_value()) << text;
    }
}

TEST_F(SemverTest, ComparesNumbersNumerically) {
    expectAscending({"1.9.0", "1.10.0", "1.10.1", "2.0.0", "10.0.0"});
}

TEST_F(SemverTest, OrdersPreReleasesAsSemverOrgSectionEleven) {
    expectAscending({"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                     "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"});
}

TEST_F(SemverTest, OrdersNumericIdentifiersBelowAlphanumericOnes) {
    expectAscending({"1.0.0-1", "1.0.0-9", "1.0.0-10", "1.0.0-99999999999999999999", "1.0.0-Beta",
                     "1.0.0-alpha", "1.0.0-alpha-1"});
}

TEST_F(SemverTest, OrdersAPreReleaseBelowItsReleaseButAboveTheOneBefore) {
    expectAscending({"1.9.9", "1.10.0-rc.1", "1.10.0"});
}

TEST_F(SemverTest, IgnoresBuildMetadata) {
    EXPECT_EQ(0, compare("1.0.0+a", "1.0.0+b"));
    EXPECT_EQ(0, compare("1.0.0-rc.1+x", "1.0.0-rc.1"));
    EXPECT_EQ(0, compare("v1.0.0", "1.0.0"));
}

}  // namespace
}  // namespace esocore::ota
