// Device authentication over HTTP (DESIGN §5): the four ways to present a key, device status,
// and signed requests.
#include "auth/device_auth.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/device_keys.h"
#include "core/crypto.h"
#include "support/device_test.h"

namespace esocore {
namespace {

using testing::BatchOptions;
using testing::DeviceClient;
using testing::Headers;
using testing::HttpClient;
using testing::HttpResult;
using testing::makePoints;
using testing::TestDevice;

constexpr Micros kSecond = 1'000'000;

class DeviceAuthTest : public testing::DeviceTest {
protected:
    // GET config with exactly these headers.
    HttpResult getConfig(const Headers& headers) {
        return HttpClient(server_->baseUrl()).get("/api/iot/v1/config", headers);
    }

    // A batch with exactly these credential headers (and the batch headers).
    HttpResult batchAs(const Headers& credentials) {
        std::string body = testing::gzip(makePoints(3));
        Headers headers = credentials;
        headers.emplace_back("Idempotency-Key", newUuid());
        headers.emplace_back("Content-Encoding", "gzip");
        return HttpClient(server_->baseUrl()).post("/api/iot/v1/telemetry/batch", body, headers);
    }

    const TestDevice& device() const { return device_->device(); }
};

TEST_P(DeviceAuthTest, AcceptsTheKeyInXAuthKey) {
    EXPECT_EQ(200,
              getConfig({{"X-Device-Id", device().serial}, {"X-Auth-Key", device().key}}).status);
}

TEST_P(DeviceAuthTest, AcceptsTheKeyAsABearerToken) {
    EXPECT_EQ(200, getConfig({{"X-Device-Id", device().serial},
                              {"Authorization", "Bearer " + device().key}})
                       .status);
    EXPECT_EQ(200, getConfig({{"X-Device-Id", device().serial},
                              {"Authorization", "bearer " + device().key}})
                       .status);
}

TEST_P(DeviceAuthTest, AcceptsTheKeyWithTheApiKeyScheme) {
    EXPECT_EQ(200, getConfig({{"X-Device-Id", device().serial},
                              {"Authorization", "Api-Key " + device().key}})
                       .status);
}

TEST_P(DeviceAuthTest, AcceptsTheKeyInXApiKey) {
    EXPECT_EQ(200,
              getConfig({{"X-Device-Id", device().serial}, {"X-API-Key", device().key}}).status);
}

TEST_P(DeviceAuthTest, AcceptsEachFormForABatch) {
    for (Headers credentials : {Headers{{"X-Auth-Key", device().key}},
                                Headers{{"Authorization", "Bearer " + device().key}},
                                Headers{{"Authorization", "Api-Key " + device().key}},
                                Headers{{"X-API-Key", device().key}}}) {
        credentials.emplace_back("X-Device-Id", device().serial);

        HttpResult result = batchAs(credentials);

        EXPECT_EQ(200, result.status) << credentials[0].first << ": " << result.body;
    }
}

TEST_P(DeviceAuthTest, TakesTheFirstFormPresented) {
    HttpResult wrong_first = getConfig({{"X-Device-Id", device().serial},
                                        {"X-Auth-Key", "abc.wrong"},
                                        {"Authorization", "Bearer " + device().key}});
    HttpResult other_scheme = getConfig({{"X-Device-Id", device().serial},
                                         {"Authorization", "Basic dXNlcjpwYXNz"},
                                         {"X-API-Key", device().key}});

    EXPECT_EQ(401, wrong_first.status);
    EXPECT_EQ("invalid_credentials", testing::errorCode(wrong_first));
    EXPECT_EQ(200, other_scheme.status) << other_scheme.body;
}

TEST_P(DeviceAuthTest, IdentifiesTheDeviceByUuidOrSerial) {
    EXPECT_EQ(200, getConfig({{"X-Device-Id", device().id}, {"X-Auth-Key", device().key}}).status);
    EXPECT_EQ(200,
              getConfig({{"X-Device-Id", device().serial}, {"X-Auth-Key", device().key}}).status);
}

TEST_P(DeviceAuthTest, IdentifiesTheDeviceByUuidInAnyCase) {
    std::string upper = device().id;
    for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }

    HttpResult result = getConfig({{"X-Device-Id", upper}, {"X-Auth-Key", device().key}});

