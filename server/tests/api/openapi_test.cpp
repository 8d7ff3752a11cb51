// Filled by the openapi area.
#include <gtest/gtest.h>
