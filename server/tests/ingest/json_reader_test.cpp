#include "ingest/json_reader.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <string>

namespace esocore::ingest {
namespace {

namespace json = boost::json;

constexpr std::size_t kDepth = 16;
constexpr std::size_t kRecords = 10'000;

class JsonReaderTest : public ::testing::Test {
protected:
    // The single value of a one-element array parsed from `literal`.
    static json::value element(const std::string& literal) {
        auto parsed = parseBatchJson("[" + literal + "]", kDepth, kRecords);
        EXPECT_TRUE(parsed.ok()) << literal;
        return parsed ? parsed->as_array().at(0) : json::value();
    }

    static std::string errorCode(std::string_view text, std::size_t max_records = kRecords) {
        auto parsed = parseBatchJson(text, kDepth, max_records);
        return parsed ? std::string() : parsed.error().code;
    }

    static std::string nested(int levels) {
        std::string text = "1";
        for (int i = 0; i < levels; ++i) {
            text = "[" + text + "]";
        }
        return text;
    }
};

TEST_F(JsonReaderTest, ParsesRecordsLikeBoostJson) {
    std::string text = R"([{"ts":"2026-03-02T07:15:00Z","series":"rh","val":47.1,"unit":"%",
                           "meta":{"ok":true,"n":null,"list":[1,2]}}])";

    auto parsed = parseBatchJson(text, kDepth, kRecords);

    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(json::parse(text), *parsed);
}

TEST_F(JsonReaderTest, KeepsIntegersUpToTwoToTheFiftyThree) {
    EXPECT_EQ(json::value(9007199254740992), element("9007199254740992"));
    EXPECT_EQ(json::value(-9007199254740992), element("-9007199254740992"));
    EXPECT_EQ(json::value(0), element("0"));
}

TEST_F(JsonReaderTest, TurnsIntegersADoubleCannotHoldIntoNaN) {
    for (const char* literal :
         {"9007199254740993", "-9007199254740993", "9223372036854775807", "18446744073709551615",
          "123456789012345678901234567890", "-123456789012345678901234567890"}) {
        json::value v = element(literal);
        ASSERT_TRUE(v.is_double()) << literal;
        EXPECT_TRUE(std::isnan(v.get_double())) << literal;
    }
}

TEST_F(JsonReaderTest, KeepsLargeIntegersThatADoubleHoldsExactly) {
    EXPECT_EQ(-9223372036854775807 - 1, element("-9223372036854775808").as_int64());
    EXPECT_EQ(18446744073709549568u, element("18446744073709549568").as_uint64());
    EXPECT_EQ(std::ldexp(1.0, 70), element("1180591620717411303424").as_double());
    EXPECT_EQ(1e22, element("10000000000000000000000").as_double());
}

TEST_F(JsonReaderTest, ParsesDecimalsToTheNearestDouble) {
    for (const char* literal : {"123456789.123456789", "2.2250738585072011e-308", "0.1",
                                "-7.2057594037927933e16", "4.9406564584124654e-324"}) {
        EXPECT_EQ(std::strtod(literal, nullptr), element(literal).as_double()) << literal;
    }
}

TEST_F(JsonReaderTest, KeepsNumbersWithAnExponentOrFractionEvenWhenWhole) {
    EXPECT_EQ(1000.0, element("1e3").as_double());
    EXPECT_EQ(9007199254740992.0, element("9007199254740993.0").as_double());
}

TEST_F(JsonReaderTest, OutOfRangeNumbersBecomeInfinities) {
    EXPECT_EQ(HUGE_VAL, element("1e400").as_double());
    EXPECT_EQ(-HUGE_VAL, element("-1e400").as_double());
    EXPECT_EQ(HUGE_VAL, element("1" + std::string(400, '0')).as_double());
    EXPECT_EQ(0.0, element("1e-400").as_double());
}

TEST_F(JsonReaderTest, AllowsSixteenLevelsOfNesting) {
    EXPECT_TRUE(parseBatchJson(nested(16), kDepth, kRecords).ok());
    EXPECT_EQ("invalid_json", errorCode(nested(17)));
}

TEST_F(JsonReaderTest, StopsAtTheRecordLimit) {
    EXPECT_EQ("", errorCode("[1,2,3]", 3));
    EXPECT_EQ("too_many_records", errorCode("[1,2,3,4]", 3));
    EXPECT_EQ("too_many_records", errorCode(R"([{},[],"a",null,true,1.5])", 5));
    auto parsed = parseBatchJson("[1,2,3,4", kDepth, 3);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(413, parsed.error().status);
}

TEST_F(JsonReaderTest, CountsOnlyTheElementsOfTheTopLevelArray) {
    EXPECT_EQ("", errorCode(R"([{"meta":{"a":1,"b":2,"c":3}},[1,2,3,4]])", 2));
    EXPECT_EQ("", errorCode(R"({"a":1,"b":2,"c":3})", 2));
}

TEST_F(JsonReaderTest, RefusesEveryTruncation) {
    std::string text = R"([{"ts":"2026-03-02T07:15:00Z","series":"rh","val":-47.125e0},)"
                       R"({"series":"caf\u00e9","val":true,"meta":{"a":[null,1]}}])";
    ASSERT_TRUE(parseBatchJson(text, kDepth, kRecords).ok());
    for (std::size_t size = 0; size < text.size(); ++size) {
        EXPECT_EQ("invalid_json", errorCode(text.substr(0, size))) << "first " << size << " bytes";
    }
}

TEST_F(JsonReaderTest, AllowsSurroundingWhitespaceButNothingElse) {
    EXPECT_EQ("", errorCode(" \r\n\t[1] \n"));
    EXPECT_EQ("invalid_json", errorCode("[1] [2]"));
    EXPECT_EQ("invalid_json", errorCode("[1],"));
    EXPECT_EQ("invalid_json", errorCode("/* comment */ [1]"));
}

TEST_F(JsonReaderTest, RefusesInvalidUtf8) {
    EXPECT_EQ("invalid_json", errorCode("[\"\xff\xfe\"]"));
    EXPECT_EQ("invalid_json", errorCode("[\"\xc3\"]"));
}

TEST_F(JsonReaderTest, DecodesEscapes) {
    EXPECT_EQ("caf\xc3\xa9 \"q\"\n", element(R"("caf\u00e9 \"q\"\n")").as_string());
}

}  // namespace
}  // namespace esocore::ingest
