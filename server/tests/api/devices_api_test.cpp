// Filled by the devices_api area.
#include <gtest/gtest.h>