    EXPECT_EQ(200, result.status) << result.body;
}

TEST_P(DeviceAuthTest, WrongKeyIs401AndStoresNothing) {
    std::string wrong = device().key;
    wrong.back() = wrong.back() == 'A' ? 'B' : 'A';

    expectRefused(batchAs({{"X-Device-Id", device().serial}, {"X-Auth-Key", wrong}}), 401,
                  "invalid_credentials");
}

TEST_P(DeviceAuthTest, AnotherDevicesKeyIs401) {
    TestDevice other = server_->createDevice();

    expectRefused(batchAs({{"X-Device-Id", device().serial}, {"X-Auth-Key", other.key}}), 401,
                  "invalid_credentials");
}

TEST_P(DeviceAuthTest, MalformedKeyIs401) {
    for (const char* key : {"no-dot-here", ".secret", "prefix.", "."}) {
        HttpResult result = getConfig({{"X-Device-Id", device().serial}, {"X-Auth-Key", key}});

        EXPECT_EQ(401, result.status) << key;
        EXPECT_EQ("invalid_credentials", testing::errorCode(result)) << key;
    }
}

TEST_P(DeviceAuthTest, UnknownDeviceIs401) {
    for (const std::string& id : {newUuid(), std::string("EDGE-NOPE")}) {
        HttpResult result = getConfig({{"X-Device-Id", id}, {"X-Auth-Key", device().key}});

        EXPECT_EQ(401, result.status) << id;
        EXPECT_EQ("invalid_credentials", testing::errorCode(result)) << id;
    }
}

TEST_P(DeviceAuthTest, MissingKeyIs401) {
    expectRefused(batchAs({{"X-Device-Id", device().serial}}), 401, "missing_credentials");
}

TEST_P(DeviceAuthTest, MissingDeviceIdIs401) {
    expectRefused(batchAs({{"X-Auth-Key", device().key}}), 401, "missing_credentials");
}

TEST_P(DeviceAuthTest, ExpiredKeyIs401) {
    store::Device stored;
    stored.id = newUuid();
    stored.serial = "EXPIRED-" + stored.id.substr(0, 8);
    stored.organization_id = device().organization_id;
    stored.created_at = stored.updated_at = nowMicros();
    auto key = auth::issueDeviceKey(stored.id);
    key.stored.expires_at = nowMicros() - kSecond;
    ASSERT_TRUE(server_->store().createDevice(stored, key.stored).ok());

    HttpResult result = getConfig({{"X-Device-Id", stored.serial}, {"X-Auth-Key", key.secret}});

    EXPECT_EQ(401, result.status);
    EXPECT_EQ("invalid_credentials", testing::errorCode(result));
}

TEST_P(DeviceAuthTest, UnclaimedDeviceIs403) {
    DeviceClient unclaimed(*server_, server_->createDevice("unclaimed"));

    HttpResult result = unclaimed.batch(makePoints(2));

    EXPECT_EQ(403, result.status);
    EXPECT_EQ("device_unclaimed", testing::errorCode(result));
    EXPECT_EQ(0, rows_->pointCount(unclaimed.device().id));
    EXPECT_EQ(0, rows_->packetCount(unclaimed.device().id));
}

TEST_P(DeviceAuthTest, InactiveDeviceIs403) {
    DeviceClient inactive(*server_, server_->createDevice("inactive"));

    HttpResult result = inactive.batch(makePoints(2));

    EXPECT_EQ(403, result.status);
    EXPECT_EQ("device_inactive", testing::errorCode(result));
    EXPECT_EQ(0, rows_->pointCount(inactive.device().id));
}

TEST_P(DeviceAuthTest, DecommissionedDeviceIs403) {
    DeviceClient decommissioned(*server_, server_->createDevice("decommissioned"));

    HttpResult result = decommissioned.batch(makePoints(2));

    EXPECT_EQ(403, result.status);
    EXPECT_EQ("device_decommissioned", testing::errorCode(result));
    EXPECT_EQ(0, rows_->pointCount(decommissioned.device().id));
}

TEST_P(DeviceAuthTest, StatusIsCheckedOnlyAfterTheKey) {
    TestDevice inactive = server_->createDevice("inactive");

    HttpResult result = getConfig({{"X-Device-Id", inactive.serial}, {"X-Auth-Key", "abc.def"}});

    EXPECT_EQ(401, result.status);
    EXPECT_EQ("invalid_credentials", testing::errorCode(result));
}

TEST_P(DeviceAuthTest, DeviceInMaintenanceMayUpload) {
    DeviceClient maintenance(*server_, server_->createDevice("maintenance"));

    EXPECT_EQ(200, maintenance.batch(makePoints(2)).status);
}

class SignedRequestTest : public testing::DeviceTest {
protected:
    void SetUp() override { start({}, R"({"signing_required": true})"); }

