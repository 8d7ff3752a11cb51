// Filled by the telemetry_api area.
#include <gtest/gtest.h>
