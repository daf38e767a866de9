// The vendored hnswlib (native/third_party/hnswlib), included as a system header: its warnings are not ours to fix
// in an unmodified copy.
#pragma once
#pragma GCC system_header
#include "third_party/hnswlib/hnswlib.h"
