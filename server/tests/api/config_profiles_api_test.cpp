// Filled by the config_profiles_api area.
#include <gtest/gtest.h>
