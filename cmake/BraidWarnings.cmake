# Warnings every Braid target compiles with; BRAID_WERROR (on by default) makes them errors.
add_library(braid_warnings INTERFACE)
target_compile_options(braid_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${BRAID_WERROR}>:-Werror>)
