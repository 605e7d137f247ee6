# Warnings, sanitizers and the helper that declares one static library per component.
set(VIGIL_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
    -Woverloaded-virtual -Wimplicit-fallthrough)
if(VIGIL_WERROR)
  list(APPEND VIGIL_WARNINGS -Werror)
endif()

# Unity builds (CMAKE_UNITY_BUILD, on in the Makefile's builds: `make test`, `make asan`) compile
# each library's sources in batches of 8 as one translation unit, so that the headers they share
# (Boost.Beast and Asio, nlohmann::json, yaml-cpp) are parsed and their templates generated once
# per batch: the libraries' compile time 905 s -> 525 s (bench/RESULTS.md, "Unity builds of the
# libraries").
# Test binaries are not unity-built: they gain little (one to three sources each), test files
# freely reuse helper names in anonymous namespaces, and compiling them one by one keeps checking
# that each source includes what it uses. GCC warns (-Wsubobject-linkage) when a class in one .cc
# has a member of an anonymous-namespace type, as it would for a header; a unity batch includes
# each .cc once, so the warning does not apply there.
if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND VIGIL_WARNINGS -Wno-subobject-linkage)
endif()

if(VIGIL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "VIGIL_FUZZ needs clang++ (-DCMAKE_CXX_COMPILER=clang++)")
  endif()
  # Coverage instrumentation for every library the fuzz targets link.
  add_compile_options(-fsanitize=fuzzer-no-link)
  set(VIGIL_SANITIZE ON)
endif()

if(VIGIL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(VIGIL_SANITIZE=1)
  # GCC's flow analysis under -fsanitize reports uninitialised reads that are not there.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND VIGIL_WARNINGS -Wno-maybe-uninitialized)
  endif()
endif()

# vigil_component(NAME SOURCES ... DEPS ...): a static library `vigil_NAME` for src/NAME.
function(vigil_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(vigil_${name} STATIC ${ARG_SOURCES})
  target_include_directories(vigil_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(vigil_${name} PRIVATE ${VIGIL_WARNINGS})
  target_link_libraries(vigil_${name} PUBLIC ${ARG_DEPS})
endfunction()

# Test code itself is built at -O1 with line tables only (the libraries it tests keep the build
# type's flags): test bodies are GoogleTest and nlohmann::json templates that cost nearly twice
# the compile time at -O2 -g (806 s against 449 s for all of them, bench/RESULTS.md) and run no
# faster where it matters. Later flags win, so these override CMAKE_CXX_FLAGS_<CONFIG> for test
# sources only. GCC 12 at -O1 reports uninitialised reads in std::string moves that are not there
# (as under the sanitizers, above): off for test sources, kept for the libraries.
set(VIGIL_TEST_CXX_FLAGS -O1 -g1 CACHE STRING "Extra compile flags for test sources")
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND VIGIL_TEST_CXX_FLAGS -Wno-maybe-uninitialized)
endif()

# vigil_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with CTest.
# Binaries labelled unit are collected into the `vigil_unit_tests` target (tests/CMakeLists.txt),
# which is all `make asan` builds.
function(vigil_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES UNITY_BUILD OFF)
  target_compile_options(${name} PRIVATE ${VIGIL_WARNINGS} ${VIGIL_TEST_CXX_FLAGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    VIGIL_SOURCE_DIR="${PROJECT_SOURCE_DIR}" VIGIL_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
  if("unit" IN_LIST ARG_LABELS)
    set_property(GLOBAL APPEND PROPERTY VIGIL_UNIT_TEST_TARGETS ${name})
  endif()
endfunction()
