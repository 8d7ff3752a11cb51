// Filled by the overview_api area.
#include <gtest/gtest.h>
