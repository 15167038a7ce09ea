# Helpers that give every Braid target the same options.
#   braid_cc_library(name SRCS ... DEPS ...)
#   braid_cc_binary(name SRCS ... DEPS ...)
#   braid_cc_test(name SRCS ... DEPS ... [LABELS ...])   registered with ctest
#   braid_cc_fuzz(name SRCS ... DEPS ... CORPUS dir...)   libFuzzer target; its corpora replay in ctest
function(braid_cc_library name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${A_DEPS} PRIVATE braid_warnings)
endfunction()

function(braid_cc_binary name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${A_SRCS})
  target_link_libraries(${name} PRIVATE ${A_DEPS} braid_warnings)
  install(TARGETS ${name} RUNTIME DESTINATION bin)
endfunction()

function(braid_cc_test name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${A_SRCS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main braid_warnings)
  target_compile_definitions(${name} PRIVATE BRAID_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "unit;${A_LABELS}" ENVIRONMENT "BRAID_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# A fuzz target is always built as a corpus replayer (with tests/fuzz/replay_main.cc) so its corpus
# runs in ctest with any compiler; with BRAID_FUZZ=ON and clang it is also built with libFuzzer.
function(braid_cc_fuzz name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS;CORPUS" ${ARGN})
  add_executable(${name}_replay ${A_SRCS} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
  target_link_libraries(${name}_replay PRIVATE ${A_DEPS} braid_warnings)
  add_test(NAME ${name}_corpus COMMAND ${name}_replay ${A_CORPUS})
  set_tests_properties(${name}_corpus PROPERTIES LABELS "fuzz")
  if(BRAID_FUZZ)
    add_executable(${name} ${A_SRCS})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PRIVATE ${A_DEPS})
  endif()
endfunction()
