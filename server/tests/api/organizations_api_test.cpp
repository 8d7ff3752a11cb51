// Filled by the organizations_api area.
#include <gtest/gtest.h>