    // A batch signed at `at` over its body as sent.
    HttpResult signedBatch(const std::string& records, Micros at) {
        BatchOptions options;
        options.headers =
            testing::signatureHeaders(device_->device().key, testing::gzip(records), at);
        return device_->batch(records, options);
    }
};

TEST_P(SignedRequestTest, ValidSignatureIsAccepted) {
    HttpResult result = signedBatch(makePoints(3), nowMicros());

    ASSERT_EQ(200, result.status) << result.body;
    EXPECT_EQ(3, rows_->pointCount(deviceId()));
}

TEST_P(SignedRequestTest, ValidSignatureOverAnEmptyBodyIsAccepted) {
    HttpResult result =
        device_->get("config", testing::signatureHeaders(device_->device().key, "", nowMicros()));

    EXPECT_EQ(200, result.status) << result.body;
}

TEST_P(SignedRequestTest, MissingSignatureIs401) {
    expectRefused(device_->batch(makePoints(3)), 401, "signature_required");
}

TEST_P(SignedRequestTest, MissingTimestampIs401) {
    Headers headers =
        testing::signatureHeaders(device_->device().key, testing::gzip(makePoints(3)), nowMicros());
    BatchOptions options;
    options.headers = {headers[1]};

    expectRefused(device_->batch(makePoints(3), options), 401, "signature_required");
}

TEST_P(SignedRequestTest, SignatureOverAnotherBodyIs401) {
    BatchOptions options;
    options.headers =
        testing::signatureHeaders(device_->device().key, testing::gzip(makePoints(4)), nowMicros());

    expectRefused(device_->batch(makePoints(3), options), 401, "invalid_signature");
}

TEST_P(SignedRequestTest, SignatureOverTheDecompressedBodyIs401) {
    std::string records = makePoints(3);
    BatchOptions options;
    options.headers = testing::signatureHeaders(device_->device().key, records, nowMicros());

    expectRefused(device_->batch(records, options), 401, "invalid_signature");
}

TEST_P(SignedRequestTest, SignatureWithAnotherKeyIs401) {
    TestDevice other = server_->createDevice();
    std::string records = makePoints(3);
    BatchOptions options;
    options.headers = testing::signatureHeaders(other.key, testing::gzip(records), nowMicros());

    expectRefused(device_->batch(records, options), 401, "invalid_signature");
}

TEST_P(SignedRequestTest, MalformedSignatureHeadersAre401) {
    for (Headers headers :
         {Headers{{"X-Timestamp", "yesterday"}, {"X-Signature", "sha256=00"}},
          Headers{{"X-Timestamp", std::to_string(nowMicros() / kSecond)}, {"X-Signature", "00"}},
          Headers{{"X-Timestamp", std::to_string(nowMicros() / kSecond)},
                  {"X-Signature", "sha256=zz"}}}) {
        HttpResult result = device_->get("config", headers);

        EXPECT_EQ(401, result.status) << headers[0].second << " " << headers[1].second;
        EXPECT_EQ("invalid_signature", testing::errorCode(result));
    }
}

TEST_P(SignedRequestTest, OldTimestampIs401) {
    expectRefused(signedBatch(makePoints(3), nowMicros() - 360 * kSecond), 401,
                  "signature_expired");
}

TEST_P(SignedRequestTest, TimestampFarAheadIs401) {
    expectRefused(signedBatch(makePoints(3), nowMicros() + 360 * kSecond), 401,
                  "signature_expired");
}

TEST_P(SignedRequestTest, TimestampsFarOutOfRangeAre401) {
    // Converting these to microseconds overflowed a 64-bit integer.
    for (const char* timestamp : {"9223372036854775807", "-9223372036854775807"}) {
        std::string signature =
            "sha256=" + hmacSha256Hex(device_->device().key, std::string(timestamp) + ".");

        HttpResult result =
            device_->get("config", {{"X-Timestamp", timestamp}, {"X-Signature", signature}});

        EXPECT_EQ(401, result.status) << timestamp;
        EXPECT_EQ("signature_expired", testing::errorCode(result)) << timestamp;
    }
}

TEST_P(SignedRequestTest, TimestampWithinTheWindowIsAccepted) {
    EXPECT_EQ(200, signedBatch(makePoints(3), nowMicros() - 240 * kSecond).status);
}

TEST_P(SignedRequestTest, ReplayedSignatureIs401) {
    std::string records = makePoints(3);
    BatchOptions options;
    options.idempotency_key = newUuid();
    options.headers =
        testing::signatureHeaders(device_->device().key, testing::gzip(records), nowMicros());
    ASSERT_EQ(200, device_->batch(records, options).status);

    HttpResult replay = device_->batch(records, options);

    EXPECT_EQ(401, replay.status);
    EXPECT_EQ("replayed_signature", testing::errorCode(replay));
    EXPECT_EQ(3, rows_->pointCount(deviceId()));
    EXPECT_EQ(1, rows_->packetCount(deviceId()));
}

TEST_P(SignedRequestTest, UppercaseHexSignatureIsAccepted) {
    Headers headers = testing::signatureHeaders(device_->device().key, "", nowMicros());
    for (auto& c : headers[1].second) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    headers[1].second.replace(0, 7, "sha256=");

    EXPECT_EQ(200, device_->get("config", headers).status);
}

TEST_P(SignedRequestTest, DevicesThatNeedNoSignatureIgnoreTheHeaders) {
    DeviceClient plain(*server_, server_->createDevice());

    HttpResult result = plain.get("config", {{"X-Timestamp", "1"}, {"X-Signature", "sha256=00"}});

    EXPECT_EQ(200, result.status) << result.body;
}

INSTANTIATE_TEST_SUITE_P(Stores, DeviceAuthTest, ::testing::ValuesIn(testing::storeKinds()));
INSTANTIATE_TEST_SUITE_P(Stores, SignedRequestTest, ::testing::ValuesIn(testing::storeKinds()));

class PresentedDeviceKeyTest : public ::testing::Test {
protected:
    static std::string keyFrom(std::vector<http::Header> headers) {
        http::Request request;
        request.headers = std::move(headers);
        return auth::presentedDeviceKey(request);
    }
};

TEST_F(PresentedDeviceKeyTest, TakesTheFirstOfTheFourForms) {
    EXPECT_EQ(
        "a.1",
        keyFrom({{"x-api-key", "d.4"}, {"authorization", "Bearer b.2"}, {"x-auth-key", "a.1"}}));
    EXPECT_EQ("b.2", keyFrom({{"x-api-key", "d.4"}, {"authorization", "Bearer b.2"}}));
    EXPECT_EQ("c.3", keyFrom({{"x-api-key", "d.4"}, {"authorization", "Api-Key c.3"}}));
    EXPECT_EQ("d.4", keyFrom({{"x-api-key", "d.4"}, {"authorization", "Basic eDp5"}}));
    EXPECT_EQ("", keyFrom({}));
}

TEST_F(PresentedDeviceKeyTest, ReadsSchemesInAnyCase) {
    EXPECT_EQ("b.2", keyFrom({{"authorization", "BEARER b.2"}}));
    EXPECT_EQ("c.3", keyFrom({{"authorization", "api-key c.3"}}));
}

class DeviceKeysTest : public ::testing::Test {};

TEST_F(DeviceKeysTest, IssuesKeysThatSplitIntoPrefixAndSecret) {
    initCrypto();
    auto issued = auth::issueDeviceKey("device");

    auth::PresentedKey presented = auth::splitDeviceKey(issued.secret);

    EXPECT_EQ(issued.stored.prefix, presented.prefix);
    EXPECT_EQ(issued.stored.secret_hash, sha256Hex(presented.secret));
    EXPECT_EQ("device", issued.stored.device_id);
}

TEST_F(DeviceKeysTest, SplitsOnlyWellFormedKeys) {
    EXPECT_EQ("", auth::splitDeviceKey("nodot").prefix);
    EXPECT_EQ("", auth::splitDeviceKey(".secret").prefix);
    EXPECT_EQ("", auth::splitDeviceKey("prefix.").prefix);
    EXPECT_EQ("p", auth::splitDeviceKey("p.s.t").prefix);
    EXPECT_EQ("s.t", auth::splitDeviceKey("p.s.t").secret);
}

}  // namespace
}  // namespace esocore
