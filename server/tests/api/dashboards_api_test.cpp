// Filled by the dashboards_api area.
#include <gtest/gtest.h>
