#include "fleet.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>

namespace esocore::sim {
namespace {

class FleetTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("esocore-sim-fleet-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(dir_);
    }

    void TearDown() override { std::filesystem::remove_all(dir_); }

    // A stand-in for `esocore device create` that checks its arguments and prints `count`
    // devices; the model field echoes an environment variable to prove it was passed on.
    std::filesystem::path writeFakeEsocore() {
        const auto path = dir_ / "esocore";
        std::ofstream script(path);
        script << R"(#!/bin/sh
[ "$1 $2 $3" = "device create --count" ] || exit 3
[ "$5 $6 $7" = "--serial-prefix SIM- --json" ] || exit 4
echo "provisioning $4 devices" >&2
printf '['
i=1
while [ $i -le $4 ]; do
  [ $i -gt 1 ] && printf ','
  printf '{"id":"00000000-0000-4000-8000-00000000000%d","serial":"SIM-NEW%d","key":"k%d","model":"%s"}' $i $i $i "$FLEET_TEST_MODEL"
  i=$((i+1))
done
printf ']\n'
)";
        script.close();
        std::filesystem::permissions(path, std::filesystem::perms::owner_all);
        return path;
    }

    static std::vector<DeviceCredentials> makeDevices(int count) {
        std::vector<DeviceCredentials> devices;
        for (int i = 1; i <= count; ++i) {
            devices.push_back({"id-" + std::to_string(i), "SIM-000" + std::to_string(i),
                               "key-" + std::to_string(i), "esocore-edge"});
        }
        return devices;
    }

    std::filesystem::path dir_;
};

TEST_F(FleetTest, MissingFileIsAnEmptyFleet) {
    EXPECT_TRUE(loadFleet(dir_ / "none.json").empty());
}

TEST_F(FleetTest, SavedFleetLoadsBackIntoNewDirectories) {
    const auto file = dir_ / "nested" / "data" / "fleet.json";
    saveFleet(file, makeDevices(3));
    const auto loaded = loadFleet(file);
    ASSERT_EQ(3U, loaded.size());
    EXPECT_EQ("id-2", loaded[1].id);
    EXPECT_EQ("SIM-0002", loaded[1].serial);
    EXPECT_EQ("key-2", loaded[1].key);
    EXPECT_EQ("esocore-edge", loaded[1].model);
    EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
}

TEST_F(FleetTest, EntryWithoutKeyIsRejected) {
    EXPECT_THROW(parseDeviceArray(R"([{"id":"a","serial":"SIM-1"}])"), std::runtime_error);
    EXPECT_THROW(parseDeviceArray(R"({"devices":[]})"), std::runtime_error);
    EXPECT_THROW(parseDeviceArray("not json"), std::runtime_error);
}

TEST_F(FleetTest, ModelDefaultsToEsocoreEdge) {
    const auto devices = parseDeviceArray(R"([{"id":"a","serial":"SIM-1","key":"k"}])");
    ASSERT_EQ(1U, devices.size());
    EXPECT_EQ("esocore-edge", devices[0].model);
}

TEST_F(FleetTest, MalformedFleetFileThrows) {
    const auto file = dir_ / "bad.json";
    std::ofstream(file) << R"({"devices": 3})";
    EXPECT_THROW(loadFleet(file), std::runtime_error);
}

TEST_F(FleetTest, UsesTheFirstDevicesWhenTheFileHasEnough) {
    const auto file = dir_ / "fleet.json";
    saveFleet(file, makeDevices(5));
    const auto devices = prepareFleet(file, 2, dir_ / "no-such-esocore");
    ASSERT_EQ(2U, devices.size());
    EXPECT_EQ("SIM-0001", devices[0].serial);
    EXPECT_EQ(5U, prepareFleet(file, std::nullopt, dir_ / "no-such-esocore").size());
}

TEST_F(FleetTest, ProvisionsMissingDevicesAndAppendsThem) {
    const auto file = dir_ / "data" / "fleet.json";
    saveFleet(file, makeDevices(1));
    setenv("FLEET_TEST_MODEL", "from-env", 1);
    const auto devices = prepareFleet(file, 3, writeFakeEsocore());
    ASSERT_EQ(3U, devices.size());
    EXPECT_EQ("SIM-0001", devices[0].serial);
    EXPECT_EQ("SIM-NEW1", devices[1].serial);
    EXPECT_EQ("SIM-NEW2", devices[2].serial);
    EXPECT_EQ("from-env", devices[2].model);
    EXPECT_EQ(3U, loadFleet(file).size());
}

TEST_F(FleetTest, MissingServerBinaryIsAClearError) {
    EXPECT_THROW(prepareFleet(dir_ / "fleet.json", 2, dir_ / "no-such-esocore"),
                 std::runtime_error);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "fleet.json"));
}

}  // namespace
}  // namespace esocore::sim
