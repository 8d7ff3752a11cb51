// Pagination, request bodies and visibility rules shared by every management area.
#include <gtest/gtest.h>
