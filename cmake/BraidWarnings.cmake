# Warnings every Braid target compiles with; BRAID_WERROR (on by default) makes them errors.
add_library(braid_warnings INTERFACE)
target_compile_options(braid_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  # GCC 12 at -O3 reports false -Wrestrict overlaps inside libstdc++'s string copies (GCC bug
  # 105329); the warning stays on for other compilers.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  # With ASan, GCC 12 reports false -Wmaybe-uninitialized inside <regex>.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<BOOL:${BRAID_SANITIZE}>>:-Wno-maybe-uninitialized>
  $<$<BOOL:${BRAID_WERROR}>:-Werror>)
