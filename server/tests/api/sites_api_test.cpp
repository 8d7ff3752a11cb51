// Filled by the sites_api area.
#include <gtest/gtest.h>
