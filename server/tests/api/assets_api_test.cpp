// Filled by the assets_api area.
#include <gtest/gtest.h>
