#include "support/api_fixture.h"

#include "accounts/api_tokens.h"
#include "auth/device_keys.h"
#include "core/crypto.h"
#include "support/openapi_check.h"

namespace esocore::testing {

namespace json = boost::json;

namespace {

const json::value kNull = nullptr;
const json::array kNoRows;

template <typename T>
T checked(Result<T> result) {
    if (!result) {
        throw std::runtime_error(result.error().message);
    }
    return std::move(result).value();
}

void checked(Result<void> result) {
    if (!result) {
        throw std::runtime_error(result.error().message);
    }
}

}  // namespace

std::string ApiResult::errorCode() const {
    if (!json.is_object()) {
        return {};
    }
    const json::value* error = json.as_object().if_contains("error");
    if (error == nullptr || !error->is_object() || !error->as_object().contains("code")) {
        return {};
    }
    return std::string(error->at("code").as_string());
}

const json::value& ApiResult::operator[](std::string_view key) const {
    if (!json.is_object()) {
        return kNull;
    }
    const json::value* value = json.as_object().if_contains(key);
    return value != nullptr ? *value : kNull;
}

const json::array& ApiResult::results() const {
    const json::value& rows = (*this)["results"];
    return rows.is_array() ? rows.as_array() : kNoRows;
}

void ApiTest::SetUp() {
    server_ = std::make_unique<TestServer>(GetParam());
    org_ = addOrganization("Acme Doors");
    owner_ = addUser(org_, auth::Role::owner);
    other_org_ = addOrganization("Other Works");
    other_owner_ = addUser(other_org_, auth::Role::owner);
}

std::string ApiTest::addOrganization(const std::string& name) {
    std::string id = newUuid();
    Micros now = nowMicros();
    checked(server_->store().sql().execute(
        "INSERT INTO organizations (id, name, created_at, updated_at) VALUES ($1, $2, $3, $4)",
        {id, name, now, now}));
    return id;
}

ApiUser ApiTest::addUser(const std::string& organization_id, auth::Role role,
                         const std::string& site_id, const std::string& device_id) {
    ApiUser user{newUuid(), "user-" + randomToken(6) + "@example.com", {}};
    Micros now = nowMicros();
    auto& sql = server_->store().sql();
    // "!" is no Argon2id hash: this user signs in with its API token only.
    checked(sql.execute(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) "
        "VALUES ($1, $2, $3, '!', $4, $5)",
        {user.id, user.email, std::string("Test ") + std::string(auth::roleName(role)), now, now}));
    if (!organization_id.empty()) {
        checked(sql.execute(
            "INSERT INTO memberships (id, user_id, organization_id, role, site_id, device_id, "
            "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            {newUuid(), user.id, organization_id, std::string(auth::roleName(role)),
             store::textOrNull(site_id), store::textOrNull(device_id), now}));
    }
    auto token = checked(accounts::createApiToken(sql, user.id, "test", "[]", std::nullopt, now));
    user.token = token.secret;
    return user;
}

ApiUser ApiTest::addStaff() {
    ApiUser user = addUser({}, auth::Role::viewer);
    checked(server_->store().sql().execute("UPDATE users SET is_staff = $1 WHERE id = $2",
                                           {std::int64_t{1}, user.id}));
    return user;
}

std::string ApiTest::addSite(const std::string& organization_id, const std::string& name) {
    std::string id = newUuid();
    Micros now = nowMicros();
    checked(server_->store().sql().execute(
        "INSERT INTO sites (id, organization_id, name, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        {id, organization_id, name, now, now}));
    return id;
}

TestDevice ApiTest::addDevice(const std::string& organization_id, const std::string& site_id) {
    store::Device device;
    device.id = newUuid();
    device.serial = "TEST-" + sha256Hex(device.id).substr(0, 10);
    device.model = "esocore-edge";
    device.status = "active";
    device.organization_id = organization_id;
    device.created_at = device.updated_at = nowMicros();
    auto key = auth::issueDeviceKey(device.id);
    checked(server_->store().createDevice(device, key.stored));
    if (!site_id.empty()) {
        checked(server_->store().sql().execute("UPDATE devices SET site_id = $1 WHERE id = $2",
                                               {site_id, device.id}));
    }
    return TestDevice{device.id, device.serial, key.secret, organization_id};
}

ApiResult ApiTest::call(const std::string& method, const std::string& path, const ApiUser& user,
                        const json::value& body, const Headers& extra) {
    Headers headers = user.headers();
    std::string text;
    if (!body.is_null()) {
        text = json::serialize(body);
        headers.emplace_back("Content-Type", "application/json");
    }
    headers.insert(headers.end(), extra.begin(), extra.end());
    ApiResult result;
    result.raw = server_->client().request(method, path, text, headers);
    result.status = result.raw.status;
    json::error_code ec;
    result.json = json::parse(result.raw.body, ec);
    if (ec) {
        result.json = nullptr;
    }
    std::string mismatch = checkAgainstDocument(method, path, result.status,
                                                result.raw.header("content-type"), result.raw.body);
    EXPECT_EQ("", mismatch) << method << " " << path << " answered " << result.status << ": "
                            << result.raw.body.substr(0, 2000);
    return result;
}

json::array ApiTest::listAll(const std::string& path, const ApiUser& user) {
    json::array all;
    std::string next_path = path;
    for (int page = 0; page < 10'000; ++page) {
        ApiResult result = get(next_path, user);
        EXPECT_EQ(200, result.status) << result.raw.body;
        if (result.status != 200) {
            break;
        }
        for (const auto& row : result.results()) {
            all.push_back(row);
        }
        const json::value& next = result["next"];
        if (!next.is_string()) {
            break;
        }
        std::string separator = path.find('?') == std::string::npos ? "?" : "&";
        next_path = path + separator + "cursor=" + std::string(next.as_string());
    }
    return all;
}

}  // namespace esocore::testing
