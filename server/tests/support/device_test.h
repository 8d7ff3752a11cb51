#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "support/device_client.h"
#include "support/stored_rows.h"
#include "support/test_server.h"

namespace esocore::testing {

/// A fresh server of the store kind the test is instantiated with, one active device talking
/// to it, and a second connection to check what was committed.
class DeviceTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { start(); }

    /// Replaces the server with one whose configuration `adjust` changes, and the device with
    /// a new one that has `overrides` in its configuration.
    void start(std::function<void(Config&)> adjust = {}, const std::string& overrides = "{}") {
        rows_.reset();
        device_.reset();
        server_.reset();
        server_ = std::make_unique<TestServer>(GetParam(), std::move(adjust));
        device_ =
            std::make_unique<DeviceClient>(*server_, server_->createDevice("active", overrides));
        rows_ = std::make_unique<StoredRows>(*server_);
    }

    const std::string& deviceId() const { return device_->device().id; }

    /// The answer is an error with `status` and `code`, and the device has nothing stored:
    /// no point, event or ledger entry.
    void expectRefused(const HttpResult& result, long status, const std::string& code) {
        EXPECT_EQ(status, result.status) << result.body;
        EXPECT_EQ(code, errorCode(result)) << result.body;
        EXPECT_EQ(0, rows_->pointCount(deviceId()));
        EXPECT_EQ(0, rows_->eventCount(deviceId()));
        EXPECT_EQ(0, rows_->packetCount(deviceId()));
    }

    std::unique_ptr<TestServer> server_;
    std::unique_ptr<DeviceClient> device_;
    std::unique_ptr<StoredRows> rows_;
};

}  // namespace esocore::testing
