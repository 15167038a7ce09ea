# BRAID_SANITIZE=ON builds everything with ASan + UBSan; the unit tests run under it in CI.
if(BRAID_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# BRAID_FUZZ=ON (clang): every library gets libFuzzer's coverage instrumentation, so fuzz targets
# are guided by the code they test, not only by their harness.
if(BRAID_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
