# Build options shared by every target: warnings, sanitizers, the Release level.
option(FC_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(FC_BUILD_GATEWAY "Build the HTTP gateway (needs libuv, jansson, sqlite3, llhttp)" ON)
option(FC_BUILD_BENCH "Build the benchmark drivers in tests/bench" ON)

set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG")

# Warnings apply to our own code only (llhttp's generated parser is built with -w).
set(FC_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wno-unused-parameter -Wformat=2 -Wvla)

if(FC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()

# libm: part of libc under Emscripten (find_library returns NOTFOUND there).
find_library(M_LIB m)
