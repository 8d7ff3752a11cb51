// Filled by the events_api area.
#include <gtest/gtest.h>
